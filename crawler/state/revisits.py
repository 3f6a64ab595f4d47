"""Revisit decisions: which known pages to fetch again, with which conditional headers, what a 304/404 on a
known page means, and what a run remembers of the pages and threads it saw.

One :class:`RevisitPlanner` per run, built from the run's :class:`~crawler.state.run_context.RunContext`. It
reads the committed crawl state (``ctx.state``) and writes only into the run's delta (``ctx.delta``), which is
applied when the run's output is committed. It answers with requests, records and plain values and counts
each decision in the crawl's stats; it never calls into the spider — callbacks are given to it, never called.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone

import scrapy

from crawler.items import ArticleRecord, CommentRecord

from .crawl_state import iso
from .schedule import is_due, next_visit

REVISIT_STATUSES = [304, 404, 410]
TOMBSTONE_PARSER = "tombstone@1"


@dataclass(frozen=True)
class KnownThread:
    """A comment thread an earlier run collected from a page's API: what is needed to collect it again."""

    platform: str
    host: str
    native_thread_id: str
    article_url: str  # the page's URL as its article row has it
    article_id: str
    page_url: str  # the crawl-state key of the page
    first_requests: list[str]


class RevisitPlanner:
    def __init__(self, ctx, stats, clock: datetime | None = None) -> None:
        self.ctx, self.stats, self.clock = ctx, stats, clock
        self.planned: set[str] = set()  # revisit requests made this run (feeds, sitemaps and the due list overlap)
        # Comment tombstones wait for the end of the run (release_tombstones): a comment gone from one thread may
        # be live in another this run (comment ids are per platform and host, not per thread: a moved post).
        # Written at once, the tombstone and the live row raced for the id and the first to arrive won.
        # Which comments were live this run is read back from the delta's spool when tombstones are released (a
        # set of every live id cost ~115 bytes per comment of the run in memory: 1M comments, +115 MB).
        self.held: dict[str, list] = {}  # comment id -> [(thread_id, native_id, tombstone record), ...]

    # -- reading -----------------------------------------------------------------------------------------
    @property
    def state(self):
        return self.ctx.state  # None when the crawl state is off (or not open: the run refused to start)

    @property
    def delta(self):
        return self.ctx.delta

    def now(self) -> datetime:
        return self.clock or datetime.now(timezone.utc)

    def _inc(self, key: str, n: int = 1) -> None:
        self.stats.inc_value(key, n)

    def _page(self, url: str):
        return self.state.page(url) if self.state is not None else None

    def known_comment_count(self, url: str) -> int | None:
        page = self._page(url)
        return page.comment_count if page else None

    def thread_known(self, thread_id: str) -> bool:
        """Whether an earlier run committed this thread."""
        return self.state is not None and bool(self.state.thread_comments(thread_id))

    # -- request this page now? --------------------------------------------------------------------------
    def due_requests(self, callbacks: dict):
        """Requests for known pages whose revisit is due, whether or not discovery still lists them (a deleted
        page is only noticed this way). ``callbacks``: ``{"article": …, "discussion": …}`` by page kind."""
        if self.state is None:
            return
        for url, kind in self.state.due_pages(self.now()):
            callback = callbacks["discussion"] if kind == "discussion" else callbacks["article"]
            request = self.request(url, callback, {"discovered_by": "revisit"})
            if request is not None:
                yield request

    def request(self, url: str, callback, meta: dict, force: bool = False) -> scrapy.Request | None:
        """A request for a page (conditional for a known one), or None when the crawl state says not yet
        (``force``: a feed shows it changed)."""
        page = self._page(url)
        if page is None:
            return scrapy.Request(url, callback=callback, meta=meta)
        if page.gone:
            self._inc("state/skip/gone")
            return None
        if not force and not is_due(page.next_visit, self.now()):
            self._inc("state/skip/not_due")
            return None
        headers = {}
        if page.etag:
            headers["If-None-Match"] = page.etag
        if page.last_modified:
            headers["If-Modified-Since"] = page.last_modified
        if url in self.planned:  # feeds, sitemaps and the due list name the same page: one request
            return None
        self.planned.add(url)
        self._inc("state/revisit/requested")
        return scrapy.Request(url, callback=callback, headers=headers,
                              meta={**meta, "revisit": True, "handle_httpstatus_list": REVISIT_STATUSES})

    # -- what did this 304/404 mean? ---------------------------------------------------------------------
    def not_modified(self, url: str) -> list[KnownThread]:
        """304: the page is unchanged (its visit is recorded). Returns its API-served comment threads, which
        are still to be collected again."""
        self._inc("state/not_modified")
        page = self.state.page(url)
        self.delta.pages.setdefault(url, {}).update(self._visit_fields(url, None, count_changed=False))
        return [KnownThread(t["platform"], t["host"], t["native_thread_id"], page.url, t["article_id"], url,
                            list(t["first_requests"]))
                for t in self.state.threads_of(url)
                if t["first_requests"]]  # threads rendered in the page are unchanged with it

    def gone(self, url: str, status: int) -> ArticleRecord | None:
        """404/410: on a page an earlier run wrote, its tombstone row (not yet stamped) and no more visits;
        otherwise None (an ordinary ignored error status)."""
        page = self._page(url)
        if page is None or not page.article_json:
            self._inc(f"httperror/response_ignored_status_count/{status}")
            return None
        self._inc("state/tombstone/articles")
        identity = json.loads(page.article_json)
        self.delta.pages[url] = {"gone": 1, "next_visit": None, "last_visit": iso(self.now()),
                                 "first_seen": iso(page.first_seen)}
        return ArticleRecord(**identity, title="", body_text="", is_tombstone=True, parser=TOMBSTONE_PARSER)

    # -- record this page/thread -------------------------------------------------------------------------
    def record_page(self, response, article: ArticleRecord | None, kind: str = "article") -> None:
        """Remember a fetched page (validators, schedule); ``article`` None for a discussion with no article
        row of its own (a Reddit thread: its comments join the linked page)."""
        if self.state is None:
            return
        url = response.request.url
        cols = self._visit_fields(url, article.published_at if article else None, count_changed=False)
        cols.update(etag=response.headers.get("ETag", b"").decode() or None,
                    last_modified=response.headers.get("Last-Modified", b"").decode() or None, kind=kind)
        if article is not None:
            identity = {k: getattr(article, k) for k in ("article_id", "url", "canonical_url", "site")}
            cols.update(article_id=article.article_id, article_json=json.dumps(identity))
        self.delta.pages.setdefault(url, {}).update(cols)

    def record_thread(self, col, thread, rows: list[CommentRecord]) -> None:
        """Remember the thread's comments. Comments an earlier run wrote for it that are gone now (only when this
        visit saw the whole thread) get a tombstone, held until :meth:`release_tombstones` — unless the comment
        is live in another thread this run (moved: counted ``state/tombstone/comments_moved``, no tombstone).

        ``col``: what the spider gathered for the thread — ``ref`` (platform, host, native_thread_id),
        ``article_id``, ``page_url``, ``thread_url``, ``source``, ``first_requests``."""
        state = self.state
        if state is None:
            return
        delta = self.delta
        delta.threads[thread.thread_id] = {
            "page_url": col.page_url, "platform": col.ref.platform, "host": col.ref.host,
            "native_thread_id": col.ref.native_thread_id, "article_id": col.article_id,
            "first_requests": col.first_requests if col.source == "api" else []}
        previous = state.thread_comments(thread.thread_id)
        current = {r.native_id for r in rows}
        delta.comments.extend((thread.thread_id, r.native_id, r.comment_id, 0) for r in rows)
        for r in rows:
            for tid, native_id, _ in self.held.pop(r.comment_id, ()):  # its tombstone elsewhere was held: moved
                self._moved(tid, native_id, r.comment_id)
        if thread.is_complete:
            for native_id, cid in sorted(previous.items()):
                if native_id in current:
                    continue
                self.held.setdefault(cid, []).append((thread.thread_id, native_id, CommentRecord(
                    comment_id=cid, thread_id=thread.thread_id, article_id=col.article_id, depth=0, position=-1,
                    platform=col.ref.platform, native_id=native_id, is_deleted=True, is_tombstone=True,
                    source_url=col.thread_url, parser=TOMBSTONE_PARSER)))
        page = state.page(col.page_url)
        if not thread.is_complete and page is not None:
            return  # a partial view of a known thread does not move its schedule
        if page is not None or col.page_url in delta.pages:
            changed = page is None or page.comment_count != thread.comment_count_collected
            cols = delta.pages.setdefault(col.page_url, {})
            published = datetime.fromisoformat(cols["published_at"]) if cols.get("published_at") else None
            cols.update(self._visit_fields(col.page_url, published, changed, thread.comment_count_collected))

    def _moved(self, thread_id: str, native_id: str, cid: str) -> None:
        """A comment that left ``thread_id`` and is live in another thread this run: no tombstone, no longer a
        member of the thread it left."""
        self.delta.comments.append((thread_id, native_id, cid, 1))
        self._inc("state/tombstone/comments_moved")

    def release_tombstones(self) -> list[CommentRecord]:
        """The held comment tombstones of comments no thread of this run had live (not yet stamped), in a fixed
        order; each is remembered as gone from its thread. Called when the crawl has nothing left to fetch (so
        every thread it collected has been seen); a run that stops before leaves them unwritten and unmarked,
        and the next complete visit of their thread finds them gone again."""
        out = []
        if self.held:  # live in a thread collected earlier this run: moved, not deleted (the spool says)
            live = {e[2] for e in self.delta.comments if not e[3] and e[2] in self.held}
            for cid in sorted(live):
                for tid, native_id, _ in sorted(self.held.pop(cid), key=lambda e: (e[0], e[1])):
                    self._moved(tid, native_id, cid)
        for cid in sorted(self.held):
            entries = sorted(self.held[cid], key=lambda e: (e[0], e[1]))
            for tid, native_id, _ in entries:
                self.delta.comments.append((tid, native_id, cid, 1))
            out.append(entries[0][2])  # one tombstone per comment id, from the first of its threads by id
        self.held.clear()
        if out:
            self._inc("state/tombstone/comments", len(out))
        return out

    def held_tombstones(self) -> int:
        return len(self.held)

    def _visit_fields(self, url: str, published_at, count_changed: bool, comment_count=None) -> dict:
        """Schedule columns for a page visited now."""
        now = self.now()
        page = self._page(url)
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
