"""Language detection in a worker process: same answers as in the crawl process, survives the worker's death,
and never outlives the crawl (kill -9 included)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from .conftest import REPO, CrawlResult, manifest_stats, run_crawl
from .test_incremental import free_port

SITE = ["-a", "articles=120", "-a", "comments=12"]
PROC = Path("/proc")


def languages(result) -> dict:
    out = {}
    for table, key in (("articles", "article_id"), ("comments", "comment_id")):
        for r in result.table(table).to_pylist():
            out[r[key]] = (r["language"], r["language_score"])
    return out


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children, grandchildren...), from /proc."""
    children: dict[int, list[int]] = {}
    for d in PROC.iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(d.name))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def alive(pid: int) -> bool:
    try:
        return (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def start(out: Path, port: int, *extra: str) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "scrapy", "crawl", "demo", "-s", f"OUTPUT_DIR={out}", "-a", f"port={port}", *SITE,
           "-s", "LANGUAGE_WORKER=true", *extra]  # later -a values win
    return subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONPATH=str(REPO)))


def wait_for_worker(proc: subprocess.Popen, timeout: float = 30) -> list[int]:
    """The worker's process ids (fork server and worker) once the worker runs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        below = descendants(proc.pid)
        if len(below) >= 2:  # the fork server and the worker it forked
            return below
        time.sleep(0.01)
    return []


# what differs between any two runs of the same crawl: run times and ids, and author pseudonyms (salted per output)
RUN_COLUMNS = {"fetched_at", "run_id", "valid_from", "author_id"}
KEYS = {"articles": "article_id", "threads": "thread_id", "comments": "comment_id"}


def rows(result) -> dict:
    """{table: {(id, version): row without RUN_COLUMNS}}, and every (id, version) once."""
    out = {}
    for table, key in KEYS.items():
        got = [r for r in result.table(table).to_pylist()]
        out[table] = {(r[key], r["version"]): {k: v for k, v in r.items() if k not in RUN_COLUMNS} for r in got}
        assert len(out[table]) == len(got), f"{table}: a row written twice"
    return out


def _clock_edge(x, y) -> bool:
    """A date the validate step keeps up to now + 1 day: the scaled demo dates stories into the future, so a
    date near that edge is kept in one run and nulled in a run a few minutes earlier (not what is compared)."""
    if (x is None) == (y is None) or not isinstance(x or y, datetime):
        return False
    edge = datetime.now(timezone.utc) + timedelta(days=1)
    return abs(((x or y) - edge).total_seconds()) < 6 * 3600


def differences(a: dict, b: dict) -> list:
    """(table, id, column) where two ``rows`` answers differ (None for a row only one side has), a few."""
    out = []
    for table in a:
        for k in sorted(set(a[table]) | set(b[table])):
            if k not in a[table] or k not in b[table]:
                out.append((table, k, None))
                continue
            ra, rb = a[table][k], b[table][k]
            out += [(table, k, c) for c in ra if ra[c] != rb.get(c) and not _clock_edge(ra[c], rb.get(c))]
    return out[:10]


def test_worker_and_crawl_process_give_the_same_rows(tmp_path):
    """Languages, and what the worker also computes for the later steps (asset tags, content hashes, MinHash
    signatures: pipelines/precompute.py), are the same in or out of the worker: so are all the rows."""
    port = free_port()
    inside = run_crawl(tmp_path / "inside", "-a", f"port={port}", *SITE, "-s", "LANGUAGE_WORKER=false")
    plain = run_crawl(tmp_path / "plain", "-a", f"port={port}", *SITE, "-s", "LANGUAGE_WORKER=true")
    worker = run_crawl(tmp_path / "worker", "-a", f"port={port}", *SITE, "-s", "LANGUAGE_WORKER=true",
                       "-s", "LANGUAGE_WORKER_PRECOMPUTE=true")
    assert inside.returncode == worker.returncode == plain.returncode == 0, worker.stderr[-2000:]
    assert languages(plain) == languages(inside) and "pipeline/precomputed/assets" not in plain.stats
    assert worker.stats.get("pipeline/language/worker") == 1 and "pipeline/language/worker" not in inside.stats
    got, expected = languages(worker), languages(inside)
    assert got == expected and len(got) > 1000
    assert {lang for lang, _ in got.values()} >= {"en", "es", "und"}
    # the worker's values were taken (not recomputed in the crawl), and none in the run without a worker
    for step in ("assets", "dedup_near"):
        assert worker.stats.get(f"pipeline/precomputed/{step}", 0) > 0 and f"pipeline/precomputed/{step}" not in inside.stats
    assert worker.stats["pipeline/precomputed/dedup_near"] == sum(worker.stats.get(f"dedup/{t}/signed", 0)
                                                                   for t in ("articles", "comments"))
    assert not differences(rows(worker), rows(inside))
    labelled = [r for r in worker.table("comments").to_pylist() if r["duplicate_of"]]
    assert labelled and any(r["assets"] for r in worker.table("comments").to_pylist())


@pytest.mark.skipif(not (PROC / "self").is_dir(), reason="needs /proc to find the worker process")
@pytest.mark.parametrize("after, precompute", [(0.0, "false"), (1.0, "false"), (1.0, "true")],
                         ids=["while-starting", "mid-crawl", "mid-crawl-precompute"])
def test_a_killed_worker_loses_nothing(tmp_path, after, precompute):
    port = free_port()
    # discussion lookups (Reddit/HN APIs) are not what this test is about: off, so the crawl stays short
    big = ["-a", "articles=300", "-a", "comments=12", "-s", "DISCUSSION_LOOKUP=none"]
    proc = start(tmp_path / "killed", port, *big, "-s", f"LANGUAGE_WORKER_PRECOMPUTE={precompute}")
    below = wait_for_worker(proc)
    assert below, "the language worker never started"
    time.sleep(after)
    assert proc.poll() is None, "the crawl ended before the worker could be killed"
    os.kill(below[-1], signal.SIGKILL)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-2000:]
    reference = run_crawl(tmp_path / "inside", "-a", f"port={port}", *SITE, *big, "-s", "LANGUAGE_WORKER=false")
    killed = CrawlResult(tmp_path / "killed", proc.returncode, err, manifest_stats(tmp_path / "killed"))
    assert killed.stats["pipeline/language/worker_failed"] == 1  # logged, counted, and detected in the crawl
    assert languages(killed) == languages(reference)
    assert not differences(rows(killed), rows(reference))  # asset tags, hashes and labels too, whichever side computed them
    assert "language worker failed" in err


@pytest.mark.skipif(not (PROC / "self").is_dir(), reason="needs /proc to find the worker process")
def test_the_worker_does_not_outlive_a_killed_crawl(tmp_path):
    proc = start(tmp_path / "ds", free_port())
    below = wait_for_worker(proc)
    assert below, "the language worker never started"
    os.kill(proc.pid, signal.SIGKILL)  # not reaped yet: the crawl stays a zombie while we look
    deadline = time.monotonic() + 10
    while any(alive(p) for p in below) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = [p for p in below if alive(p)]
    proc.communicate(timeout=30)  # returns: nothing else holds the crawl's output pipes
    assert not left, f"processes left behind: {left}"
