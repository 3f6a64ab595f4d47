"""Shared mode never commits blind: without the cross-run state in Redis, every known record would be labelled new
and written again (duplicate (id, version 1) rows). One worker on a real redis-server and a shared directory,
crawling a standalone demo server:

1. a first round commits;
2. Redis loses the prefix's keys (a restart without persistence): the next worker refuses to start (exit 7, one
   line naming the rebuild command), nothing is written;
3. after `python -m crawler.shared.rebuild` the next round commits and writes nothing new (no duplicate);
4. a Redis read of the dedup state that fails mid-run (a key of the wrong type answers WRONGTYPE) makes the run
   refuse its commit (exit 4): no manifest, no rows.
"""
from __future__ import annotations

import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta, timezone

import pyarrow.dataset as pads
import pytest

from .conftest import REPO, run_crawl
from .services import redis_service  # noqa: F401  (fixture)
from .test_shared_crawl import DemoProcess

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
PREFIX = "guardtest"
ID = {"articles": "article_id", "threads": "thread_id", "comments": "comment_id"}


def shared_run(out, port, redis_url, clock):
    return run_crawl(out, "-a", "serve=no", "-a", f"port={port}", "-a", "articles=6", "-s", f"REDIS_URL={redis_url}",
                     "-s", "WORKER_ID=w1", "-s", f"REDIS_KEY_PREFIX={PREFIX}", "-s", "REDIS_LEASE_SECONDS=2",
                     "-s", f"CRAWL_CLOCK={clock.isoformat()}", "-s", "LANGUAGE_WORKER=false", timeout=240)


def versions(out) -> Counter:
    """(id, version) of every committed row, counted (a duplicate shows as a count of 2)."""
    c = Counter()
    for table, col in ID.items():
        if (out / table).is_dir():
            t = pads.dataset(out / table, format="parquet", partitioning="hive").to_table(columns=[col, "version"])
            c.update((table, i, v) for i, v in zip(t[col].to_pylist(), t["version"].to_pylist()))
    return c


def manifest_count(out) -> int:
    return sum(1 for p in (out / "_manifests").glob("*.json") if not p.name.startswith("compact-"))


@pytest.fixture(scope="module")
def site():
    demo = DemoProcess(articles=6)
    yield demo.port
    demo.stop()


def test_shared_mode_refuses_without_its_state_and_never_duplicates(site, redis_service, tmp_path):  # noqa: F811
    import redis

    r = redis.Redis.from_url(redis_service.url)
    for k in r.scan_iter(match=f"{PREFIX}:*"):
        r.delete(k)
    out = tmp_path / "dataset"
    first = shared_run(out, site, redis_service.url, T0)
    assert first.returncode == 0, first.stderr[-3000:]
    rows = versions(out)
    assert rows and max(rows.values()) == 1
    runs = manifest_count(out)

    # 2. Redis lost everything under the prefix
    for k in r.scan_iter(match=f"{PREFIX}:*"):
        r.delete(k)
    lost = shared_run(out, site, redis_service.url, T0 + timedelta(hours=1))
    assert lost.returncode == 7, lost.stderr[-3000:]
    assert "python -m crawler.shared.rebuild" in lost.stderr and "Traceback" not in lost.stderr
    assert versions(out) == rows and manifest_count(out) == runs

    # 3. rebuilt from the dataset: the next round recognises every record
    rebuilt = subprocess.run([sys.executable, "-m", "crawler.shared.rebuild", str(out), "--redis-url",
                              redis_service.url, "--prefix", PREFIX], cwd=REPO, capture_output=True, text=True,
                             timeout=240)
    assert rebuilt.returncode == 0, rebuilt.stderr[-3000:]
    again = shared_run(out, site, redis_service.url, T0 + timedelta(hours=2))
    assert again.returncode == 0, again.stderr[-3000:]
    assert versions(out) == rows  # nothing changed on the site: no new row, no duplicate

    # 4. a read of the dedup state fails during the run (WRONGTYPE): the run must not commit
    key = f"{PREFIX}:dd:docs:comments"
    r.delete(key)
    r.set(key, "not a hash")
    try:
        failed = shared_run(out, site, redis_service.url, T0 + timedelta(hours=30))
    finally:
        r.delete(key)
    assert failed.returncode == 4, failed.stderr[-3000:]
    assert "dedup state not usable" in failed.stderr
    assert versions(out) == rows and manifest_count(out) == runs + 1
