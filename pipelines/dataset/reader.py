"""Reading a dataset while crawls commit and compactions run, without a lock: the committed file set.

A directory listing is the namespace itself: a reader that lists a partition and then opens its files can find
a name gone when a compaction swapped the partition in between, and it can see a run half renamed in. This
module gives readers what the writers promise instead:

* :func:`manifest_files` — the files of every committed run (``_manifests/<run>.json``, written after all its
  files are in place), with each compaction record (``_manifests/compact-*.json``) applied in order (its
  ``files_before`` replaced by its ``files_after``; a partition a killed compaction left pending counts once
  its compacted files are in the partition, :mod:`.compact_record`) and quarantined files left out. Only whole
  runs, each row once.
* Each name is found where it lives: in its partition or, once a compaction replaced it, in
  ``_compact_retired/<compaction>/<table>/<partition>/`` (compaction links every file there *before* its swap
  and keeps it for the grace period, ``--grace-seconds``, default 3600).
* :func:`read_committed` opens every file of the set first (an open file stays readable whatever is renamed or
  deleted afterwards), then reads: the result is the dataset as of one moment, never a mix of old and new
  files, never a duplicate (id, version), and never an error from a concurrent commit or compaction.

DuckDB: ``duckdb.read_parquet([str(p) for p in committed_paths(out, "comments")])`` reads the same set; the
paths stay valid for the grace period after they were resolved.
"""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ..schema import arrow_schema
from .compact_record import MalformedRecord, applied_partitions

RETIRED = "_compact_retired"  # as pipelines.dataset.compact


def _when(m: dict, path: Path) -> float:
    try:
        return datetime.fromisoformat(m["finished_at"]).timestamp()
    except (KeyError, TypeError, ValueError):
        return path.stat().st_mtime


def manifest_files(output: str | Path, table: str | None = None) -> list[str]:
    """Paths (relative to OUTPUT_DIR, ``<table>/crawl_date=X/<name>``) of the committed file set, in commit
    order. Unreadable manifests are skipped (``scrapy dataset verify`` reports them)."""
    output = Path(output)
    events = []
    for p in sorted((output / "_manifests").glob("*.json")):
        try:
            m = json.loads(p.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(m, dict):
            events.append((_when(m, p), p.name, m))
    current: dict[str, None] = {}  # ordered set
    for _, _, m in sorted(events, key=lambda e: (e[0], e[1])):
        if m.get("kind") == "compaction":
            try:  # its swapped partitions, and those of a compaction killed part-way whose swap happened
                parts = applied_partitions(output, m)
            except MalformedRecord:
                continue  # scrapy dataset verify reports it
            for part in parts:
                prefix = f"{part['table']}/{part['partition']}/"
                for n in part.get("files_before") or []:
                    current.pop(prefix + n, None)
                for n in part.get("files_after") or []:
                    current[prefix + n] = None
        else:
            for f in m.get("files") or []:
                if isinstance(f, dict) and f.get("path"):
                    current[f["path"]] = None
    for q in (output / "_quarantine").glob("*/QUARANTINE.json"):
        try:
            for rel in json.loads(q.read_text()).get("files") or []:
                current.pop(rel, None)
        except (OSError, ValueError, AttributeError):
            continue
    return [rel for rel in current if table is None or rel.split("/", 1)[0] == table]


def locate(output: Path, rel: str) -> Path | None:
    """Where a committed file is now: its partition, or a compaction's retired copy (newest first)."""
    live = output / rel
    if live.exists():
        return live
    retired = sorted((output / RETIRED).glob(f"*/{rel}"), reverse=True)
    return retired[0] if retired else None


def committed_paths(output: str | Path, table: str) -> list[Path]:
    """The committed file set of ``table`` as paths that exist now; FileNotFoundError names a committed file
    that is nowhere (removed by hand, or retired longer than the grace period ago)."""
    output = Path(output)
    out = []
    for rel in manifest_files(output, table):
        where = locate(output, rel)
        if where is None:
            raise FileNotFoundError(f"committed file {rel} is neither in its partition nor retired")
        out.append(where)
    return out


def _open_all(output: Path, table: str, attempts: int = 3):
    """Open every file of the set; a name that moved between resolving and opening is resolved again."""
    for attempt in range(attempts):
        handles = []
        try:
            for rel in manifest_files(output, table):
                where = locate(output, rel)
                if where is None:
                    raise FileNotFoundError(f"committed file {rel} is neither in its partition nor retired")
                handles.append((rel, open(where, "rb")))
            return handles
        except FileNotFoundError:
            for _, fh in handles:
                fh.close()
            if attempt == attempts - 1:
                raise
    return []


def read_committed(output: str | Path, table: str, columns: list[str] | None = None) -> pa.Table:
    """The committed rows of ``table`` (all versions) as one Arrow table, with ``crawl_date`` from the path."""
    output = Path(output)
    handles = _open_all(output, table)
    try:
        parts = []
        for rel, fh in handles:
            t = pq.read_table(fh, columns=columns)
            date = rel.split("/")[1].split("=", 1)[1]
            parts.append(t.append_column("crawl_date", pa.array([date] * t.num_rows, pa.string())))
        if not parts:
            schema = arrow_schema(table)
            fields = [schema.field(c) for c in columns] if columns else list(schema)
            return pa.schema(fields + [pa.field("crawl_date", pa.string())]).empty_table()
        return pa.concat_tables(parts, promote_options="default")
    finally:
        for _, fh in handles:
            fh.close()
