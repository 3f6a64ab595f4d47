"""The crawl state in Redis (shared mode): the same interface as :class:`crawler.state.crawl_state.CrawlState`.

Every worker reads the committed state while it crawls and writes only through :meth:`RedisCrawlState.apply`,
after its files are committed, in one MULTI/EXEC transaction (upserts, so applying a run twice — a rolled
forward commit — changes nothing). Within one crawl round no worker commits before every worker has finished
crawling (see :mod:`crawler.shared.round`), so all workers of a round plan their revisits from the same state.

Keys (under ``PREFIX:cs:``): ``p:URL`` a hash of the page's columns (a missing field is NULL), ``due`` a sorted
set of pages with a next visit (score: its POSIX time), ``threads`` thread id → JSON, ``pt:URL`` the threads of
a page, ``tc:THREAD`` native comment id → ``[comment_id, gone]``, ``applied`` the runs applied.
"""
from __future__ import annotations

import json
from datetime import datetime

from .crawl_state import PageState, StateDelta, iso, parse_iso

_INT = {"visits", "comment_count", "gone"}


def _s(v) -> str:
    return v.decode() if isinstance(v, bytes) else v


class RedisCrawlState:
    def __init__(self, client, prefix: str):
        self.r = client
        self.k = f"{prefix}:cs:"

    def close(self) -> None:
        pass  # the client belongs to the shared run

    # -- reads ----------------------------------------------------------------------------------------
    def page(self, url: str) -> PageState | None:
        h = {_s(k): _s(v) for k, v in self.r.hgetall(self.k + "p:" + url).items()}
        if not h:
            return None
        num = {c: int(h[c]) if h.get(c) is not None else None for c in _INT}
        return PageState(url, h.get("article_id"), h.get("etag"), h.get("last_modified"), h.get("content_hash"),
                         parse_iso(h.get("published_at")), parse_iso(h.get("first_seen")),
                         parse_iso(h.get("last_visit")), num["visits"] or 0, num["comment_count"],
                         parse_iso(h.get("next_visit")), bool(num["gone"]), h.get("article_json"),
                         h.get("kind") or "article")

    def due_pages(self, now: datetime) -> list[tuple[str, str]]:
        urls = [_s(u) for u in self.r.zrangebyscore(self.k + "due", "-inf", now.timestamp())]
        if not urls:
            return []
        pipe = self.r.pipeline(transaction=False)
        for u in urls:
            pipe.hget(self.k + "p:" + u, "kind")
        return [(u, _s(kind) or "article") for u, kind in zip(urls, pipe.execute())]

    def threads_of(self, page_url: str) -> list[dict]:
        tids = sorted(_s(t) for t in self.r.smembers(self.k + "pt:" + page_url))
        if not tids:
            return []
        out = []
        for tid, raw in zip(tids, self.r.hmget(self.k + "threads", tids)):
            if raw is None:
                continue
            t = json.loads(raw)
            out.append(dict(thread_id=tid, platform=t["platform"], host=t["host"],
                            native_thread_id=t["native_thread_id"], article_id=t["article_id"],
                            first_requests=t["first_requests"]))
        return out

    def thread_comments(self, thread_id: str) -> dict[str, str]:
        out = {}
        for native, raw in self.r.hgetall(self.k + "tc:" + thread_id).items():
            cid, gone = json.loads(raw)
            if not gone:
                out[_s(native)] = cid
        return out

    def applied(self, run_id: str) -> bool:
        return bool(self.r.sismember(self.k + "applied", run_id))

    def counts(self) -> dict[str, int]:
        return {"due": self.r.zcard(self.k + "due"), "threads": self.r.hlen(self.k + "threads"),
                "runs": self.r.scard(self.k + "applied")}

    # -- the one write path ---------------------------------------------------------------------------
    def apply(self, delta: StateDelta, run_id: str) -> None:
        """Apply a committed run's delta in one transaction (idempotent: upserts)."""
        if self.applied(run_id):
            return
        pipe = self.r.pipeline(transaction=True)
        for url, cols in delta.pages.items():
            key = self.k + "p:" + url
            present = {c: str(v) for c, v in cols.items() if v is not None}
            absent = [c for c, v in cols.items() if v is None]
            if present:
                pipe.hset(key, mapping=present)
            if absent:
                pipe.hdel(key, *absent)
            if cols.get("gone"):
                pipe.zrem(self.k + "due", url)
            elif "next_visit" in cols:
                if cols["next_visit"] is None:
                    pipe.zrem(self.k + "due", url)
                else:
                    pipe.zadd(self.k + "due", {url: datetime.fromisoformat(cols["next_visit"]).timestamp()})
        for tid, t in delta.threads.items():
            pipe.hset(self.k + "threads", tid, json.dumps({k: t[k] for k in (
                "page_url", "platform", "host", "native_thread_id", "article_id", "first_requests")}))
            pipe.sadd(self.k + "pt:" + t["page_url"], tid)
        for tid, native, cid, gone in delta.comments:
            pipe.hset(self.k + "tc:" + tid, native, json.dumps([cid, int(gone)]))
        pipe.sadd(self.k + "applied", run_id)
        pipe.execute()


__all__ = ["RedisCrawlState", "iso"]
