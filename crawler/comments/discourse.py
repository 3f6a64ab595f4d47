"""Discourse forums: topic JSON (``/t/{slug}/{id}.json``), the ``/t/{id}/posts.json`` batches that load the
rest of a long topic, the server-rendered page Discourse shows to crawlers (fallback when JSON is refused)
and the topic RSS (discovery of new posts).

Rules, in one place:

- **Native ids.** A post's native id is its Discourse ``id`` (global on the forum, as in ``/p/{id}``), never
  its ``post_number``. ``RawComment.order`` is the ``post_number`` (the topic's own display order).
- **Opening post.** Post number 1 is the topic itself, not a comment: it is left out of the comments and
  returned by :func:`opening_post` (title, text, author, date, source link by the one rule of
  :mod:`crawler.comments.repost`) so the spider can make an article row of a topic that reposts a news story.
  A reply to post 1 is a top-level comment.
- **Embed topics.** A site that uses Discourse as its comment system makes one topic per article; its first
  post says "This is a companion discussion topic for the original entry at <URL>" (or the topic JSON names
  the ``topic_embed``). :func:`opening_post` then gives ``embed_url``: the comments belong to that entry,
  which is the article (the topic's own post is not).
- **Parents.** ``reply_to_post_number`` names the parent by *number*. Within one response the number is mapped
  to the parent's id; when the parent sits in another batch the parent is written as ``"post_number:N"``
  and :meth:`DiscourseAdapter.finalize` maps it once every batch has arrived. **Call ``finalize`` on the
  collected comments before ``build_thread``.** A parent that never arrives (a deleted post, absent from
  the stream) keeps the ``post_number:N`` id, so ``build_thread`` makes a deleted placeholder for it and
  the replies stay nested under it.
- **Paging.** The topic JSON carries the first ~20 posts and ``post_stream.stream`` (every post id). The ids
  not loaded become follow-up URLs ``/t/{id}/posts.json?post_ids[]=..`` in batches of 20 (first page only,
  so each batch is requested once).
- **Deleted.** ``deleted_at``, ``user_deleted`` or the "(post deleted by author)" placeholder text →
  ``is_deleted=True``, empty body, no author; the row is kept.
- **Hidden** (flagged by the community, ``hidden`` / ``cooked_hidden``): the post still exists and may come
  back; it is *not* deleted. Its author and date are kept; its text only when the response carries it
  (anonymous readers get none, and the crawler view's "flagged … temporarily hidden" notice is not text).
- **Small actions** (``post_type`` 3: "closed the topic", "pinned" notes, no text) are not comments and are
  skipped; they are counted in ``CommentPage.not_comments`` because ``posts_count`` includes them.
  Whispers (type 4) and moderator-action posts (type 2) are kept.
- **Edited.** ``version > 1`` → ``edited_at = updated_at``. Without a ``version`` field, an ``updated_at``
  different from ``created_at`` counts as an edit.
- **Score.** ``like_count`` when present, else the count of ``actions_summary`` entry id 2 (like); a post
  nobody liked scores 0 (Discourse shows every post's like count). None only for a deleted post.
- **Reported count.** ``posts_count - 1``: Discourse's ``posts_count`` counts every visible post (whispers
  and deleted posts excluded) *including* the opening post, which is not a comment here, and small-action
  posts, which are counted back through ``not_comments`` so a whole topic is complete. ``reply_count`` is
  not used: it counts posts made with the reply button, not the posts in the topic.
- **Crawler HTML fallback.** The page for crawlers (``div.topic-body.crawler-post``, schema.org
  ``DiscussionForumPosting``) has post numbers but no post ids and no reply links. When the page's
  ``data-preloaded`` topic JSON is readable it is used instead (real ids, real parents); otherwise each
  post becomes a flat comment with native id ``post_number:N``, and ``rel="next"`` page links are
  follow-ups. Use one source per thread: the two id schemes do not mix.
"""
from __future__ import annotations

import html as htmllib
import json
import re
from datetime import datetime
from urllib.parse import urljoin, urlsplit

from lxml import etree
from parsel import Selector

from crawler.dates import parse_date
from crawler.htmltext import QUOTE_XPATH, element_text, parse_fragment, split_quotes
from crawler.urls import site_of

from .payload import decode_body as _decode, id_of, json_or_none as _json, list_of, obj_of, text_of, to_int as _int
from .base import CommentPage, RawComment, ThreadRef
from .repost import article_body, embed_line, repost_source

PLATFORM = "discourse"
PARSER = "discourse@1"
BATCH = 20  # post ids per /posts.json follow-up request (Discourse's own page size)
PN = "post_number:"  # prefix of a parent named by post number (resolved by finalize) / HTML fallback ids
POST_TYPE_SMALL_ACTION = 3
LIKE_ACTION_ID = 2
DELETED_TEXTS = ("(post deleted by author)", "(post withdrawn by author")
HIDDEN_TEXTS = ("This post was flagged by the community and is temporarily hidden",)
SEL_FEATURED_LINK = "a.topic-featured-link::attr(href), #topic-title a[rel~='nofollow']::attr(href)"

# /<prefix>/t/<slug>/<id>[/<post_number>][.json|.rss]  and  /<prefix>/t/<id>/posts.json
_POSTS_PATH = re.compile(r"^(?P<prefix>.*?)/t/(?P<id>\d+)/posts\.json$")
_TOPIC_PATH = re.compile(r"^(?P<prefix>.*?)/t/(?:(?P<slug>[^/]+)/)?(?P<id>\d+)(?:/(?P<pn>\d+))?(?P<ext>\.json|\.rss)?/?$")

# Crawler-view selectors (Discourse 2.x noscript markup and the 3.x crawler layout).
SEL_CRAWLER_POSTS = "div.crawler-post[itemtype*='DiscussionForumPosting'], div.crawler-post[id^='post_']"
SEL_AUTHOR = "[itemprop='author'] [itemprop='name']::text, .creator [itemprop='name']::text, .creator a::text"
SEL_DATE = "[itemprop='datePublished']::attr(datetime), [itemprop='datePublished']::attr(content)"
SEL_MODIFIED = "[itemprop='dateModified']::attr(content), [itemprop='dateModified']::attr(datetime)"
SEL_POSITION = "[itemprop='position']::text"
SEL_BODY = "div.post[itemprop], div.post"
SEL_LIKES = ("[itemprop='interactionStatistic']:has(meta[content*='LikeAction']) "
             "meta[itemprop='userInteractionCount']::attr(content)")
SEL_TITLE = "#topic-title h1 a::text, #topic-title h1::text, meta[itemprop='headline']::attr(content)"
SEL_NEXT = "a[rel='next']::attr(href), link[rel='next']::attr(href)"


class DiscourseAdapter:
    platform = PLATFORM
    parser = PARSER

    # -- detection ---------------------------------------------------------------------------------
    def detect(self, url: str, body: bytes, headers: dict) -> ThreadRef | None:
        text = _decode(body)
        path = topic_path(url)
        data = _json(text)
        if isinstance(data, dict):
            if not is_post_stream(data):
                return None
            tid = str(data.get("id") or (path or {}).get("id") or "")
            if not tid:
                return None
            prefix = _prefix(url, path)
            slug = data.get("slug") or _first_slug(data) or (path or {}).get("slug")
            return ThreadRef(PLATFORM, site_of(url), tid, _topic_html_url(prefix, slug, tid),
                             inline_body=body, reported_count=reported_count(data),
                             extra={"prefix": prefix, "slug": slug, "source": "json"})
        if text.lstrip().startswith("<?xml") or "<rss" in text[:500]:
            channel = re.search(r"<channel>.*?<link>([^<]+)</link>", text, re.S)
            link = htmllib.unescape(channel.group(1).strip()) if channel else url
            p = topic_path(link)
            if not p:
                return None
            prefix = _prefix(link, p)
            return ThreadRef(PLATFORM, site_of(link), p["id"], _topic_html_url(prefix, p["slug"], p["id"]),
                             extra={"prefix": prefix, "slug": p["slug"], "source": "rss"})
        if not is_discourse_html(text):
            return None
        sel = Selector(text=text)
        p = path or topic_path(urljoin(url, sel.css("noscript[data-path]::attr(data-path)").get() or "")) \
            or topic_path(urljoin(url, sel.css("link[rel='canonical']::attr(href)").get() or ""))
        if not p or not sel.css(SEL_CRAWLER_POSTS):
            return None
        prefix = _prefix(url, p)
        pre = _preloaded_topic(sel, p["id"])
        return ThreadRef(PLATFORM, site_of(url), p["id"], _topic_html_url(prefix, p["slug"], p["id"]),
                         inline_body=body, reported_count=reported_count(pre) if pre else None,
                         extra={"prefix": prefix, "slug": p["slug"], "source": "html"})

    def first_requests(self, ref: ThreadRef) -> list[str]:
        """The topic JSON, unless the detected response already was topic JSON (then it is parsed inline)."""
        if ref.extra.get("source") == "json" and ref.inline_body is not None:
            return []
        return [topic_json_url(ref.extra.get("prefix") or "", ref.extra.get("slug"), ref.native_thread_id)]

    # -- parsing -----------------------------------------------------------------------------------
    def parse_page(self, url: str, body: bytes, headers: dict, ref: ThreadRef) -> CommentPage:
        text = _decode(body)
        data = _json(text)
        if data is not None:
            if not isinstance(data, dict) or not is_post_stream(data):
                return CommentPage(error=f"not_a_topic: {json_kind(data)}")
            return self.parse_json(url, data, ref)
        if "<rss" in text[:500]:
            return CommentPage(error="rss_is_discovery_only: use topic_rss_posts()")
        return self.parse_html(url, text, ref)

    def parse_json(self, url: str, data: dict, ref: ThreadRef | None) -> CommentPage:
        stream = obj_of(data, "post_stream")
        listed = list_of(stream, "posts")
        posts = [p for p in listed if id_of(p) is not None]
        number_to_id = {_int(p.get("post_number")): id_of(p) for p in posts}
        page = CommentPage(reported_count=reported_count(data), malformed=len(listed) - len(posts))
        for p in posts:
            c = post_to_comment(p, url, number_to_id)
            if c is not None:
                page.comments.append(c)
            elif p.get("post_type") == POST_TYPE_SMALL_ACTION:
                page.not_comments += 1
        loaded = {id_of(p) for p in posts}
        missing = [str(i) for i in list_of(stream, "stream")
                   if isinstance(i, (int, str)) and not isinstance(i, bool) and str(i) not in loaded]
        if missing:
            tid = str(data.get("id") or (ref.native_thread_id if ref else ""))
            prefix = (ref.extra.get("prefix") if ref else None) or _prefix(url, topic_path(url))
            page.next_urls = batch_urls(prefix, tid, missing)
        return page

    def parse_html(self, url: str, text: str, ref: ThreadRef | None) -> CommentPage:
        sel = Selector(text=text)
        p = topic_path(url)
        tid = ref.native_thread_id if ref else (p or {}).get("id")
        pre = _preloaded_topic(sel, tid) if tid else None
        if pre is not None:  # the same JSON the app would load: real ids and parents
            return self.parse_json(url, pre, ref)
        page = CommentPage()
        for k, post in enumerate(sel.css(SEL_CRAWLER_POSTS)):
            c = crawler_post_to_comment(post, url, k)
            if c is not None and c.order != 1:
                page.comments.append(c)
        nxt = sel.css(SEL_NEXT).get()
        if nxt:
            page.next_urls = [urljoin(url, nxt)]
        return page

    @staticmethod
    def finalize(raw: list[RawComment]) -> list[RawComment]:
        """Map ``post_number:N`` parents to post ids once every batch of the thread has been collected."""
        by_number = {c.order: c.native_id for c in raw if not c.synthetic and not c.native_id.startswith(PN)}
        for c in raw:
            p = c.parent_native_id
            if p and p.startswith(PN):
                n = _int(p[len(PN):])
                if n == 1:
                    c.parent_native_id = None
                elif n in by_number:
                    c.parent_native_id = by_number[n]
        return raw


# -- JSON helpers --------------------------------------------------------------------------------------
def is_post_stream(data) -> bool:
    return isinstance(data, dict) and isinstance(data.get("post_stream"), dict) \
        and isinstance(data["post_stream"].get("posts"), list)


def json_kind(data) -> str:
    """What a Discourse JSON response is: topic, posts (a batch), topic_list, latest_posts, post, ... ."""
    if not isinstance(data, dict):
        return "unknown"
    if is_post_stream(data):
        return "topic" if "stream" in data["post_stream"] or "posts_count" in data else "posts"
    for key, kind in (("topic_list", "topic_list"), ("latest_posts", "latest_posts"),
                      ("category_list", "category_list"), ("user_actions", "user_actions")):
        if key in data:
            return kind
    if "cooked" in data and "post_number" in data and "topic_id" in data:
        return "post"
    return "unknown"


def reported_count(data: dict | None) -> int | None:
    """``posts_count - 1`` of a topic JSON (the opening post is not a comment)."""
    if not isinstance(data, dict):
        return None
    n = _int(data.get("posts_count"))
    if n is None:  # a /posts.json batch: newer Discourse repeats the topic's posts_count on every post
        posts = (data.get("post_stream") or {}).get("posts") or []
        n = next((_int(p.get("posts_count")) for p in posts if isinstance(p, dict) and "posts_count" in p), None)
    return max(0, n - 1) if n is not None else None


def post_to_comment(p: dict, url: str, number_to_id: dict | None = None) -> RawComment | None:
    """One ``post_stream.posts`` item → RawComment (None for the opening post and small actions)."""
    number = _int(p.get("post_number")) or 0
    if number == 1 or p.get("post_type") == POST_TYPE_SMALL_ACTION:
        return None
    cooked = text_of(p, "cooked") or ""
    deleted = bool(p.get("deleted_at") or p.get("user_deleted")) or _is_deleted_text(cooked)
    hidden = bool(p.get("hidden") or p.get("cooked_hidden"))
    text, quoted = ("", None) if deleted or p.get("cooked_hidden") or _is_hidden_text(cooked) else cooked_text(cooked)
    reply_to = _int(p.get("reply_to_post_number"))
    parent = None
    if reply_to and reply_to != 1 and reply_to != number:
        parent = (number_to_id or {}).get(reply_to) or f"{PN}{reply_to}"
    created = text_of(p, "created_at")
    published = parse_date(created)
    return RawComment(
        native_id=id_of(p), parent_native_id=parent,
        author_name=None if deleted else (text_of(p, "username") or text_of(p, "name")),
        body_text=text, quoted_text=quoted, source_url=url, published_at=published, published_at_raw=created,
        edited_at=_edited_at(p, published), score=None if deleted else _likes(p), is_deleted=deleted,
        hidden=hidden, order=number,
    )


def _edited_at(p: dict, published: datetime | None) -> datetime | None:
    updated = parse_date(p.get("updated_at"))
    version = _int(p.get("version"))
    if version is not None:
        return updated if version > 1 else None
    return updated if updated and published and updated != published else None


def _likes(p: dict) -> int:
    if p.get("like_count") is not None:
        return _int(p.get("like_count")) or 0
    for a in list_of(p, "actions_summary"):
        if isinstance(a, dict) and a.get("id") == LIKE_ACTION_ID:
            return _int(a.get("count")) or 0
    return 0  # no like action listed: nobody liked it


def _is_deleted_text(cooked: str) -> bool:
    if len(cooked) > 200:
        return False
    plain = re.sub(r"<[^>]+>", "", cooked).strip()
    return plain.startswith(DELETED_TEXTS)


def _is_hidden_text(cooked: str) -> bool:
    if len(cooked) > 300:
        return False
    return re.sub(r"<[^>]+>", "", cooked).strip().startswith(HIDDEN_TEXTS)


def cooked_text(cooked: str) -> tuple[str, str | None]:
    """(own text, quoted text) of a cooked post: ``aside.quote`` (and blockquotes) go to the quote,
    the quote's "user:" title line is dropped, image size captions and onebox previews are reduced."""
    if "<aside" not in cooked and "lightbox" not in cooked:
        return split_quotes(cooked)  # the common case: nothing to tidy first
    root = parse_fragment(cooked)
    for el in root.xpath("//aside[contains(concat(' ', normalize-space(@class), ' '), ' quote ')]"
                         "/div[contains(concat(' ', normalize-space(@class), ' '), ' title ')]"
                         " | //a[contains(@class, 'lightbox')]//div[contains(@class, 'meta')]"):
        el.drop_tree()
    for box in root.xpath("//aside[contains(concat(' ', normalize-space(@class), ' '), ' onebox ')]"):
        src = box.get("data-onebox-src") or next(iter(box.xpath(".//header//a/@href")), "")
        repl = etree.Element("p")
        repl.text = src
        repl.tail = box.tail
        box.getparent().replace(box, repl)
    return _split_tree(root)


def _split_tree(root) -> tuple[str, str | None]:
    """split_quotes on an already parsed (and tidied) fragment."""
    quotes = root.xpath(QUOTE_XPATH)
    qset = set(quotes)
    quoted = [element_text(q) for q in quotes if not any(a in qset for a in q.iterancestors())]
    for q in quotes:
        if q.getparent() is not None:
            q.drop_tree()
    return element_text(root), "\n\n".join(t for t in quoted if t) or None


# -- crawler HTML ---------------------------------------------------------------------------------------
def is_discourse_html(text: str) -> bool:
    head = text[:200_000]
    return ("crawler-post" in head and "DiscussionForumPosting" in head) or 'content="Discourse' in head \
        or "data-discourse-setup" in head


def crawler_post_to_comment(post: Selector, url: str, k: int) -> RawComment | None:
    pos = _int(re.sub(r"\D", "", post.css(SEL_POSITION).get() or ""))
    if pos is None:
        pid = re.search(r"post_(\d+)", post.attrib.get("id", ""))
        pos = int(pid.group(1)) if pid else None
    if pos is None:
        return None
    body = post.css(SEL_BODY)
    cooked = body[0].get() if body else ""
    deleted = _is_deleted_text(cooked)
    hidden = _is_hidden_text(cooked)
    text, quoted = ("", None) if deleted or hidden else cooked_text(cooked)
    raw_date = post.css(SEL_DATE).get()
    published = parse_date(raw_date)
    modified = parse_date(post.css(SEL_MODIFIED).get())
    author = (post.css(SEL_AUTHOR).get() or "").strip() or None
    return RawComment(
        native_id=f"{PN}{pos}", parent_native_id=None, author_name=None if deleted else author, body_text=text,
        quoted_text=quoted, source_url=url, published_at=published, published_at_raw=raw_date,
        edited_at=modified if modified and published and modified > published else None,
        score=None if deleted else (_int(post.css(SEL_LIKES).get()) or 0), is_deleted=deleted, hidden=hidden,
        order=pos,
    )


def _preloaded_topic(sel: Selector, topic_id) -> dict | None:
    """The topic JSON Discourse embeds in ``#data-preloaded`` (None when absent or unreadable)."""
    raw = sel.css("#data-preloaded::attr(data-preloaded), [data-preloaded]::attr(data-preloaded)").get()
    if not raw or topic_id is None:
        return None
    try:
        outer = json.loads(raw)
        inner = outer.get(f"topic_{topic_id}")
        data = json.loads(inner) if isinstance(inner, str) else inner
    except (ValueError, AttributeError, TypeError):
        return None
    return data if is_post_stream(data) else None


# -- opening post ---------------------------------------------------------------------------------------
def opening_post(url: str, body: bytes | str) -> dict | None:
    """The topic's first post as article material, or None when the response does not hold post 1.

    Returns ``{"title", "body_text", "author", "created_at", "created_at_raw", "syndicated_from", "url",
    "native_id", "embed_url"}``. ``body_text`` and ``syndicated_from`` follow :mod:`crawler.comments.repost`
    (featured link, source line, top onebox, embed line; oneboxes reduced, the sister-site footer dropped).
    ``embed_url`` is set for an embed topic (the original entry its comments belong to).
    """
    text = _decode(body)
    data = _json(text)
    forum = site_of(url)
    forum_prefix = (topic_path(url) or {}).get("prefix") or ""
    if isinstance(data, dict) and is_post_stream(data):
        return _opening_from_json(url, data, forum, forum_prefix)
    if data is not None or not is_discourse_html(text):
        return None
    sel = Selector(text=text)
    p = topic_path(url)
    pre = _preloaded_topic(sel, p["id"]) if p else None
    if pre is not None:
        op = _opening_from_json(url, pre, forum, forum_prefix)
        if op is not None:
            op["url"] = _topic_html_url(_prefix(url, p), pre.get("slug") or p["slug"], p["id"])
            return op
    featured = next((h for h in sel.css(SEL_FEATURED_LINK).getall() if h.startswith(("http://", "https://"))
                     and site_of(h) != forum), None)
    for post in sel.css(SEL_CRAWLER_POSTS):
        c = crawler_post_to_comment(post, url, 0)
        if c is None or c.order != 1:
            continue
        body_sel = post.css(SEL_BODY)
        cooked = body_sel[0].get() if body_sel else ""
        return _opening(cooked, url, forum, forum_prefix, featured, None, {
            "title": next((t.strip() for t in sel.css(SEL_TITLE).getall() if t.strip()), None),
            "author": c.author_name, "created_at": c.published_at, "created_at_raw": c.published_at_raw,
            "url": url.split("?")[0].split("#")[0], "native_id": c.native_id})
    return None


def _opening_from_json(url: str, data: dict, forum: str, forum_prefix: str) -> dict | None:
    first = next((p for p in data["post_stream"]["posts"] if isinstance(p, dict) and p.get("post_number") == 1), None)
    if first is None:
        return None
    prefix = _prefix(url, topic_path(url))
    slug = data.get("slug") or first.get("topic_slug")
    tid = str(data.get("id") or first.get("topic_id") or "")
    embed = data.get("topic_embed")
    embed_url = (embed.get("embed_url") if isinstance(embed, dict) else embed if isinstance(embed, str) else None) \
        or data.get("embed_url")
    return _opening(first.get("cooked") or "", url, forum, forum_prefix, data.get("featured_link"), embed_url, {
        "title": htmllib.unescape(data.get("title") or data.get("fancy_title") or "") or None,
        "author": first.get("name") or first.get("username") or None,
        "created_at": parse_date(first.get("created_at")), "created_at_raw": first.get("created_at"),
        "url": _topic_html_url(prefix, slug, tid) if tid else url, "native_id": str(first["id"])})


def _opening(cooked: str, url: str, forum: str, forum_prefix: str, featured: str | None, embed_url: str | None,
             fields: dict) -> dict:
    if embed_url is None:
        found = embed_line(parse_fragment(cooked), url)
        embed_url = found[0] if found else None
    fields.update(body_text=article_body(cooked, url, forum, forum_prefix, tidy=_tidy),
                  syndicated_from=repost_source(cooked, url, forum, forum_prefix, featured, embed_url),
                  embed_url=embed_url)
    return fields


def _tidy(root) -> None:
    """Discourse chrome inside cooked HTML: a quote's "user:" title line, image size captions."""
    for el in root.xpath("//aside[contains(concat(' ', normalize-space(@class), ' '), ' quote ')]"
                         "/div[contains(concat(' ', normalize-space(@class), ' '), ' title ')]"
                         " | //a[contains(@class, 'lightbox')]//div[contains(@class, 'meta')]"):
        el.drop_tree()


# -- RSS ----------------------------------------------------------------------------------------------
def topic_rss_posts(body: bytes | str) -> list[dict]:
    """Posts listed in a topic RSS (``/t/{slug}/{id}.rss``, newest first): ``{"url", "topic_id",
    "post_number", "published_at", "author", "guid"}``. Post numbers, not ids: compare with the highest
    number already collected and refetch the topic JSON when a higher one appears."""
    text = _decode(body)
    out = []
    try:
        root = etree.fromstring(text.encode("utf-8"), parser=etree.XMLParser(recover=True, resolve_entities=False))
    except etree.XMLSyntaxError:
        return out
    if root is None:
        return out
    dc = "{http://purl.org/dc/elements/1.1/}creator"
    for item in root.iter("item"):
        link = (item.findtext("link") or "").strip()
        p = topic_path(link)
        if not p:
            continue
        pn = _int(p.get("pn"))
        guid = (item.findtext("guid") or "").strip()
        if pn is None:
            m = re.search(r"-(\d+)$", guid)
            pn = int(m.group(1)) if m else None
        raw_date = item.findtext("pubDate")
        out.append({"url": link, "topic_id": p["id"], "post_number": pn, "published_at": parse_date(raw_date),
                    "author": (item.findtext(dc) or "").strip() or None, "guid": guid or None})
    return out


# -- URLs -----------------------------------------------------------------------------------------------
def topic_path(url: str) -> dict | None:
    """``{"prefix", "slug", "id", "pn", "kind"}`` of a Discourse topic URL (prefix = subfolder install path)."""
    if not url:
        return None
    path = urlsplit(url).path
    m = _POSTS_PATH.match(path)
    if m:
        return {"prefix": m.group("prefix"), "slug": None, "id": m.group("id"), "pn": None, "kind": "posts_json"}
    m = _TOPIC_PATH.match(path)
    if not m:
        return None
    slug = m.group("slug")
    ext = m.group("ext")
    return {"prefix": m.group("prefix"), "slug": slug, "id": m.group("id"), "pn": m.group("pn"),
            "kind": {".json": "topic_json", ".rss": "rss"}.get(ext or "", "html")}


def topic_json_url(prefix: str, slug: str | None, topic_id: str) -> str:
    return f"{prefix}/t/{slug}/{topic_id}.json" if slug else f"{prefix}/t/{topic_id}.json"


def batch_urls(prefix: str, topic_id: str, post_ids: list[str], size: int = BATCH) -> list[str]:
    """``/t/{id}/posts.json?post_ids[]=..`` URLs, ``size`` ids each, in stream order."""
    return [f"{prefix}/t/{topic_id}/posts.json?" + "&".join(f"post_ids[]={i}" for i in post_ids[k:k + size])
            for k in range(0, len(post_ids), size)]


def _prefix(url: str, path: dict | None) -> str:
    """scheme://host[:port] plus the forum's subfolder (``/forum`` in ``/forum/t/...``)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{(path or {}).get('prefix') or ''}"


def _topic_html_url(prefix: str, slug: str | None, tid: str) -> str:
    return f"{prefix}/t/{slug}/{tid}" if slug else f"{prefix}/t/{tid}"


def _first_slug(data: dict) -> str | None:
    for p in (data.get("post_stream") or {}).get("posts") or []:
        if isinstance(p, dict) and p.get("topic_slug"):
            return p["topic_slug"]
    return None
