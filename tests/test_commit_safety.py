"""A dataset survives kill -9 at any point of a crawl, and two runs never write at once."""
from __future__ import annotations

import fcntl
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from crawler.exitcodes import LOCKED
from pipelines.dataset.latest import register_latest_views

from .conftest import REPO, run_crawl
from .test_incremental import free_port

SITE = ["-a", "articles=40", "-a", "comments=8"]


def start_crawl(out: Path, port: int, *extra: str) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "scrapy", "crawl", "demo", "-s", f"OUTPUT_DIR={out}", "-a", f"port={port}",
           *SITE, *extra]
    return subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONPATH=str(REPO)))


def lock_is_held(out: Path) -> bool:
    path = out / ".lock"
    if not path.exists():
        return False
    with open(path) as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fh, fcntl.LOCK_UN)
        return False


def visible_files(out: Path) -> list[Path]:
    return [p for t in ("articles", "threads", "comments") for p in (out / t).rglob("*.parquet")]


def assert_consistent(out: Path) -> None:
    """Every visible file is complete and readable; pyarrow and DuckDB agree; no (id, version) twice."""
    files = visible_files(out)
    for f in files:
        pq.ParquetFile(f).read()  # raises on a truncated or partial file
    if not files:
        return
    con = duckdb.connect()
    tables = register_latest_views(con, out)
    for t in tables:
        id_col = {"articles": "article_id", "threads": "thread_id", "comments": "comment_id"}[t]
        n_arrow = ds.dataset(out / t, partitioning="hive").count_rows()
        assert con.execute(f"SELECT count(*) FROM all_{t}").fetchone()[0] == n_arrow
        dup = con.execute(f"SELECT count(*) FROM (SELECT {id_col}, version FROM all_{t} GROUP BY 1, 2 "
                          "HAVING count(*) > 1)").fetchone()[0]
        assert dup == 0, f"duplicated rows in {t}"


def latest_ids(out: Path) -> dict[str, set]:
    con = duckdb.connect()
    register_latest_views(con, out)
    return {t: {r[0] for r in con.execute(f"SELECT {c} FROM latest_{t}").fetchall()}
            for t, c in (("articles", "article_id"), ("threads", "thread_id"), ("comments", "comment_id"))}


def test_kill_minus_nine_at_random_points_loses_and_duplicates_nothing(tmp_path):
    """12 rounds, each on a fresh dataset: start a crawl, kill -9 it at a random point (every third round inside
    the commit itself, between file renames), check what is visible, then run again and compare with a run that
    was never interrupted."""
    port = free_port()
    t = time.monotonic()
    reference = run_crawl(tmp_path / "reference", "-a", f"port={port}", *SITE)
    duration = time.monotonic() - t
    assert reference.returncode == 0, reference.stderr[-2000:]
    expected = latest_ids(reference.output)
    rng = random.Random(7)
    kills, rolled_forward, discarded = 0, 0, 0
    for point in range(12):
        out = tmp_path / f"round{point}"
        mid_commit = point % 3 == 2
        proc = start_crawl(out, port, *(["-s", "FAULT_INJECT_COMMIT_PAUSE=0.3"] if mid_commit else []))
        deadline = time.monotonic() + 60
        if mid_commit:  # the journal exists: the commit has begun publishing files
            while proc.poll() is None and not any(out.glob("_staging/*/COMMIT.json")) and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(rng.uniform(0.05, 0.5))
        else:
            while not lock_is_held(out) and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.02)
            time.sleep(rng.uniform(0.05, 0.9 * duration))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        proc.communicate(timeout=60)
        assert_consistent(out)  # right after the kill, before any recovery
        again = run_crawl(out, "-a", f"port={port}", *SITE)
        assert again.returncode == 0, again.stderr[-2000:]
        assert not (out / "_staging").exists()
        assert_consistent(out)
        assert latest_ids(out) == expected, f"round {point}"
        rolled_forward += again.stats.get("run/recovered/rolled_forward", 0)
        discarded += again.stats.get("run/recovered/discarded_staging", 0)
    assert kills >= 10
    assert rolled_forward >= 2  # kills that landed mid-commit were completed by the next run
    assert discarded >= 2  # kills mid-crawl / mid-write left only staging files, which were dropped


def test_two_runs_at_once_one_writes_the_other_exits_with_the_lock_message(tmp_path):
    out, port = tmp_path / "dataset", free_port()
    first = start_crawl(out, port)
    deadline = time.monotonic() + 30
    while not lock_is_held(out) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert lock_is_held(out)
    second = run_crawl(out, "-a", f"port={free_port()}", *SITE)
    _, err = first.communicate(timeout=120)
    assert first.returncode == 0, err[-2000:]
    assert second.returncode == LOCKED
    assert "holds the output lock" in second.stderr and ".lock" in second.stderr
    manifests = list((out / "_manifests").glob("*.json"))
    assert len(manifests) == 1  # only the first run committed
    assert_consistent(out)
