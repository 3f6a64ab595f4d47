"""Readers take no lock: reader loops run while crawls commit (each rename slowed down) and while compactions swap
partitions.

* A reader that lists directories (pyarrow dataset, DuckDB glob) may find a listed name gone and must list
  again; every read that completes sees no mix of old and new files and no duplicate (id, version).
* A reader that follows the documented way (:mod:`pipelines.dataset.reader`: the manifests' committed file set,
  each file found in its partition or among the retired ones) never fails and only ever sees whole runs: its
  row count is exactly the count after some committed run, never a run half renamed in.
* The compaction's replaced files stay on disk (``_compact_retired/``) until the grace period is over."""
from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pyarrow.dataset as ds
import pytest

from pipelines.dataset.reader import committed_paths, read_committed

from .conftest import REPO, run_crawl
from .dataset_checks import check_dataset, free_port

SMALL = {"articles": "3", "comments": "2"}


class ReaderLoop(threading.Thread):
    """Reads the comments table again and again by listing directories (pyarrow dataset, then a DuckDB glob);
    records each completed read as (start, end, pyarrow rows, pyarrow distinct keys, DuckDB rows, DuckDB distinct
    keys), the times from ``time.monotonic()``."""

    def __init__(self, out: Path):
        super().__init__(daemon=True)
        self.out, self.stop, self.reads, self.errors, self.relisted = out, threading.Event(), [], [], 0

    def read_once(self) -> tuple | None:
        root = self.out / "comments"
        if not root.is_dir():
            return None
        start = time.monotonic()
        t = ds.dataset(root, format="parquet", partitioning="hive").to_table(columns=["comment_id", "version"])
        keys = set(zip(t.column("comment_id").to_pylist(), t.column("version").to_pylist()))
        n, n_keys = self.con.sql(f"SELECT count(*), count(DISTINCT (comment_id, version)) "
                                 f"FROM read_parquet('{root}/**/*.parquet')").fetchall()[0]
        return start, time.monotonic(), t.num_rows, len(keys), n, n_keys

    def run(self) -> None:
        self.con = duckdb.connect()  # one connection per thread (a connection serves one call at a time)
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


class ManifestReaderLoop(threading.Thread):
    """Reads the comments table the documented way, again and again: pyarrow through ``read_committed``
    (every file opened first) and DuckDB over ``committed_paths`` (resolved again when a file moved between
    resolving and DuckDB opening it). Records every completed read's (rows, distinct keys, reader)."""

    def __init__(self, out: Path):
        super().__init__(daemon=True)
        self.out, self.stop, self.reads, self.errors, self.duck_retries = out, threading.Event(), [], [], 0

    def run(self) -> None:
        con = duckdb.connect()
        while not self.stop.is_set():
            try:
                t = read_committed(self.out, "comments", columns=["comment_id", "version"])
                keys = set(zip(t.column("comment_id").to_pylist(), t.column("version").to_pylist()))
                self.reads.append((t.num_rows, len(keys), "pyarrow"))
                paths = committed_paths(self.out, "comments")
                if paths:
                    try:
                        got = con.sql(f"SELECT count(*), count(DISTINCT (comment_id, version)) FROM "
                                         f"read_parquet({[str(p) for p in paths]!r})").fetchall()[0]
                    except duckdb.IOException:
                        self.duck_retries += 1  # a compaction moved a file after it was resolved
                        continue
                    self.reads.append((got[0], got[1], "duckdb"))
            except Exception as exc:  # noqa: BLE001 - any failure of the documented way is a defect
                self.errors.append(repr(exc))
            time.sleep(0.005)


def comment_rows(out: Path) -> int:
    return check_dataset(out)["comments"]


def compact(out: Path, *extra: str):
    return subprocess.run([sys.executable, "-m", "scrapy", "dataset", "compact", str(out), *extra], cwd=REPO,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def busy_dataset(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("readers")
    out = tmp / "dataset"
    first = run_crawl(tmp / "r0", spider="demo", output=out, args={**SMALL, "port": str(free_port())})
    assert first.returncode == 0, first.log[-2000:]
    whole = [comment_rows(out)]  # the comment count after each committed run
    reader, documented = ReaderLoop(out), ManifestReaderLoop(out)
    reader.start()
    documented.start()
    commits, compactions = [], []
    reader.commit_windows = []  # (start, end) of each commit run, time.monotonic()

    def commit(k: int) -> None:  # another site (port): new rows, new files in the same partitions; slow renames
        start = time.monotonic()
        commits.append(run_crawl(tmp / f"r{k}", spider="demo", output=out, args={**SMALL, "port": str(free_port())},
                                 settings={"FAULT_INJECT_COMMIT_PAUSE": "0.3"}))
        reader.commit_windows.append((start, time.monotonic()))
        whole.append(comment_rows(out))

    commit(1)
    commit(2)
    before_compaction = len(reader.reads)
    compactions.append(compact(out))
    commit(3)
    compactions.append(compact(out))  # replaces the first compaction's files too
    time.sleep(0.5)
    for loop in (reader, documented):
        loop.stop.set()
        loop.join(timeout=30)
    return out, reader, commits, compactions, before_compaction, documented, whole


def test_crawls_and_compaction_succeed(busy_dataset):
    out, reader, commits, compactions, *_ = busy_dataset
    assert all(c.returncode == 0 for c in commits), [c.log[-1500:] for c in commits]
    for compaction in compactions:
        assert compaction.returncode == 0, compaction.stderr[-2000:]
        assert "partitions" in compaction.stderr and "partitions, files 0" not in compaction.stderr


def test_every_completed_read_is_whole(busy_dataset):
    """A listing reader's read is whole: no duplicate (id, version) in pyarrow or DuckDB (a swapped partition is
    never seen half old, half new), and its row count is exactly the committed count at that moment whenever no
    commit was renaming files in (compactions included: a swap changes files, never rows); a read that overlaps
    a commit lies between the counts before and after that commit (a listing sees a run renamed in file by file)."""
    out, reader, commits, compactions, _, _, whole = busy_dataset
    assert reader.errors == []
    assert len(reader.reads) >= 10
    windows = reader.commit_windows
    assert len(windows) == len(commits) == len(whole) - 1
    during_compaction = 0
    for start, end, rows, keys, duck, duck_keys in reader.reads:
        assert rows == keys, "pyarrow: a duplicate (id, version): old and new files mixed"
        assert duck == duck_keys, "DuckDB: a duplicate (id, version): old and new files mixed"
        done = sum(1 for _, e in windows if e <= start)  # commits finished before this read began
        overlapping = [k for k, (s, e) in enumerate(windows) if s < end and e > start]
        for n in (rows, duck):
            if not overlapping:
                assert n == whole[done], f"{n} rows read between commits, {whole[done]} committed"
            else:
                assert whole[min(overlapping)] <= n <= whole[max(overlapping) + 1], (n, whole, overlapping)
        during_compaction += not overlapping and windows[1][1] <= start and end <= windows[2][0]
    assert during_compaction >= 1, "no read fell between the commits around the first compaction"
    assert max(r[2] for r in reader.reads) == whole[-1] == check_dataset(out)["comments"]


def test_replaced_files_are_retired_not_deleted(busy_dataset):
    out, *_ = busy_dataset
    retired = list((out / "_compact_retired").rglob("*.parquet"))
    assert retired, "the compaction deleted the files it replaced at once"
    again = subprocess.run([sys.executable, "-m", "scrapy", "dataset", "compact", str(out), "--grace-seconds", "0"],
                           cwd=REPO, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and "removed retired" in again.stderr
    assert not (out / "_compact_retired").exists()
    check_dataset(out)


def test_the_documented_reader_never_fails_and_sees_only_whole_runs(busy_dataset):
    out, _, commits, compactions, _, documented, whole = busy_dataset
    assert documented.errors == []
    by_reader = {name: [r for r in documented.reads if r[2] == name] for name in ("pyarrow", "duckdb")}
    assert len(by_reader["pyarrow"]) >= 20 and len(by_reader["duckdb"]) >= 10
    for rows, keys, name in documented.reads:
        assert rows == keys, f"{name}: a duplicate (id, version): old and new files mixed"
        assert rows in whole, f"{name}: {rows} rows is no committed state ({whole}): a run seen half renamed in"
    seen = {rows for rows, _, _ in documented.reads}
    assert max(seen) == whole[-1] == comment_rows(out)
    assert read_committed(out, "comments").num_rows == whole[-1]
