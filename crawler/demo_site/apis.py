"""The demo site's discussion APIs (Reddit-style behind OAuth, Hacker News-style), one set per site.

:func:`apis_for` gives the :class:`DemoApis` of a site (built on first use from
:func:`~crawler.demo_site.discussion_data.demo_discussions`); tests replace it with :func:`set_apis` to serve
their own discussions, budgets and token lifetimes. :func:`api_route` is the demo server's request route
(it sees the method, headers and body, which OAuth needs). :func:`origins` says where the APIs live, in the
form the crawl's settings take (``REDDIT_TOKEN_URL``, ``REDDIT_API_ORIGIN``, ``HN_ALGOLIA_URL``,
``HN_FIREBASE_URL``).
"""
from __future__ import annotations

import struct
import threading
import zlib
from dataclasses import dataclass

from .discussion_data import CHART_PATH, demo_discussions
from .hn_api import ALGOLIA_PREFIX, FIREBASE_PREFIX, HnApi
from .reddit_api import API_PREFIX, TOKEN_PATH, RedditApi


@dataclass
class DemoApis:
    reddit: RedditApi
    hn: HnApi


_APIS: dict[int, tuple[object, DemoApis]] = {}
_LOCK = threading.Lock()  # the server answers in threads: the first API requests must share one DemoApis


def set_apis(site, apis: DemoApis) -> DemoApis:
    _APIS[id(site)] = (site, apis)
    return apis


def apis_for(site, base: str) -> DemoApis:
    with _LOCK:
        hit = _APIS.get(id(site))
        if hit is not None and hit[0] is site:
            return hit[1]
        discussions = demo_discussions(site, base)
        return set_apis(site, DemoApis(RedditApi(discussions), HnApi(discussions)))


def origins(base: str) -> dict[str, str]:
    return {"REDDIT_TOKEN_URL": base + TOKEN_PATH, "REDDIT_API_ORIGIN": base + API_PREFIX,
            "HN_ALGOLIA_URL": base + ALGOLIA_PREFIX, "HN_FIREBASE_URL": base + FIREBASE_PREFIX,
            "HN_DISCUSSION_URL": base + "/hn-web/item?id={id}"}


def _png(width: int = 4, height: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + b"\x80\x20\x20" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


CHART_PNG = _png()


def api_route(site, req):
    """``(status, body, content_type, headers)`` for the APIs' paths (and the chart image), else None."""
    if req.host != "127.0.0.1":
        return None
    if req.path == CHART_PATH:
        return 200, CHART_PNG, "image/png", {}
    if not req.path.startswith(("/reddit-", "/hn-")):
        return None
    apis = apis_for(site, req.base)
    return apis.reddit.handle(req) or apis.hn.handle(req)
