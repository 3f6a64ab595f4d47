"""The crawl state rebuilt from a dataset (crawler/state/crawl_rebuild.py), on real Parquet files: a comment
lives in the thread of its latest version. A comment that moved from one thread to another (comment ids are per
platform and host, not per thread) is gone from the thread it left, as the run that saw it move recorded it."""
from __future__ import annotations

from datetime import datetime, timezone

import pyarrow as pa
import pyarrow.parquet as pq

from crawler import ids
from crawler.state.crawl_rebuild import rebuild
from crawler.state.crawl_state import CrawlState

HOST = "127.0.0.1:8000"
T1 = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
T2 = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)


def _write(out, table, rows, day="2026-11-20"):
    d = out / table / f"crawl_date={day}"
    d.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), d / f"part-run{len(list(d.iterdir()))}-0.parquet")


def _thread(native, version=1, run="r1"):
    return {"thread_id": ids.thread_id("wordpress", HOST, native), "platform": "wordpress", "article_id": f"a{native}",
            "native_thread_id": native, "url": f"http://{HOST}/wp-json/wp/v2/comments?post={native}",
            "discussion_url": None, "comment_count_collected": 1, "run_id": run, "version": version}


def _comment(thread_native, native, version, tomb=False, at=T1, run="r1"):
    return {"thread_id": ids.thread_id("wordpress", HOST, thread_native), "native_id": native,
            "comment_id": ids.comment_id("wordpress", HOST, native), "is_tombstone": tomb, "version": version,
            "fetched_at": at, "source_url": f"http://{HOST}/wp-json/wp/v2/comments?post={thread_native}",
            "run_id": run}


def test_a_comment_is_a_member_of_the_thread_of_its_latest_version_only(tmp_path):
    out = tmp_path / "dataset"
    _write(out, "threads", [_thread("7"), _thread("8")])
    # run 1: comments 1 and 2 under post 7, 3 under post 8
    _write(out, "comments", [_comment("7", "1", 1), _comment("7", "2", 1), _comment("8", "3", 1)])
    # run 2: comment 2 shows under post 8 now (a new version there); comment 3 was deleted (its tombstone)
    _write(out, "comments", [_comment("8", "2", 2, at=T2, run="r2"), _comment("8", "3", 2, tomb=True, at=T2, run="r2")],
           day="2026-11-28")
    state = CrawlState(tmp_path / "crawl.sqlite")
    try:
        counts = rebuild(state, out)
        assert counts["threads"] == 2 and counts["comments"] == 4
        c = lambda n: ids.comment_id("wordpress", HOST, n)  # noqa: E731
        assert state.thread_comments(ids.thread_id("wordpress", HOST, "7")) == {"1": c("1")}
        assert state.thread_comments(ids.thread_id("wordpress", HOST, "8")) == {"2": c("2")}
    finally:
        state.close()
