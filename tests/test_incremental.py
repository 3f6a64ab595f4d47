"""Scheduled incremental runs against the demo site, mutated between runs (real crawls, real files)."""
from __future__ import annotations

import json
import socket
from datetime import datetime, timedelta, timezone

import duckdb
import pytest

from crawler.demo_site.site import DemoSite
from pipelines.dataset.latest import register_latest_views

from .conftest import run_crawl

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
# stories 100, 101, 104 and 108 are not reposted on the demo forum, so only their own pages change
CHANGES = {"add_comments": {"101": 2}, "edit_articles": [108], "delete_articles": [104], "delete_comments": [1005]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def crawl(out, port, clock, *extra):
    result = run_crawl(out, "-a", f"port={port}", "-s", f"CRAWL_CLOCK={clock.isoformat()}", *extra)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def rows_of_run(out, table, run_id):
    con = duckdb.connect()
    register_latest_views(con, out)
    cur = con.execute(f"SELECT * FROM all_{table} WHERE run_id = ?", [run_id])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("incremental") / "dataset"
    changes = out.parent / "changes.json"
    changes.write_text(json.dumps(CHANGES))
    port = free_port()
    first = crawl(out, port, T0)
    second = crawl(out, port, T0 + timedelta(hours=2), "-a", f"changes={changes}")
    return out, first, second


def test_second_run_writes_exactly_the_changes(two_runs):
    out, first, second = two_runs
    site = DemoSite()
    run2 = second.stats["run/id"]
    comments = rows_of_run(out, "comments", run2)
    new = [c for c in comments if not c["is_tombstone"]]
    gone = [c for c in comments if c["is_tombstone"]]
    max_native = max(c.native_id for a in site.articles for c in a.comments)
    assert sorted(int(c["native_id"]) for c in new) == [max_native + 1, max_native + 2]
    assert [c["native_id"] for c in gone] == ["1005"] and gone[0]["is_deleted"] and gone[0]["version"] == 2

    articles = rows_of_run(out, "articles", run2)
    edited = site.by_post_id(108)
    versions = [a for a in articles if not a["is_tombstone"]]
    assert [(a["title"], a["version"]) for a in versions] == [(edited.title, 2)]
    assert "Correction:" in versions[0]["body_text"]
    tombstones = [a for a in articles if a["is_tombstone"]]
    first_rows = {a["url"].split("?")[0]: a for a in rows_of_run(out, "articles", first.stats["run/id"])}
    deleted = next(a for u, a in first_rows.items() if u.endswith(site.by_post_id(104).path))
    assert len(tombstones) == 1 and tombstones[0]["article_id"] == deleted["article_id"]
    assert tombstones[0]["title"] == "" and tombstones[0]["version"] == 2


def test_unchanged_pages_are_fetched_with_conditional_get(two_runs):
    out, first, second = two_runs
    # every known page is due two hours later; all answer 304 except the four the changes touched: the stories
    # with new / deleted comments (200), the edited one (200) and the deleted one (404)
    revisited = second.stats["state/revisit/requested"]
    assert revisited >= first.stats["articles/parsed"]
    assert second.stats["downloader/response_status_count/304"] == revisited - 4
    assert second.stats["state/not_modified"] == revisited - 4


def test_latest_view_gives_the_current_dataset(two_runs):
    out, first, second = two_runs
    con = duckdb.connect()
    register_latest_views(con, out)
    n_first = first.stats["export/rows/articles"]
    assert con.execute("SELECT count(*) FROM latest_articles").fetchone()[0] == n_first - 1
    assert con.execute("SELECT max(version) FROM latest_articles").fetchone()[0] == 2
    n_comments = con.execute("SELECT count(*) FROM latest_comments").fetchone()[0]
    assert n_comments == first.stats["export/rows/comments"] + 2 - 1
    dup = con.execute("SELECT count(*) FROM (SELECT article_id, version FROM all_articles GROUP BY 1, 2 "
                      "HAVING count(*) > 1)").fetchone()[0]
    assert dup == 0


def test_threads_past_their_last_revisit_are_not_fetched(tmp_path):
    out, port = tmp_path / "dataset", free_port()
    crawl(out, port, T0, "-a", "articles=4", "-a", "comments=3")
    late = crawl(out, port, T0 + timedelta(days=30), "-a", "articles=4", "-a", "comments=3")
    assert late.stats["state/revisit/requested"] > 0  # overdue: visited once more, schedule now exhausted
    later = crawl(out, port, T0 + timedelta(days=31), "-a", "articles=4", "-a", "comments=3")
    assert "state/revisit/requested" not in later.stats and "comments/pages" not in later.stats
    assert later.stats["state/skip/not_due"] >= 4
    assert later.stats.get("export/rows/comments", 0) == 0


def test_a_failed_thread_revisit_keeps_the_last_complete_thread_row(tmp_path):
    out, port = tmp_path / "dataset", free_port()
    changes = tmp_path / "rest_down.json"
    changes.write_text(json.dumps({"rest_down": [101]}))
    first = crawl(out, port, T0)
    second = crawl(out, port, T0 + timedelta(hours=2), "-a", f"changes={changes}", "-s", "RETRY_TIMES=0")
    assert second.stats["comments/revisit_incomplete_kept"] == 1
    assert second.stats["comments/incomplete_thread"] == 1
    assert "state/tombstone/comments" not in second.stats or second.stats["state/tombstone/comments"] == 0
    con = duckdb.connect()
    register_latest_views(con, out)
    site = DemoSite()
    n = len(site.visible_comments(site.by_post_id(101)))
    # the thread of story 101 keeps its run-1 row: complete, every comment counted
    rows = con.execute("SELECT t.comment_count_collected, t.is_complete, t.run_id FROM latest_threads t "
                       "WHERE t.native_thread_id = '101' AND t.platform = 'wordpress'").fetchall()
    assert rows == [(n, True, first.stats["run/id"])]
    assert con.execute("SELECT count(*) FROM latest_comments c JOIN latest_threads t USING (thread_id) "
                       "WHERE t.native_thread_id = '101' AND t.platform = 'wordpress'").fetchone()[0] == n  # none lost
