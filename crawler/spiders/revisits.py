"""Incremental crawling for spiders: which known pages to fetch again, conditional GET, tombstones.

All decisions read the committed crawl state (``spider.ctx.state``) and write only into the run's delta
(``spider.ctx.delta``), which is applied when the run's output is committed.
"""
from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from pathlib import Path

import scrapy

from crawler.comments.base import ThreadRef
from crawler.items import ArticleRecord, CommentRecord
from crawler.state.crawl_state import iso
from crawler.state.schedule import is_due, next_visit

REVISIT_STATUSES = [304, 404, 410]
TOMBSTONE_PARSER = "tombstone@1"


def _state(spider):
    return spider.ctx.state


def due_requests(spider):
    """Known pages whose revisit is due, whether or not discovery still lists them (a deleted page is
    only noticed this way)."""
    state = _state(spider)
    if state is None:
        return
    for url, kind in state.due_pages(spider.now()):
        callback = spider.parse_discussion if kind == "discussion" else spider.parse_article
        request = plan_article_request(spider, url, callback, {"discovered_by": "revisit"})
        if request is not None:
            yield request


def plan_article_request(spider, url: str, callback, meta: dict, force: bool = False) -> scrapy.Request | None:
    """A request for a page, or None when the crawl state says not yet (``force``: a feed shows it changed)."""
    state = _state(spider)
    page = state.page(url) if state is not None else None
    if page is None:
        return scrapy.Request(url, callback=callback, meta=meta)
    if page.gone:
        spider.inc("state/skip/gone")
        return None
    if not force and not is_due(page.next_visit, spider.now()):
        spider.inc("state/skip/not_due")
        return None
    headers = {}
    if page.etag:
        headers["If-None-Match"] = page.etag
    if page.last_modified:
        headers["If-Modified-Since"] = page.last_modified
    planned = spider.__dict__.setdefault("_revisits_planned", set())
    if url in planned:  # feeds, sitemaps and the due list name the same page: one request
        return None
    planned.add(url)
    spider.inc("state/revisit/requested")
    return scrapy.Request(url, callback=callback, headers=headers,
                          meta={**meta, "revisit": True, "handle_httpstatus_list": REVISIT_STATUSES})


def _visit_fields(spider, url: str, published_at, count_changed: bool, comment_count=None) -> dict:
    """Schedule columns for a page visited now."""
    state, now = _state(spider), spider.now()
    page = state.page(url) if state is not None else None
    first_seen = page.first_seen if page else now
    visits = (page.visits + 1) if page else 0
    published = published_at or (page.published_at if page else None)
    nxt = next_visit(published, first_seen, visits, now, count_changed)
    cols = {"first_seen": iso(first_seen), "last_visit": iso(now), "visits": visits, "next_visit": iso(nxt),
            "gone": 0}
    if published is not None:
        cols["published_at"] = iso(published)
    if comment_count is not None:
        cols["comment_count"] = comment_count
    return cols


def known_comment_count(spider, url: str) -> int | None:
    state = _state(spider)
    page = state.page(url) if state is not None else None
    return page.comment_count if page else None


def record_page(spider, response, article: ArticleRecord | None, kind: str = "article") -> None:
    """Remember a fetched page (validators, schedule); ``article`` None for a discussion with no article row
    of its own (a Reddit thread: its comments join the linked page)."""
    if _state(spider) is None:
        return
    url = response.request.url
    cols = _visit_fields(spider, url, article.published_at if article else None, count_changed=False)
    cols.update(etag=response.headers.get("ETag", b"").decode() or None,
                last_modified=response.headers.get("Last-Modified", b"").decode() or None, kind=kind)
    if article is not None:
        identity = {k: getattr(article, k) for k in ("article_id", "url", "canonical_url", "site")}
        cols.update(article_id=article.article_id, article_json=json.dumps(identity))
    spider.ctx.delta.pages.setdefault(url, {}).update(cols)


def not_modified(spider, response):
    """304: the page is unchanged. Its API-served comment threads are still revisited."""
    spider.inc("state/not_modified")
    url = response.request.url
    page = _state(spider).page(url)
    spider.ctx.delta.pages.setdefault(url, {}).update(_visit_fields(spider, url, None, count_changed=False))
    for t in _state(spider).threads_of(url):
        if not t["first_requests"]:  # rendered in the page: unchanged with it
            continue
        ref = ThreadRef(t["platform"], t["host"], t["native_thread_id"], page.url)
        yield from spider.collect_thread(ref, t["article_id"], url, urls=t["first_requests"])


def gone(spider, response):
    """404/410 on a page an earlier run wrote: a tombstone row, and no more visits."""
    url = response.request.url
    page = _state(spider).page(url) if _state(spider) is not None else None
    if page is None or not page.article_json:
        spider.inc(f"httperror/response_ignored_status_count/{response.status}")
        return
    spider.inc("state/tombstone/articles")
    identity = json.loads(page.article_json)
    spider.ctx.delta.pages[url] = {"gone": 1, "next_visit": None, "last_visit": iso(spider.now()),
                                   "first_seen": iso(page.first_seen)}
    yield spider.stamp(ArticleRecord(**identity, title="", body_text="", is_tombstone=True, parser=TOMBSTONE_PARSER))


def record_thread(spider, col, thread, rows: list[CommentRecord]) -> list[CommentRecord]:
    """Remember the thread's comments; comments an earlier run wrote that are gone now become tombstones
    (only when this visit saw the whole thread)."""
    state = _state(spider)
    if state is None:
        return []
    delta = spider.ctx.delta
    delta.threads[thread.thread_id] = {
        "page_url": col.page_url, "platform": col.ref.platform, "host": col.ref.host,
        "native_thread_id": col.ref.native_thread_id, "article_id": col.article_id,
        "first_requests": col.first_requests if col.source == "api" else []}
    previous = state.thread_comments(thread.thread_id)
    current = {r.native_id for r in rows}
    delta.comments.extend((thread.thread_id, r.native_id, r.comment_id, 0) for r in rows)
    tombstones = []
    if thread.is_complete:
        for native_id, cid in sorted(previous.items()):
            if native_id in current:
                continue
            tombstones.append(CommentRecord(
                comment_id=cid, thread_id=thread.thread_id, article_id=col.article_id, depth=0, position=-1,
                platform=col.ref.platform, native_id=native_id, is_deleted=True, is_tombstone=True,
                source_url=col.thread_url, parser=TOMBSTONE_PARSER))
            delta.comments.append((thread.thread_id, native_id, cid, 1))
        spider.inc("state/tombstone/comments", len(tombstones))
    page = state.page(col.page_url)
    if not thread.is_complete and page is not None:
        return tombstones  # a partial view of a known thread does not move its schedule
    if page is not None or col.page_url in delta.pages:
        changed = page is None or page.comment_count != thread.comment_count_collected
        cols = delta.pages.setdefault(col.page_url, {})
        published = datetime.fromisoformat(cols["published_at"]) if cols.get("published_at") else None
        cols.update(_visit_fields(spider, col.page_url, published, changed, thread.comment_count_collected))
    return tombstones


def thread_known(spider, thread_id: str) -> bool:
    """Whether an earlier run committed this thread."""
    state = _state(spider)
    return state is not None and bool(state.thread_comments(thread_id))


def dedup_state_refresher(settings):
    """After a killed run's commit is rolled forward, the dedup state may have missed it: rebuild it from
    the dataset (the dataset is the source of truth; the state is a cache of it)."""
    output = Path(settings.get("OUTPUT_DIR", "output"))
    path = Path(settings.get("DEDUP_STATE_PATH") or output / "_state" / "dedup.sqlite")

    def refresh(journal: dict) -> None:
        if not path.exists():
            return
        try:
            with sqlite3.connect(path) as db:
                known = db.execute("SELECT 1 FROM runs WHERE run_id = ?", (journal["run_id"],)).fetchone()
        except sqlite3.DatabaseError:
            known = None
        if known:
            return
        from crawler.state.dedup_store import SQLiteDedupStore
        from pipelines.dedup import minhash as mh
        from pipelines.dedup.rebuild import rebuild_from_dataset

        aside = path.with_name(path.name + f".stale-{journal['run_id']}")
        path.replace(aside)
        store = SQLiteDedupStore(path, mh.PARAMS)
        try:
            rebuild_from_dataset(output, store)
        finally:
            store.close()

    return refresh
