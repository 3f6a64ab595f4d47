"""What every state fault test asserts about the dataset afterwards: every file readable by pyarrow and DuckDB,
0 duplicate (id, version) rows, and the row counts (compared by the tests with an undisturbed run)."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

ID = {"articles": "article_id", "threads": "thread_id", "comments": "comment_id"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def visible_files(out: Path) -> list[Path]:
    return sorted(p for t in ID for p in (out / t).rglob("*.parquet")) if out.exists() else []


def check_dataset(out: Path) -> dict[str, int]:
    """Assert the dataset is whole; return its row counts per table."""
    for f in visible_files(out):  # every file, by itself, with both readers
        assert pq.ParquetFile(f).read().num_rows >= 0
        duckdb.sql(f"SELECT count(*) FROM read_parquet('{f}')").fetchall()
    counts = {}
    for table, key in ID.items():
        if not (out / table).is_dir() or not list((out / table).rglob("*.parquet")):
            counts[table] = 0
            continue
        t = ds.dataset(out / table, format="parquet", partitioning="hive").to_table(columns=[key, "version"])
        rows = list(zip(t.column(key).to_pylist(), t.column("version").to_pylist()))
        assert len(rows) == len(set(rows)), f"{table}: {len(rows) - len(set(rows))} duplicate (id, version) rows"
        n, dups = duckdb.sql(f"SELECT count(*), count(*) - count(DISTINCT ({key}, version)) FROM "
                             f"read_parquet('{out / table}/**/*.parquet', hive_partitioning = true)").fetchall()[0]
        assert dups == 0 and n == len(rows)
        counts[table] = n
    return counts


@contextmanager
def tmpfs(path: Path, size: str = "4m"):
    """A real small tmpfs mounted at ``path`` (root only; the test is skipped cleanly otherwise)."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    path.mkdir(parents=True, exist_ok=True)
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True,
                         text=True)
    if res.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {res.stderr.strip()}")
    try:
        yield path
    finally:
        for _ in range(20):
            if subprocess.run(["umount", str(path)], capture_output=True).returncode == 0:
                break
            time.sleep(0.2)


def fill(directory: Path, leave: int = 0) -> Path:
    """Fill the filesystem holding ``directory`` until at most ``leave`` bytes are free; returns the filler."""
    filler = directory / ".filler"
    with open(filler, "ab") as fh:
        chunk = b"\0" * 65536
        while True:
            st = os.statvfs(directory)
            free = st.f_bavail * st.f_frsize
            if free <= leave:
                break
            try:
                fh.write(chunk[: max(1, min(len(chunk), free - leave))])
                fh.flush()
            except OSError:
                break
    return filler
