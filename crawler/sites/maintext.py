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
   Lists whose items each open with a link (related-story boxes) are skipped the same way.
3. **Filter.** Blocks that are mostly link text, stock phrases ("Advertisement", "Continue reading
   below"), bare dates and a repeated headline are dropped. A lead paragraph just before the container
   (a ``<p>`` or a summary/standfirst block) is kept.

When the fast path finds too little text, trafilatura runs on the same tree (it copies it).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import trafilatura
from lxml import etree

from crawler.htmltext import normalise_whitespace

# -- named selectors and vocabularies ---------------------------------------------------------------------
# class names (whole class tokens) and itemprop values of known article-body containers
CONTAINER_CLASSES = frozenset({
    "entry-content", "article-body", "article__body", "articleBody", "article-content", "post-content",
    "post-body", "story-body", "article-text",
})
CONTAINER_ITEMPROP = "articleBody"
SCORED_PARAGRAPH_TAGS = ("p", "pre")
DIRECT_TEXT_TAGS = ("div", "blockquote", "td", "dd")  # scored for their own text
BLOCK_TAGS = frozenset({"p", "div", "li", "ul", "ol", "dl", "dd", "dt", "h1", "h2", "h3", "h4", "h5", "h6",
                        "blockquote", "pre", "tr", "table", "section", "article", "header", "main", "center",
                        "address", "details", "summary", "hr", "figure", "caption"})
# skipped tags that may still wrap the whole body (ASP.NET pages put everything in one <form>)
WRAPPER_TAGS = frozenset({"aside", "footer", "figure", "form"})
# tags that say "this is the content": their class words (CMS post classes) do not make them boilerplate
CONTENT_TAGS = frozenset({"article", "main"})
CELL_TAGS = frozenset({"td", "th"})
SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "form", "button", "svg", "iframe", "nav",
                       "aside", "footer", "figure", "figcaption", "select", "input", "textarea", "label",
                       "object", "embed", "video", "audio", "canvas", "map", "dialog", "menu", "head", "title",
                       "link", "meta", "h1"})
# whole class/id words (split on space, '-' and '_') that mark boilerplate
BOILERPLATE_WORDS = frozenset({
    "share", "sharing", "sharebar", "sharetools", "related", "recommended", "recommendations", "newsletter",
    "subscribe", "subscription", "signup", "comment", "comments", "disqus", "ad", "ads", "advert", "adverts",
    "advertisement", "adslot", "adunit", "dfp", "promo", "promotion", "sponsored", "sidebar",
    "cookie", "cookies", "consent", "byline", "caption", "credit", "credits", "breadcrumb", "breadcrumbs",
    "tags", "taglist", "popular", "trending", "outbrain", "taboola", "readmore", "gallery", "slideshow",
    "toolbar", "modal", "popup", "overlay", "footer", "nav", "navigation", "menu", "masthead", "author",
    "bio", "pagination", "pager", "disclaimer", "teasers", "timestamp", "dateline",
})
# words page builders also put on the blocks that hold the article ("elementor-widget-text-editor"): such an
# element is boilerplate only when it holds no prose paragraph
WEAK_BOILERPLATE_WORDS = frozenset({"widget", "teaser"})
WEAK_PROSE_TAGS = ("p", "li")  # ... (a prose paragraph or list item)
# a side column by its name ("side-wrap", "acme-side-widget", "side-posts-list"); "side" alone is often a modifier
# ("icon-side-right", "image-side-left") and says nothing
SIDE_REGION = re.compile(r"(^|[\s_-])side[-_]?(wrap|wrapper|widgets?|bar|panel|rail|col|column|posts|menu|nav|area|box)"
                         r"([\s_-]|$)")
BOILERPLATE_STEM_WORDS = ("share", "advert", "newsletter", "outbrain", "taboola", "breadcrumb", "cookie", "subscri",
                          "sponsor")  # a class/id word starting with one of these
BOILERPLATE_STEMS = re.compile(f"^({'|'.join(BOILERPLATE_STEM_WORDS)})")
LEAD_WORDS = frozenset({"lead", "lede", "summary", "standfirst", "intro", "excerpt"})
COMMENT_WORDS = frozenset({"comment", "comments", "commentlist", "disqus", "respond"})
# words that put a whole region outside the article: a scored winner inside one is never the body
OUTSIDE_WORDS = frozenset({"comment", "comments", "commentlist", "disqus", "related", "recommended", "footer",
                           "outbrain", "taboola"})
CLASS_SPLIT = re.compile(r"[\s_\-]+")


def _any_word(words, stems=()) -> re.Pattern:
    """One search over lower-cased class/id names for a whole word (a CLASS_SPLIT token) of ``words``, or a
    token starting with one of ``stems``: what splitting the names and testing each token says, in C."""
    alternatives = [f"(?:{'|'.join(sorted(map(re.escape, words), key=len, reverse=True))})(?![^\\s_\\-])"]
    if stems:
        alternatives.append(f"(?:{'|'.join(stems)})")
    return re.compile(r"(?:^|[\s_\-])(?:" + "|".join(alternatives) + ")")


OUTSIDE_NAME = _any_word(OUTSIDE_WORDS)
COMMENT_NAME = _any_word(COMMENT_WORDS)
BOILERPLATE_NAME = _any_word(BOILERPLATE_WORDS, BOILERPLATE_STEM_WORDS)
WEAK_BOILERPLATE_NAME = _any_word(WEAK_BOILERPLATE_WORDS)


HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
STOCK_PHRASES = re.compile(
    r"^(advertisement|advert|ad|sponsored|continue reading( below| the main story)?|story continues below|"
    r"article continues below|read more|read next|related|related articles?|more stories|you may also like|"
    r"recommended|close|video|image|caption|photo|(\d+\s+)?comments?|leave a (comment|reply)|share|share this( article| story| post)?:?|tweet|email|print|"
    r"click here.*|sign up.*newsletter.*|this slideshow requires javascript\.?|back to gallery|"
    r"(photo|image|credit|source|file photo)\s*:.*)$", re.I)
MONTH = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
DATE_ONLY = re.compile(
    r"^((published|updated|posted|last updated)\s*:?\s*)?(\w+day,?\s+)?"
    r"(" + MONTH + r"\s+\d{1,2}(st|nd|rd|th)?,?\s+\d{4}|\d{1,2}(st|nd|rd|th)?\s+" + MONTH + r",?\s+\d{4}|"
    r"\d{4}-\d{2}-\d{2}|\d{1,2}[./]\d{1,2}[./]\d{2,4})"
    r"([\s,|at@-]+\d{1,2}[:.]\d{2}(\s*[ap]\.?m\.?)?(\s+[a-z]{2,5})?)?$", re.I)
# CMS shortcodes left unrendered: [name_with_underscore ...], [name key="..."], [/name]
SHORTCODE = re.compile(r"\[(?:/[a-z][a-z0-9_-]*|[a-z][a-z0-9]*_[a-z0-9_-]*[^\]]*|[a-z][a-z0-9_-]*\s+[a-z_-]+=[^\]]*)\]",
                       re.I)
# a short line opening with "By" and no sentence end: a byline ("By Jane Doe, Reuters")
BYLINE = re.compile(r"^by\s+[^.!?\n]{2,60}$", re.I)
COMMAS = (",", "\uff0c", "\u3001", "\u060c")  # Latin, fullwidth, ideographic, Arabic
MIN_CHARS = 200        # less fast-path text than this and trafilatura gets a go ...
WEAK_SHARE = 0.5       # ... and so it does when the fast path holds less than this share of the page's prose
TEASER_MIN_ITEMS = 3   # a list this long whose items ...
TEASER_SHARE = 0.8     # ... mostly open with a link is a related-stories box ...
TEASER_LINK_SHARE = 0.5  # ... when link text is at least this share of the list's text (or its items are cards)
CARD_BLOCK_TAGS = frozenset({"p", "div", "h2", "h3", "h4", "h5", "h6", "figure", "img", "picture", "time"})
# a list the text announces with a sentence of its own ending in a colon ("Many patches were sent for review:")
# is content, however much of it is links; a short label ("Read more:", "Related:") or one naming a box of other
# stories ("You might also like these stories:") announces no content
INTRO_MIN_WORDS = 4
INTRO_TEASER_WORDS = frozenset({"related", "also", "more", "read", "reading", "recommended", "popular", "trending",
                                "latest", "similar", "other", "stories", "articles", "posts", "newsletter",
                                "sponsored", "partner", "partners"})
HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
PROSE_CHARS = 80       # a paragraph at least this long is prose, not a label
PART_MIN_SHARE = 0.2   # a further known container this big (relative to the biggest) is part of the body
MAX_LINK_DENSITY = 0.5
SIBLING_SHARE = 0.2    # a sibling of the scored winner scoring this share of it is more of the body
SIBLING_MIN_SCORE = 5
SIBLING_MAX_LINK_DENSITY = 0.25
KNOWN_MIN_SHARE = 0.6  # a known container must hold this share of the scored winner's text
GROW_PROSE_TAGS = ("p", "pre")
GROW_MIN_SHARE = 0.25  # an ancestor must add this share of prose to be climbed to ...
GROW_PROSE_RATIO = 0.1  # ... and add at least this much prose per character of other text
REPEAT_MIN_CHARS = 50  # a block this long that repeats an earlier one is dropped
REPEATABLE_TAGS = frozenset({"li", "tr", "td", "dd"})  # ... unless it is an item recurring on its own
MAX_SKIP_SHARE = 0.5   # a boilerplate-named element holding more of the text than this is a wrapper


@dataclass
class Block:
    text: str
    link_chars: int
    tag: str
    announced: bool = False  # an item of a list the text announces: its links are content


# -- one pass over the paragraphs ------------------------------------------------------------------------
class Paragraphs:
    """The page's ``<p>``/``<pre>`` read once (text, stripped length), and answers derived from them that the
    scorer, :func:`grow` and :func:`page_prose` all ask: is a paragraph prose, is an element inside a region
    outside the article (answers remembered per element, so a region's ancestors are looked at once)."""

    def __init__(self, root: etree._Element):
        self.items = [(p, text, len(text.strip())) for p in root.iter(*SCORED_PARAGRAPH_TAGS)
                      for text in (p.text_content(),)]
        self._outside: dict = {}
        self._prose: dict | None = None

    def outside(self, el: etree._Element) -> bool:
        """Like :func:`in_outside_region` (and true inside an ``aria-hidden`` element), remembered for every element
        on the way up."""
        memo = self._outside
        path = []
        node, result = el, False
        while node is not None:
            known = memo.get(node)
            if known is not None:
                result = known
                break
            if node.tag in ("body", "html"):
                break
            path.append(node)
            if names_outside(node) or is_unread(node):
                result = True
                break
            node = node.getparent()
        for n in path:
            memo[n] = result
        return result

    @property
    def prose(self) -> dict:
        """{paragraph: characters} of prose paragraphs (PROSE_CHARS or more, link density below 0.3,
        outside no comment/related/footer region)."""
        if self._prose is None:
            self._prose = {}
            for p, text, n in self.items:
                if n >= PROSE_CHARS and _links_share(p, len(text)) < 0.3 and not self.outside(p):
                    self._prose[p] = n
        return self._prose


def _links_share(el: etree._Element, total: int) -> float:
    if not total:
        return 1.0
    return min(1.0, sum(len(a.text_content()) for a in el.iter("a")) / total)


def names_outside(node: etree._Element) -> bool:
    cls, id_ = node.get("class"), node.get("id")
    if not cls and not id_:
        return False
    return OUTSIDE_NAME.search(f'{cls or ""} {id_ or ""}'.lower()) is not None


# -- candidates -----------------------------------------------------------------------------------------
def known_containers(root: etree._Element) -> list[etree._Element]:
    """Outermost matches of the known body containers, in document order; a match after the first must
    hold prose of its own (a body split by an ad does; a teaser card reusing the class does not)."""
    found = [el for el in document_elements(root) if is_known_container(el)]
    chosen = set(found)
    outer = [el for el in found if not any(anc in chosen for anc in el.iterancestors())]
    if len(outer) <= 1:
        return outer
    sizes = [len(el.text_content().strip()) for el in outer]
    biggest = max(sizes)
    return [el for el, n in zip(outer, sizes) if n == biggest or n >= PART_MIN_SHARE * biggest or has_prose(el)]


def is_known_container(el: etree._Element) -> bool:
    if el.get("itemprop") == CONTAINER_ITEMPROP:
        return True
    cls = el.get("class")
    return bool(cls) and not CONTAINER_CLASSES.isdisjoint(cls.split())


def document_elements(root: etree._Element):
    """Every element of ``root``'s document in document order, as ``//*`` selects them (a Python loop over
    the tree is about twice as fast as libxml2's XPath for that), including the further top-level elements
    libxml2 leaves beside the root element (content after ``</html>``)."""
    top = root.getroottree().getroot()
    if top is None:
        return
    for el in (*reversed(list(top.itersiblings(preceding=True))), top, *top.itersiblings()):
        if isinstance(el.tag, str):
            yield from el.iter(etree.Element)


def has_prose(el: etree._Element) -> bool:
    return any(len(p.text_content().strip()) >= PROSE_CHARS for p in el.iter("p"))


def scored_container(root: etree._Element) -> etree._Element | None:
    return scored_containers(root)[0]


def scored_containers(root: etree._Element, paras: Paragraphs | None = None
                      ) -> tuple[etree._Element | None, list[etree._Element]]:
    """The readability winner, and the winner with its siblings that score at least SIBLING_SHARE of it
    (a body split into several sections) in document order."""
    paras = paras or Paragraphs(root)
    scores: dict = {}
    for p, text, n in paras.items:
        if n < 25:
            continue
        score = 1 + count_commas(text) + min(n // 100, 3)
        parent = p.getparent()
        if parent is None:
            continue
        scores[parent] = scores.get(parent, 0) + score
        grand = parent.getparent()
        if grand is not None:
            scores[grand] = scores.get(grand, 0) + score / 2
    for div in root.iter(*DIRECT_TEXT_TAGS):  # text held directly by a block, split by <br>
        direct = (div.text or "") + "".join(c.tail or "" for c in div)
        n = len(direct.strip())
        if n >= 100:
            scores[div] = scores.get(div, 0) + 1 + count_commas(direct) + min(n // 100, 3)
    if not scores:
        return None, []
    top = [kv for kv in sorted(scores.items(), key=lambda kv: kv[1], reverse=True)[:8]
           if not paras.outside(kv[0]) and not is_boilerplate(kv[0])]
    if not top:
        return None, []
    best, best_score = max(top[:5], key=lambda kv: kv[1] * (1 - link_density(kv[0])))
    grown = grow(best, paras)
    if grown is not best:
        return grown, [grown]
    parent = best.getparent()
    if parent is None:
        return best, [best]
    floor = max(SIBLING_MIN_SCORE, SIBLING_SHARE * best_score)
    return best, [sib for sib in parent if sib is best or (
        scores.get(sib, 0) >= floor and not is_boilerplate(sib) and link_density(sib) < SIBLING_MAX_LINK_DENSITY)]


def grow(best: etree._Element, paras: Paragraphs | None = None) -> etree._Element:
    """Climb from the scored winner to the ancestor that holds the rest of a body split over many blocks:
    an ancestor is taken when the text it adds is mostly prose (paragraphs with few links)."""
    chain = [best]
    for anc in best.iterancestors():
        if anc.tag in ("body", "html"):
            break
        chain.append(anc)
    if len(chain) == 1:
        return best
    index = {el: i for i, el in enumerate(chain)}
    top = chain[-1]
    n = len(chain)
    prose = [0] * n
    hidden = [0] * n
    prose_of = (paras or Paragraphs(top)).prose
    def add(el, arr, amount):
        for node in (el, *el.iterancestors()):
            i = index.get(node)
            if i is not None:
                arr[i] += amount
                return
            if node is top:
                return
    for p in top.iter(*GROW_PROSE_TAGS):
        k = prose_of.get(p)
        if k:
            add(p, prose, k)
    for sc in top.iter("script", "style", "noscript", "template"):
        add(sc, hidden, len(sc.text_content()))
    for i in range(1, n):
        prose[i] += prose[i - 1]; hidden[i] += hidden[i - 1]
    total = [len(el.text_content()) - hidden[i] for i, el in enumerate(chain)]
    cur = 0
    for i in range(1, n):
        d_prose = prose[i] - prose[cur]
        d_other = total[i] - total[cur] - d_prose
        if d_prose > GROW_MIN_SHARE * max(prose[cur], 1) and d_prose >= GROW_PROSE_RATIO * d_other \
                and not is_boilerplate(chain[i]):
            cur = i
    return chain[cur]


def in_outside_region(el: etree._Element) -> bool:
    node = el
    while node is not None:
        if node.tag in ("body", "html"):
            return False
        if names_outside(node):
            return True
        node = node.getparent()
    return False


def count_commas(text: str) -> int:
    return sum(text.count(c) for c in COMMAS)


def link_density(el: etree._Element) -> float:
    total = len(el.text_content())
    if not total:
        return 1.0
    links = sum(len(a.text_content()) for a in el.iter("a"))
    return min(1.0, links / total)


def text_len(els: list[etree._Element]) -> int:
    return sum(len(el.text_content().strip()) for el in els)


def choose(root: etree._Element, paras: Paragraphs | None = None) -> list[etree._Element]:
    """The body's containers (with a lead paragraph before them). The choice is a function of the tree alone,
    so it is remembered for the last few trees (by identity, the tree held so its id cannot be reused): the
    fast path and the listing rules ask it of the same page."""
    for known, containers in _chosen:
        if known is root:
            return list(containers)
    containers = with_lead(choose_containers(root, paras))
    _chosen.insert(0, (root, containers))
    del _chosen[CHOSEN_KEEP:]
    return list(containers)


CHOSEN_KEEP = 4
_chosen: list[tuple[etree._Element, list[etree._Element]]] = []


def choose_containers(root: etree._Element, paras: Paragraphs | None = None) -> list[etree._Element]:
    known = known_containers(root)
    scored, scored_all = scored_containers(root, paras)
    if not known:
        return scored_all
    if scored is None or any(scored is k or k in scored.iterancestors() for k in known):
        return known
    if text_len(known) >= KNOWN_MIN_SHARE * text_len(scored_all):
        return known
    return scored_all


def with_lead(containers: list[etree._Element]) -> list[etree._Element]:
    """Prepend a lead paragraph that sits just before the body container (a standfirst or summary block)."""
    if not containers:
        return containers
    lead = []
    for sib in containers[0].itersiblings(preceding=True):
        if not isinstance(sib.tag, str) or sib.tag in SKIP_TAGS:
            continue
        if len(lead) >= 2 or not is_lead(sib):
            break
        lead.append(sib)
    return lead[::-1] + containers


def is_lead(el: etree._Element) -> bool:
    names = {w for w in CLASS_SPLIT.split(f'{el.get("class") or ""} {el.get("id") or ""}'.lower()) if w}
    if el.tag != "p" and not names & LEAD_WORDS:
        return False
    if is_boilerplate(el):
        return False
    return len(el.text_content().strip()) >= PROSE_CHARS and link_density(el) < 0.25


# -- walk -----------------------------------------------------------------------------------------------
def is_hidden(el: etree._Element) -> bool:
    """Hidden by markup (``hidden``, ``aria-hidden="true"``, an inline ``display:none``)."""
    if not len(el.attrib):
        return False
    if el.get("hidden") is not None or el.get("aria-hidden") == "true":
        return True
    style = el.get("style")
    return bool(style) and bool(HIDDEN_STYLE.search(style))


def is_unread(el: etree._Element) -> bool:
    """``aria-hidden="true"``: the page says no reader is meant to read it (a raw copy kept for scripts,
    a duplicate layout). Unlike a merely ``hidden`` block (React streams the article into hidden blocks
    that a script then shows), such a block is never the article nor a wrapper of it."""
    return el.get("aria-hidden") == "true"


def is_boilerplate(el: etree._Element) -> bool:
    tag = el.tag
    if tag in SKIP_TAGS and not (tag == "figure" and el.find(".//table") is not None):
        return True  # (a table in a <figure>, as block editors wrap them, is content)
    if not len(el.attrib):  # most elements carry no attributes at all
        return False
    if is_hidden(el):
        return True
    cls, id_ = el.get("class"), el.get("id")
    if not cls and not id_:
        return False
    names = f'{cls or ""} {id_ or ""}'.lower()
    # (each test below is a search for whole class/id words: see _any_word)
    if tag in CONTENT_TAGS:  # <article class="post author-jane category-news">: only a comment is not content
        return COMMENT_NAME.search(names) is not None
    if BOILERPLATE_NAME.search(names):
        return True
    if "side" in names and SIDE_REGION.search(names):
        return True
    return WEAK_BOILERPLATE_NAME.search(names) is not None and not holds_prose(el)


def holds_prose(el: etree._Element) -> bool:
    """A paragraph or list item of prose (PROSE_CHARS or more, mostly not link text): page builders put
    an article's bullet lists in "widget" blocks as well as its paragraphs."""
    for p in el.iter(*WEAK_PROSE_TAGS):
        text = p.text_content()
        n = len(text.strip())
        if n >= PROSE_CHARS and (p.tag == "p" or _links_share(p, len(text)) < 0.5):
            return True
    return False


def is_comment_region(el: etree._Element) -> bool:
    cls, id_ = el.get("class"), el.get("id")
    return bool(cls or id_) and COMMENT_NAME.search(f'{cls or ""} {id_ or ""}'.lower()) is not None


INLINE_SPACE = re.compile(r"\s+")  # outside <pre>, a line break in the source is a space


class _Walker:
    def __init__(self, total_chars: int):
        self.blocks: list[Block] = []
        self.parts: list[str] = []
        self.link_chars = 0
        self.tag = "p"
        self.total = max(total_chars, 1)
        self.announced = 0  # depth of announced lists (link_list_kind) the walk is in

    def flush(self) -> None:
        if not self.parts:
            return  # (an empty block: nothing to end; no link text can have been counted)
        text = "".join(self.parts)
        if "[" in text:
            text = SHORTCODE.sub("", text)
        text = normalise_whitespace(text)
        if text:
            self.blocks.append(Block(text, self.link_chars, self.tag, self.announced > 0))
        self.parts, self.link_chars = [], 0

    def walk(self, root, in_link: bool, top: bool = False) -> None:
        """Text blocks of ``root`` (an explicit stack, not recursion: any nesting depth is fine)."""
        stack: list = [(root, in_link, top, False)]
        while stack:
            el, link_ctx, is_top, in_pre = stack.pop()
            if isinstance(el, tuple):  # closing an element opened earlier: (element, is block, outer in_link,
                node, block, outer_link, announced = el  # an announced list)
                if block:
                    self.flush()
                elif node.tag in CELL_TAGS:
                    self.parts.append(" ")
                self.announced -= announced
                self.tail(node, outer_link, in_pre)
                continue
            tag = el.tag
            if not isinstance(tag, str):  # comments, processing instructions
                self.tail(el, link_ctx, in_pre)
                continue
            # (inside <pre> class names are a highlighter's token kinds: "hljs-comment" is code)
            skip = not is_top and not in_pre and is_boilerplate(el)
            kind = link_list_kind(el) if not skip and tag in ("ul", "ol") and not in_pre else None
            if (skip or (kind == "teaser" and not is_top)) and not self.is_wrapper(el):
                self.tail(el, link_ctx, in_pre)
                continue
            announced = kind == "announced"
            self.announced += announced
            block = tag in BLOCK_TAGS
            if block:
                self.flush()
                self.tag = tag
            elif tag == "br":
                self.parts.append("\n")
            link = link_ctx or tag == "a"
            pre = in_pre or tag == "pre"
            if el.text:
                self.parts.append(el.text if pre else INLINE_SPACE.sub(" ", el.text))
                if link:
                    self.link_chars += len(el.text.strip())
            stack.append(((el, block, link_ctx, announced), None, False, in_pre))
            stack.extend((child, link, False, pre) for child in reversed(el))

    def tail(self, el, in_link: bool, in_pre: bool = False) -> None:
        if el.tail:
            self.parts.append(el.tail if in_pre else INLINE_SPACE.sub(" ", el.tail))
            if in_link:
                self.link_chars += len(el.tail.strip())

    def is_wrapper(self, el) -> bool:
        """A boilerplate-looking element that holds most of the text is a wrapper, unless it is a comment
        section (reader comments can outweigh a short article)."""
        if el.tag in SKIP_TAGS and el.tag not in WRAPPER_TAGS:
            return False
        if is_comment_region(el) or is_unread(el):
            return False
        return len(el.text_content()) > MAX_SKIP_SHARE * self.total


def is_teaser_list(el: etree._Element) -> bool:
    return link_list_kind(el) == "teaser"


def link_list_kind(el: etree._Element) -> str | None:
    """Of a list whose items each open with a link (a headline to another page): "announced" when the text
    announces it (:func:`announced`: content, its links kept), "teaser" when it is mostly link text or its
    items are cards (related-story boxes); None for any other list."""
    items = [li for li in el if li.tag == "li"]
    if len(items) < TEASER_MIN_ITEMS:
        return None
    if sum(1 for li in items if opens_with_link(li)) < TEASER_SHARE * len(items):
        return None
    if announced(el):
        return "announced"
    # headlines are most of a teaser box's text, or each item is a card (a headline block over a summary
    # block); a list of linked names each followed, on the same line, by a sentence or two of its own
    # (products, papers, changes the article describes) is content
    teaser = link_density(el) >= TEASER_LINK_SHARE or any(
        isinstance(node.tag, str) and node.tag in CARD_BLOCK_TAGS for li in items for node in li.iterdescendants())
    return "teaser" if teaser else None


def announced(el: etree._Element) -> bool:
    """The text just before the list (the previous element, or the tail text after it; climbing out of
    wrappers the list opens) is a sentence ending in a colon that announces it: INTRO_MIN_WORDS or more
    words, not a heading, mostly not link text, naming no box of other stories."""
    node, intro = el, None
    for _ in range(4):
        prev = node.getprevious()
        while prev is not None and not (isinstance(prev.tag, str) and prev.text_content().strip()) \
                and not (prev.tail and prev.tail.strip()):
            prev = prev.getprevious()
        if prev is not None:
            intro = prev
            break
        parent = node.getparent()
        if parent is None or (parent.text and parent.text.strip()):
            text = " ".join((parent.text or "").split()) if parent is not None else ""
            return _announces(text)
        node = parent
    if intro is None:
        return False
    if intro.tail and intro.tail.strip():
        return _announces(" ".join(intro.tail.split()))
    if not isinstance(intro.tag, str) or intro.tag in HEADING_TAGS:
        return False
    text = " ".join(intro.text_content().split())
    return _announces(text) and link_density(intro) < 0.5


def _announces(text: str) -> bool:
    words = [w.lower() for w in re.findall(r"\w+", text)]
    return text.endswith(":") and len(words) >= INTRO_MIN_WORDS and INTRO_TEASER_WORDS.isdisjoint(words)


def opens_with_link(li: etree._Element) -> bool:
    for node in li.iter():
        if node is not li and node.tag == "a" and " ".join(node.text_content().split()):
            return True
        if node.text and node.text.strip() and node.tag != "a" and not any(a.tag == "a" for a in node.iterancestors()):
            return False
        if node is not li and node.tail and node.tail.strip():
            return False
    return False


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
    if STOCK_PHRASES.match(text) or DATE_ONLY.match(text) or BYLINE.match(text):
        return False
    if block.link_chars > MAX_LINK_DENSITY * len(text) and len(text) < 400 and not block.announced \
            and not is_labelled_link(block):
        return False
    if headline and text == headline:
        return False
    return True


LABEL = re.compile(r"^(\w+(?:[ '-]\w+){0,2})\s*:\s+\S")  # "Pictured: <a>…</a>", "Website: <a>…</a>"
BARE_URL = re.compile(r"(https?://|www\.)", re.I)
# labels that introduce links to other pages of the site, not a fact of the article
LABEL_TEASER_WORDS = INTRO_TEASER_WORDS | BOILERPLATE_WORDS | frozenset({
    "see", "next", "previous", "prev", "watch", "listen", "follow", "source", "sources", "check", "tag", "category",
    "categories", "topic", "topics", "filed", "roundup", "guide", "email", "mail", "phone", "tel", "contact",
    # calls to action and picture credits: promotion and boilerplate, not facts of the article
    "join", "subscribe", "download", "install", "sign", "register", "disclosure", "disclaimer",
    "image", "images", "photo", "photos", "picture", "credit", "credits", "featured", "illustration"})


def is_labelled_link(block: Block) -> bool:
    """A short block that is a label of its own and a link ("Pictured: <a>Blue Star fern</a>", "Website:
    <a>example.org</a>"): a fact the article states, unless the label points elsewhere ("Read more:",
    "Related:", "See also:")."""
    m = LABEL.match(block.text)
    if not m or len(block.text) - block.link_chars < len(m.group(1)):
        return False  # (no label, or the label is itself link text)
    if BARE_URL.match(block.text, m.end() - 1):
        return False  # (a bare address after the label: a reference to another document)
    return LABEL_TEASER_WORDS.isdisjoint(w.lower() for w in re.findall(r"\w+", m.group(1)))


# -- public -------------------------------------------------------------------------------------------------
def fast_text(root: etree._Element, paras: Paragraphs | None = None) -> str | None:
    containers = choose(root, paras)
    if not containers:
        return None
    headline = _headline(root)
    blocks = without_repeats([b for b in blocks_of(containers) if keep_block(b, headline)])
    text = "\n\n".join(b.text for b in blocks).strip()
    return text or None


def without_repeats(blocks: list[Block]) -> list[Block]:
    """Drop a block that repeats an earlier one word for word (a page carrying its text twice, for two
    layouts, or a pull quote); short labels ("Pros", "Step 1") may repeat, and so may a list item or table
    row that recurs on its own between new blocks (the same warm-up in every session of a plan), unless
    its neighbours repeat too (a copied list)."""
    seen: set[str] = set()
    repeats = []
    for b in blocks:
        key = b.text.casefold() if len(b.text) >= REPEAT_MIN_CHARS else None
        repeats.append(key is not None and key in seen)
        if key is not None:
            seen.add(key)
    if not any(repeats):
        return blocks
    out = []
    last = len(blocks) - 1
    for i, b in enumerate(blocks):
        if repeats[i]:
            recurring_item = b.tag in REPEATABLE_TAGS and not (i > 0 and repeats[i - 1]) \
                and not (i < last and repeats[i + 1])
            if not recurring_item:
                continue
        out.append(b)
    return out


def page_prose(root: etree._Element, paras: Paragraphs | None = None) -> int:
    """Characters of prose paragraphs on the whole page outside comment/related/footer regions."""
    return sum((paras or Paragraphs(root)).prose.values())


def from_trafilatura(root: etree._Element, url: str | None) -> str | None:
    text = trafilatura.extract(root, url=url, fast=True, include_comments=False, include_tables=False,
                               deduplicate=False)
    return text.strip() if text and len(text.strip()) >= MIN_CHARS else None


@dataclass
class MainText:
    """The fast path's text (None when it found nothing) and the final text (fast path or trafilatura)."""
    fast: str | None
    text: str | None
    source: str  # "fast", "trafilatura" or "none"


@dataclass
class FastText:
    """The fast path's text and whether it is enough on its own (else trafilatura gets a go)."""
    text: str | None
    enough: bool


def extract_fast(sel_or_root) -> FastText:
    root = getattr(sel_or_root, "root", sel_or_root)
    if not isinstance(getattr(root, "tag", None), str):
        return FastText(None, True)
    paras = Paragraphs(root)
    fast = fast_text(root, paras)
    return FastText(fast, bool(fast and len(fast) >= MIN_CHARS and len(fast) >= WEAK_SHARE * page_prose(root, paras)))


def extract_main(sel_or_root, url: str | None = None, fast: FastText | None = None) -> MainText:
    """The main text: the fast path's when it is enough, else trafilatura's when that is longer.
    ``fast``: the fast path's result when the caller has it already."""
    root = getattr(sel_or_root, "root", sel_or_root)
    if not isinstance(getattr(root, "tag", None), str):
        return MainText(None, None, "none")
    fast = fast or extract_fast(root)
    if fast.enough:
        return MainText(fast.text, fast.text, "fast" if fast.text else "none")
    slow = from_trafilatura(root, url)
    if slow and len(slow) > len(fast.text or ""):
        return MainText(fast.text, slow, "trafilatura")
    return MainText(fast.text, fast.text, "fast" if fast.text else "none")


def extract(sel_or_root, url: str | None = None) -> str | None:
    """Main text of a page, from a parsel Selector or an lxml root; None when there is none."""
    return extract_main(sel_or_root, url).text


def _headline(root: etree._Element) -> str | None:
    h1 = root.find(".//h1")
    if h1 is None:
        return None
    return normalise_whitespace(h1.text_content()) or None
