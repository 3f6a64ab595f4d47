"""Which comment platform(s) a response belongs to.

- :func:`detect_platform` asks every adapter (Discourse, Reddit, Disqus, SMF, phpBB, XenForo, vBulletin,
  WordPress) whether a page carries a thread of its platform and returns every hit (an article page can
  carry WordPress comments *and* a Disqus embed).
- :func:`forum_topic_platform` says whether an HTML page is a forum topic page of a platform with an adapter
  here (by markup only), for callers that must not treat forum pages as articles.
- :func:`platform_of_json` / :func:`json_shape` recognise a JSON response by its **shape only** (never by the
  host it came from), so a mirror, a WARC replay or the demo site is read like the original:

  ============  ====================================================================  ==========================
  platform      shape                                                                 kinds
  ============  ====================================================================  ==========================
  discourse     ``post_stream.posts`` list; ``topic_list``; ``latest_posts``;          topic, posts, topic_list,
                a post with ``cooked`` + ``post_number`` + ``topic_id``                latest_posts, post, ...
  reddit        ``[Listing(t3), Listing(t1)]``; ``json.data.things``;                  thread, morechildren,
                a ``Listing`` of ``t1`` / ``t3``                                      listing, submissions
  disqus        ``{"code": int, "response": ..., "cursor": {...}}``                   posts, thread_data, other
  wordpress     list of objects with ``id``, ``post``, ``parent`` and                 comments
                ``content.rendered`` (``/wp/v2/comments``)
  hackernews    Algolia item (``id``, ``type``, ``children``); Firebase item           algolia_item,
                (``id``, ``type``, ``time``); Algolia search (``hits``, ``nbPages``)   firebase_item, search
  ============  ====================================================================  ==========================
"""
from __future__ import annotations

import json
import logging
import re

from crawler.urls import site_of

from . import discourse, hackernews, reddit
from .base import ThreadRef
from .discourse import DiscourseAdapter
from .disqus import DisqusAdapter
from .hackernews import HackerNewsAdapter
from .invision import InvisionAdapter
from .phpbb import PhpbbAdapter
from .reddit import RedditAdapter
from .smf import SmfAdapter
from .vbulletin import VbulletinAdapter
from .wordpress import WordPressAdapter
from .xenforo import XenforoAdapter

logger = logging.getLogger(__name__)
HTML_ONLY = {"wordpress", "smf", "phpbb", "xenforo", "vbulletin", "invision"}  # threads detected on HTML pages only
FORUM_PLATFORMS = ("discourse", "smf", "phpbb", "xenforo", "vbulletin", "invision")  # topic pages whose first post is the topic


def default_adapters(settings=None) -> list:
    """One adapter per platform, configured from settings (API keys, credentials) when given."""
    return [DiscourseAdapter(), RedditAdapter.from_settings(settings) if settings is not None else RedditAdapter(),
            DisqusAdapter.from_settings(settings) if settings is not None else DisqusAdapter(),
            SmfAdapter(), PhpbbAdapter(), XenforoAdapter(), VbulletinAdapter(), InvisionAdapter(), WordPressAdapter(),
            HackerNewsAdapter.from_settings(settings) if settings is not None else HackerNewsAdapter()]


def forum_topic_platform(url: str, body: bytes, headers: dict | None = None) -> str | None:
    """The forum platform whose topic page this HTML response is (Discourse, SMF, phpBB, XenForo, vBulletin),
    judged by markup only; None when it is not one. Never raises."""
    ref = forum_topic_ref(url, body, headers)
    return ref.platform if ref is not None else None


def forum_topic_ref(url: str, body: bytes, headers: dict | None = None) -> ThreadRef | None:
    """The thread a forum topic page (HTML) belongs to, as its adapter detects it; None when it is not one."""
    if _looks_like_json(body):
        return None
    for adapter in (DiscourseAdapter(), SmfAdapter(), PhpbbAdapter(), XenforoAdapter(), VbulletinAdapter(),
                    InvisionAdapter()):
        try:
            ref = adapter.detect(url, body, headers or {})
        except Exception:  # noqa: BLE001 - detection must never break a crawl
            logger.exception("forum detection failed: %s on %s", adapter.platform, url)
            continue
        if ref is not None:
            return ref
    return None


def discussion_record(url: str, body: bytes, headers: dict | None = None) -> tuple[tuple, int] | None:
    """A response that is a discussion a crawl can start from, recognised by shape only: Reddit thread JSON,
    Discourse topic JSON or ``/posts.json`` batch, a forum topic page. Returns (thread key, rank): records of one
    thread share the key; the lowest rank is the best entry (the one holding the opening post; for Discourse
    the JSON, whose ids and parents are real). None for anything else."""
    if _looks_like_json(body):
        text = body.decode("utf-8", errors="replace") if isinstance(body, (bytes, bytearray)) else body
        try:
            data = json.loads(text.lstrip("\ufeff \t\r\n"))
        except ValueError:
            return None
        kind = discourse.json_kind(data)
        if kind in ("topic", "posts"):
            tid = str(data.get("id") or (discourse.topic_path(url) or {}).get("id") or "")
            if not tid:
                return None
            has_first = any(isinstance(p, dict) and p.get("post_number") == 1 for p in data["post_stream"]["posts"])
            return ("discourse", _host(url), tid), 0 if has_first else 3
        if reddit.json_kind(data) == "thread":
            sub = reddit.submission(data) or {}
            link = str(sub.get("id") or "") or (reddit._link_from_url(url) or "")
            if not link:
                return None
            m = reddit._COMMENTS_PATH.search(url.split("?")[0])
            is_permalink_of_a_comment = bool(m and m.group(3))  # "continue this thread": a follow-up
            return ("reddit", "reddit.com" if reddit.is_reddit_host(url) else _host(url), link), \
                1 if is_permalink_of_a_comment else 0
        return None
    ref = forum_topic_ref(url, body, headers)
    if ref is None:
        return None
    if ref.platform == "discourse":
        m = re.search(r"[?&]page=(\d+)", url)
        rank = 1 if not m or int(m.group(1)) <= 1 else 1 + int(m.group(1))
    elif ref.platform == "smf":
        rank = 1 + (ref.extra.get("start") or 0)
    else:
        rank = 1 if ref.extra.get("has_opening_post") else 1 + (ref.extra.get("page") or 1)
    return (ref.platform, ref.host, ref.native_thread_id), rank


def _host(url: str) -> str:
    return site_of(url)


def detect_platform(url: str, body: bytes, headers: dict, adapters: list | None = None) -> list[ThreadRef]:
    """Every thread any adapter finds on this response (empty when none). An adapter that raises on odd
    input is logged and skipped: detection must never break a crawl."""
    refs: list[ThreadRef] = []
    is_json = _looks_like_json(body)
    for adapter in adapters if adapters is not None else default_adapters():
        if is_json and adapter.platform in HTML_ONLY:
            continue  # WordPress threads are found on HTML pages; its detect() does not expect JSON
        try:
            ref = adapter.detect(url, body, headers or {})
        except Exception:  # noqa: BLE001 - one bad page must not stop the others
            logger.exception("comment detection failed: %s on %s", getattr(adapter, "platform", adapter), url)
            continue
        if ref is not None:
            refs.append(ref)
    return refs


def adapter_for(platform: str, adapters: list | None = None):
    for adapter in adapters if adapters is not None else default_adapters():
        if adapter.platform == platform:
            return adapter
    return None


def platform_of_json(body) -> str | None:
    """The platform a JSON response comes from, judged by its shape only; None when unrecognised."""
    return json_shape(body)[0]


def json_shape(body) -> tuple[str | None, str | None]:
    """(platform, kind) of a JSON response by shape; kinds are listed in the module docs."""
    data = body
    if isinstance(body, (bytes, bytearray, str)):
        text = body.decode("utf-8", errors="replace") if isinstance(body, (bytes, bytearray)) else body
        text = text.lstrip("\ufeff \t\r\n")
        if not text or text[0] not in "{[":
            return None, None
        try:
            data = json.loads(text)
        except ValueError:
            return None, None
    kind = discourse.json_kind(data)
    if kind != "unknown":
        return "discourse", kind
    kind = reddit.json_kind(data)
    if kind != "unknown":
        return "reddit", kind
    kind = hackernews.json_kind(data)
    if kind != "unknown":
        return "hackernews", kind
    if isinstance(data, dict) and "response" in data and "code" in data and isinstance(data.get("code"), int):
        resp = data["response"]
        if isinstance(resp, list) and (not resp or _disqus_post(resp[0])):
            return "disqus", "posts"
        if isinstance(resp, dict) and ("posts" in resp or "thread" in resp):
            return "disqus", "thread_data"
        return "disqus", "other"
    if isinstance(data, list) and data and all(_wp_comment(x) for x in data[:5]):
        return "wordpress", "comments"
    return None, None


def _looks_like_json(body) -> bool:
    head = body[:64] if isinstance(body, (bytes, bytearray, str)) else b""
    if isinstance(head, (bytes, bytearray)):
        head = head.decode("utf-8", errors="replace")
    return head.lstrip("\ufeff \t\r\n")[:1] in ("{", "[")


def _disqus_post(x) -> bool:
    return isinstance(x, dict) and "message" in x and ("createdAt" in x or "parent" in x)


def _wp_comment(x) -> bool:
    return isinstance(x, dict) and "id" in x and "post" in x and "parent" in x \
        and isinstance(x.get("content"), dict) and "rendered" in x["content"]
