"""WordPress comments: the REST API (``/wp-json/wp/v2/comments?post=ID``) and the theme's HTML
(``ol.comment-list`` with nested ``ol.children``). Both give the same native ids, so either can fill
a thread; the spider prefers REST (complete, paged) and falls back to the HTML it already has.

- **Pingbacks and trackbacks** (``li.pingback`` / ``li.trackback``, REST ``type`` other than ``comment``)
  are links from other sites, not reader comments: they make no row and are counted in
  ``CommentPage.not_comments`` (WordPress's "N responses" counts them).
- **Comment pages.** A theme that splits comments over pages (``comment-page-N`` links in the
  ``comment-navigation`` / ``comments-pagination`` block) is followed page by page when there is no REST
  API: every linked comment page becomes a follow-up (the spider asks each once).
"""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

from parsel import Selector

from crawler.dates import parse_date
from crawler.discovery.xmlsafe import local, parse_xml
from crawler.htmltext import split_quotes
from crawler.parsed_html import parsed_html
from crawler.parsed_json import parsed_json
from crawler.urls import site_of

from .payload import decode_body as _decode, header_value as _header, id_of, obj_of, text_of, to_int as _int
from .base import CommentPage, RawComment, ThreadRef, page_range

PLATFORM = "wordpress"
PARSER = "wordpress@1"
PER_PAGE = 100  # the REST API's maximum page size

# Selectors (HTML): the default theme's markup and its older variants.
SEL_API_LINK = 'link[rel="https://api.w.org/"]::attr(href)'
SEL_GENERATOR = 'meta[name="generator"]::attr(content)'
SEL_POST_ID_BODY = "body::attr(class)"
SEL_SHORTLINK = 'link[rel="shortlink"]::attr(href)'
SEL_COMMENT_LIST = "ol.comment-list, ol.commentlist, ul.comment-list"
SEL_COMMENT_ITEMS = "li.comment, li.pingback, li.trackback"
PING_CLASSES = {"pingback", "trackback"}
SEL_COMMENT_PAGES = (".comment-navigation a::attr(href), .comments-pagination a::attr(href), "
                     "nav.navigation.comment-navigation a::attr(href), .commentnavi a::attr(href), "
                     ".comment-nav a::attr(href)")
_COMMENT_PAGE = re.compile(r"/comment-page-(\d+)/?|[?&]cpage=(\d+)")
SEL_AUTHOR = ".comment-author .fn ::text, .comment-author cite ::text"
SEL_TIME = ".comment-metadata time::attr(datetime), .comment-meta time::attr(datetime)"
SEL_CONTENT = ".comment-content, .comment-text"
SEL_COUNT_TITLE = ".comments-title ::text, #comments-title ::text, h2#comments ::text, h3#comments ::text"
SEL_LEGACY_PARAGRAPHS = ("div.comment-body > p, div.comment-body > blockquote, div[id^='div-comment'] > p, "
                         "div[id^='div-comment'] > blockquote")  # older themes: no .comment-content
SEL_LEGACY_DATE = ".comment-meta a::text, .commentmetadata a::text"
DELETED_CLASSES = {"comment-deleted", "deleted", "trash"}


class WordPressAdapter:
    platform = PLATFORM
    parser = PARSER

    def detect(self, url: str, body: bytes, headers: dict) -> ThreadRef | None:
        sel = parsed_html(body)[1]  # the article parser's tree of the same response
        post_id = self.post_id(sel)
        api = sel.css(SEL_API_LINK).get()
        has_list = bool(sel.css(SEL_COMMENT_LIST))
        if post_id is None or not (api or has_list):
            return None
        return ThreadRef(PLATFORM, site_of(url), str(post_id), url, inline_body=body,
                         reported_count=self.reported_count(sel),
                         extra={"api": urljoin(url, api) if api else None})

    @staticmethod
    def post_id(sel: Selector) -> int | None:
        m = re.search(r"\bpostid-(\d+)\b", sel.css(SEL_POST_ID_BODY).get() or "")
        if not m:
            m = re.search(r"[?&]p=(\d+)", sel.css(SEL_SHORTLINK).get() or "")
        if not m:
            m = re.search(r"\bpost-(\d+)\b", " ".join(sel.css("article::attr(id)").getall()))
        return int(m.group(1)) if m else None

    @staticmethod
    def reported_count(sel: Selector) -> int | None:
        m = re.search(r"(\d[\d,.]*)\s+(thoughts?|responses?|comments?|replies)", " ".join(sel.css(SEL_COUNT_TITLE).getall()), re.I)
        return int(re.sub(r"[,.]", "", m.group(1))) if m else None

    def first_requests(self, ref: ThreadRef) -> list[str]:
        api = ref.extra.get("api")
        return [self.rest_url(api, ref.native_thread_id, 1)] if api else []

    @staticmethod
    def rest_url(api_root: str, post_id: str, page: int) -> str:
        q = urlencode({"post": post_id, "per_page": PER_PAGE, "page": page, "order": "asc", "orderby": "date_gmt"})
        return urljoin(api_root.rstrip("/") + "/", "wp/v2/comments") + "?" + q

    def parse_page(self, url: str, body: bytes, headers: dict, ref: ThreadRef) -> CommentPage:
        if "/wp-json/" in url or "rest_route=" in url:
            return self.parse_rest(url, body, headers)
        return self.parse_html(url, body)

    # -- REST ------------------------------------------------------------------------------------------
    def parse_rest(self, url: str, body: bytes, headers: dict) -> CommentPage:
        try:
            data = parsed_json(body)  # the content guard parsed this very body already
        except ValueError:
            return CommentPage(error="invalid_json")
        if not isinstance(data, list):
            return CommentPage(error="unexpected_json_shape")
        page = CommentPage(reported_count=_int(_header(headers, "X-WP-Total")))
        start = (_int(parse_qs(urlsplit(url).query).get("page", ["1"])[0]) or 1) - 1
        for k, item in enumerate(data):
            if isinstance(item, dict) and item.get("type") not in (None, "", "comment"):
                page.not_comments += 1  # a pingback or trackback
                continue
            c = self.rest_item(item, url, order=start * 100_000 + k)
            if c is not None:
                page.comments.append(c)
            else:
                page.malformed += 1
        pages = _int(_header(headers, "X-WP-TotalPages")) or 1
        current = start + 1
        if current == 1 and pages > 1:
            numbers, page.cut_pages = page_range(2, pages)  # the server's number: capped
            page.next_urls = [_with_page(url, p) for p in numbers]
        return page

    @staticmethod
    def rest_item(item: dict, url: str, order: int) -> RawComment | None:
        if id_of(item) is None:  # not an object, or no id to key it (and its replies) by: the caller counts it
            return None
        text, quoted = split_quotes(text_of(obj_of(item, "content"), "rendered") or "")
        status = text_of(item, "status") or "approved"
        deleted = status in ("trash", "spam", "deleted")
        parent = id_of(item, "parent") or "0"
        raw_date = text_of(item, "date_gmt") or text_of(item, "date")
        return RawComment(
            native_id=id_of(item), parent_native_id=None if parent == "0" else parent,
            author_name=text_of(item, "author_name"), body_text="" if deleted else text,
            quoted_text=None if deleted else quoted, source_url=url, published_at=parse_date(raw_date),
            published_at_raw=raw_date, is_deleted=deleted, order=order,
        )

    # -- HTML ------------------------------------------------------------------------------------------
    def parse_html(self, url: str, body: bytes) -> CommentPage:
        sel = Selector(text=_decode(body), type="html")
        page = CommentPage(reported_count=self.reported_count(sel))
        lists = sel.css(SEL_COMMENT_LIST)
        if not lists:
            return page
        for order, li in enumerate(lists[0].css(SEL_COMMENT_ITEMS)):
            if set(li.attrib.get("class", "").split()) & PING_CLASSES:
                page.not_comments += 1
                continue
            c = self.html_item(li, url, order + 100_000 * comment_page_number(url))
            if c is not None:
                page.comments.append(c)
        page.next_urls = comment_page_urls(sel, url)
        return page

    @staticmethod
    def html_item(li: Selector, url: str, order: int) -> RawComment | None:
        m = re.search(r"(\d+)$", li.attrib.get("id", ""))
        if not m:
            return None
        parent_li = li.xpath("ancestor::li[starts-with(@id, 'comment-') or contains(@class, 'comment')][1]")
        pm = re.search(r"(\d+)$", parent_li[0].attrib.get("id", "")) if parent_li else None
        classes = set(li.attrib.get("class", "").split())
        deleted = bool(classes & DELETED_CLASSES)
        own = li.xpath("./*[not(self::ol or self::ul)]")  # this comment only, not its replies
        content = own.css(SEL_CONTENT)
        if content:
            text, quoted = split_quotes(content[0].get())
        else:  # legacy themes: the paragraphs sit directly in the comment's div
            text, quoted = split_quotes("".join(own.css(SEL_LEGACY_PARAGRAPHS).getall()))
        author = " ".join(t.strip() for t in own.css(SEL_AUTHOR).getall() if t.strip()) or None
        raw_date = own.css(SEL_TIME).get() or _clean(" ".join(own.css(SEL_LEGACY_DATE).getall()))
        return RawComment(
            native_id=m.group(1), parent_native_id=pm.group(1) if pm else None,
            author_name=None if deleted else author, body_text="" if deleted else text,
            quoted_text=None if deleted else quoted, source_url=url,
            published_at=parse_date(raw_date),
            published_at_raw=raw_date, is_deleted=deleted, order=order,
        )

    # -- WXR (WordPress export) -------------------------------------------------------------------------
    @staticmethod
    def parse_wxr(body: bytes, source_url: str) -> dict[str, list[RawComment]]:
        """Comments of a WordPress export file, by post id. Unapproved/spam/trash comments are kept as
        deleted rows (no text) so that approved replies keep their parent."""
        root = parse_xml(body)
        out: dict[str, list[RawComment]] = {}
        if root is None:
            return out
        for item in root.iter("item"):
            post_id = _wxr_text(item, "post_id")
            for order, c in enumerate(el for el in item if local(el.tag) == "comment"):
                cid = _wxr_text(c, "comment_id")
                if not cid or not post_id:
                    continue
                approved = _wxr_text(c, "comment_approved") == "1"
                parent = _wxr_text(c, "comment_parent") or "0"
                raw_date = _wxr_text(c, "comment_date_gmt") or _wxr_text(c, "comment_date")
                text, quoted = split_quotes(_wxr_text(c, "comment_content") or "")
                out.setdefault(post_id, []).append(RawComment(
                    native_id=cid, parent_native_id=None if parent == "0" else parent,
                    author_name=(_wxr_text(c, "comment_author") or None) if approved else None,
                    body_text=text if approved else "", quoted_text=quoted if approved else None,
                    source_url=source_url, published_at=parse_date(raw_date), published_at_raw=raw_date,
                    is_deleted=not approved, order=order))
        return out


def _wxr_text(el, name: str) -> str | None:
    for c in el:
        if local(c.tag) == name:
            return (c.text or "").strip()
    return None


def _clean(s: str | None) -> str | None:
    s = (s or "").strip()
    return s or None





def comment_page_number(url: str) -> int:
    m = _COMMENT_PAGE.search(url)
    return int(m.group(1) or m.group(2)) if m else 0


def comment_page_urls(sel: Selector, url: str) -> list[str]:
    """Other comment pages linked from this one (``comment-page-N``), without fragments, in page order."""
    here = comment_page_number(url)
    out: dict[int, str] = {}
    for href in sel.css(SEL_COMMENT_PAGES).getall():
        absolute = urljoin(url, href.strip()).split("#")[0]
        n = comment_page_number(absolute)
        if n and n != here and site_of(absolute) == site_of(url):
            out.setdefault(n, absolute)
    return [out[n] for n in sorted(out)]


def _with_page(url: str, page: int) -> str:
    parts = urlsplit(url)
    q = parse_qs(parts.query)
    q["page"] = [str(page)]
    return parts._replace(query=urlencode(q, doseq=True)).geturl()
