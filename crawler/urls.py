"""URL canonicalisation shared by discovery (before requesting) and extraction (for ids)."""
from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

from w3lib.url import canonicalize_url, url_query_cleaner

# Query parameters that only track the visitor; never part of an article's identity.
TRACKING_PARAMS = re.compile(
    r"^(utm_[a-z_]+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|mc_cid|mc_eid|yclid|igshid|_ga|_gl|ref|ref_src|"
    r"cmpid|ncid|sr_share|__twitter_impression|amp|outputtype)$",
    re.I,
)
DEFAULT_PORTS = {"http": 80, "https": 443}


def strip_tracking(url: str) -> str:
    from urllib.parse import parse_qsl

    keep = [k for k, _ in parse_qsl(urlsplit(url).query, keep_blank_values=True) if not TRACKING_PARAMS.match(k)]
    # unique=False: a repeated parameter (Discourse's post_ids[]=1&post_ids[]=2) is data, every value is kept
    return url_query_cleaner(url, keep, remove=False, unique=False, keep_fragments=False) if keep else \
        url_query_cleaner(url, [], unique=False, keep_fragments=False)


def canonical(url: str) -> str:
    """Canonical form: tracking params and fragment gone, host lower-case without www. and default port,
    AMP path suffix removed, query sorted, percent-encoding normalised, trailing slash on directory paths."""
    url = canonicalize_url(strip_tracking(url.strip()), keep_fragments=False)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if host.startswith("www."):
        host = host[4:]
    port = parts.port
    netloc = host if port in (None, DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    path = parts.path or "/"
    path = re.sub(r"/amp/?$", "/", path)
    if not path.endswith("/") and "." not in path.rsplit("/", 1)[-1]:
        path += "/"
    return urlunsplit((scheme, netloc, path, parts.query, ""))


def site_of(url: str) -> str:
    """Host[:port] the URL belongs to (lower-case, no www.)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host.startswith("www."):
        host = host[4:]
    port = parts.port
    return host if port in (None, DEFAULT_PORTS.get(parts.scheme)) else f"{host}:{port}"


def same_site(a: str, b: str) -> bool:
    return site_of(a) == site_of(b)
