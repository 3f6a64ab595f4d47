"""Readers take no lock: a reader loop (pyarrow and DuckDB, over and over) runs while crawls commit (each rename
slowed down) and while a compaction swaps partitions. Every read that completes sees a whole dataset — the
row count before or after a change, never a mix, never a duplicate (id, version) — and the compaction's replaced
files stay on disk (``_compact_retired/``) until the grace period is over."""
from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pyarrow.dataset as ds
import pytest

from .conftest import REPO, run_crawl
from .dataset_checks import check_dataset, free_port

SMALL = {"articles": "3", "comments": "2"}


class ReaderLoop(threading.Thread):
    """Reads the comments table again and again; records each completed read's (rows, distinct keys)."""

    def __init__(self, out: Path):
        super().__init__(daemon=True)
        self.out, self.stop, self.reads, self.errors, self.relisted = out, threading.Event(), [], [], 0

    def read_once(self) -> tuple[int, int] | None:
        root = self.out / "comments"
        if not root.is_dir():
            return None
        t = ds.dataset(root, format="parquet", partitioning="hive").to_table(columns=["comment_id", "version"])
        keys = set(zip(t.column("comment_id").to_pylist(), t.column("version").to_pylist()))
        n = duckdb.sql(f"SELECT count(*) FROM read_parquet('{root}/**/*.parquet')").fetchall()[0][0]
        return t.num_rows, len(keys), n

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                got = self.read_once()
            except FileNotFoundError:
                self.relisted += 1  # a partition was swapped between listing and opening: list again
                continue
            except Exception as exc:  # noqa: BLE001
                if "No such file" in str(exc) or "Cannot open" in str(exc) or "not found" in str(exc).lower():
                    self.relisted += 1
                    continue
                self.errors.append(repr(exc))
                continue
            if got is not None:
                self.reads.append(got)
            time.sleep(0.01)


@pytest.fixture(scope="module")
def busy_dataset(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("readers")
    out = tmp / "dataset"
    first = run_crawl(tmp / "r0", spider="demo", output=out, args={**SMALL, "port": str(free_port())})
    assert first.returncode == 0, first.log[-2000:]
    reader = ReaderLoop(out)
    reader.start()
    commits = []
    for k in range(2):  # other sites (ports): new rows, new files in the same partitions; slow renames
        commits.append(run_crawl(tmp / f"r{k + 1}", spider="demo", output=out,
                                 args={**SMALL, "port": str(free_port())},
                                 settings={"FAULT_INJECT_COMMIT_PAUSE": "0.3"}))
    before_compaction = len(reader.reads)
    compaction = subprocess.run([sys.executable, "-m", "scrapy", "dataset", "compact", str(out)], cwd=REPO,
                                capture_output=True, text=True, timeout=300)
    time.sleep(0.5)
    reader.stop.set()
    reader.join(timeout=30)
    return out, reader, commits, compaction, before_compaction


def test_crawls_and_compaction_succeed(busy_dataset):
    out, reader, commits, compaction, _ = busy_dataset
    assert all(c.returncode == 0 for c in commits), [c.log[-1500:] for c in commits]
    assert compaction.returncode == 0, compaction.stderr[-2000:]
    assert "partitions" in compaction.stderr


def test_every_completed_read_is_whole(busy_dataset):
    out, reader, commits, compaction, _ = busy_dataset
    assert reader.errors == []
    assert len(reader.reads) >= 10
    final = check_dataset(out)["comments"]
    allowed = set()
    for rows, keys, duck in reader.reads:
        assert rows == keys, "a read saw a duplicate (id, version): old and new files mixed"
        assert duck == rows or duck in {r for r, _, _ in reader.reads}
        allowed.add(rows)
    assert max(allowed) == final
    assert len(allowed) <= 1 + len(commits) + 2 * len(commits)  # whole runs appear, file by file renamed


def test_replaced_files_are_retired_not_deleted(busy_dataset):
    out, *_ = busy_dataset
    retired = list((out / "_compact_retired").rglob("*.parquet"))
    assert retired, "the compaction deleted the files it replaced at once"
    again = subprocess.run([sys.executable, "-m", "scrapy", "dataset", "compact", str(out), "--grace-seconds", "0"],
                           cwd=REPO, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and "removed retired" in again.stderr
    assert not (out / "_compact_retired").exists()
    check_dataset(out)
