"""A forum topic that reposts a news story: where the story came from, and the story's text without the
forum's chrome. One rule for every forum adapter (Discourse, SMF, phpBB, XenForo, vBulletin).

**Source link** (``syndicated_from``), first match wins:

1. the topic's **featured link** (Discourse ``featured_link``, given by the caller);
2. an **explicit source line**: a block (paragraph, line) made of a short label and one outside link, the
   label naming it as the source ("Source:", "Originally published by …:", "Read the full story at",
   "via", "Full article:" …);
3. a **onebox at the top** of the post (Discourse ``aside.onebox`` as the first block);
4. the **embed line** of a topic made by a site that uses the forum as its comment system ("This is a
   companion discussion topic for the original entry at <URL>").

A link merely cited in the text (a project's home page, a document the story mentions) is never the
source: a post with none of the above has ``syndicated_from`` None.

**Body** (:func:`article_body`): oneboxes are reduced as in comment text (to their URL line), except the
top onebox that is the source, which is dropped (its URL is ``syndicated_from``; its title and lead repeat
the story); the source line and the embed line are dropped (attribution, not the story); a trailing run of link lists (a footer of sister-site links) and
rules is dropped; quotes are left out.
"""
from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from lxml import etree

from crawler.htmltext import QUOTE_XPATH, element_text, parse_fragment
from crawler.urls import site_of

SOURCE_LABEL = re.compile(
    r"^\W*(source|sources|originally (published|posted|appeared)|first (published|appeared)|read (more|the "
    r"(full|original|rest)[\w ]*)|full (story|article|text)|original (story|article|post)|via|continue reading|"
    r"republished from|reposted from|credit)\b", re.I)
MAX_LABEL_WORDS = 12
COMPANION = re.compile(r"companion discussion topic for the original entry", re.I)
ONEBOX_XPATH = "//aside[contains(concat(' ', normalize-space(@class), ' '), ' onebox ')]"
NOT_SOURCE_CLASSES = {"mention", "hashtag", "lightbox", "mention-group", "hashtag-cooked", "onebox"}
BLOCKS = ("p", "div", "li", "small", "section", "aside", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
          "ul", "ol", "hr", "table", "figure", "pre")


def _classes(el) -> set[str]:
    return set((el.get("class") or "").split())


def _is_onebox(el) -> bool:
    return isinstance(el.tag, str) and el.tag == "aside" and "onebox" in _classes(el)


def _outside(href: str, page_url: str, forum_host: str, forum_prefix: str) -> str | None:
    """The absolute URL when ``href`` leaves the forum (another host, or the same host outside the forum's
    subfolder), else None."""
    absolute = urljoin(page_url, (href or "").strip())
    parts = urlsplit(absolute)
    if parts.scheme not in ("http", "https"):
        return None
    if site_of(absolute) != forum_host:
        return absolute
    if forum_prefix and not (parts.path == forum_prefix or parts.path.startswith(forum_prefix.rstrip("/") + "/")):
        return absolute
    return None


def _in_quote(el) -> bool:
    quotes = {"quote", "bbCodeBlock--quote", "bbcode_quote"}
    return any(isinstance(a.tag, str) and (a.tag == "blockquote" or _classes(a) & quotes) for a in el.iterancestors())


def onebox_url(box) -> str | None:
    return box.get("data-onebox-src") or next(iter(box.xpath(".//header//a/@href | .//a/@href")), None)


def _top_block(root):
    """The first element of the post's own content (through a wrapper such as the crawler view's div.post)."""
    box = root
    while True:
        kids = [el for el in box if isinstance(el.tag, str)]
        if not kids:
            return None
        first = kids[0]
        if first.tag in ("div", "section", "article") and len(kids) == 1 and not (box.text or "").strip() \
                and not _is_onebox(first):
            box = first
            continue
        return first


def source_line(root, page_url: str, forum_host: str, forum_prefix: str = "") -> tuple[str, object] | None:
    """(URL, block) of the first explicit source line: one outside link plus a short source label."""
    for block in root.iter(*BLOCKS):
        if _in_quote(block) or _is_onebox(block):
            continue
        links = [a for a in block.iter("a") if not (_classes(a) & NOT_SOURCE_CLASSES)]
        outside = [u for u in (_outside(a.get("href"), page_url, forum_host, forum_prefix) for a in links) if u]
        if len(set(outside)) != 1:
            continue
        text = " ".join(" ".join(block.itertext()).split())
        label = text
        for a in links:
            label = label.replace(" ".join(" ".join(a.itertext()).split()), " ")
        if len(label.split()) <= MAX_LABEL_WORDS and SOURCE_LABEL.search(label.strip()):
            return outside[0], block
    return None


def top_onebox(root, page_url: str, forum_host: str, forum_prefix: str = "") -> tuple[str, object] | None:
    first = _top_block(root)
    if first is not None and _is_onebox(first):
        url = _outside(onebox_url(first) or "", page_url, forum_host, forum_prefix)
        if url:
            return url, first
    return None


def embed_line(root, page_url: str) -> tuple[str, object] | None:
    """(URL, block) of the "companion discussion topic for the original entry at <URL>" line."""
    found = None
    for block in root.iter(*BLOCKS):  # document order: the last match is the innermost block holding the line
        text = " ".join(" ".join(block.itertext()).split())
        if COMPANION.search(text) and block.getparent() is not None:
            href = next((a.get("href") for a in block.iter("a") if a.get("href")), None)
            if href:
                found = urljoin(page_url, href.strip()), block
    return found


def repost_source(html: str, page_url: str, forum_host: str, forum_prefix: str = "",
                  featured_link: str | None = None, embed_url: str | None = None) -> str | None:
    """``syndicated_from`` of a topic's opening post by the rule in the module docs."""
    if featured_link and urlsplit(featured_link).scheme in ("http", "https"):
        return featured_link
    root = parse_fragment(html or "")
    for found in (source_line(root, page_url, forum_host, forum_prefix),
                  top_onebox(root, page_url, forum_host, forum_prefix)):
        if found:
            return found[0]
    if embed_url:
        return embed_url
    found = embed_line(root, page_url)
    return found[0] if found else None


def article_body(html: str, page_url: str, forum_host: str, forum_prefix: str = "",
                 tidy=None) -> str:
    """The opening post's text as an article body (see the module docs). ``tidy(root)`` lets an adapter drop
    its own chrome (quote headers, signatures) from the parsed fragment first."""
    root = parse_fragment(html or "")
    if tidy is not None:
        tidy(root)
    top = top_onebox(root, page_url, forum_host, forum_prefix)
    if top:
        _drop(top[1])
    line = source_line(root, page_url, forum_host, forum_prefix)
    if line:
        _drop(line[1])
    for box in root.xpath(ONEBOX_XPATH):
        repl = etree.Element("p")
        repl.text = onebox_url(box) or ""
        repl.tail = box.tail
        box.getparent().replace(box, repl)
    emb = embed_line(root, page_url)
    if emb:
        block = emb[1]
        prev = block.getprevious()
        _drop(block)
        if prev is not None and prev.tag == "hr" and prev.getnext() is None:
            _drop(prev)
    trim_trailing_links(root)
    quotes = root.xpath(QUOTE_XPATH)
    for q in quotes:
        if q.getparent() is not None:
            q.drop_tree()
    return element_text(root)


def _drop(el) -> None:
    if el.getparent() is not None:
        el.drop_tree()


def trim_trailing_links(root) -> None:
    """Drop trailing rules and blocks that are mostly links (a footer of sister-site links), from the end."""
    box = root
    while True:  # descend through wrappers (the crawler view's div.post) to the blocks themselves
        kids = [el for el in box if isinstance(el.tag, str)]
        if len(kids) != 1 or kids[0].tag not in ("div", "section", "article") or (box.text or "").strip():
            break
        box = kids[0]
    blocks = [el for el in box if isinstance(el.tag, str)]
    for el in reversed(blocks):
        if el.tag in ("hr", "br") or link_density(el) >= 0.5:
            tail = el.tail
            el.drop_tree()
            if tail and tail.strip():
                break
            continue
        break


def _words(text: str) -> int:
    return sum(1 for w in text.split() if any(ch.isalnum() for ch in w))


def link_density(el) -> float:
    """Share of an element's words that sit inside links (separators such as "·" or "|" not counted)."""
    total = _words(" ".join(el.itertext()))
    if total == 0:
        return 1.0 if el.tag in ("hr", "br") else 0.0
    return sum(_words(" ".join(a.itertext())) for a in el.iter("a")) / total
