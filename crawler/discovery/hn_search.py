"""Hacker News stories from the Algolia API (registry discovery kind ``hn_search``), and lookup by URL.

A source names a search as the public API takes it
(``https://hn.algolia.com/api/v1/search_by_date?query=bitcoin&tags=story``); the crawl sends it to
``HN_ALGOLIA_URL`` (a mirror or a local server in tests) with ``hitsPerPage`` and ``page`` and follows pages
while ``page + 1 < nbPages``, up to a cap. :func:`url_lookup` asks for the stories that link a given URL
(``search`` restricted to the ``url`` attribute). Pure functions; the spider does the requests.
"""
from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

from .reddit_listing import _json

PUBLIC_API = "https://hn.algolia.com/api/v1"


def search_api_url(search_url: str, algolia_url: str, hits_per_page: int = 50, page: int = 0) -> str:
    parts = urlsplit(search_url)
    endpoint = parts.path.rsplit("/", 1)[-1] or "search_by_date"
    query = dict(parse_qsl(parts.query))
    query.setdefault("tags", "story")
    query["hitsPerPage"] = str(max(1, min(1000, int(hits_per_page))))
    query["page"] = str(max(0, int(page)))
    return f"{algolia_url.rstrip('/')}/{endpoint}?{urlencode(query)}"


def url_lookup(algolia_url: str, url: str, hits_per_page: int = 20) -> str:
    query = {"query": url, "restrictSearchableAttributes": "url", "tags": "story", "hitsPerPage": hits_per_page}
    return f"{algolia_url.rstrip('/')}/search?{urlencode(query)}"


def parse_search(body) -> tuple[list[dict], int, int] | None:
    """(hits, page, nbPages) of an Algolia search answer; None when the body is not one."""
    data = _json(body)
    if not isinstance(data, dict) or not isinstance(data.get("hits"), list):
        return None
    hits = [h for h in data["hits"] if isinstance(h, dict) and h.get("objectID")]
    try:
        return hits, int(data.get("page") or 0), int(data.get("nbPages") or 0)
    except (TypeError, ValueError):
        return hits, 0, 0


