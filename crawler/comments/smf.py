"""Classic forums on Simple Machines Forum (SMF 1.x as on bitcointalk.org, and SMF 2.x): topic pages
``index.php?topic=14.0`` and their later pages (``topic=14.20`` or ``topic=14.0;start=20``).

Rules, in one place:

- **One row per post.** A post is an element with id ``subject_N`` (the post's subject line); ``N`` is the
  native id (the ``msgN`` of its permalink). A post whose own permalink points into *another* topic is not
  part of this one (bitcointalk mixes hidden decoy posts of that kind into its pages) and is skipped.
- **Position.** Which page a response is comes from the page itself (its ``smf_start`` script variable)
  when it says so, else from the URL (``topic=14.20``, ``;start=20``). A post anchor such as
  ``topic=14.msg53#msg53`` (how feeds and "last post" links point at posts) names no page: the page
  the forum answers with does.
- **Opening post.** The first post of the topic (first post of the first page) is the topic itself: it is
  left out of the comments and returned by :func:`opening_post`. Later pages know it through
  ``ref.extra["opening_msg_id"]`` (set by ``detect`` on the first page).
- **Parents.** SMF posts are flat: ``parent`` is None, except when a post quotes an earlier post of the same
  topic and the quote header links to it (``Quote from: X on ... `` → ``topic=14.msg53#msg53``): the *first*
  such quote (in reading order, outermost) names the parent, provided it is an earlier message
  (smaller msg id) and not the opening post (a reply quoting the opening post stays top level).
- **Quotes and signatures.** ``div.quoteheader`` lines are dropped; ``div.quote`` / ``blockquote`` text goes
  to ``quoted_text``; ``div.signature`` is never part of the body.
- **Paging.** Page links to the same topic (``topic=ID.N`` / ``;start=N``) are collected on the *first*
  page only, and every page from the smallest step to the last offset is listed (so elided navigation
  "1 2 3 ... 50" still yields every page, each exactly once). Later pages add no follow-ups.
- **Dates** such as ``December 12, 2009, 02:11:37 PM`` are read as UTC (the forum's default time zone for
  guests); ``Today at ...`` / ``Yesterday at ...`` use the response's ``Date`` header. "Last Edit: ..." →
  ``edited_at``.
- **Reported count**: SMF topic pages do not state a reply count (board listings do), so None.
- **Deleted posts** disappear from SMF pages; there is nothing to flag.
"""
from __future__ import annotations

import re
from copy import deepcopy
from datetime import datetime, timedelta, timezone
from urllib.parse import urljoin, urlsplit

from lxml import etree
from parsel import Selector

from crawler.dates import parse_date
from crawler.htmltext import QUOTE_XPATH, element_text, parse_fragment
from crawler.urls import site_of

from .payload import header_value as _header, to_int as _int
from .base import CommentPage, RawComment, ThreadRef, page_range
from .repost import article_body, repost_source

PLATFORM = "smf"
PARSER = "smf@1"

_TOPIC_Q = re.compile(r"(?:^|[?&;])topic=(\d+)(?:\.(\w+))?", re.I)
_START_Q = re.compile(r"[;&?]start=(\d+)", re.I)
_MSG = re.compile(r"(?:[.;&?]msg=?|#msg)(\d+)", re.I)
_SMF_JS = re.compile(r"\bsmf_topic\s*=\s*(\d+)\s*;.*?\bsmf_start\s*=\s*(\d+)", re.S)
_DATE = re.compile(r"([A-Z][a-z]+\.? \d{1,2}, \d{4}),? (\d{1,2}:\d{2}(?::\d{2})?\s*[AaPp][Mm])")
_DAY_REL = re.compile(r"\b(Today|Yesterday)\b\s*(?:at)?\s*(\d{1,2}:\d{2}(?::\d{2})?\s*[AaPp][Mm])", re.I)
_CHARSET = re.compile(rb"charset=[\"']?([A-Za-z0-9_-]+)", re.I)



class SmfAdapter:
    platform = PLATFORM
    parser = PARSER

    def detect(self, url: str, body: bytes, headers: dict) -> ThreadRef | None:
        text = decode_html(body, headers)
        if text.lstrip()[:1] in ("{", "["):
            return None
        topic, start = topic_and_start(url, text)
        if topic is None:
            return None
        posts = topic_posts(_root(text), topic)
        if not posts:
            return None  # board listings, search pages, other software
        first = start == 0
        return ThreadRef(PLATFORM, site_of(url), topic, page_url(url, topic, 0),
                         inline_body=body if first else None,
                         extra={"opening_msg_id": posts[0][0] if first else None, "script": _script_url(url),
                                "start": start, "title": topic_title(_root(text), posts),
                                "opening_url": page_url(url, topic, 0)})

    def first_requests(self, ref: ThreadRef) -> list[str]:
        return [] if ref.inline_body is not None else [ref.article_url]

    def parse_page(self, url: str, body: bytes, headers: dict, ref: ThreadRef) -> CommentPage:
        text = decode_html(body, headers)
        topic, start = topic_and_start(url, text)
        topic = topic or ref.native_thread_id
        root = _root(text)
        posts = topic_posts(root, topic)
        if not posts:
            return CommentPage(error="no_posts")
        opening = ref.extra.get("opening_msg_id") if ref else None
        if start == 0:
            opening = opening or posts[0][0]
        now = parse_date(_header(headers, "Date"))
        page = CommentPage()
        for k, (msg, container) in enumerate(posts):
            if msg == opening:
                continue
            page.comments.append(post_to_comment(msg, container, topic, opening, url, start + k, now))
        if start == 0:
            page.next_urls, page.cut_pages = pagination_urls(root, url, topic)
        return page

    @staticmethod
    def finalize(raw: list[RawComment]) -> list[RawComment]:
        return raw


# -- pieces -------------------------------------------------------------------------------------------
def topic_and_start(url: str, text: str = "") -> tuple[str | None, int]:
    """Topic id and page offset of a response: the page's own ``smf_topic`` / ``smf_start`` script
    variables when it has them (they are right whatever the URL was: a ``msg`` anchor, a later page),
    else the topic URL's (``topic=14.20`` / ``topic=14.0;start=20``; a ``msg`` anchor alone means 0)."""
    j = _SMF_JS.search(text) if "smf_topic" in text else None
    if j:
        return j.group(1), int(j.group(2))
    query = urlsplit(url).query
    m = _TOPIC_Q.search(query)
    if m:
        rest = m.group(2) or "0"
        s = _START_Q.search(query)
        start = int(s.group(1)) if s else (int(rest) if rest.isdigit() else 0)
        return m.group(1), start
    return None, 0


def topic_title(root, posts) -> str | None:
    """The topic's title as a page of it says: the first post's subject without "Re: ", else ``<title>``."""
    root = getattr(root, "root", root)
    if posts:
        subj = _X_BY_ID(posts[0][1], id=f"subject_{posts[0][0]}")
        title = _text_of(subj[0]) if subj else ""
        title = re.sub(r"^(?:Re:\s*)+", "", title).strip()
        if title:
            return title
    t = root.xpath("//title/text()")
    return " ".join(t[0].split()) if t else None


_X_SUBJECTS = etree.XPath("//*[starts-with(@id, 'subject_')]")
_X_OWN_POSTER = etree.XPath("./tr/td[contains(@class, 'poster_info')] | ./tbody/tr/td[contains(@class, 'poster_info')]")
_X_HREF = etree.XPath(".//a/@href")
_X_BODY = etree.XPath(".//div[contains(concat(' ', normalize-space(@class), ' '), ' inner ')][starts-with(@id, 'msg_')]"
                      " | .//div[contains(concat(' ', normalize-space(@class), ' '), ' post ')]")
_X_AUTHORS = [etree.XPath(x) for x in (
    ".//td[contains(concat(' ', normalize-space(@class), ' '), ' poster_info ')]//b/a/text()",
    ".//td[contains(concat(' ', normalize-space(@class), ' '), ' poster_info ')]//b/text()",
    ".//div[contains(concat(' ', normalize-space(@class), ' '), ' poster ')]//h4/a/text()",
    ".//div[contains(concat(' ', normalize-space(@class), ' '), ' poster ')]//h4/text()")]
_X_DATES = [etree.XPath(x) for x in (  # tried in turn: the line under the subject (SMF 1), keyinfo (SMF 2)
    ".//*[@id=$sid]/following-sibling::*[contains(@class, 'smalltext')][1]",
    ".//div[contains(@class, 'keyinfo')]//div[contains(@class, 'smalltext')]",
    ".//*[@id=$sid]/ancestor::td[1]//div[contains(@class, 'smalltext')]")]
_X_BY_ID = etree.XPath(".//*[@id=$id]")
_X_SIGNATURES = etree.XPath("//div[contains(concat(' ', normalize-space(@class), ' '), ' signature ')]")
_X_QUOTEHEADERS = etree.XPath("//div[contains(concat(' ', normalize-space(@class), ' '), ' quoteheader ')]")
_X_QUOTE_CHROME = etree.XPath("//div[contains(concat(' ', normalize-space(@class), ' '), ' quoteheader ')]"
                              " | //div[contains(concat(' ', normalize-space(@class), ' '), ' quotefooter ')]")
_X_QUOTES = etree.XPath(QUOTE_XPATH)


def _root(text: str):
    """The page's lxml tree (parsed the way parsel parses it)."""
    return Selector(text=text).root


def _text_of(el) -> str:
    return " ".join(" ".join(el.itertext()).split())


def topic_posts(root, topic: str) -> list[tuple[str, object]]:
    """(msg id, post container element) for every real post of ``topic`` on the page, in page order.
    ``root`` is an lxml tree (or a parsel Selector)."""
    root = getattr(root, "root", root)
    out: list[tuple[str, object]] = []
    seen: set[str] = set()
    for subj in _X_SUBJECTS(root):
        m = re.fullmatch(r"subject_(\d+)", subj.get("id", ""))
        if not m or m.group(1) in seen:
            continue
        hrefs = _X_HREF(subj)
        t = _TOPIC_Q.search(urlsplit(hrefs[0]).query) if hrefs else None
        if t and t.group(1) != topic:
            continue  # a post of another topic (decoy or merged view)
        container = _container(subj)
        if container is None:
            continue
        seen.add(m.group(1))
        out.append((m.group(1), container))
    return out


def _container(subject):
    """The element holding one whole post: SMF 2's ``div.post_wrapper``, or in SMF 1 the nearest table whose
    own rows hold the ``td.poster_info`` cell (author, body and signature are all inside it)."""
    for anc in subject.iterancestors():
        if anc.tag == "div" and "post_wrapper" in (anc.get("class") or "").split():
            return anc
        if anc.tag == "table" and _X_OWN_POSTER(anc):
            return anc
    return None


def _body_element(container):
    body = _X_BODY(container)
    return body[0] if body else None


def post_to_comment(msg: str, container, topic: str, opening: str | None, url: str, order: int,
                    now: datetime | None) -> RawComment:
    body = _body_element(container)
    text, quoted, quoted_msgs = _post_text_el(deepcopy(body), topic) if body is not None else ("", None, [])
    parent = None
    for q in quoted_msgs:  # the first quote that links to an earlier post of this topic
        if q != msg and _int(q) is not None and _int(q) < _int(msg):
            parent = None if q == opening else q
            break
    raw_date, published = post_date(container, msg, now)
    return RawComment(
        native_id=msg, parent_native_id=parent, author_name=post_author(container), body_text=text,
        quoted_text=quoted, source_url=url, published_at=published, published_at_raw=raw_date,
        edited_at=edited_date(container, msg, now), order=order,
    )


def post_text(html: str, topic: str) -> tuple[str, str | None, list[str]]:
    """(own text, quoted text, msg ids the quote headers link to) of a post body's HTML."""
    return _post_text_el(parse_fragment(html), topic)


def _post_text_el(root, topic: str) -> tuple[str, str | None, list[str]]:
    """post_text on a (private copy of a) body element: signatures and quote chrome are removed from it."""
    quoted_msgs: list[str] = []
    for el in _X_SIGNATURES(root):
        el.drop_tree()
    for head in _X_QUOTEHEADERS(root):
        for href in _X_HREF(head):
            parts = urlsplit(href)
            q = parts.query + "#" + parts.fragment
            t = _TOPIC_Q.search(q)
            m = _MSG.search(q)
            if m and (t is None or t.group(1) == topic):
                quoted_msgs.append(m.group(1))
                break
    for el in _X_QUOTE_CHROME(root):
        el.drop_tree()
    quotes = _X_QUOTES(root)
    qset = set(quotes)
    texts = [element_text(q) for q in quotes if not any(a in qset for a in q.iterancestors())]
    for q in quotes:
        if q.getparent() is not None:
            q.drop_tree()
    return element_text(root), "\n\n".join(t for t in texts if t) or None, quoted_msgs


def post_author(container) -> str | None:
    for x in _X_AUTHORS:
        for t in x(container):
            if t.strip():
                return t.strip()
    return None


def post_date(container, msg: str, now: datetime | None) -> tuple[str | None, datetime | None]:
    sid = f"subject_{msg}"
    for x in _X_DATES:
        for c in x(container, sid=sid):
            raw = _text_of(c)
            dt = smf_date(raw, now)
            if dt is not None:
                return raw, dt
    return None, None


def edited_date(container, msg: str, now: datetime | None) -> datetime | None:
    node = _X_BY_ID(container, id=f"modified_{msg}")
    if not node:
        return None
    raw = _text_of(node[0])
    return smf_date(raw, now) if raw else None


def smf_date(raw: str, now: datetime | None = None) -> datetime | None:
    """``December 12, 2009, 02:11:37 PM`` (UTC) or ``Today at 10:00:00 AM`` (relative to ``now``)."""
    m = _DATE.search(raw or "")
    if m:
        day = m.group(1).replace(".", "")
        clock = m.group(2).upper().replace(" ", "")
        for fmt in ("%B %d, %Y %I:%M:%S%p", "%B %d, %Y %I:%M%p", "%b %d, %Y %I:%M:%S%p", "%b %d, %Y %I:%M%p"):
            try:
                return datetime.strptime(f"{day} {clock}", fmt).replace(tzinfo=timezone.utc)
            except ValueError:
                continue
        return None
    m = _DAY_REL.search(raw or "")
    if m and now is not None:
        clock = m.group(2).upper().replace(" ", "")
        for fmt in ("%I:%M:%S%p", "%I:%M%p"):
            try:
                t = datetime.strptime(clock, fmt).time()
            except ValueError:
                continue
            day = now.date() - timedelta(days=1 if m.group(1).lower() == "yesterday" else 0)
            return datetime.combine(day, t, tzinfo=timezone.utc)
    return None


def pagination_urls(root, url: str, topic: str) -> tuple[list[str], int]:
    """Every later page of the topic, from the page links of its first page (see the module rules)."""
    root = getattr(root, "root", root)
    starts: set[int] = set()
    style = "dot"
    for href in root.xpath("//a/@href"):
        absolute = urljoin(url, href)
        parts = urlsplit(absolute)
        if "#" in href or "action=" in parts.query or "prev_next" in parts.query:
            continue
        t = _TOPIC_Q.search(parts.query)
        if not t or t.group(1) != topic:
            continue
        s = _START_Q.search(parts.query)
        if s:
            starts.add(int(s.group(1)))
            style = "start"
        elif (t.group(2) or "").isdigit():
            starts.add(int(t.group(2)))
    starts.discard(0)
    if not starts:
        return [], 0
    step = min(starts)
    last = max(starts)
    numbers, cut = page_range(step, last, step)  # offsets a page states: capped
    return [page_url(url, topic, n, style) for n in numbers], cut


def page_url(url: str, topic: str, start: int, style: str = "dot") -> str:
    """``index.php?topic=ID.START`` (SMF's own form) or ``index.php?topic=ID.0;start=START``."""
    script = _script_url(url)
    if style == "start" and start:
        return f"{script}?topic={topic}.0;start={start}"
    return f"{script}?topic={topic}.{start}"


def _script_url(url: str) -> str:
    parts = urlsplit(url)
    path = parts.path if parts.path.endswith(".php") else (parts.path.rstrip("/") + "/index.php")
    return f"{parts.scheme}://{parts.netloc}{path}"


def opening_post(url: str, body: bytes | str, headers: dict | None = None) -> dict | None:
    """The topic's first post (first page only): ``{"title", "body_text", "author", "created_at",
    "created_at_raw", "syndicated_from", "url", "native_id"}``; None on later pages or non-topic pages."""
    text = decode_html(body, headers or {})
    topic, start = topic_and_start(url, text)
    if topic is None or start != 0:
        return None
    posts = topic_posts(_root(text), topic)
    if not posts:
        return None
    msg, container = posts[0]
    now = parse_date(_header(headers or {}, "Date"))
    body_el = _body_element(container)
    html = etree.tostring(body_el, encoding="unicode", with_tail=False) if body_el is not None else ""
    own = article_body(html, url, site_of(url), tidy=_drop_chrome)
    raw_date, published = post_date(container, msg, now)
    subject = _X_BY_ID(container, id=f"subject_{msg}")
    title = _text_of(subject[0]) if subject else None
    return {"title": title or None, "body_text": own, "author": post_author(container), "created_at": published,
            "created_at_raw": raw_date, "syndicated_from": repost_source(html, url, site_of(url)),
            "url": page_url(url, topic, 0), "native_id": msg}


def _drop_chrome(root) -> None:
    for el in _X_SIGNATURES(root) + _X_QUOTE_CHROME(root):
        if el.getparent() is not None:
            el.drop_tree()


def decode_html(body: bytes | str, headers: dict | None) -> str:
    """Body text in the charset the server or the page declares (ISO-8859-1 read as windows-1252)."""
    if isinstance(body, str):
        return body
    charset = None
    ctype = _header(headers or {}, "Content-Type") or ""
    m = _CHARSET.search(ctype.encode("latin-1", "replace"))
    if not m:
        m = _CHARSET.search(body[:4096])
    if m:
        charset = m.group(1).decode("ascii", "replace").lower()
    if charset in ("iso-8859-1", "latin-1", "latin1", "us-ascii", "ascii"):
        charset = "cp1252"
    try:
        return body.decode(charset or "utf-8", errors="replace")
    except LookupError:
        return body.decode("utf-8", errors="replace")
