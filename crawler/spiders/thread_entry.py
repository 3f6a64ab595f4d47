"""Entering a thread anywhere: how a discussion reached at a later page, a post anchor or an API answer without
the opening post still becomes one article row and all of its comments.

The rule (used by :meth:`ArticleSpider.parse_discussion`):

1. The response holds the opening post → it is the article (``crawler.sites.discussion.opening_article``).
2. The thread belongs to another page (a Reddit link post, a Discourse embed topic) → that page is the article.
3. Otherwise the thread's **opening page** is requested (:func:`opening_url`: the first page of a forum topic,
   the Discourse topic JSON) and the thread is collected from there, as if the crawl had entered there (its
   pagination reaches the page entered first). Stats: ``discussion/opening_page/requested/<platform>``.
4. When the opening page cannot be had (gone, refused, not in the WARC) — or it is the page in hand and still
   shows no opening post — the thread joins an article row made from what the page says about its topic
   (:func:`crawler.sites.discussion.topic_article`: title, the topic's first-page URL, no body, parser
   ``<platform>-topic@1``), collected from the page in hand and marked incomplete when the opening page
   failed. Nothing is dropped and every comment's ``article_id`` exists in ``articles``. Stats:
   ``discussion/opening_page/failed/<platform>``, ``discussion/topic_article/<platform>``.

Step 2's page may fail too (gone, refused, not in the WARC, not an article): the comments already carry its
``article_id``, so a row for it is made from what the discussion says (its title, the linked URL, no body,
parser ``<platform>-topic@1``; :func:`linked_article_missing`, stat ``discussion/linked_article_missing/
<platform>``). A page the address policy refuses makes no row (``discussion/linked_article_refused/<platform>``):
nothing about a refused address enters the dataset.
"""
from __future__ import annotations

import scrapy

from crawler.comments import reddit
from crawler.comments.base import ThreadRef
from crawler.comments.discourse import topic_json_url
from crawler.comments.payload import decode_body, json_or_none
from crawler.sites.discussion import topic_article
from crawler.urls import canonical

ENTRY_META = "thread_entry"  # meta key: {"url": page entered at, "platform", "failed"} on entry requests


def opening_url(ref: ThreadRef) -> str | None:
    """The URL whose response holds the thread's opening post (None when the platform has no such page)."""
    if ref.platform == "discourse":
        prefix = ref.extra.get("prefix")
        if prefix is None:
            return None
        return topic_json_url(prefix, ref.extra.get("slug"), ref.native_thread_id)
    return ref.extra.get("opening_url")


def topic_title(ref: ThreadRef, body: bytes) -> str | None:
    """What the page says the topic is called (forum pages: their title; Discourse JSON: its ``title``)."""
    title = ref.extra.get("title")
    if title:
        return title
    data = json_or_none(decode_body(body)) if body else None
    if isinstance(data, dict):
        return data.get("title") or data.get("fancy_title") or None
    sub = reddit.submission(data) if isinstance(data, list) else None
    return (sub or {}).get("title") or None


REFUSED_BY_POLICY = "address policy:"  # crawler/middlewares/address_policy.py's refusals
JOINS = "joins_thread"  # meta key on a linked-article request: {"platform", "title"} of the discussion


def joins_meta(ref: ThreadRef, response) -> dict:
    return {JOINS: {"platform": ref.platform, "title": topic_title(ref, response.body)}}


def linked_article_missing(spider, request, why: str):
    """A discussion's linked page (step 2) could not become an article: the row its comments join to is made
    from what the discussion said (see the module docs). Nothing for requests that no thread joins."""
    joins = request.meta.get(JOINS)
    if not joins:
        return
    platform = joins.get("platform") or "unknown"
    if why.startswith(REFUSED_BY_POLICY):  # an address the crawl must not touch leaves no row of any kind
        spider.inc(f"discussion/linked_article_refused/{platform}")
        return
    spider.inc(f"discussion/linked_article_missing/{platform}")
    spider.logger.warning("linked article of a %s thread not available (%s): %s; its comments join a row made "
                          "from the discussion", platform, why, request.url)
    yield spider.stamp(topic_article(platform, request.url, joins.get("title")))


def enter(spider, ref: ThreadRef, response):
    """Requests and rows for a detected thread whose response has no opening post and no linked article
    (steps 3 and 4 of the module rule)."""
    entry = response.meta.get(ENTRY_META)
    target = opening_url(ref)
    if target and entry is None and canonical(target) != canonical(response.url):
        spider.inc(f"discussion/opening_page/requested/{ref.platform}")
        yield scrapy.Request(target, callback=spider.parse_discussion, errback=spider.opening_page_failed,
                             meta={ENTRY_META: {"url": response.url, "platform": ref.platform}})
        return
    yield from join_topic_article(spider, ref, response, failed=bool((entry or {}).get("failed")))


def opening_page_failed(spider, failure):
    """Errback of an opening-page request: the page entered at is asked again (a WARC answers it from the record,
    a live site from its cache or server) and joins an article row made from what it says (step 4)."""
    request = failure.request
    entry = dict(request.meta.get(ENTRY_META) or {})
    spider.inc(f"discussion/opening_page/failed/{entry.get('platform', 'unknown')}")
    spider.logger.warning("opening page of a thread not available: %s (%s); the thread joins a topic row made "
                          "from %s", request.url, failure.value, entry.get("url"))
    if not entry.get("url"):
        return
    entry["failed"] = True
    yield scrapy.Request(entry["url"], callback=spider.parse_discussion, meta={ENTRY_META: entry}, dont_filter=True)


def join_topic_article(spider, ref: ThreadRef, response, failed: bool):
    """Step 4: the article row from what the page says, and the thread collected from the page in hand."""
    art = spider.stamp(topic_article(ref.platform, ref.article_url, topic_title(ref, response.body)))
    spider.inc(f"discussion/topic_article/{ref.platform}")
    spider.logger.info("thread %s: opening post not available; joined to an article row made from the page (%s)",
                       ref.article_url, response.url)
    yield art
    # the page in hand is parsed itself (a later page's adapter would otherwise ask for the first page again)
    yield from spider.collect_thread(ref, art.article_id, response.request.url, response, urls=[], failed=failed)
