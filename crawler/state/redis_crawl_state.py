"""The crawl state in Redis (shared mode): the same interface as :class:`crawler.state.crawl_state.CrawlState`,
and the same answers (tested side by side on the same deltas in ``tests/test_shared_state.py``).

Every worker reads the committed state while it crawls and writes only through :meth:`RedisCrawlState.apply`,
after its files are committed, in one MULTI/EXEC transaction (upserts, so applying a run twice — a rolled
forward commit — changes nothing). Within one crawl round no worker commits before every worker has finished
crawling (see :mod:`crawler.shared.round`), so all workers of a round plan their revisits from the same state.

Values are stored as the SQLite state's format 2 stores them (times as integer microseconds since 1970 UTC, the
article identity without what the page URL already says: :func:`~crawler.state.crawl_state.pack_identity`) and
read back through the same functions, so both stores answer alike to the microsecond and to the byte.

Keys (under ``PREFIX:cs:``): ``p:URL`` a hash of the page's columns (a missing field is NULL), ``due`` a sorted
set of the pages with a next visit that are not gone (score: the next visit in microseconds; kept by a script
that looks at the page as the upsert leaves it), ``threads`` thread id → JSON, ``pt:URL`` the threads of a page,
``tc:THREAD`` native comment id → ``[comment_id, gone]``, ``applied`` the runs applied, ``format`` the format (that of the SQLite state it mirrors).
"""
from __future__ import annotations

import json
from datetime import datetime

from .crawl_state import (STATE_FORMAT, TIME_COLUMNS, CorruptState, PageState, StateDelta, from_micros, iso,
                          pack_identity, to_micros, unpack_identity)

_INT = ("visits", "comment_count", "gone")

# KEYS: the page's hash, the due set. ARGV: url, number of (field, value) pairs to set, the pairs, then the
# fields to clear. The page is due when it has a next visit and is not gone, as it stands after the upsert.
_UPSERT_PAGE = """
local n = tonumber(ARGV[2])
if n > 0 then redis.call('HSET', KEYS[1], unpack(ARGV, 3, 2 + 2 * n)) end
if #ARGV > 2 + 2 * n then redis.call('HDEL', KEYS[1], unpack(ARGV, 3 + 2 * n, #ARGV)) end
local v = redis.call('HMGET', KEYS[1], 'gone', 'next_visit')
if v[2] and (not v[1] or tonumber(v[1]) == 0) then
  redis.call('ZADD', KEYS[2], tonumber(v[2]), ARGV[1])
else
  redis.call('ZREM', KEYS[2], ARGV[1])
end
return 1
"""


def _s(v) -> str | None:
    return v.decode() if isinstance(v, bytes) else v


def _stored(url: str, column: str, value) -> str:
    """A delta's column value as the hash keeps it (never None: a None column is deleted from the hash)."""
    if column in TIME_COLUMNS:
        return str(to_micros(value))
    if column == "article_json":
        return pack_identity(url, value)
    if column in _INT:
        return str(int(value))
    return str(value)


class RedisCrawlState:
    def __init__(self, client, prefix: str):
        self.r = client
        self.k = f"{prefix}:cs:"
        self._upsert = client.register_script(_UPSERT_PAGE)
        fmt = _s(self.r.get(self.k + "format"))
        if fmt is None and not self.r.exists(self.k + "applied"):  # a fresh state
            self.r.setnx(self.k + "format", STATE_FORMAT)
            fmt = _s(self.r.get(self.k + "format"))
        if fmt != STATE_FORMAT:
            raise CorruptState(f"redis crawl state {self.k}* has format {fmt}, expected {STATE_FORMAT} (written by "
                               "another version: delete those keys and the dataset's next round starts afresh)")

    def close(self) -> None:
        pass  # the client belongs to the shared run

    # -- reads ----------------------------------------------------------------------------------------
    def page(self, url: str) -> PageState | None:
        h = {_s(k): _s(v) for k, v in self.r.hgetall(self.k + "p:" + url).items()}
        if not h:
            return None
        num = {c: int(h[c]) if h.get(c) is not None else None for c in _INT}
        t = {c: from_micros(int(h[c])) if h.get(c) is not None else None for c in TIME_COLUMNS}
        return PageState(url, h.get("article_id"), h.get("etag"), h.get("last_modified"), h.get("content_hash"),
                         t["published_at"], t["first_seen"], t["last_visit"], num["visits"] or 0,
                         num["comment_count"], t["next_visit"], bool(num["gone"]),
                         unpack_identity(url, h.get("article_json")), h.get("kind") or "article")

    def due_pages(self, now: datetime) -> list[tuple[str, str]]:
        """(url, kind) of pages whose revisit is due, earliest first (ties by URL, as the SQLite index)."""
        urls = [_s(u) for u in self.r.zrangebyscore(self.k + "due", "-inf", to_micros(iso(now)))]
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
            if t["page_url"] != page_url:
                continue
            out.append(dict(thread_id=tid, platform=t["platform"], host=t["host"],
                            native_thread_id=t["native_thread_id"], article_id=t["article_id"],
                            first_requests=t["first_requests"]))
        return out

    def thread_comments(self, thread_id: str) -> dict[str, str]:
        """native_id -> comment_id of comments committed for the thread and not yet tombstoned."""
        out = {}
        for native, raw in self.r.hgetall(self.k + "tc:" + thread_id).items():
            cid, gone = json.loads(raw)
            if not gone:
                out[_s(native)] = cid
        return out

    def applied(self, run_id: str) -> bool:
        return bool(self.r.sismember(self.k + "applied", run_id))

    def applied_runs(self) -> set[str]:
        """Run ids whose deltas this state holds."""
        return {_s(r) for r in self.r.smembers(self.k + "applied")}

    def mark_applied(self, run_ids) -> None:
        """Record runs as covered (a fresh state that starts from the dataset as it is)."""
        run_ids = list(run_ids)
        if run_ids:
            self.r.sadd(self.k + "applied", *run_ids)

    def counts(self) -> dict[str, int]:
        return {"due": self.r.zcard(self.k + "due"), "threads": self.r.hlen(self.k + "threads"),
                "runs": self.r.scard(self.k + "applied")}

    # -- the one write path ---------------------------------------------------------------------------
    def apply(self, delta: StateDelta, run_id: str) -> None:
        """Apply a committed run's delta in one transaction (idempotent: upserts)."""
        if self.applied(run_id):
            return
        threads = dict(delta.threads.items())
        before = dict(zip(threads, self.r.hmget(self.k + "threads", list(threads)))) if threads else {}
        pipe = self.r.pipeline(transaction=True)
        for url, cols in delta.pages.items():
            present = [x for c, v in cols.items() if v is not None for x in (c, _stored(url, c, v))]
            absent = [c for c, v in cols.items() if v is None]
            self._upsert(keys=[self.k + "p:" + url, self.k + "due"],
                         args=[url, len(present) // 2, *present, *absent], client=pipe)
        for tid, t in threads.items():
            old = json.loads(before[tid]) if before.get(tid) else None
            if old is not None and old["page_url"] != t["page_url"]:  # the thread moved to another page
                pipe.srem(self.k + "pt:" + old["page_url"], tid)
            pipe.hset(self.k + "threads", tid, json.dumps({k: t[k] for k in (
                "page_url", "platform", "host", "native_thread_id", "article_id", "first_requests")}))
            pipe.sadd(self.k + "pt:" + t["page_url"], tid)
        for tid, native, cid, gone in delta.comments:
            pipe.hset(self.k + "tc:" + tid, native, json.dumps([cid, int(gone)]))
        pipe.sadd(self.k + "applied", run_id)
        pipe.execute()


__all__ = ["RedisCrawlState", "iso"]
