"""Refreshing the latest view (``latest/<table>/``): never a moment without it, and never a stale one after a
failed refresh. Real Parquet files, DuckDB writing the view, a separate process watching the directory."""
from __future__ import annotations

import secrets
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.dataset.snapshot import write_snapshot

PART = "crawl_date=2026-01-01"
WATCH = """
import os, sys, time
path, stop = sys.argv[1], time.monotonic() + float(sys.argv[2])
checks = misses = 0
while time.monotonic() < stop:
    checks += 1
    if not os.path.isdir(path):
        misses += 1
print(checks, misses)
"""


def comments(out: Path, name: str, n: int) -> Path:
    path = out / "comments" / PART / name
    path.parent.mkdir(parents=True, exist_ok=True)
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    pq.write_table(pa.table({"comment_id": [secrets.token_hex(16) for _ in range(n)], "version": [1] * n,
                             "valid_from": [now] * n, "is_tombstone": [False] * n,
                             "body_text": [secrets.token_hex(40) for _ in range(n)]}), path, compression="zstd")
    return path


def test_the_view_never_disappears_while_it_is_refreshed(tmp_path):
    out = tmp_path / "dataset"
    comments(out, "part-r1-00001.parquet", 50)
    write_snapshot(out)
    watcher = subprocess.Popen([sys.executable, "-c", WATCH, str(out / "latest" / "comments"), "8"],
                               stdout=subprocess.PIPE, text=True)
    time.sleep(0.3)  # the watcher is looking
    refreshes = 0
    while watcher.poll() is None and refreshes < 400:
        assert write_snapshot(out) == {"comments": 50}
        refreshes += 1
    checks, misses = map(int, watcher.communicate(timeout=30)[0].split())
    assert refreshes >= 20 and checks > 1000, (refreshes, checks)
    assert misses == 0, f"latest/comments was missing {misses} times in {checks} looks ({refreshes} refreshes)"
    assert sorted(p.name for p in (out / "latest").iterdir()) == ["comments"]  # nothing left beside it


def test_a_failed_refresh_leaves_no_stale_view(tmp_path):
    out = tmp_path / "dataset"
    comments(out, "part-r1-00001.parquet", 50)
    assert write_snapshot(out) == {"comments": 50}
    victim = comments(out, "part-r2-00001.parquet", 3000)  # a second run's file, then its data pages damaged
    data = bytearray(victim.read_bytes())
    for k in range(64, min(len(data) - 2000, 40000)):
        data[k] ^= 0x5A
    victim.write_bytes(bytes(data))
    with pytest.raises(duckdb.Error):
        write_snapshot(out)
    # the old view (50 rows, not the 3,050 the dataset holds) must not stay as "the latest"; the card regenerated
    # after the refresh lists only the views that exist
    assert not (out / "latest" / "comments").exists()
    assert not any((out / "latest").glob(".comments.*"))
