"""Listing pages (home pages, section fronts, forum boards): recognise them and collect their article links.

A *headline link* is a same-site link whose URL looks like one item (a slug of three or more words, or a
numeric id of three or more digits in the path or query) and whose anchor text is headline-like (four
words or more). A listing page is dominated by them; an article page has a few in its related-story boxes
but much more text of its own.
"""
from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from lxml import etree
from parsel import Selector

from crawler.urls import canonical, site_of

from .maintext import CLASS_SPLIT, COMMENT_WORDS, SIDE_REGION

ITEM_PATH = re.compile(r"[a-z0-9%]+(?:-[a-z0-9%]+){2,}|\d{4,}", re.I)
ITEM_QUERY = re.compile(r"(?:^|[&;?])(?:p|id|topic|t|story|article|post|idx|nid)=\d{3,}", re.I)
# paths that are themselves lists (or not content): never an article link
NON_ITEM_PATH = re.compile(r"/(tag|tags|category|categories|author|authors|page|search|topics?/?$|feed|login|"
                           r"register|wp-login\.php|cdn-cgi)(/|$)", re.I)
NON_ITEM_QUERY = re.compile(r"(?:^|[&;?])(action|board|sort|page)=", re.I)
MIN_HEADLINE_WORDS = 4
SKIP_SCHEMES = ("mailto:", "javascript:", "tel:", "#")
# a teaser: one of a run of same-shaped sibling blocks (same tag and class), short, holding a link to another page
TEASER_LINK_WORDS = 3       # the link's text has this many words or more (a headline, not "Read more")
TEASER_MIN_CHARS = 20
TEASER_MAX_CHARS = 1000     # a longer block is a section of prose, not a teaser
TEASER_MIN_RUN = 3          # blocks of one shape needed for a run ...
TEASER_RUN_SHARE = 0.6      # ... and the share of that shape's blocks that must be teasers


def is_item_url(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return False
    if NON_ITEM_PATH.search(parts.path) or (parts.query and NON_ITEM_QUERY.search(parts.query)
                                              and not ITEM_QUERY.search(parts.query)):
        return False
    last = parts.path.rstrip("/").rsplit("/", 1)[-1]
    return bool(ITEM_PATH.search(last) or (parts.query and ITEM_QUERY.search("?" + parts.query)))


def headline_links(root: etree._Element, url: str) -> dict[str, str]:
    """{absolute url: anchor text} of same-site item links with headline-like text, in page order."""
    host = site_of(url)
    here = url.split("#")[0].rstrip("/")
    found: dict[str, str] = {}
    for a in root.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.startswith(SKIP_SCHEMES):
            continue
        words = a.text_content().split()
        if len(words) < MIN_HEADLINE_WORDS:  # cheapest test first: most links are short
            continue
        absolute = urljoin(url, href).split("#")[0]
        if absolute in found or absolute.rstrip("/") == here or site_of(absolute) != host or not is_item_url(absolute):
            continue
        found[absolute] = " ".join(words)
    return found


def listing_links(url: str, body: bytes | str) -> list[str]:
    """Canonical URLs of the items a listing page links to (deduplicated, page order)."""
    raw = body if isinstance(body, str) else body.decode("utf-8", errors="replace")
    root = Selector(text=raw, type="html").root
    return list(dict.fromkeys(canonical(u) for u in headline_links(root, url)))


def teaser_runs(region: etree._Element, url: str = "", min_unlinked: int = 0) -> list[tuple[int, int]]:
    """(teasers, characters) of each run of same-shaped sibling teaser blocks inside ``region``: siblings with
    the same tag and class, each TEASER_MIN_CHARS..TEASER_MAX_CHARS of text holding a link of
    TEASER_LINK_WORDS words or more to another page of the site (``url``'s; any link when no url) — a card of a
    category page, a row of search results; the items of a list article mostly link elsewhere.
    ``min_unlinked``: characters of text outside links a teaser needs besides its headline (an excerpt, a date, a
    price): a menu's items are links only."""
    host = site_of(url) if url else None
    runs = []
    for parent in region.iter():
        if not isinstance(parent.tag, str) or len(parent) < TEASER_MIN_RUN:
            continue
        shapes: dict = {}
        for child in parent:
            if isinstance(child.tag, str):
                shapes.setdefault((child.tag, child.get("class") or ""), []).append(child)
        for blocks in shapes.values():
            if len(blocks) < TEASER_MIN_RUN:
                continue
            n = chars = 0
            for block in blocks:
                size = len(" ".join(block.text_content().split()))
                if TEASER_MIN_CHARS <= size <= TEASER_MAX_CHARS and _holds_headline(block, url, host) and (
                        not min_unlinked or size - _link_chars(block) >= min_unlinked):
                    n += 1
                    chars += size
            if n >= TEASER_MIN_RUN and n >= TEASER_RUN_SHARE * len(blocks) and not _in_comments(parent):
                runs.append((n, chars))  # (comments linking to their authors are not teasers)
    return runs


HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")


def headed_links(containers: list, url: str) -> int:
    """Distinct headline links (:func:`headline_links`) that are headings inside ``containers``: a link in an
    ``<h2>``..., or a link wrapping one. The region of a section front or a directory is a column of items,
    each opening with its own heading that links to the item's page; a story's headings name its sections
    and link nowhere (a table of contents links within the page; a "related" box holds a few)."""
    found: set = set()
    for container in containers:
        for h in container.iter(*HEADINGS):
            up = h.getparent()
            found.update(headline_links(up if up is not None and up.tag == "a" else h, url))
    return len(found)


def _link_chars(block: etree._Element) -> int:
    return sum(len(" ".join(a.text_content().split())) for a in block.iter("a"))


def _holds_headline(block: etree._Element, url: str, host: str | None) -> bool:
    for a in block.iter("a"):
        if len(a.text_content().split()) >= TEASER_LINK_WORDS and (
                host is None or site_of(urljoin(url, (a.get("href") or "").strip())) == host):
            return True
    return False


# -- page-level evidence of a listing template --------------------------------------------------------------
# Body classes the big CMSs put on their listing templates (WordPress body_class(), Drupal, Ghost, Joomla):
# documented template names, not any site's own words.
WP_LISTING_CLASSES = frozenset({"blog", "archive", "category", "tag", "author", "date", "search", "search-results",
                                "post-type-archive", "paged"})  # WordPress (need a WordPress mark, below)
CMS_LISTING_CLASSES = frozenset({"page-taxonomy-term", "path-taxonomy",      # Drupal taxonomy term pages
                                 "home-template", "tag-template", "author-template", "paged-template",  # Ghost
                                 "view-category", "view-featured", "layout-blog"})  # Joomla
# ... and the classes of one item's page, which win: WordPress single posts and pages, Drupal nodes, HubSpot posts
ITEM_CLASSES = frozenset({"single", "wp-singular", "single-post", "page", "post-template-default", "blog-post",
                          "hs-blog-post", "node-type-article", "page-node-type-article", "post-template",
                          "view-article", "view-item"})
PAGE_NUMBER = re.compile(r"(?:/page/|[?&;](?:page|paged|pg)=)(\d+)/?(?:$|[?&#])", re.I)
PAGINATION_WORDS = ("pagination", "pager", "nav-links", "page-numbers")  # class words of a pagination block
PAGINATION_LABELS = frozenset({"pagination", "pages", "page navigation"})
PAGINATION_MAX_UP = 4        # a page link sits this close below its pagination block
PAGINATION_MIN_PAGES = 2     # links to other numbered pages of the list inside a pagination block
DATED_CARD_MAX_CHARS = 1500  # an <article> longer than this is a post or a comment, not a card
DATED_CARD_LINK_WORDS = 3
# class/id words of a comment section: an <article> inside one is a comment, never a card
COMMENT_CONTAINER_WORDS = COMMENT_WORDS | frozenset({"replies", "reply", "discussion"})
# where a site's widgets sit: a pager there pages the widget's list, not this page
SIDE_TAGS = frozenset({"aside", "footer"})
SIDE_WORDS = frozenset({"widget", "widgets", "sidebar", "footer"})


def _class_words(el: etree._Element) -> list[str]:
    names = f'{el.get("class") or ""} {el.get("id") or ""}'.lower()
    return CLASS_SPLIT.split(names) if names.strip() else []


def item_template(root: etree._Element) -> bool:
    """The <body> class names one item's page (``single``, ``wp-singular``, ``page`` ...: ITEM_CLASSES)."""
    body = root.find(".//body")
    return body is not None and not ITEM_CLASSES.isdisjoint((body.get("class") or "").lower().split())


def _in_side_region(el: etree._Element) -> bool:
    """``el`` sits in an <aside>/<footer> or a widget/sidebar block."""
    for up in el.iterancestors():
        if up.tag in SIDE_TAGS:
            return True
        words = _class_words(up)
        if words and (not SIDE_WORDS.isdisjoint(words) or SIDE_REGION.search(" ".join(words))):
            return True
    return False


def _in_comments(el: etree._Element) -> bool:
    """``el`` is a comment section or sits in one (class/id words: COMMENT_CONTAINER_WORDS)."""
    return any(not COMMENT_CONTAINER_WORDS.isdisjoint(_class_words(up)) for up in (el, *el.iterancestors()))


def _is_comment(card: etree._Element) -> bool:
    """An <article> that is a comment: in (or itself) a comment section, or nested in another <article>."""
    return _in_comments(card) or any(up.tag == "article" for up in card.iterancestors())


def _page_key(url: str) -> tuple[str, str]:
    """(site, path) of a URL: scheme, www., query, fragment, trailing slash and an /amp suffix ignored."""
    path = re.sub(r"/amp/?$", "/", urlsplit(url).path or "/").rstrip("/")
    return site_of(url), path


def _same_page(absolute: str, here: tuple[str, str]) -> bool:
    query = urlsplit(absolute).query
    return _page_key(absolute) == here and not (query and ITEM_QUERY.search("?" + query))


def listing_template(root: etree._Element) -> str | None:
    """The listing template the page's <body> class names (``category``, ``tag-template`` ...), or None; a body
    class of one item's page (``single``, ``wp-singular``, ``page`` ...) means None."""
    body = root.find(".//body")
    if body is None:
        return None
    classes = set((body.get("class") or "").lower().split())
    if not classes or not ITEM_CLASSES.isdisjoint(classes):
        return None
    hit = classes & CMS_LISTING_CLASSES
    if not hit and (any(c.startswith("wp-") for c in classes) or "archive" in classes):
        hit = classes & WP_LISTING_CLASSES  # WordPress's words only on a WordPress page
    return min(hit - {"archive"}, default=None) or min(hit, default=None)  # the most telling name


def pagination_pages(root: etree._Element, url: str) -> int:
    """Distinct other numbered pages of this list (``/page/2/``, ``?page=3``) linked from pagination blocks (an
    element whose class names a pager, or labelled so for screen readers, at most PAGINATION_MAX_UP levels up)."""
    host = site_of(url) if url else None
    here = url.split("#")[0].rstrip("/")
    pages = set()
    for a in root.iter("a"):
        href = a.get("href")
        if not href or not PAGE_NUMBER.search(href):
            continue  # most links: one regex test
        absolute = urljoin(url, href.strip()).split("#")[0]
        if absolute in pages or absolute.rstrip("/") == here or (host is not None and site_of(absolute) != host):
            continue
        if _in_pagination(a) and not _in_side_region(a):
            pages.add(absolute)
    return len(pages)


def _in_pagination(el: etree._Element) -> bool:
    for _ in range(PAGINATION_MAX_UP):
        el = el.getparent()
        if el is None:
            return False
        cls = (el.get("class") or "").lower()
        if any(w in cls for w in PAGINATION_WORDS) or \
                (el.get("aria-label") or "").strip().lower() in PAGINATION_LABELS:
            return True
    return False


def dated_cards(root: etree._Element, url: str) -> int:
    """<article> cards that carry a <time> and a headline link (DATED_CARD_LINK_WORDS words or more) to another
    page of the site: the dated teasers of a home page or section front. A comment (an <article> in a comment
    section or inside another <article>) is not a card, nor is a link back to this page (its permalink under
    another scheme, host spelling or query)."""
    host = site_of(url) if url else None
    here = _page_key(url)
    n = 0
    for card in root.iter("article"):
        if card.find(".//time") is None or len(" ".join(card.text_content().split())) > DATED_CARD_MAX_CHARS \
                or _is_comment(card):
            continue
        for a in card.iter("a"):
            href = (a.get("href") or "").strip()
            if not href or href.startswith(SKIP_SCHEMES) or len(a.text_content().split()) < DATED_CARD_LINK_WORDS:
                continue
            absolute = urljoin(url, href).split("#")[0]
            if not _same_page(absolute, here) and (host is None or site_of(absolute) == host):
                n += 1
                break
    return n
