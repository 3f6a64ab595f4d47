"""Shared-mode stores and coordination on a real redis-server: the Redis crawl state and dedup state answer
exactly like the SQLite ones; the lease, the reliable queue and the round's labels behave under races."""
from __future__ import annotations

import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from crawler.shared.round import LeaseHeld, SharedRound
from crawler.shared.setup import round_still_crawling
from crawler.state.crawl_state import CrawlState, StateDelta
from crawler.state.dedup_store import SeenDoc, SQLiteDedupStore
from crawler.state.redis_crawl_state import RedisCrawlState
from crawler.state.redis_dedup_store import RedisDedupStore

from .services import redis_service  # noqa: F401  (fixture)

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def r(redis_service):  # noqa: F811
    import redis

    return redis.Redis.from_url(redis_service.url)


@pytest.fixture
def prefix():
    return f"t{uuid.uuid4().hex[:8]}"


def iso(dt):
    return dt.isoformat()


def deltas():
    first = StateDelta(
        pages={"http://a/1": {"first_seen": iso(NOW), "last_visit": iso(NOW), "visits": 0,
                              "next_visit": iso(NOW + timedelta(hours=1)), "gone": 0, "etag": '"e1"',
                              "last_modified": None, "kind": "article", "article_id": "A1",
                              "article_json": '{"article_id": "A1"}', "published_at": iso(NOW - timedelta(hours=2))},
               "http://a/2": {"first_seen": iso(NOW), "last_visit": iso(NOW), "visits": 0,
                              "next_visit": iso(NOW + timedelta(hours=6)), "gone": 0, "etag": None,
                              "last_modified": "Wed, 18 Nov 2026 10:00:00 GMT", "kind": "discussion"}},
        threads={"T1": {"page_url": "http://a/1", "platform": "wordpress", "host": "a", "native_thread_id": "1",
                        "article_id": "A1", "first_requests": ["http://a/api?p=1"]}},
        comments=[("T1", "11", "C11", 0), ("T1", "12", "C12", 0)])
    second = StateDelta(  # a revisit: counts and schedule move, a comment is gone, a page is gone
        pages={"http://a/1": {"first_seen": iso(NOW), "last_visit": iso(NOW + timedelta(hours=1)), "visits": 1,
                              "comment_count": 1,
                              "next_visit": iso(NOW + timedelta(hours=6)), "gone": 0},
               "http://a/2": {"gone": 1, "next_visit": None, "last_visit": iso(NOW + timedelta(hours=1)),
                              "first_seen": iso(NOW)}},
        comments=[("T1", "12", "C12", 1)])
    return first, second


def apply_and_compare(sql, red, delta, run_id, urls):
    """Apply one delta to both stores, then ask both the same questions."""
    for store in (sql, red):
        store.apply(delta, run_id)
    for when in (NOW, NOW + timedelta(hours=1), NOW + timedelta(days=1), NOW + timedelta(days=30)):
        assert red.due_pages(when) == sql.due_pages(when)
    for url in urls:
        assert red.page(url) == sql.page(url)
        assert red.threads_of(url) == sql.threads_of(url)
    assert red.thread_comments("T1") == sql.thread_comments("T1")
    assert red.applied_runs() == sql.applied_runs()


def test_redis_crawl_state_answers_like_sqlite(r, prefix, tmp_path):
    sql, red = CrawlState(tmp_path / "crawl.sqlite"), RedisCrawlState(r, prefix)
    first, second = deltas()
    urls = ("http://a/1", "http://a/2", "http://a/3", "http://a/none")
    for n, delta in enumerate((first, second, second)):  # the last one again: idempotent
        apply_and_compare(sql, red, delta, f"run{min(n, 1)}", urls)
        assert red.applied("run0") and sql.applied("run0") and not red.applied("run9")
    assert red.thread_comments("T1") == {"11": "C11"}
    assert red.page("http://a/2").gone and red.due_pages(NOW + timedelta(days=30)) == [("http://a/1", "article")]
    assert red.page("http://a/1").article_json == sql.page("http://a/1").article_json  # the full identity back
    assert red.page("http://a/1").next_visit.utcoffset() == timedelta(0)

    # a page gone and back (its next visit untouched: due again as it stands), a thread moved to another page,
    # a page at another UTC offset
    seen = {"first_seen": iso(NOW), "last_visit": iso(NOW + timedelta(hours=2))}
    later = [StateDelta(pages={"http://a/1": {**seen, "gone": 1}}),
             StateDelta(pages={"http://a/1": {**seen, "gone": 0, "etag": None},
                               "http://a/3": {"first_seen": "2026-11-20T14:00:00+02:00",
                                              "last_visit": "2026-11-20T14:00:00+02:00",
                                              "next_visit": "2026-11-20T13:30:00+02:00", "kind": "discussion",
                                              "article_json": '{"article_id": "X", "url": "http://a/3b"}'}},
                        threads={"T1": {"page_url": "http://a/3", "platform": "wordpress", "host": "a",
                                        "native_thread_id": "1", "article_id": "A1", "first_requests": []}})]
    for n, delta in enumerate(later):
        apply_and_compare(sql, red, delta, f"later{n}", urls)
    assert [t["thread_id"] for t in red.threads_of("http://a/3")] == ["T1"] and red.threads_of("http://a/1") == []
    assert [u for u, _ in red.due_pages(NOW + timedelta(days=30))] == ["http://a/3", "http://a/1"]


def sig(seed):
    return np.random.default_rng(seed).integers(0, 2**32, 128, dtype=np.uint64)


def test_redis_dedup_store_answers_like_sqlite(r, prefix, tmp_path):
    from pipelines.dedup import minhash as mh

    sql, red = SQLiteDedupStore(tmp_path / "dedup.sqlite", mh.PARAMS), RedisDedupStore(r, prefix, mh.PARAMS)
    s1, s2 = sig(1), sig(2)
    docs = [SeenDoc("a1", "h1", 1, "a1", None, 100.0, "http://x/1", "run1", mh.to_bytes(s1)),
            SeenDoc("a2", "h1", 1, "a1", "a1", 200.0, "http://x/2", "run1", mh.to_bytes(s1)),
            SeenDoc("a3", "h3", 1, "a3", None, None, "http://x/3", "run1", mh.to_bytes(s2)),
            SeenDoc("a4", "h4", 1, "a4", None, None, "http://x/4", "run1", None)]
    changes = {"articles": [(d, mh.band_keys(mh.from_bytes(d.sig)) if d.sig else []) for d in docs]}
    for store in (sql, red):
        assert store.apply("run1", changes) == 4
    newer = SeenDoc("a4", "h4b", 2, "a4", None, None, "http://x/4", "run2", None)  # a new version
    for store in (sql, red):
        store.apply("run2", {"articles": [(newer, [])]})
    ids = ["a1", "a2", "a3", "a4", "zz"]
    assert red.get("articles", ids) == sql.get("articles", ids)
    assert red.get("comments", ids) == sql.get("comments", ids) == {}
    hashes = ["h1", "h3", "h4", "h4b", "nope"]
    assert red.by_hash("articles", hashes) == sql.by_hash("articles", hashes)
    assert "h4" not in red.by_hash("articles", hashes)
    keys = mh.band_keys(s1)
    by_id = lambda docs: sorted(docs, key=lambda d: d.id)  # noqa: E731
    assert by_id(red.by_bands("articles", keys)) == by_id(sql.by_bands("articles", keys))
    assert by_id(red.by_bands("articles", keys, max_bucket=1)) == by_id(sql.by_bands("articles", keys, max_bucket=1)) == []
    assert red.meta("params") == sql.meta("params") == mh.PARAMS

    # a later run: a representative becomes a duplicate (leaves the hash index), a signed record gets a new
    # signature (its old band keys go), the same text in another table (band keys are counted across tables),
    # given as a generator (as the single-process labeler streams its commit)
    s3 = sig(3)

    def later():
        return {"articles": (x for x in [
            (SeenDoc("a3", "h1", 2, "a1", "a1", None, "http://x/3", "run3", mh.to_bytes(s3)), mh.band_keys(s3)),
            (SeenDoc("a1", "h1", 2, "", "a1", 100, "http://x/1", "run3", mh.to_bytes(s1)), mh.band_keys(s1))]),
            "comments": [(SeenDoc("c1", "h1", 1, "c1", None, 5.0, "", "run3", mh.to_bytes(s1)), mh.band_keys(s1))]}

    for store in (sql, red):
        assert store.apply("run3", later()) == 3

    def answers(store):
        return (store.get("articles", ids), store.get("comments", ["c1", "a1"]),
                store.by_hash("articles", hashes), store.by_hash("comments", hashes),
                [by_id(store.by_bands(t, mh.band_keys(x), cap)) for t in ("articles", "comments")
                 for x in (s1, s2, s3) for cap in (0, 1, 2, 3)])

    assert answers(red) == answers(sql)
    assert [d.id for d in red.by_hash("articles", ["h1"])["h1"]] == ["a1"]  # a3 is a duplicate, a2 too
    assert by_id(red.by_bands("articles", mh.band_keys(s2))) == []  # a3's first signature left matching
    assert red.applied_runs() == sql.applied_runs() == {"run1", "run2", "run3"}

    # retention: the runs committed so far leave near matching, ids and hashes stay
    cutoff = datetime.now(timezone.utc) + timedelta(seconds=1)
    assert red.prune(cutoff) == sql.prune(cutoff) == 4  # a1, a3, c1 and a2 (run1)
    assert answers(red) == answers(sql)
    assert red.by_bands("articles", mh.band_keys(s1)) == [] and red.get("articles", ["a2"])["a2"].sig is None


def test_lease_is_exclusive_and_expires(r, prefix):
    a = SharedRound(r, prefix, "w1", "inc-a", lease_seconds=1.0)
    a.acquire_lease()
    b = SharedRound(r, prefix, "w1", "inc-b", lease_seconds=1.0)
    with pytest.raises(LeaseHeld):
        b.acquire_lease(wait=0.3)  # the first one is alive (renewing)
    started = time.monotonic()
    b.acquire_lease()  # the first one stops renewing (as if killed): its lease expires
    assert 0.5 < time.monotonic() - started < 3
    a.heartbeat()
    assert a.lost, "an incarnation whose lease was taken over must know it"


def test_killed_workers_taken_requests_go_back_to_the_queue(r, prefix):
    a = SharedRound(r, prefix, "w1", "inc-a", lease_seconds=0.5)
    b = SharedRound(r, prefix, "w2", "inc-b", lease_seconds=5)
    a.acquire_lease()
    b.acquire_lease()
    rid = a.join()
    assert b.join() == rid
    r.zadd(a.queue_key, {b"req-1": -1, b"req-2": 0})
    assert a.pop() == b"req-1"  # taken by a, not yet committed
    assert b.queued() == 1
    b.mark_idle()
    assert not b.crawl_done()  # a is alive and busy
    time.sleep(0.8)  # a dies: its lease expires
    assert not b.crawl_done()  # a's taken request is back in the queue
    assert b.reaped == ["inc-a"] and b.queued() == 2
    assert b.pop() == b"req-1" and b.pop() == b"req-2" and b.pop() is None
    b.mark_idle()
    assert b.crawl_done()


def test_a_workers_momentary_idle_is_not_the_end_of_the_rounds_crawl(r, prefix):
    """What the spider's _release_tombstones asks before releasing held comment tombstones: while the round may
    still hand out threads (queue not empty, or another member busy) a worker's idle is only a pause."""
    assert not round_still_crawling(None)  # not a shared run: the first idle is the end
    a = SharedRound(r, prefix, "w1", "inc-a", lease_seconds=5)
    b = SharedRound(r, prefix, "w2", "inc-b", lease_seconds=5)
    for rnd in (a, b):
        rnd.acquire_lease()
        rnd.join()
    a.mark_idle()  # a's share of the queue is empty for now; b is still fetching
    assert round_still_crawling(a)
    r.zadd(a.queue_key, {b"thread-page": 0})  # b's page queued another thread: a takes it
    b.mark_idle()
    assert round_still_crawling(a) and round_still_crawling(b)
    assert a.pop() == b"thread-page" and round_still_crawling(b)  # taken: a is busy again
    a.mark_idle()
    assert not round_still_crawling(a) and not round_still_crawling(b)  # every member idle, nothing queued


def test_held_tombstones_wait_for_the_end_of_the_rounds_crawl(r, prefix):
    from types import SimpleNamespace

    from crawler.spiders.base import ArticleSpider

    class Held:  # the planner's two answers the spider reads here; releasing empties it
        def __init__(self):
            self.n = 1

        def held_tombstones(self):
            return self.n

        def release_tombstones(self):
            self.n = 0
            return []

    a = SharedRound(r, prefix, "w1", "inc-a", lease_seconds=5)
    b = SharedRound(r, prefix, "w2", "inc-b", lease_seconds=5)
    for rnd in (a, b):
        rnd.acquire_lease()
        rnd.join()
    counted = []
    spider = SimpleNamespace(revisits=Held(), crawler=SimpleNamespace(shared_round=a), inc=counted.append)
    a.mark_idle()  # what the shared idle handler did just before
    ArticleSpider._release_tombstones(spider)
    assert spider.revisits.n == 1 and counted == ["state/tombstone/held_for_round"]  # b is busy: still held
    b.mark_idle()
    ArticleSpider._release_tombstones(spider)
    assert spider.revisits.n == 0 and counted == ["state/tombstone/held_for_round"]  # the round is done: out


def test_round_labels_are_computed_once_for_every_worker(r, prefix):
    rounds = [SharedRound(r, prefix, f"w{i}", f"inc-{i}", lease_seconds=5) for i in range(3)]
    for rnd in rounds:
        rnd.acquire_lease()
        rnd.join()
        rnd.mark_idle()
    calls, results = [], []

    def compute():
        calls.append(1)
        time.sleep(0.3)  # the others must wait for this one, not compute their own
        return {"articles": {"a2": ("a1", "content", "a1"), "a1": (None, None, "a1")}}

    threads = [threading.Thread(target=lambda rnd=rnd: results.append(rnd.labels(compute, ["articles"])))
               for rnd in rounds]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(calls) == 1
    assert len(results) == 3 and all(res == results[0] for res in results)
    assert results[0]["articles"]["a2"] == ("a1", "content", "a1")
    for rnd in rounds:
        rnd.committed()
    assert rounds[0].try_end()
    assert not list(r.scan_iter(match=f"{prefix}:r:*"))  # the round's keys, its seen-set included, are gone


def test_a_record_key_is_claimed_by_one_live_worker(r, prefix):
    a = SharedRound(r, prefix, "w1", "inc-a", lease_seconds=0.5)
    b = SharedRound(r, prefix, "w2", "inc-b", lease_seconds=5)
    for rnd in (a, b):
        rnd.acquire_lease()
        rnd.join()
    assert a.claim("articles", "http://x/story") and a.claim("articles", "http://x/story")
    assert not b.claim("articles", "http://x/story")  # fetched twice in one round: the second is dropped
    assert b.claim("comments", "c1") and not a.claim("comments", "c1")
    time.sleep(0.8)
    b.reap()  # a died: what it claimed but never committed goes to whoever fetches it again
    assert b.claim("articles", "http://x/story")
