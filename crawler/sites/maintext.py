"""Main-text extraction: the article's own paragraphs, without navigation, teasers, captions or comments.

Works on the lxml tree the page was already parsed into (no second parse):

1. **Candidates.** Known article-body containers (``itemprop=articleBody`` and common CMS class names; all
   disjoint matches, in document order, so bodies split by ads stay whole) and a readability-style winner:
   every paragraph adds a score (1 + commas + length) to its parent and half to its grandparent; the best
   container, discounted by its link density, wins. A known container is used unless it holds much less
   text than the scored winner.
2. **Walk.** The chosen container is turned into text blocks, skipping elements that are boilerplate by tag
   (nav, aside, figure, form ...), by class/id words (share, related, newsletter, caption, byline ...) or
   hidden; an element holding most of the container's text is never skipped (wrappers with odd names).
3. **Filter.** Blocks that are mostly link text (teaser lists), stock phrases ("Advertisement",
   "Continue reading below") and a repeated headline are dropped.

When the fast path finds too little text, trafilatura runs on the same tree (it copies it).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import trafilatura
from lxml import etree

from crawler.htmltext import normalise_whitespace

# -- named selectors and vocabularies ---------------------------------------------------------------------
CONTAINER_XPATH = (
    '//*[@itemprop="articleBody"]'
    ' | //*[contains(concat(" ", normalize-space(@class), " "), " entry-content ")]'
    ' | //*[contains(concat(" ", normalize-space(@class), " "), " article-body ")]'
    ' | //*[contains(concat(" ", normalize-space(@class), " "), " article__body ")]'
    ' | //*[contains(concat(" ", normalize-space(@class), " "), " articleBody ")]'
    ' | //*[contains(concat(" ", normalize-space(@class), " "), " article-content ")]'
    ' | //*[contains(concat(" ", normalize-space(@class), " "), " post-content ")]'
    ' | //*[contains(concat(" ", normalize-space(@class), " "), " post-body ")]'
    ' | //*[contains(concat(" ", normalize-space(@class), " "), " story-body ")]'
    ' | //*[contains(concat(" ", normalize-space(@class), " "), " article-text ")]'
)
PARAGRAPH_TAGS = ("p", "pre", "blockquote", "li", "td", "h2", "h3")
SCORED_PARAGRAPH_TAGS = ("p", "pre")
BLOCK_TAGS = frozenset({"p", "div", "li", "ul", "ol", "dl", "dd", "dt", "h1", "h2", "h3", "h4", "h5", "h6",
                        "blockquote", "pre", "tr", "table", "section", "article", "header", "main", "center",
                        "address", "details", "summary", "hr", "figure", "caption"})
SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "form", "button", "svg", "iframe", "nav",
                       "aside", "footer", "figure", "figcaption", "select", "input", "textarea", "label",
                       "object", "embed", "video", "audio", "canvas", "map", "dialog", "menu", "head", "title",
                       "link", "meta", "h1"})
# whole class/id words (split on space, '-' and '_') that mark boilerplate
BOILERPLATE_WORDS = frozenset({
    "share", "sharing", "sharebar", "sharetools", "related", "recommended", "recommendations", "newsletter",
    "subscribe", "subscription", "signup", "comment", "comments", "disqus", "ad", "ads", "advert", "adverts",
    "advertisement", "adslot", "adunit", "dfp", "promo", "promotion", "sponsored", "sidebar", "widget",
    "cookie", "cookies", "consent", "byline", "caption", "credit", "credits", "breadcrumb", "breadcrumbs",
    "tags", "taglist", "popular", "trending", "outbrain", "taboola", "readmore", "gallery", "slideshow",
    "toolbar", "modal", "popup", "overlay", "footer", "nav", "navigation", "menu", "masthead", "author",
    "bio", "pagination", "pager", "disclaimer", "teaser", "teasers", "timestamp", "dateline",
})
# words that put a whole region outside the article: a scored winner inside one is never the body
OUTSIDE_WORDS = frozenset({"comment", "comments", "commentlist", "disqus", "related", "recommended", "footer",
                           "outbrain", "taboola"})
# class/id words that are never boilerplate even when combined with one above ("article-meta" is, but
# "content" wrappers like "main-content-more" are kept when they hold the text anyway)
CLASS_SPLIT = re.compile(r"[\s_\-]+")
HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
STOCK_PHRASES = re.compile(
    r"^(advertisement|advert|ad|sponsored|continue reading( below| the main story)?|story continues below|"
    r"article continues below|read more|read next|related|related articles?|more stories|you may also like|"
    r"recommended|close|video|image|caption|photo|share|share this( article| story)?|tweet|email|print|"
    r"click here.*|sign up.*newsletter.*|this slideshow requires javascript\.?|back to gallery|"
    r"(photo|image|credit|source|file photo)\s*:.*)$", re.I)
MIN_CHARS = 200
MAX_LINK_DENSITY = 0.5
KNOWN_MIN_SHARE = 0.6  # a known container must hold this share of the scored winner's text
MAX_SKIP_SHARE = 0.5   # a boilerplate-named element holding more of the text than this is a wrapper


@dataclass
class Block:
    text: str
    link_chars: int
    tag: str


# -- candidates -----------------------------------------------------------------------------------------
def known_containers(root: etree._Element) -> list[etree._Element]:
    """Outermost matches of the known body containers, in document order."""
    found = root.xpath(CONTAINER_XPATH)
    chosen = set(found)
    return [el for el in found if not any(anc in chosen for anc in el.iterancestors())]


def scored_container(root: etree._Element) -> etree._Element | None:
    scores: dict = {}
    for p in root.iter(*SCORED_PARAGRAPH_TAGS):
        text = p.text_content()
        n = len(text.strip())
        if n < 25:
            continue
        score = 1 + text.count(",") + min(n // 100, 3)
        parent = p.getparent()
        if parent is None:
            continue
        scores[parent] = scores.get(parent, 0) + score
        grand = parent.getparent()
        if grand is not None:
            scores[grand] = scores.get(grand, 0) + score / 2
    for div in root.iter("div"):  # text held directly by a div, split by <br>
        direct = (div.text or "") + "".join(c.tail or "" for c in div)
        n = len(direct.strip())
        if n >= 100:
            scores[div] = scores.get(div, 0) + 1 + direct.count(",") + min(n // 100, 3)
    if not scores:
        return None
    top = [kv for kv in sorted(scores.items(), key=lambda kv: kv[1], reverse=True)[:8] if not in_outside_region(kv[0])]
    if not top:
        return None
    best = max(top[:5], key=lambda kv: kv[1] * (1 - link_density(kv[0])))
    return best[0]


def in_outside_region(el: etree._Element) -> bool:
    for node in (el, *el.iterancestors()):
        if node.tag in ("body", "html"):
            return False
        names = f'{node.get("class") or ""} {node.get("id") or ""}'.lower()
        if names.strip() and any(w in OUTSIDE_WORDS for w in CLASS_SPLIT.split(names)):
            return True
    return False


def link_density(el: etree._Element) -> float:
    total = len(el.text_content())
    if not total:
        return 1.0
    links = sum(len(a.text_content()) for a in el.iter("a"))
    return min(1.0, links / total)


def text_len(els: list[etree._Element]) -> int:
    return sum(len(el.text_content().strip()) for el in els)


def choose(root: etree._Element) -> list[etree._Element]:
    known = known_containers(root)
    scored = scored_container(root)
    if not known:
        return [scored] if scored is not None else []
    if scored is None or any(scored is k or k in scored.iterancestors() for k in known):
        return known
    if text_len(known) >= KNOWN_MIN_SHARE * text_len([scored]):
        return known
    return [scored]


# -- walk -----------------------------------------------------------------------------------------------
def is_boilerplate(el: etree._Element) -> bool:
    tag = el.tag
    if tag in SKIP_TAGS:
        return True
    if el.get("hidden") is not None or el.get("aria-hidden") == "true":
        return True
    style = el.get("style")
    if style and HIDDEN_STYLE.search(style):
        return True
    names = f'{el.get("class") or ""} {el.get("id") or ""}'.lower()
    if not names.strip():
        return False
    return any(w in BOILERPLATE_WORDS for w in CLASS_SPLIT.split(names))


class _Walker:
    def __init__(self, total_chars: int):
        self.blocks: list[Block] = []
        self.parts: list[str] = []
        self.link_chars = 0
        self.tag = "p"
        self.total = max(total_chars, 1)

    def flush(self) -> None:
        text = normalise_whitespace("".join(self.parts))
        if text:
            self.blocks.append(Block(text, self.link_chars, self.tag))
        self.parts, self.link_chars = [], 0

    def walk(self, el, in_link: bool, top: bool = False) -> None:
        tag = el.tag
        if not isinstance(tag, str):  # comments, processing instructions
            self.tail(el, in_link)
            return
        if not top and is_boilerplate(el) and not self.is_wrapper(el):
            self.tail(el, in_link)
            return
        block = tag in BLOCK_TAGS
        if block:
            self.flush()
            self.tag = tag
        elif tag == "br":
            self.parts.append("\n")
        link = in_link or tag == "a"
        if el.text:
            self.parts.append(el.text)
            if link:
                self.link_chars += len(el.text.strip())
        for child in el:
            self.walk(child, link)
        if block:
            self.flush()
        self.tail(el, in_link)

    def tail(self, el, in_link: bool) -> None:
        if el.tail:
            self.parts.append(el.tail)
            if in_link:
                self.link_chars += len(el.tail.strip())

    def is_wrapper(self, el) -> bool:
        if el.tag in SKIP_TAGS and el.tag not in ("aside", "footer", "figure"):
            return False
        return len(el.text_content()) > MAX_SKIP_SHARE * self.total


def blocks_of(containers: list[etree._Element]) -> list[Block]:
    total = sum(len(c.text_content()) for c in containers)
    walker = _Walker(total)
    for c in containers:
        tail, c.tail = c.tail, None
        try:
            walker.walk(c, False, top=True)
        finally:
            c.tail = tail
        walker.flush()
    return walker.blocks


def keep_block(block: Block, headline: str | None) -> bool:
    text = block.text
    if STOCK_PHRASES.match(text):
        return False
    if block.link_chars > MAX_LINK_DENSITY * len(text) and len(text) < 400:
        return False
    if headline and text == headline:
        return False
    return True


# -- public -------------------------------------------------------------------------------------------------
def fast_text(root: etree._Element) -> str | None:
    containers = choose(root)
    if not containers:
        return None
    headline = _headline(root)
    blocks = [b for b in blocks_of(containers) if keep_block(b, headline)]
    text = "\n\n".join(b.text for b in blocks).strip()
    return text or None


def from_trafilatura(root: etree._Element, url: str | None) -> str | None:
    text = trafilatura.extract(root, url=url, include_comments=False, include_tables=False,
                               deduplicate=False)
    return text.strip() if text and len(text.strip()) >= MIN_CHARS else None


def extract(sel_or_root, url: str | None = None) -> str | None:
    """Main text of a page, from a parsel Selector or an lxml root; None when there is too little."""
    root = getattr(sel_or_root, "root", sel_or_root)
    if not isinstance(getattr(root, "tag", None), str):
        return None
    text = fast_text(root)
    if text and len(text) >= MIN_CHARS:
        return text
    return from_trafilatura(root, url) or text


def _headline(root: etree._Element) -> str | None:
    h1 = root.find(".//h1")
    if h1 is None:
        return None
    return normalise_whitespace(h1.text_content()) or None
