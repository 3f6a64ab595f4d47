"""RSS 2.0 / Atom / RDF feeds → entries (article URL, title, date)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urljoin

from crawler.dates import parse_date

from .xmlsafe import local, parse_xml


@dataclass
class FeedEntry:
    url: str
    title: str | None = None
    published_at: datetime | None = None


def _child_text(el, name: str) -> str | None:
    for c in el:
        if local(c.tag) == name:
            return (c.text or "").strip() or None
    return None


def _atom_link(entry) -> str | None:
    links = [c for c in entry if local(c.tag) == "link"]
    for c in links:
        if c.get("rel", "alternate") == "alternate" and c.get("href"):
            return c.get("href")
    return links[0].get("href") if links and links[0].get("href") else None


def parse_feed(body: bytes, base_url: str) -> list[FeedEntry] | None:
    """Entries of a feed, or None when the body is not a feed."""
    root = parse_xml(body)
    if root is None or local(root.tag) not in ("rss", "feed", "rdf"):
        return None
    out: list[FeedEntry] = []
    for el in root.iter():
        name = local(el.tag)
        if name == "item":
            link = _child_text(el, "link") or _child_text(el, "guid")
            date = _child_text(el, "pubdate") or _child_text(el, "date")
        elif name == "entry":
            link = _atom_link(el)
            date = _child_text(el, "published") or _child_text(el, "updated")
        else:
            continue
        if link:
            out.append(FeedEntry(urljoin(base_url, link), _child_text(el, "title"), parse_date(date)))
    return out
