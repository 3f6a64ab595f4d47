"""Pure-function tests of the per-record rules: short comments, seen-before decisions, what gets signed,
thread state hashes, the rebuild's choice of the latest version."""
from __future__ import annotations

from datetime import datetime, timezone

from crawler.items import ArticleRecord, CommentRecord, ThreadRecord
from crawler.state.dedup_store import SeenDoc
from pipelines.dedup.exact import comment_exact_eligible, thread_hash
from pipelines.dedup.near import near_tokens
from pipelines.dedup.rebuild import latest_rows
from pipelines.dedup.seen import decide

LONG = "Withdrawals from the smaller exchanges were paused for most of the afternoon on Tuesday."


def test_short_comments_need_the_minimum_normalised_length():
    assert not comment_exact_eligible("+1", False, 60)
    assert not comment_exact_eligible("Nice.   " + " " * 80, False, 60)  # whitespace does not count
    assert comment_exact_eligible(LONG, False, 60)
    assert not comment_exact_eligible(LONG, True, 60)  # deleted comments never cluster


def test_seen_before_decisions():
    prev = SeenDoc("a", "h1", version=3)
    assert decide(None, "h1") == ("new", 1)
    assert decide(prev, "h1") == ("unchanged", 3)
    assert decide(prev, "h2") == ("changed", 4)


def test_only_long_enough_texts_are_signed():
    words = " ".join(["word"] * 29)
    assert near_tokens(CommentRecord(body_text=words), 30) is None
    assert len(near_tokens(CommentRecord(body_text=words + " more"), 30)) == 30
    assert near_tokens(CommentRecord(body_text=words + " more", is_deleted=True), 30) is None
    assert near_tokens(ArticleRecord(body_text="four words only here"), 30) is None
    assert near_tokens(ArticleRecord(body_text=LONG), 30) is not None  # articles: one full shingle is enough
    assert near_tokens(ArticleRecord(body_text=LONG, is_tombstone=True), 30) is None
    assert near_tokens(ThreadRecord(), 30) is None


def test_thread_hash_follows_what_the_row_states_not_run_metadata():
    t = ThreadRecord(thread_id="t", platform="wordpress", article_id="a", comment_count_collected=4, run_id="r1")
    same = ThreadRecord(thread_id="t", platform="wordpress", article_id="a", comment_count_collected=4, run_id="r2",
                        fetched_at=datetime(2026, 1, 1, tzinfo=timezone.utc))
    more = ThreadRecord(thread_id="t", platform="wordpress", article_id="a", comment_count_collected=5)
    assert thread_hash(t) == thread_hash(same) != thread_hash(more)


def test_rebuild_keeps_the_latest_version_of_each_record():
    t = lambda d: datetime(2026, 11, d, tzinfo=timezone.utc)  # noqa: E731
    rows = [{"id": "a", "version": 1, "valid_from": t(1)}, {"id": "a", "version": 2, "valid_from": t(2)},
            {"id": "b", "version": 1, "valid_from": t(1)}, {"id": "b", "version": 1, "valid_from": t(3)}]
    assert [(r["id"], r["version"], r["valid_from"].day) for r in latest_rows(rows, "id")] == [("a", 2, 2), ("b", 1, 3)]
