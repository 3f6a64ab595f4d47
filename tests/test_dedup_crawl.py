"""Real `scrapy crawl demo` runs (subprocesses) into the same OUTPUT_DIR, read back with pyarrow/DuckDB.

The demo site's URLs carry the server port, and ids hash the canonical URL, so runs meant to see the
"same" site use one fixed free port (``-a port=``). Later runs switch the crawl state off
(CRAWL_STATE_ENABLED=False) so that every page is fetched again — without conditional GETs and revisit
schedules it is the dedup state alone that must recognise what the dataset already holds.
"""
from __future__ import annotations

import socket
import subprocess
import sys

import json

import duckdb
import pytest

from crawler.demo_site.content import CORRECTION

from .conftest import REPO, run_crawl


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("dedup") / "ds"
    port = free_port()
    changes = out.parent / "changes.json"
    changes.write_text(json.dumps({"edit_articles": [EDITED]}))
    refetch = ("-s", "CRAWL_STATE_ENABLED=False")
    first = run_crawl(out, "-a", f"port={port}")
    second = run_crawl(out, "-a", f"port={port}", *refetch)
    # two new stories (comment ids shift, so known texts come back under new ids) and one story corrected
    third = run_crawl(out, "-a", f"port={port}", "-a", "articles=14", "-a", f"changes={changes}", *refetch)
    for r in (first, second, third):
        assert r.returncode == 0, r.stderr[-3000:]
    return out, port, first, second, third


EDITED = 108  # post id of the story the third run finds corrected (not reposted on the demo forum)


def q(out, sql: str):
    con = duckdb.connect()
    for t in ("articles", "threads", "comments"):
        con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{out}/{t}/**/*.parquet', hive_partitioning=true)")
    return con.execute(sql).fetchall()


def test_second_run_writes_nothing_for_unchanged_content(two_runs):
    out, _, first, second, _ = two_runs
    assert second.stats["dedup/articles/unchanged_skipped"] == first.stats["export/rows/articles"]
    assert second.stats["dedup/comments/unchanged_skipped"] == first.stats["export/rows/comments"]
    assert second.stats["dedup/threads/unchanged_skipped"] == first.stats["export/rows/threads"]
    assert "pipeline/drop_errors" not in second.stats  # skipping is not an error
    assert q(out, f"SELECT count(*) FROM articles WHERE run_id = '{second.stats['run/id']}'") == [(0,)]
    for table, key in (("articles", "article_id"), ("comments", "comment_id"), ("threads", "thread_id")):
        same = "version" if table == "threads" else "content_hash"  # threads have no text
        assert q(out, f"SELECT count(*) FROM (SELECT {key}, {same} FROM {table} GROUP BY ALL HAVING count(*) > 1)") == [(0,)]


def test_cross_run_duplicates_point_at_rows_of_the_first_run(two_runs):
    out, _, first, _, third = two_runs
    run1, run3 = first.stats["run/id"], third.stats["run/id"]
    assert third.stats["export/rows/articles"] == 3  # the two new stories and the corrected one
    versions = q(out, f"SELECT version, duplicate_of, body_text FROM articles WHERE run_id = '{run3}' AND version > 1")
    assert len(versions) == 1 and versions[0][0] == 2 and versions[0][1] is None  # a new version, not a duplicate
    assert versions[0][2].endswith(CORRECTION)
    cross = q(out, f"""SELECT c.comment_id, c.duplicate_of, d.run_id, c.duplicate_reason
                       FROM comments c JOIN comments d ON d.comment_id = c.duplicate_of
                       WHERE c.run_id = '{run3}' AND NOT EXISTS (SELECT 1 FROM comments e
                             WHERE e.comment_id = c.duplicate_of AND e.run_id = '{run3}')""")
    assert cross and {r[2] for r in cross} == {run1}  # not rewritten by run 3: the row is run 1's
    assert third.stats["dedup/comments/cross_run_labelled"] == len(cross)
    dangling = q(out, """SELECT count(*) FROM comments c WHERE c.duplicate_of IS NOT NULL
                         AND NOT EXISTS (SELECT 1 FROM comments d WHERE d.comment_id = c.duplicate_of)""")
    assert dangling == [(0,)]
    # same text as a cluster the first run committed: labelled with that cluster's representative
    same = q(out, f"""SELECT c.comment_id, c.duplicate_of, r.comment_id FROM comments c
                      JOIN comments r ON r.content_hash = c.content_hash
                      WHERE c.run_id = '{run3}' AND r.run_id = '{run1}' AND r.duplicate_of IS NULL
                        AND r.cluster_id IS NOT NULL AND r.comment_id NOT IN
                            (SELECT comment_id FROM comments WHERE run_id = '{run3}')""")
    assert same and all(dup_of == rep for _, dup_of, rep in same)


def test_crawl_order_does_not_change_labels(tmp_path):
    port = free_port()
    a = run_crawl(tmp_path / "a", "-a", f"port={port}", "-s", "CONCURRENT_REQUESTS=1")
    b = run_crawl(tmp_path / "b", "-a", f"port={port}", "-s", "CONCURRENT_REQUESTS=16",
                  "-s", "SCHEDULER_PRIORITY_QUEUE=scrapy.pqueues.DownloaderAwarePriorityQueue")
    assert a.returncode == b.returncode == 0
    sql = ("SELECT comment_id, duplicate_of, duplicate_reason, cluster_id FROM comments ORDER BY 1")
    la, lb = q(tmp_path / "a", sql), q(tmp_path / "b", sql)
    assert la == lb and any(r[1] for r in la)
    arts = "SELECT article_id, duplicate_of, duplicate_reason, cluster_id FROM articles ORDER BY 1"
    assert q(tmp_path / "a", arts) == q(tmp_path / "b", arts)


def test_corrupt_state_is_reported_and_rebuilt_without_traceback(tmp_path):
    port = free_port()
    out = tmp_path / "ds"
    assert run_crawl(out, "-a", f"port={port}").returncode == 0
    (out / "_state" / "dedup.sqlite").write_bytes(b"definitely not sqlite" * 100)
    r = run_crawl(out, "-a", f"port={port}", "-s", "CRAWL_STATE_ENABLED=False")
    assert r.returncode == 0 and "Traceback" not in r.stderr
    assert "dedup state unusable" in r.stderr and r.stats["dedup/state/corrupt"] == 1
    assert r.stats["dedup/articles/unchanged_skipped"] > 0 and r.stats.get("export/rows/articles", 0) == 0


def test_report_lists_clusters_with_representative_first(two_runs):
    out = two_runs[0]
    proc = subprocess.run([sys.executable, "-m", "scrapy", "dataset", "dedup-report", str(out), "--limit", "100"], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    n_clusters = q(out, "SELECT count(DISTINCT cluster_id) FROM articles WHERE duplicate_of IS NOT NULL")[0][0]
    assert f"articles: {q(out, 'SELECT count(*) FROM articles')[0][0]} rows, {n_clusters} duplicate clusters" in text
    blocks = text.split("\ncomments:")[0].split("\ncluster ")[1:]  # the articles' clusters
    assert len(blocks) >= n_clusters > 0
    for block in blocks:  # every cluster: representative first, then its labelled members with their reason
        lines = block.splitlines()
        assert lines[1].lstrip().startswith("REP")
        assert all(ln.split()[0] in ("content", "near") for ln in lines[2:] if ln.strip())
    partner = next(b for b in blocks if "Bitcoin exchange outage rattles traders in Texas" in b)
    assert "content" in partner.splitlines()[2]
