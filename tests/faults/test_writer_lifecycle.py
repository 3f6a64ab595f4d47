"""Parquet writers on a real full disk (a small tmpfs, root only): every writer and file handle is closed by the
code that opened it, on every error path, so nothing is left for ``ParquetWriter.__del__`` (which would print an
"Exception ignored" traceback after the run's last line)."""
from __future__ import annotations

import gc
import os
import sys
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa
import pytest

from pipelines.dataset.compact import merge_files
from pipelines.parquet import TableWriter, apply_labels, close_tables
from pipelines.schema import arrow_schema

from .dataset_checks import fill, tmpfs

TABLES = ("articles", "threads", "comments")


def row(schema: pa.Schema, n: int) -> dict:
    """A row with a value of the column's type in every column (text long enough to need real pages)."""
    out = {}
    for f in schema:
        t = f.type
        if pa.types.is_string(t):
            out[f.name] = f"{f.name} {n} " + "words of a comment body " * 20
        elif pa.types.is_integer(t):
            out[f.name] = n
        elif pa.types.is_floating(t):
            out[f.name] = 0.5
        elif pa.types.is_boolean(t):
            out[f.name] = False
        elif pa.types.is_timestamp(t):
            out[f.name] = datetime(2026, 1, 2, tzinfo=timezone.utc)
        elif pa.types.is_list(t):
            out[f.name] = [f"item {n}"]
        else:
            out[f.name] = None
    return out


def open_handles_under(path: Path) -> list[str]:
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(path)):
            found.append(target)
    return found


class Unraisable:
    """Collects what ``sys.unraisablehook`` reports (what would print as "Exception ignored in ...")."""

    def __enter__(self):
        self.seen, self.saved = [], sys.unraisablehook
        sys.unraisablehook = lambda u: self.seen.append(f"{u.object!r}: {u.exc_type.__name__}: {u.exc_value}")
        return self

    def __exit__(self, *exc):
        gc.collect()
        sys.unraisablehook = self.saved
        return False


@pytest.fixture()
def full_fs(tmp_path):
    if not Path("/proc/self/fd").is_dir():
        pytest.skip("needs /proc/self/fd to list open files")
    with tmpfs(tmp_path / "fs", "2m") as fs:
        yield fs


def test_table_writers_on_a_full_disk_are_all_closed(full_fs):
    with Unraisable() as hook:
        writers = [TableWriter(t, full_fs / "staging", "run1", row_group_rows=5, max_file_rows=1000,
                               compression="zstd") for t in TABLES]
        for w in writers:  # each table has an open file with a row group in it
            for n in range(5):
                w.add("2026-01-02", row(w.schema, n))
            assert w.writers, "the writer opened its file"
        fill(full_fs)
        for w in writers:  # buffered, not yet written
            for n in range(5, 8):
                w.add("2026-01-02", row(w.schema, n))
        with pytest.raises(OSError):
            close_tables(writers)  # the first failure is raised ...
        assert all(not w.writers for w in writers)  # ... after every table's writers were closed
        assert open_handles_under(full_fs) == []
        del writers
    assert hook.seen == []


def test_label_copy_and_compaction_merge_on_a_full_disk_close_their_files(full_fs):
    schema = arrow_schema("comments")
    src = full_fs / "staged.parquet"
    w = TableWriter("comments", full_fs, "run2", row_group_rows=20, max_file_rows=1000, compression="zstd")
    for n in range(60):
        w.add("2026-01-02", row(schema, n))
    staged = close_tables([w])
    os.rename(staged[0].path, src)
    fill(full_fs)
    with Unraisable() as hook:
        with pytest.raises(OSError):
            apply_labels(src, full_fs / "labelled.parquet", {}, "comment_id", "zstd", None)
        with pytest.raises(OSError):
            merge_files([src, src], full_fs / "merged.parquet", schema, 20)
        assert open_handles_under(full_fs) == []
    assert hook.seen == []
