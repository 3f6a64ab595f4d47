"""Parquet file handles with a deterministic lifecycle: every writer and its file are closed by the code that
opened them, on every path, so nothing is left for the garbage collector.

Why: ``pyarrow.parquet.ParquetWriter.close()`` marks the writer closed only after the footer is written. When
that write fails (disk full), the writer stays "open" and ``ParquetWriter.__del__`` retries the close when the
object is collected — at interpreter exit, after the run's last line — printing an "Exception ignored"
traceback. ``with ParquetWriter(...)`` has the same flaw (``__exit__`` is ``close()``). Here the sink is opened
by us, the writer is marked closed whatever its close does, and the sink is closed after it.
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pyarrow as pa
import pyarrow.parquet as pq


def open_writer(path: Path | str, schema: pa.Schema, **options) -> pq.ParquetWriter:
    """A ParquetWriter on a file we opened; if the writer cannot be created the file is closed at once."""
    sink = pa.OSFile(str(path), "wb")
    try:
        writer = pq.ParquetWriter(sink, schema, **options)
    except BaseException:
        sink.close()
        raise
    writer.file_handle = sink  # closed by close_writer (and by ParquetWriter.close, after the writer)
    return writer


def close_writer(writer: pq.ParquetWriter) -> None:
    """Close a writer exactly once, whatever happens; the first error (e.g. disk full at the footer) is raised,
    and neither the writer nor its file is left open for ``__del__``."""
    try:
        writer.close()
    finally:
        writer.is_open = False
        handle, writer.file_handle = getattr(writer, "file_handle", None), None
        if handle is not None and not handle.closed:
            try:
                handle.close()
            except Exception:  # noqa: BLE001 - already failing; the first error is the one reported
                pass


def close_all(closers) -> None:
    """Call every closer even when some fail; raise the first failure afterwards."""
    first = None
    for close in closers:
        try:
            close()
        except Exception as exc:  # noqa: BLE001
            first = first or exc
    if first is not None:
        raise first


@contextmanager
def writing(path: Path | str, schema: pa.Schema, **options) -> Iterator[pq.ParquetWriter]:
    """``with writing(dest, schema) as w:`` — like ``with ParquetWriter(...)`` but closed exactly once."""
    writer = open_writer(path, schema, **options)
    try:
        yield writer
    except BaseException:
        try:
            close_writer(writer)
        except Exception:  # noqa: BLE001 - the body's error is the one to report
            pass
        raise
    close_writer(writer)


@contextmanager
def reading(path: Path | str) -> Iterator[pq.ParquetFile]:
    """A ParquetFile whose file is closed when the block ends (not when the object is collected)."""
    pf = pq.ParquetFile(str(path))
    try:
        yield pf
    finally:
        pf.close(force=True)
