"""WordPress REST post listings (``/wp-json/wp/v2/posts``) → article URLs.

A post list is a JSON array of post objects; each has ``id`` and ``link`` (the article's public URL).
``X-WP-TotalPages`` says how many pages the listing has; the first page's ``next`` links are not followed
by default (discovery wants the newest posts; older ones come from sitemaps).
"""
from __future__ import annotations

import json
from urllib.parse import urljoin


def wp_posts_links(body: bytes | str, base_url: str) -> list[str] | None:
    """Article URLs of a WordPress REST post list (page order), or None when the body is not one."""
    text = body.decode("utf-8", errors="replace") if isinstance(body, (bytes, bytearray)) else body
    try:
        data = json.loads(text.lstrip("\ufeff"))
    except ValueError:
        return None
    if not isinstance(data, list) or not all(isinstance(x, dict) and "link" in x for x in data):
        return None
    links = [urljoin(base_url, x["link"]) for x in data if isinstance(x.get("link"), str) and x["link"].strip()]
    return list(dict.fromkeys(links))
