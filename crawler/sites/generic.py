"""Generic article extraction: JSON-LD first, then OpenGraph/meta tags, then the DOM.

``parse_article(url, body, headers)`` is a pure function of the response; the live crawl, WARC replay
and tests all call it. It returns an :class:`ArticleRecord` (fields the page states; pipelines fill
language, hashes and run metadata) or a :class:`NotArticle` carrying the reason.
"""
from __future__ import annotations

import html
import re
from datetime import date, datetime, timezone
from dataclasses import dataclass
from functools import cached_property

from extruct.jsonld import JsonLdExtractor
from htmldate import find_date
from lxml import etree
from parsel.csstranslator import css2xpath

from crawler import ids
from crawler.dates import (MONTH_NAME as _MONTH_NAME, MONTHS, dates_written, days_shown, first_date_in,
                           first_date_shown, own_offset, read_date, written_in_utc)
from crawler.htmltext import element_text, html_to_text, normalise_whitespace
from crawler.items import ArticleRecord
from crawler.parsed_html import parsed_html
from crawler.urls import canonical, same_site, site_of

from . import maintext, notarticle

PARSER = "generic@2"
ARTICLE_TYPES = re.compile(r"(Article|BlogPosting|Report|NewsArticle|LiveBlogPosting|DiscussionForumPosting)$")

# Selectors, named so a site override can replace one without copying the rest.
SEL_CANONICAL = 'link[rel="canonical"]::attr(href)'
SEL_OG = 'meta[property="og:{}"]::attr(content)'
SEL_META_NAME = 'meta[name="{}"]::attr(content)'
SEL_ARTICLE_META = 'meta[property="article:{}"]::attr(content)'
SEL_H1 = "h1"
SEL_TITLE = "title::text"
SEL_TIME_DOM = "time[datetime]::attr(datetime)"
SEL_ITEMPROP_PUBLISHED = '[itemprop="datePublished"]::attr(content), [itemprop="datePublished"]::attr(datetime)'
# text nodes a reader sees (script and style elements hold only text, so the parent test is enough)
# the texts after the first <h1> (byline, dateline), read for a printed publication day
TEXTS_UNDER_HEADLINE = 40
# smart strings: each text knows its element, since a reader comment or a sidebar teaser under the headline
# prints the day of another post, not this article's
XP_UNDER_HEADLINE = etree.XPath("(//h1)[1]/following::text()[not(parent::script or parent::style)]"
                                f"[position() <= {TEXTS_UNDER_HEADLINE}]")
# the texts before / after the first <h1> (a masthead's "today" date is printed above the headline)
# (each knows its element; only <body>'s: a <head><title> is no masthead)
XP_BEFORE_HEADLINE = etree.XPath("(//h1)[1]/preceding::text()[ancestor::body][not(parent::script or parent::style)]")
XP_TIME_BEFORE_HEADLINE = etree.XPath("(//h1)[1]/preceding::time")
WEEKDAY_BEFORE = re.compile(r"\b(?:mon|tues|wednes|thurs|fri|satur|sun)day\W*$", re.I)
XP_VISIBLE_TEXT = etree.XPath("//body//text()[not(parent::script or parent::style)]", smart_strings=False)
XP_VISIBLE_TEXT_AT = etree.XPath("//body//text()[not(parent::script or parent::style)]")  # (each knows its element)
# "This article was originally published on 26 Sep 2019 …": the page's own word on its first publication
# (in any case, "ORIGINALLY published", "Originally PUBLISHED"; between the words any white space, an &nbsp; or a
# tag boundary: it is searched in the visible text)
ORIGINALLY = re.compile(r"\boriginally\s+(?:published|posted)\b", re.I)
ORIGINALLY_WORD = re.compile("originally", re.I)  # in the raw page: the prefilter, a condition of ORIGINALLY
ORIGINALLY_DATE_CHARS = 40  # the date must follow within this many characters
# meta names (lower case) that hold a publication date besides article:published_time / date / pubdate (not a
# bare Dublin Core "DC.date": many sites write the last change there)
PUBLISHED_META_NAMES = ("published", "publish-date", "publish_date", "publishdate", "published_date",
                        "published-date", "pubdate", "pub_date", "article.published", "article:published_time",
                        "parsely-pub-date", "sailthru.date", "dc.date.issued", "dcterms.issued",
                        "dcterms.created", "citation_publication_date", "citation_date", "date")
URL_DATE = re.compile(r"/((?:19|20)\d\d)[/-](\d{1,2})[/-](\d{1,2})(?:/|-|$)")
# the same with the month named in English ("/2023/october/03/", "/2023/oct/03/")
# (the day is a whole path segment: "/2023/may/5-ways-to-…" is a slug, not May 5; ASCII only: "ſep" is no month)
URL_DATE_MONTH_NAME = re.compile(r"/((?:19|20)\d\d)/(" + _MONTH_NAME + r")/(\d{1,2})(?:/|$)", re.I | re.A)
# a date the page labels as its publication ("Published Apr 26, 2023", "Posted on: 4 May 2022", "Date
# published: …"): the label ends the text before the date; "originally published" is :meth:`stated_original`'s
PUBLISHED_LABEL = re.compile(r"\b(?:published|posted|publication date|date published)(?:\s+on)?\s*[:|\u2022\u00b7\-]?\s*",
                             re.I)  # the date follows the label at once
ORIGINALLY_BEFORE = re.compile(r"\boriginally\s*$", re.I)
UPDATED_LABEL = re.compile(r"\b(?:updated|modified|revised|reviewed)(?:\s+on)?\s*[:|\u2022\u00b7\-]?\s*$", re.I)
# class/id words of a navigation between posts (a whole word, split on white space, "_" and "-")
POST_NAV_NAME = re.compile(r"(?:^|[\s_\-])(?:nav|navigation|pagination|pager|prev|previous|next)(?![^\s_\-])")
LABEL_CHARS = 30  # an update label is read in this many characters before a date
LABELLED_DATE_CHARS = 40  # a labelled date is read in this many characters after its label
SEL_TAGS = 'meta[property="article:tag"]::attr(content)'
SEL_SYNDICATION = ('link[rel="original-source"]::attr(href), link[rel="syndication-source"]::attr(href), '
                   'meta[name="syndication-source"]::attr(content), meta[name="original-source"]::attr(content)')
MIN_BODY_CHARS = 200
TITLE_MAX_CHARS = 300       # a longer <h1> is not a headline
H1_SINGLE_MIN_SHARE = 0.3   # share of an <h1>'s words found in the declared titles for it to be the headline
H1_MANY_MIN_SHARE = 0.5     # ... when the page has several <h1>s (the best-matching one is taken)
TITLE_SITE_SEPARATOR = re.compile(r"\s+[|\-\u2013\u2014\u00b7\u00bb]\s+")
SUBTITLE = re.compile(r"^\s*:\s*\S")  # the rest of a declared title that continues the <h1>
WORDS = re.compile(r"\w+")
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
NOT_NAMES = frozenset({"by", "admin", "staff", "author", "editor", "guest"})
# one pass for every author-markup rule: rel/itemprop author, class words with "author" or "byline" in them
# ("uthor"/"yline": class words in any case of their first letter, "storyAuthorStrip", "AuthorName")
XP_AUTHORISH = etree.XPath('//body//*[@rel="author" or @itemprop="author" or contains(@class, "uthor") or '
                           'contains(@class, "yline")]')
XP_AUTHOR_LINK = etree.XPath('//a[@rel="author" or contains(@href, "/author/") or contains(@href, "/authors/")]')
BYLINE_MAX_TRIES = 20
NAME_LIKE = re.compile(r"^[A-Z][\w.'\-]*(?: [A-Z][\w.'\-]*){1,4}$")
BY_PREFIX = re.compile(r"^\s*(?:by|written by|posted by|author)(?:\s*:\s*|\s+|$)", re.I)  # (not "Byron")
AUTHOR_LINKS_MAX = 5
DATA_LAYER_AUTHOR = re.compile(r'"pagePostAuthor"\s*:\s*"([^"\\]{1,80})"')
NAME_ROLE_DASH = re.compile(r"\s+[-\u2013\u2014]\s+")
# an unfilled template key where a name should be ("page.head.author", "post.author.name"); a login name
# ("jane.doe", "q_admin") is kept: it is how some sites sign
TEMPLATE_KEY = re.compile(r"^(?:[a-z_]+\.)*(?:author|authors|byline|writer)(?:\.[a-z_]+)*$", re.I)
AUTHOR_LABEL = re.compile(r"^(?:written by|author|authors|posted by|words by)\s*:?$", re.I)
# a short body text opening with "By" (or "Written by", "Posted by"), the name up to a separator or the end
BY_LINE = re.compile(r"^(?:written |posted |words )?by:?\s+([^|\u2022\u00b7,;:()\d]{2,60}?)"
                     r"(?:\s*(?:[|\u2022\u00b7,;:(\d]|\s(?:on|at|in|and|for|from|updated|published)\s).*)?$", re.I)
# candidate texts for a "By Jane Doe" line (narrowed in C, checked in Python): short, with "by" in them
# ... and short label texts ("Author", "Contributors:") whose names follow in the next texts
XP_BY_CANDIDATES = etree.XPath("//body//text()[string-length(.) < 200 and (contains(., 'By') or contains(., 'by') "
                               "or (string-length(.) < 30 and (contains(., 'uthor') or contains(., 'ontributor'))))]")
BY_ALONE = re.compile(r"^(?:(?:written|posted|article|authored|words) )?by:?$", re.I)
NAMES_LABEL = re.compile(r"^(?:authors?|authored by|author\(s\)|contributors?|contributor\(s\)|contributed by)\s*:?$", re.I)
LABEL_NAMES_MAX_TEXTS = 12  # texts read after a label for its names
NAME_JOINER = re.compile(r"^(?:,|;|&|and|,\s*and)$", re.I)
NOT_BYLINE_PLACES = frozenset({"script", "style", "a", "button", "nav", "footer", "form", "label", "select",
                               "option", "textarea"})
BY_LINE_MAX_CHARS = 90
SHORT_BYLINE_CHARS = 120
LOOSE_NAME = re.compile(r"^[^\W\d_](?:[^\W\d_]|[ .'\u2019()\-]){0,39}$")  # letters and name punctuation
LOOSE_NAME_MAX_WORDS = 4
LOWER_WORD_ON = re.compile(r"\s(?=[a-z])")  # where a name's capitalised words end ("Jane Doe on behalf of")
BYLINE_SEPARATOR = re.compile(r"\s*[|\u2022\u00b7,;]\s*|\s+-\s+")
META_AUTHOR_NAMES = ("author", "parsely-author", "sailthru.author", "dc.creator", "DC.creator", "dcterms.creator")
# words in a link or label that is not a name ("More about Jane", "See all posts", "Learn more")
NOT_NAME_WORDS = frozenset({"more", "about", "all", "see", "view", "articles", "posts", "stories", "learn", "read",
                            "contributor", "reviews", "profile", "follow", "contact", "share", "comments"})
ORGANISATION_TYPES = frozenset({"Organization", "NewsMediaOrganization", "Corporation", "WebSite", "Brand"})
TITLE_SITE_SUFFIX = re.compile(r"^\s+[|\-\u2013\u2014:\u00b7\u00bb]\s*\S")
LD_MIN_SHARE = 0.8  # JSON-LD articleBody wins when at least this long relative to the DOM text
LD_MARKUP = re.compile(r"</?(p|br|div|span|a|h[1-6]|ul|li|strong|em|b|i|body)\b", re.I)


def _compiled(css: str) -> etree.XPath:
    """A CSS selector (with parsel's ``::text`` / ``::attr()``) compiled once to an lxml XPath."""
    return etree.XPath(css2xpath(css))


XP_META = etree.XPath("//meta[@content]")
XP_LINK = etree.XPath("//link[@rel and @href]")
XP_H1 = etree.XPath("//h1")
XP_TITLE_TEXT = etree.XPath("//title/text()")


@dataclass
class NotArticle:
    reason: str
    url: str
    detail: str | None = None  # the rule that decided it (listing: headlines, link_region ...)


class ArticlePage:
    """One small method per field; each returns None or [] when the page does not say."""

    parser = PARSER

    def __init__(self, url: str, body: bytes | str, headers: dict | None = None):
        self.url = url
        self.raw, self.sel = parsed_html(body)  # one parse, shared with comment detection (never as JSON)
        self.headers = headers or {}

    # -- structured data ------------------------------------------------------------------------------
    @cached_property
    def ld_objects(self) -> list[dict]:
        """Top-level (and @graph) JSON-LD objects of the page."""
        try:
            items = JsonLdExtractor().extract_items(self.sel.root, base_url=self.url)
            flat: list = []
            for it in items:
                for obj in (it if isinstance(it, list) else [it]):
                    if isinstance(obj, dict):
                        flat.extend(obj["@graph"] if isinstance(obj.get("@graph"), list) else [obj])
        except Exception:  # malformed JSON-LD is common: fall back to meta tags and DOM
            return []
        return [obj for obj in flat if isinstance(obj, dict)]

    @cached_property
    def ld_types(self) -> frozenset[str]:
        types: set[str] = set()
        for obj in self.ld_objects:
            t = obj.get("@type")
            types.update(x for x in (t if isinstance(t, list) else [t]) if isinstance(x, str))
        return frozenset(types)

    @cached_property
    def ld(self) -> dict:
        for obj in self.ld_objects:
            types = obj.get("@type")
            types = types if isinstance(types, list) else [types]
            if any(isinstance(t, str) and ARTICLE_TYPES.search(t) for t in types):
                return obj
        return {}

    @cached_property
    def metas(self) -> tuple[dict[str, str], dict[str, str]]:
        """({property: content}, {name: content}) of the page's <meta> tags, the first that says something
        of each kept (a blank ``<meta name="author" content=" ">`` before the filled one is no value): one
        pass over the tree instead of one selector per field."""
        by_property: dict[str, str] = {}
        by_name: dict[str, str] = {}
        self._meta_tags = []
        root = self.sel.root
        if isinstance(getattr(root, "tag", None), str):
            for m in XP_META(root):
                content = m.get("content")
                if not content.strip():
                    continue
                prop, name = m.get("property"), m.get("name")
                if prop is not None:
                    by_property.setdefault(prop, content)
                    if prop == "article:tag":
                        self._meta_tags.append(content)
                if name is not None:
                    by_name.setdefault(name, content)
        return by_property, by_name

    _meta_tags: list

    @cached_property
    def links(self) -> dict[str, str]:
        """{rel: href} of the page's <link> elements, the first of each rel kept."""
        root = self.sel.root
        found: dict[str, str] = {}
        if isinstance(getattr(root, "tag", None), str):
            for el in XP_LINK(root):
                found.setdefault(el.get("rel"), el.get("href"))
        return found

    def canonical_link(self) -> str | None:
        return self.links.get("canonical")

    def og(self, name: str) -> str | None:
        return _clean(self.metas[0].get(f"og:{name}"))

    def article_meta(self, name: str) -> str | None:
        return _clean(self.metas[0].get(f"article:{name}"))

    def meta(self, name: str) -> str | None:
        return _clean(self.metas[1].get(name))

    def select(self, css: str) -> list:
        """Results of a CSS selector (compiled once per selector string) on the page's tree."""
        xp = _SELECTORS.get(css)
        if xp is None:
            xp = _SELECTORS[css] = _compiled(css)
        root = self.sel.root
        return xp(root) if isinstance(getattr(root, "tag", None), str) else []

    def select_first(self, css: str) -> str | None:
        found = self.select(css)
        return str(found[0]) if found else None

    @cached_property
    def h1_elements(self) -> list:
        root = self.sel.root
        return XP_H1(root) if isinstance(getattr(root, "tag", None), str) else []

    @cached_property
    def title_tag(self) -> str | None:
        root = self.sel.root
        found = XP_TITLE_TEXT(root) if isinstance(getattr(root, "tag", None), str) else []
        return _clean(str(found[0])) if found else None

    # -- fields ---------------------------------------------------------------------------------------
    def canonical_url(self) -> str:
        for cand in (self.canonical_link(), self.og("url")):
            # a canonical pointing at another host is a claim about the source, not this page's identity
            if cand and same_site(self.url, _abs(self.url, cand)):
                return canonical(_abs(self.url, cand))
        return canonical(self.url)

    def title(self) -> str | None:
        """The visible headline: the <h1> that agrees with the page's declared titles (JSON-LD headline,
        og:title, <title>), else the JSON-LD headline, else og:title or <title> without a " | Site" part."""
        ld = self.ld.get("headline") or self.ld.get("name")
        ld = _unescaped(ld) if isinstance(ld, str) else None
        og, tag = _unescaped(self.og("title")), _unescaped(self.title_tag)
        declared = set(_words(" ".join(t for t in (ld, og, tag) if t)))
        h1s = [t for t in (element_text(h) for h in self.h1_elements) if t and len(t) <= TITLE_MAX_CHARS]
        if h1s:
            # best agreement first, then the <h1> sharing more words (a headline over a logo's site name)
            share, _, h1 = max(((_share_in(t, declared), len(set(_words(t)) & declared), t) for t in h1s),
                               key=lambda st: st[:2])
            if not declared or share >= (H1_SINGLE_MIN_SHARE if len(h1s) == 1 else H1_MANY_MIN_SHARE):
                h1 = h1 if declared or len(h1s) == 1 else h1s[0]
                for full in (ld, og):  # "Headline: subtitle" declared, the <h1> shows only the headline
                    if full and full.lower().startswith(h1.lower()) and SUBTITLE.match(full[len(h1):]):
                        return full
                return h1
        return ld or _without_site_part(og) or _without_site_part(tag)

    def h1_text(self) -> str | None:
        h1 = self.h1_elements
        return (element_text(h1[0]) or None) if h1 else None

    def ld_body_text(self) -> str | None:
        """JSON-LD articleBody as plain text (some sites put HTML in it)."""
        ld = self.ld.get("articleBody")
        if not isinstance(ld, str) or not ld.strip():
            return None
        text = html_to_text(ld) if LD_MARKUP.search(ld) else normalise_whitespace(html.unescape(ld))
        text = normalise_whitespace(maintext.SHORTCODE.sub("", text))
        return text or None

    @cached_property
    def fast(self) -> maintext.FastText:
        return maintext.extract_fast(self.sel)

    @cached_property
    def main(self) -> maintext.MainText:
        return maintext.extract_main(self.sel, self.url, self.fast)

    def dom_body_text(self) -> str | None:
        return self.main.text

    def own_text(self) -> str | None:
        """Text found on the page itself (what listing detection weighs links against): JSON-LD articleBody or
        the fast extractor's text, whichever is longer; trafilatura's when the fast path found nothing."""
        ld = self.ld_body_text()
        own = self.fast.text or self.main.text  # trafilatura runs only when the fast path found nothing
        return ld if ld and len(ld) > len(own or "") else own

    def body_text(self) -> str | None:
        """The DOM's main text, unless JSON-LD articleBody is about as long (then it is cleaner)."""
        dom, ld = self.dom_body_text(), self.ld_body_text()
        if ld and len(ld) >= MIN_BODY_CHARS and (not dom or len(ld) >= LD_MIN_SHARE * len(dom)):
            return ld
        return dom

    def summary(self) -> str | None:
        d = self.ld.get("description")
        return (d.strip() if isinstance(d, str) and d.strip() else None) or self.og("description") or self.meta("description")

    def authors_raw(self) -> list[str]:
        return list(self._authors_raw)

    @cached_property
    def _authors_raw(self) -> tuple[str, ...]:
        """The first source that names someone: the article's JSON-LD author (people; ``@id`` references
        followed), author meta tags, author markup (rel/itemprop/class), author-page links, a name in an
        author/byline element, a "By Jane Doe" line; last, a JSON-LD author that is an organisation (a
        company blog signs as the company)."""
        by_id = {o.get("@id"): o for o in self.ld_objects if isinstance(o.get("@id"), str)}
        sources = (
            lambda: [n for n in _ld_names(self.ld.get("author"), by_id) if _not_a_handle(n)],
            lambda: [a for a in (*(self.meta(n) for n in META_AUTHOR_NAMES), self.article_meta("author"),
                                 self.labelled_meta_author())
                     if a and _not_a_handle(a)][:1],
            lambda: [t.strip() for t in self.author_markup_texts() if _name_text(t)],
            self.author_link_names,
            self.byline_names,
            self.by_line_names,
            self.data_layer_author,
        )
        names: list[str] = []
        for source in sources:
            names = source()
            if names:
                break
        if not names:
            names = _ld_names(self.ld.get("author"), by_id, organisations=True)
        return tuple(dict.fromkeys(_unescaped(n) for n in names if _unescaped(n)))

    def data_layer_author(self) -> list[str]:
        """The post author a WordPress analytics data layer states (``"pagePostAuthor":"Jane Doe"``, the
        GTM4WP plugin's key) when the page's markup names no one."""
        m = DATA_LAYER_AUTHOR.search(self.raw) if isinstance(self.raw, str) else None
        name = _unescaped(m.group(1)) if m else None  # (a \u-escaped name is not read: no match)
        return [name] if name and _not_a_handle(name) and _name_text(name) else []

    def labelled_meta_author(self) -> str | None:
        """The value of a labelled card field whose label says author: ``twitter:label1`` "Written by"
        with ``twitter:data1`` "Jane Doe" (the link-preview labels many CMSs write)."""
        for i in (1, 2, 3, 4):
            label = self.meta(f"twitter:label{i}")
            if label and AUTHOR_LABEL.match(" ".join(label.split())):
                return self.meta(f"twitter:data{i}")
        return None

    def author_link_names(self) -> list[str]:
        """The names on author-page links (``rel=author``, ``/author/…``): the first link and the links
        beside it (co-authors share its parent); links in comment, related-story or footer regions and the
        later links of a page (reviewers, other stories' authors) do not count."""
        named = []
        for a in self.select_xpath(XP_AUTHOR_LINK)[:AUTHOR_LINKS_MAX * 2]:
            # the first text of the link that is a name: "<a><span>Written by</span> Jane Doe
            # <small>Staff writer</small></a>" names Jane Doe; a link around a photo names no one
            name = next((t for t in (BY_PREFIX.sub("", " ".join(x.split())) for x in a.itertext())
                         if t and _name_text(t)), None)
            if name and not maintext.in_outside_region(a):
                named.append((a, name))
        if not named:
            return []
        first = named[0][0].getparent()
        return [name for a, name in named[:AUTHOR_LINKS_MAX] if a.getparent() is first]

    def authors(self) -> list[str]:
        out = []
        for raw in self.authors_raw():
            for part in re.split(r"\s*(?:,|\band\b|&|\|)\s*", raw):
                part = BY_PREFIX.sub("", part).strip()
                # a whole value "Jane Doe - Editorial Team": a name, then (after a spaced dash) the desk
                head = NAME_ROLE_DASH.split(part, 1)[0]
                if part == raw.strip() and head != part and NAME_LIKE.match(head):
                    part = head
                if part and not part.startswith("http") and len(part) < 80 and part.lower() not in NOT_NAMES:
                    out.append(part)
        return list(dict.fromkeys(out))

    @cached_property
    def authorish(self) -> list:
        root = self.sel.root
        return XP_AUTHORISH(root) if isinstance(getattr(root, "tag", None), str) else []

    def select_xpath(self, xp: etree.XPath) -> list:
        root = self.sel.root
        return xp(root) if isinstance(getattr(root, "tag", None), str) else []

    def author_markup_texts(self) -> list[str]:
        """The texts of author markup (as CSS: ``[rel=author]``, ``.author-name``, ``.byline a``,
        ``[itemprop=author] [itemprop=name]``), read from the one pass over author-like elements."""
        out: list[str] = []
        for el in self.authorish:
            classes = (el.get("class") or "").split()
            if el.get("rel") == "author" or "author-name" in classes:
                out.extend(_own_texts(el))
            if "byline" in classes:
                for a in el.iter("a"):
                    out.extend(_own_texts(a))
            if el.get("itemprop") == "author":
                for named in el.iter():
                    if named is not el and named.get("itemprop") == "name":
                        out.extend(_own_texts(named))
        return out

    def byline_names(self) -> list[str]:
        """A name-like text (two to five capitalised words) in the first element whose class or itemprop
        says author/byline, as its whole text or one text of its own: ``<div class="the-author">Jane
        Doe</div>``, ``<div class="post-author"><img> <span>Jane Doe</span> <span>3 May</span></div>``."""
        found = [el for el in self.authorish if el.get("itemprop") == "author" or "author" in _class_of(el)
                 or "byline" in _class_of(el)][:BYLINE_MAX_TRIES]
        # an element whose class names the name ("author-name") first, then any author/byline element
        named = [el for el in found if "name" in (el.get("class") or "").lower()]
        for el in named + found:
            pieces = [p for p in (BY_PREFIX.sub("", " ".join(t.split())) for t in el.itertext()) if p]
            if 1 < len(pieces) and sum(map(len, pieces)) <= SHORT_BYLINE_CHARS:
                # "<a>Jane Doe</a><span>Head Winemaker</span>": the name is one piece
                for piece in pieces:
                    if NAME_LIKE.match(piece) and _name_text(piece):
                        return [piece]
            text = BY_PREFIX.sub("", " ".join(" ".join(pieces).split()))
            if NAME_LIKE.match(text) and _name_text(text):
                return [text]
            # the whole text of an element whose class says it is the author ("entry-author-name"): a name
            # however it is written ("annette thurmon", "Paramita (Guha) Ghosh", a single first name)
            if "author" in _class_of(el) and LOOSE_NAME.match(text) \
                    and len(text.split()) <= LOOSE_NAME_MAX_WORDS and _name_text(text):
                return [text]
            if len(text) <= SHORT_BYLINE_CHARS:  # "Jane Doe • May 3, 2025": the name before a separator,
                # or one text of its own ("<img> <span>Jane Doe</span> <span>3 May</span>")
                for part in (BYLINE_SEPARATOR.split(text, 1)[0], *el.itertext()):
                    part = BY_PREFIX.sub("", " ".join(part.split()))
                    if part != text and NAME_LIKE.match(part) and _name_text(part):
                        return [part]
                # "Dec. 19, 2025 · Jane Doe on behalf of the Tools team": the part after the date, up to
                # its first lower-case word
                parts = BYLINE_SEPARATOR.split(text)
                for i, part in enumerate(parts[1:], 1):
                    if not days_shown(" ".join(parts[:i])):
                        continue
                    part = LOWER_WORD_ON.split(BY_PREFIX.sub("", part), 1)[0].strip()
                    if NAME_LIKE.match(part) and _name_text(part):
                        return [part]
                    break
        # an author box: the name, then a bio that opens with it ("<h4>Jane Doe</h4><p>Jane is a …</p>")
        for el in found:
            pieces = [" ".join(t.split()) for t in el.itertext() if t.strip()][:2]
            if len(pieces) == 2 and NAME_LIKE.match(pieces[0]) and _name_text(pieces[0]) \
                    and pieces[1].split()[0] == pieces[0].split()[0] and len(pieces[1]) > SHORT_BYLINE_CHARS:
                return [pieces[0]]
        return []

    def by_line_names(self) -> list[str]:
        """The name in the first short "By Jane Doe" / "Written by Jane Doe" text of the page's body (up to
        a separator: "By Jane Doe • 3 min read"), or in the element right after a bare "By" ("By <a>Jane
        Doe</a>"); texts in links, buttons, navigation, footers and forms do not count."""
        root = self.sel.root
        if not isinstance(getattr(root, "tag", None), str):
            return []
        tries = 0
        for text in XP_BY_CANDIDATES(root):
            line = " ".join(str(text).split())
            label = bool(BY_ALONE.match(line) or NAMES_LABEL.match(line))
            if not label and (len(line) >= BY_LINE_MAX_CHARS or not line[:12].lower().replace(
                    "written ", "").replace("posted ", "").startswith("by")):
                continue
            holder = text.getparent()
            if holder is None or any(el.tag in NOT_BYLINE_PLACES for el in (holder, *holder.iterancestors())
                                     if not (text.is_tail and el is holder)):
                continue
            tries += 1
            if tries > BYLINE_MAX_TRIES:
                break
            if label:
                name = _text_after(text) if BY_ALONE.match(line) else ""
                if not (name and NAME_LIKE.match(name) and _name_text(name)):
                    names = _names_after(text)
                    if names:
                        return names
                    continue
            else:
                m = BY_LINE.match(line)
                name = m.group(1).strip() if m else ""
            if name and NAME_LIKE.match(name) and _name_text(name):
                return [name]
        return []

    def published_at_raw(self) -> str | None:
        """The publication date string exactly as the page writes it (see :meth:`publication`)."""
        return self.publication[0]

    def published_at(self) -> datetime | None:
        """The instant :meth:`published_at_raw` names, given in the site's own offset where the page shows it
        (its day is the day the site published on; the Parquet column holds the same instant in UTC)."""
        return self.publication[1]

    def published_at_offset_minutes(self) -> int | None:
        """Minutes east of UTC of the local time :meth:`published_at` is given in: the offset the page
        writes the stamp in, or the site's offset inferred by :meth:`local_time`; 0 for a stamp written in
        UTC; None when the page states no offset (a day-only date, a time without an offset)."""
        raw, dt = self.publication
        offset = dt.utcoffset() if dt is not None else None
        if offset is None or (not offset and not written_in_utc(raw)):
            return None
        return int(offset.total_seconds() // 60)

    @cached_property
    def publication(self) -> tuple[str | None, datetime | None]:
        """(date string as found, the instant it names). The page's own first: its JSON-LD datePublished, the
        article:published_time / date / pubdate meta tags, then a datePublished of any other JSON-LD object
        (a WebPage beside the article), microdata datePublished, the first <time datetime>; else a date
        found on the page (:meth:`found_date`). A day printed under the headline well before the declared
        date (:meth:`printed_earlier`) or an earlier "originally published" day (:meth:`stated_original`)
        wins. The modified date is never taken for it."""
        declared = self.declared_published()
        if declared is None:
            chosen = _as_day(self.found_date()) or (None, None)
        else:
            chosen = _as_day(self.printed_earlier(declared) or self.labelled_published(declared)) or \
                (declared, self.local_time(declared) or _in_own_offset(declared))
        original = _as_day(self.stated_original())
        if original and (chosen[1] is None or original[1].date() < chosen[1].date()):
            return original
        return chosen

    def stated_original(self) -> tuple[str, str] | None:
        """The date after "originally published/posted" in the article's own text (not in a reader comment,
        an <aside> teaser, a related box or the page footer; a note beside the body, outside the extracted
        text, counts): "This article was originally published on 26 Sep 2019 and has been updated since",
        as (written, YYYY-MM-DD); it wins over an other date when earlier. The raw page is searched first
        for the word in any case (ORIGINALLY_WORD: every text ORIGINALLY matches holds it), so pages without
        it cost one scan."""
        root = self.sel.root
        if not isinstance(self.raw, str) or not _may_say_originally(self.raw) \
                or not isinstance(getattr(root, "tag", None), str):
            return None
        text = " ".join(" ".join(t.split()) for t in XP_VISIBLE_TEXT_AT(root)
                        if t.strip() and not _beside_article(t.getparent(), page_footer=True))
        for m in ORIGINALLY.finditer(text):
            found = first_date_shown(text[m.end():m.end() + ORIGINALLY_DATE_CHARS])
            if found:
                return found
        return None

    def local_time(self, declared: str) -> datetime | None:
        """A publication time written in UTC, given in the site's own offset (that of its ``<time
        datetime>`` stamps) when the local day is the day in the URL: "2025-12-19T02:41:41Z" on
        ``/2025/12/18/…`` beside "21:46-05:00" stamps is 2025-12-18T21:41:41-05:00 (the same instant, the
        day the site published it on). Aware datetime or None."""
        m = URL_DATE.search(self.url or "")
        if not m or not written_in_utc(declared):
            return None
        dt, offset = read_date(declared), own_offset(self.select(SEL_TIME_DOM))
        if dt is None or offset is None:
            return None
        local = dt.astimezone(offset)
        if local.date() == dt.date() or \
                (local.year, local.month, local.day) != tuple(int(g) for g in m.groups()):
            return None
        return local

    def declared_published(self) -> str | None:
        for cand in (self.ld.get("datePublished"), self.article_meta("published_time"),
                     self.meta("date"), self.meta("pubdate")):
            if _readable_date(cand):
                return cand.strip()
        cand = self.published_meta()
        if cand:
            return cand
        for obj in self.ld_objects:
            cand = obj.get("datePublished")
            if _readable_date(cand):
                return cand.strip()
        for css in (SEL_ITEMPROP_PUBLISHED, SEL_TIME_DOM):
            cand = self.select_first(css)
            if _readable_date(cand):
                return cand.strip()
        return None

    def published_meta(self) -> str | None:
        """A publication date in one of the other meta names CMSs and metadata schemes write it under
        (PUBLISHED_META_NAMES, any case: "published", "publish-date", "parsely-pub-date", "DC.date.issued",
        "citation_publication_date" …), the first readable in that list's order."""
        by_name = {}
        for name, content in self.metas[1].items():
            by_name.setdefault(name.strip().lower(), content)
        for name in PUBLISHED_META_NAMES:
            cand = by_name.get(name)
            if _readable_date(cand):
                return cand.strip()
        return None

    def printed_earlier(self, declared: str) -> tuple[str, str] | None:
        """The day printed under the headline (its first TEXTS_UNDER_HEADLINE texts) when it is more than
        a day before the declared publication date and the declared day is printed nowhere on the page:
        the declared date is then a later re-publication or migration stamp and the printed day the
        publication ("Posted on March 2, 2021" over a datePublished of 2025). (written, YYYY-MM-DD) or None."""
        dt = read_date(declared)
        if dt is None:
            return None
        under = self.under_headline
        printed = first_date_in(under) if under else None
        if not printed or (dt.date() - date.fromisoformat(printed[1])).days <= 1:
            return None
        declared_day = dt.date().isoformat()
        if declared_day in days_shown(self.visible_text):
            return None
        return printed

    @cached_property
    def visible_text(self) -> str:
        """The page's visible text (every text node under <body> outside script/style), joined by spaces."""
        root = self.sel.root
        if not isinstance(getattr(root, "tag", None), str):
            return ""
        return " ".join(XP_VISIBLE_TEXT(root))

    def labelled_published(self, declared: str) -> tuple[str, str] | None:
        """A date the page labels as its publication ("Published Apr 26, 2023", PUBLISHED_LABEL) more than a
        day before the declared date, when the page prints the declared day, and prints it only after an
        update label ("Updated Aug 21, 2025", UPDATED_LABEL): the declared stamp is then the last change,
        the labelled day the publication. The label is looked for in the texts under the headline
        (:attr:`under_headline`, so not in a reader comment, an <aside> or a related box: another post's)
        and on the lines of the <time> elements above the headline or among those texts
        (:attr:`time_labels`); the declared day in all the page's text. (written, YYYY-MM-DD) or None."""
        dt = _in_own_offset(declared)
        if dt is None:
            return None
        day = dt.date().isoformat()
        under = " ".join(self.under_headline)
        low = under.lower()
        labels = ([under] if "publi" in low or "posted" in low else []) + self.time_labels  # no label: one look
        for label in labels:
            found = _labelled_before(label, day)
            if found:
                return found if self.printed_only_as_update(day) else None
        return None

    def printed_only_as_update(self, day: str) -> bool:
        """The page's visible text prints ``day`` (YYYY-MM-DD) at least once, and each time right after an
        update label ("Updated Aug 21, 2025"). Read once per page and day."""
        cache = self.__dict__.setdefault("_only_as_update", {})
        if day not in cache:
            text = self.visible_text
            starts = [start for start, _, d in dates_written(text) if d == day]
            cache[day] = bool(starts) and all(UPDATED_LABEL.search(text[max(0, i - LABEL_CHARS):i]) for i in starts)
        return cache[day]

    @cached_property
    def time_labels(self) -> list[str]:
        """The text of each <time> element's parent that holds a publication label ("Published August 13,
        2025"), for the <time> elements above the <h1> or among the texts under it (:attr:`under_headline`;
        not one further down, as a previous-post link's), outside a reader comment, an <aside>, a related
        box or the page footer."""
        root = self.sel.root
        if not isinstance(getattr(root, "tag", None), str):
            return []
        out, near = [], None
        for el in root.iter("time"):
            parent = el.getparent()
            if parent is None:
                continue
            text = " ".join(" ".join(parent.itertext()).split())
            low = text.lower()
            if len(text) <= 120 and ("publi" in low or "posted" in low):
                if near is None:
                    near = set(XP_TIME_BEFORE_HEADLINE(root)) | {t.getparent() for t in self.under_headline}
                if el in near and not _beside_article(parent, page_footer=True):
                    out.append(text)
        return out

    @cached_property
    def under_headline(self) -> list[str]:
        """The first TEXTS_UNDER_HEADLINE texts after the <h1> (byline, dateline), without those in a reader
        comment, an <aside>, a related box or a previous/next-post navigation (another post's day); [] without
        an <h1>."""
        root = self.sel.root
        if not isinstance(getattr(root, "tag", None), str):
            return []
        return [t for t in XP_UNDER_HEADLINE(root)
                if not _beside_article(t.getparent()) and not _in_post_navigation(t.getparent())]

    def found_date(self) -> tuple[str, str] | None:
        """No structured date: a date in the URL (``/2026/03/14/``, written "2026/03/14"), else the first full
        date written in the page's visible text (the byline's, on most pages; a bare year, as in a copyright
        line, is no date), else htmldate's quick search (which gives only its YYYY-MM-DD, so that is the
        string); as (written, YYYY-MM-DD), None when none is found."""
        m = URL_DATE.search(self.url or "")
        day = m and _real_day(m.group(1), m.group(2), m.group(3))  # "/2023/02/31/" is no day
        if day:
            return m.group(0).strip("/-"), day
        m = URL_DATE_MONTH_NAME.search(self.url or "")
        day = m and _real_day(m.group(1), MONTHS.get(m.group(2).lower()), m.group(3))
        if day:
            return m.group(0).strip("/-"), day
        root = self.sel.root
        if not isinstance(getattr(root, "tag", None), str):
            return None
        found = first_date_in(XP_VISIBLE_TEXT(root))
        if found:
            return self.after_masthead_date(found) or found
        try:
            day = find_date(root, url=self.url, extensive_search=False, original_date=True)
        except Exception:  # htmldate on odd markup: no date rather than no article
            return None
        return (day, day) if day and DAY.fullmatch(day) else None

    def after_masthead_date(self, found: tuple[str, str]) -> tuple[str, str] | None:
        """When the first date of the page is a masthead's "today" (the first dated text of <body> above the
        <h1>, with a weekday name right before the date in that same text: "Friday, December 19, 2025"),
        the first date under the <h1> (:attr:`under_headline`: not a comment's or a sidebar's) if it is on or
        before that day; None otherwise (a dateline above the headline with no date under it stays)."""
        root = self.sel.root
        for text in XP_BEFORE_HEADLINE(root):
            written = dates_written(text)
            if not written:
                continue
            start, _, day = written[0]
            if day != found[1] or not WEEKDAY_BEFORE.search(text[max(0, start - 16):start]):
                return None
            under = first_date_in(self.under_headline)
            return under if under and under[1] <= day else None
        return None

    def modified_at_raw(self) -> str | None:
        for cand in (self.ld.get("dateModified"), self.article_meta("modified_time"), self.og("updated_time")):
            if _readable_date(cand):
                return cand.strip()
        return None

    def section(self) -> str | None:
        s = self.ld.get("articleSection")
        s = s[0] if isinstance(s, list) and s else s
        return (s.strip() if isinstance(s, str) and s.strip() else None) or self.article_meta("section")

    def tags(self) -> list[str]:
        self.metas  # noqa: B018 (collects the article:tag values)
        tags = [t.strip() for t in self._meta_tags if t and t.strip()]
        kw = self.ld.get("keywords")
        if not tags and isinstance(kw, str):
            tags = [t.strip() for t in kw.split(",") if t.strip()]
        elif not tags and isinstance(kw, list):
            tags = [t.strip() for t in kw if isinstance(t, str) and t.strip()]
        return list(dict.fromkeys(tags))

    def image_url(self) -> str | None:
        img = self.ld.get("image")
        if isinstance(img, list) and img:
            img = img[0]
        if isinstance(img, dict):
            img = img.get("url")
        return (img if isinstance(img, str) else None) or self.og("image")

    def syndicated_from(self) -> str | None:
        src = (self.links.get("original-source") or self.links.get("syndication-source")
               or self.meta("syndication-source") or self.meta("original-source"))
        if not src:
            for cand in (self.canonical_link(), self.og("url")):
                if cand and not same_site(self.url, _abs(self.url, cand)):
                    src = cand
                    break
        return _abs(self.url, src) if src else None

    def declares_article(self) -> bool:
        """Top-level (or @graph) JSON-LD object of an Article type: the page says it is one article."""
        return bool(self.ld)

    def declares_story(self) -> bool:
        """The page calls itself an article (og:type article, or a JSON-LD article type that is not a forum
        post)."""
        if (self.og("type") or "").strip().lower() == "article":
            return True
        return any(ARTICLE_TYPES.search(t) for t in self.ld_types - notarticle.FORUM_LD_TYPES)

    def not_article_reason(self, body: str | None = None) -> str | None:
        """Why this page is not an article (challenge, client_shell, listing, paywall) or None."""
        return notarticle.classify(self.sel, self.raw, self.url, body if body is not None else self.own_text(),
                                   self.declares_article())

    # -- assembly -------------------------------------------------------------------------------------
    def to_item(self) -> ArticleRecord | NotArticle:
        reason = notarticle.classify_before_extraction(self.sel, self.raw)
        if not reason and notarticle.is_forum(self.sel, self.ld_types, self.declares_story()):
            reason = "forum"
        if reason:
            return NotArticle(reason, self.url)
        # decided on the page's own text before the body is chosen: a listing or a teaser is not worth
        # trafilatura's time
        reason, detail = notarticle.explain_after_extraction(self.sel, self.raw, self.url, self.own_text(),
                                                             self.declares_article(), self.declares_story(),
                                                             self.ld_types, self.fast.enough)
        if reason:
            return NotArticle(reason, self.url, detail)
        body = self.body_text()
        paywalled = notarticle.is_paywalled(self.sel, self.raw, body)
        if paywalled:  # a teaser: its story text is the row's body; a wall with no story is no article
            if notarticle.is_wall_only(self.sel, self.raw, body):
                return NotArticle("paywall", self.url)
            body = notarticle.teaser_story(body)
        if not body or len(body) < MIN_BODY_CHARS:
            return NotArticle("no_body", self.url)
        title = self.title()
        if not title:
            return NotArticle("no_title", self.url)
        canon = self.canonical_url()
        mod_raw = self.modified_at_raw()
        return ArticleRecord(
            article_id=ids.article_id(canon), url=self.url, canonical_url=canon, site=site_of(canon),
            title=title, body_text=body, summary=self.summary(), authors=self.authors(),
            authors_raw=self.authors_raw(), published_at=self.published_at(), published_at_raw=self.published_at_raw(),
            published_at_offset_minutes=self.published_at_offset_minutes(),
            modified_at=read_date(mod_raw), section=self.section(), tags=self.tags(), image_url=self.image_url(),
            syndicated_from=self.syndicated_from(), is_paywalled=paywalled, parser=self.parser,
        )


_SELECTORS: dict[str, etree.XPath] = {}


def parse_article(url: str, body: bytes | str, headers: dict | None = None) -> ArticleRecord | NotArticle:
    return ArticlePage(url, body, headers).to_item()


def _clean(s: str | None) -> str | None:
    s = (s or "").strip()
    return s or None


def _abs(base: str, href: str) -> str:
    from urllib.parse import urljoin

    return urljoin(base, href.strip())


def _words(text: str | None) -> list[str]:
    return WORDS.findall((text or "").lower())


def _share_in(text: str, words: set[str]) -> float:
    own = set(_words(text))
    return len(own & words) / len(own) if own else 0.0


def _unescaped(text: str | None) -> str | None:
    """Entities left in structured data (``&#8211;``, ``&amp;``) decoded; None for an empty string."""
    if not text:
        return None
    return " ".join(html.unescape(html.unescape(text)).split()) or None


def _without_site_part(title: str | None) -> str | None:
    """"Headline | Site name" → "Headline" (the longest part between separators)."""
    if not title:
        return None
    parts = [p for p in TITLE_SITE_SEPARATOR.split(title) if p.strip()]
    return max(parts, key=len).strip() if len(parts) > 1 else title


def _ld_names(value, by_id: dict | None = None, organisations: bool = False, _depth: int = 0) -> list[str]:
    """Names of the JSON-LD author(s): people, not the publishing organisation (``organisations``: only
    the organisations). ``{"@id": ...}`` references are looked up in ``by_id`` (Yoast's @graph)."""
    if value is None or _depth > 3:
        return []
    if isinstance(value, str):
        return [value.strip()] if value.strip() and not organisations else []
    if isinstance(value, dict):
        ref = value.get("@id")
        if by_id and isinstance(ref, str) and "name" not in value and by_id.get(ref) is not None:
            return _ld_names(by_id[ref], by_id, organisations, _depth + 1)
        kind = value.get("@type")
        is_org = any(k in ORGANISATION_TYPES for k in (kind if isinstance(kind, list) else [kind]) if isinstance(k, str))
        if is_org != organisations:
            return []
        name = value.get("name")
        return [name.strip()] if isinstance(name, str) and name.strip() else []
    if isinstance(value, list):
        return [n for v in value for n in _ld_names(v, by_id, organisations, _depth + 1)]
    return []


def _text_after(text) -> str:
    """The words right after a "By" text node: the next element's text ("<span>By</span><span>Jane
    Doe</span>", "By <a>Jane Doe</a>") or the next text node (a name after a markup comment)."""
    holder = text.getparent()
    node = holder.getnext() if text.is_tail else (holder[0] if len(holder) else holder.getnext())
    for _ in range(3):  # skip markup comments and empty elements
        if node is None:
            return ""
        if isinstance(node.tag, str):
            words = " ".join(node.text_content().split())
            if words:
                return words
        elif node.tail and node.tail.strip():
            return " ".join(node.tail.split())
        node = node.getnext()
    return ""


def _names_after(text) -> list[str]:
    """The names in the texts right after a label text ("<h3>Author</h3><p>Jane Doe</p>", "<strong>
    Contributors:</strong> Jane Doe", "<h6>Authors</h6><ul><li><a>Jane Doe</a></li><li><a>John Roe</a>…"):
    the run of name-like texts (and the commas/"and" between them) inside the one element beside the
    label that holds the first name; a first text of several names ("Jane Doe and John Roe") split. []
    when the next text is no name."""
    holder = text.getparent()
    # the label itself is the first of these texts: the holder's text, or (a tail) the first following one
    after = holder.xpath(("following::text()" if text.is_tail else "(descendant::text() | following::text())")
                         + f"[normalize-space()][position() <= {LABEL_NAMES_MAX_TEXTS + 1}]")[1:]
    label_el = _element_of(text)
    names: list[str] = []
    box = None  # the element beside the label that holds the names: later names must be in it too
    for i, node in enumerate(after):
        t = " ".join(node.split())
        if NAME_JOINER.match(t):
            continue
        if box is not None and not _inside(node, box):
            break
        if NAME_LIKE.match(t) and _name_text(t):
            box = box if box is not None else _box_beside(node, label_el)
            names.append(t)
            if len(names) == AUTHOR_LINKS_MAX:
                break
            continue
        if i == 0:
            parts = [p for p in re.split(r"\s*(?:,|;|&|\band\b)\s*", t) if p]
            if 1 < len(parts) <= AUTHOR_LINKS_MAX and all(NAME_LIKE.match(p) and _name_text(p) for p in parts):
                return parts
        break
    return names


def _element_of(text):
    """The element a text node is in (a tail is in its element's parent)."""
    el = text.getparent()
    return el.getparent() if text.is_tail and el is not None else el


def _box_beside(text, label_el):
    """The largest element holding ``text`` but not the label (the element itself when both are in it:
    a name in the tail after "<strong>Author:</strong>")."""
    box = _element_of(text)
    if box is None or label_el is None:
        return box
    label_line = {label_el, *label_el.iterancestors()}
    if box in label_line:
        return box
    for anc in box.iterancestors():
        if anc in label_line:
            break
        box = anc
    return box


def _inside(text, box) -> bool:
    el = _element_of(text)
    return el is not None and (el is box or box in set(el.iterancestors()))


def _may_say_originally(raw: str) -> bool:
    """Whether ORIGINALLY_WORD matches the raw page, faster than its case-insensitive search: a lower-cased
    page holds "originally" unless the match has a dotted or dotless i (which the case-insensitive "i" also
    matches and lower() does not turn into "i"), and then the search decides."""
    return "originally" in raw.lower() or (("\u0130" in raw or "\u0131" in raw) and ORIGINALLY_WORD.search(raw) is not None)


def _readable_date(cand) -> bool:
    """A declared date that reads as a day; one that does not ("on Friday", a template's placeholder)
    gives way to the next source instead of leaving the record without a date."""
    return isinstance(cand, str) and bool(cand.strip()) and read_date(cand.strip()) is not None


def _own_texts(el) -> list[str]:
    """The text nodes an element holds itself (``::text``): its text and its children's tails."""
    texts = [el.text] if el.text else []
    texts.extend(c.tail for c in el if c.tail)
    return texts


def _class_of(el) -> str:
    return (el.get("class") or "").lower()


def _beside_article(el, page_footer: bool = False) -> bool:
    """An element in an <aside> or in a region named as outside the article (comments, related, footer);
    ``page_footer``: also in a <footer> that is not inside an <article> (the page's, not the story's)."""
    # (one climb: the outside-region test of maintext.in_outside_region stops at <body>, the tags are every
    # ancestor's)
    outside_known, footer, article = False, False, False
    node = el
    while node is not None:
        tag = node.tag
        if tag == "aside":
            return True
        if not outside_known:
            if tag in ("body", "html"):
                outside_known = True
            elif maintext.names_outside(node):
                return True
        footer = footer or tag == "footer"
        article = article or tag == "article"
        node = node.getparent()
    return page_footer and footer and not article


def _in_own_offset(stamp: str) -> datetime | None:
    """The instant a timestamp names, in the offset it is written in ("2021-03-12T22:00:00-05:00" stays
    on 2021-03-12, not the UTC day 2021-03-13); a stamp without an offset is read as UTC. None if unread."""
    dt = read_date(stamp)
    offset = own_offset([stamp])
    return dt.astimezone(offset) if dt is not None and offset else dt


def _in_post_navigation(el) -> bool:
    """An element in a <nav> or in a region named as a navigation between posts ("post-nav", "pagination",
    "prev", "next"): the day printed there is another post's."""
    while el is not None and el.tag not in ("body", "html"):
        if el.tag == "nav":
            return True
        names = f'{el.get("class") or ""} {el.get("id") or ""}'
        if names.strip() and POST_NAV_NAME.search(names.lower()):
            return True
        el = el.getparent()
    return False


def _labelled_before(text: str, declared_day: str) -> tuple[str, str] | None:
    """The first date in the text labelled as a publication (not "originally published") that is more than
    a day before ``declared_day`` (a day's difference is a time zone's, not a re-dating)."""
    for m in PUBLISHED_LABEL.finditer(text):
        if ORIGINALLY_BEFORE.search(text[max(0, m.start() - 12):m.start()]):
            continue
        after = text[m.end():m.end() + LABELLED_DATE_CHARS]
        found = dates_written(after)
        if found and found[0][0] == 0 and \
                (date.fromisoformat(declared_day) - date.fromisoformat(found[0][2])).days > 1:
            return " ".join(after[:found[0][1]].split()), found[0][2]
    return None


def _real_day(year: str, month: str | int | None, day: str) -> str | None:
    """YYYY-MM-DD of a date read from a URL, None when there is no such day ("/2023/feb/31/", month 13)."""
    try:
        return date(int(year), int(month), int(day)).isoformat() if month else None
    except ValueError:
        return None


def _as_day(found: tuple[str, str] | None) -> tuple[str, datetime] | None:
    """(date as written, YYYY-MM-DD) → (date as written, that day at midnight UTC)."""
    return (found[0], datetime.fromisoformat(found[1]).replace(tzinfo=timezone.utc)) if found else None


def _not_a_handle(text: str) -> bool:
    """An author value that is a name, not a profile URL, a numeric id, an @handle or an unfilled template
    key ("post.meta.author": dotted, with an author word)."""
    t = text.strip()
    return bool(t) and not t.startswith(("http", "@", "/")) and not t.isdigit() \
        and not ("." in t and TEMPLATE_KEY.match(t))


def _name_text(text: str) -> bool:
    """A short text that can be a person's or team's name (no "More about ...", "See all posts")."""
    words = _words(text)
    return 0 < len(words) <= 8 and NOT_NAME_WORDS.isdisjoint(words) and " ".join(words) not in NOT_NAMES
