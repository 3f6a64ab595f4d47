"""Sitemaps, sitemap indexes and Google News sitemaps → article URLs and child sitemaps."""
from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urljoin

from .xmlsafe import local, parse_xml


@dataclass
class Sitemap:
    urls: list[str] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)


def parse_sitemap(body: bytes, base_url: str) -> Sitemap | None:
    """Page URLs (urlset) or child sitemap URLs (sitemapindex); None when not a sitemap."""
    root = parse_xml(body)
    if root is None or local(root.tag) not in ("urlset", "sitemapindex"):
        return None
    out = Sitemap()
    target = out.urls if local(root.tag) == "urlset" else out.sitemaps
    for el in root:
        for c in el:
            if local(c.tag) == "loc" and (c.text or "").strip():
                target.append(urljoin(base_url, c.text.strip()))
    return out
