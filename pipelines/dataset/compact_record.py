"""The compaction record (``_manifests/compact-<tag>.json``) and the recovery of a compaction killed part-way.

A compaction swaps its partitions one by one (:mod:`pipelines.dataset.compact`). Its record is written *before*
each swap, with that partition under ``pending`` (the files it replaces, ``files_before``, and the files that
replace them, ``files_after``), and again right after the swap, the partition moved to ``partitions``. So at
every moment the record says what the partitions hold:

* a ``partitions`` entry: swapped;
* a ``pending`` entry: swapped exactly when every one of its ``files_after`` is in the partition (the merged
  ``part-<tag>-N`` names exist nowhere else; a swap is one ``renameat2`` exchange, or two renames whose
  interruption :func:`recover_parked` undoes), else not.

Readers (:mod:`pipelines.dataset.reader`) and ``scrapy dataset verify`` apply pending entries by that test, so
a kill at any point (after the build, after the retired links, after the pending record, after the swap, after
the record) leaves a dataset read correctly — no row lost, none twice — even before anything is recovered.
:func:`reconcile` (the caller holds the dataset lock; every crawl at its start, ``compact`` and ``verify`` run
it) turns pending entries into swapped partitions or drops them, deletes a record left with nothing, and puts
back the old partition of an interrupted fallback swap. It also writes the record an older version never wrote
(:func:`adopt_orphans`).
"""
from __future__ import annotations

import json
import os
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pyarrow.parquet as pq

PARTITION_COLUMN = "crawl_date"  # as pipelines.schema
TABLES = ("articles", "threads", "comments")  # as pipelines.schema
RETIRED = "_compact_retired"  # as pipelines.dataset.compact
PARKED = "_compact_old"


class MalformedRecord(ValueError):
    """A compaction record, or one of its partition entries, lacks what it must hold."""


def record_path(output: Path, tag: str) -> Path:
    return output / "_manifests" / f"{tag}.json"


def write_record(path: Path, record: dict) -> None:
    """Atomically (temporary file, fsync, rename, fsync of the directory)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w") as fh:
        json.dump(record, fh, indent=1, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def check_entry(entry) -> dict:
    """The entry when it names a table, a partition and the lists of names; MalformedRecord otherwise."""
    if not isinstance(entry, dict):
        raise MalformedRecord(f"partition entry is not an object: {entry!r}"[:200])
    for key in ("table", "partition"):
        if not isinstance(entry.get(key), str) or not entry[key]:
            raise MalformedRecord(f"partition entry without {key!r}: {json.dumps(entry, default=str)}"[:200])
    for key in ("files_before", "files_after"):
        names = entry.get(key) or []
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise MalformedRecord(f"{entry['table']}/{entry['partition']}: {key!r} is not a list of file names")
    return entry


def is_swapped(output: Path, entry: dict) -> bool:
    """Does the partition hold the entry's compacted files (its swap happened)?"""
    live = output / entry["table"] / entry["partition"]
    after = entry.get("files_after") or []
    return bool(after) and all((live / n).exists() for n in after)


def applied_partitions(output: Path, record: dict) -> list[dict]:
    """The partition entries of a compaction record that hold now: its swapped partitions and the pending ones
    whose swap happened. MalformedRecord when an entry is malformed."""
    parts = [check_entry(e) for e in record.get("partitions") or []]
    pending = [check_entry(e) for e in record.get("pending") or []]
    return parts + [e for e in pending if is_swapped(output, e)]


def recover_parked(output: Path) -> list[str]:
    """Finish fallback swaps a kill interrupted: parked old partitions are deleted when their compacted
    files are in place, else their files go back into the partition. Returns what was done."""
    done, root = [], output / PARKED
    for parked in sorted(root.glob(f"*/*/{PARTITION_COLUMN}=*")) if root.is_dir() else []:
        tag, table = parked.parent.parent.name, parked.parent.name
        live = output / table / parked.name
        if live.is_dir() and any(p.name.startswith(f"part-{tag}-") for p in live.iterdir()):
            shutil.rmtree(parked)
            done.append(f"deleted parked {table}/{parked.name}")
        else:
            live.mkdir(parents=True, exist_ok=True)
            for f in parked.iterdir():
                if not (live / f.name).exists():
                    os.rename(f, live / f.name)
            shutil.rmtree(parked)
            done.append(f"restored parked {table}/{parked.name}")
    shutil.rmtree(root, ignore_errors=True)
    return done


def needs_recovery(output: Path) -> bool:
    """Is a compaction's work left half done (a pending record entry, a parked partition, merged files of a
    compaction that has no record)?"""
    if (output / PARKED).is_dir():
        return True
    recorded = set()
    for p in sorted((output / "_manifests").glob("compact-*.json")):
        recorded.add(p.stem)
        try:
            if json.loads(p.read_text()).get("pending"):
                return True
        except (OSError, ValueError, AttributeError):
            continue
    return any(f.name[len("part-"):].rsplit("-", 1)[0] not in recorded
               for t in TABLES for f in output.glob(f"{t}/{PARTITION_COLUMN}=*/part-compact-*.parquet"))


def reconcile(output: str | Path) -> list[str]:
    """Complete the records of compactions killed part-way (the caller holds the dataset lock): a pending
    partition that was swapped becomes a swapped partition, one that was not is dropped (its retired links go:
    the partition still holds those files); a record left with no partition is deleted. Returns what was done.
    A malformed record is left as it is (``scrapy dataset verify`` reports it)."""
    output = Path(output)
    done = recover_parked(output)
    for p in sorted((output / "_manifests").glob("compact-*.json")):
        try:
            record = json.loads(p.read_text())
            if not isinstance(record, dict) or not record.get("pending"):
                continue
            pending = [check_entry(e) for e in record["pending"]]
            parts = [check_entry(e) for e in record.get("partitions") or []]
        except (OSError, ValueError, AttributeError):
            continue
        tag = record.get("compaction_id") or p.stem
        for entry in pending:
            key = f"{entry['table']}/{entry['partition']}"
            if is_swapped(output, entry):
                parts.append(entry)
                done.append(f"compaction {tag}: {key} was swapped; recorded")
            else:
                shutil.rmtree(output / RETIRED / tag / entry["table"] / entry["partition"], ignore_errors=True)
                done.append(f"compaction {tag}: {key} was not swapped; left as it was")
        if parts:
            record.update(partitions=parts, pending=[], recovered_at=datetime.now(timezone.utc).isoformat(),
                          files_before=sum(len(e.get("files_before") or []) for e in parts),
                          files_after=sum(len(e.get("files_after") or []) for e in parts))
            write_record(p, record)
        else:
            p.unlink()
            done.append(f"compaction {tag}: nothing was swapped; record removed")
    return done + adopt_orphans(output)


def adopt_orphans(output: Path) -> list[str]:
    """Datasets an older version left behind: a compaction killed after a swap, before its record (which came only
    at the very end), left merged ``part-compact-<tag>-N`` files no record names while the run manifests name
    the files they replaced, now missing. When one such compaction's files in a partition hold exactly the rows
    the missing names held (the manifests' row counts), the record is written now (``"adopted": true``);
    otherwise nothing is changed (``verify --quarantine`` can record the names as lost)."""
    manifests = output / "_manifests"
    known, named, replaced = set(), {}, set()
    for p in sorted(manifests.glob("*.json")):
        try:
            m = json.loads(p.read_text())
        except (OSError, ValueError):
            continue
        if not isinstance(m, dict):
            continue
        if m.get("kind") == "compaction":
            known.add(m.get("compaction_id") or p.stem)
            try:
                for e in applied_partitions(output, m):
                    replaced.update(f"{e['table']}/{e['partition']}/{n}" for n in e.get("files_before") or [])
            except MalformedRecord:
                continue
        else:
            for f in m.get("files") or []:
                if isinstance(f, dict) and isinstance(f.get("path"), str) and isinstance(f.get("rows"), int):
                    named[f["path"]] = f["rows"]
    for q in (output / "_quarantine").glob("*/QUARANTINE.json"):
        try:
            replaced.update(json.loads(q.read_text()).get("files") or [])
        except (OSError, ValueError, AttributeError, TypeError):
            continue
    done = []
    for table in TABLES:
        for part in sorted((output / table).glob(f"{PARTITION_COLUMN}=*")):
            tags: dict[str, list[str]] = {}
            for f in sorted(part.glob("part-compact-*.parquet")):
                tag = f.name[len("part-"):].rsplit("-", 1)[0]
                if tag not in known:
                    tags.setdefault(tag, []).append(f.name)
            if len(tags) != 1:
                continue
            (tag, after), = tags.items()
            prefix = f"{table}/{part.name}/"
            missing = [rel for rel in named if rel.startswith(prefix) and rel not in replaced
                       and not (output / rel).exists()]
            try:
                after_rows = sum(pq.ParquetFile(part / n).metadata.num_rows for n in after)
            except Exception:  # noqa: BLE001 - an unreadable file: verify reports it
                continue
            if not missing or sum(named[rel] for rel in missing) != after_rows:
                continue
            entry = {"table": table, "partition": part.name, "files_before": [rel[len(prefix):] for rel in missing],
                     "files_after": after, "rows": after_rows, "swap": "adopted"}
            path = record_path(output, tag)
            try:
                record = json.loads(path.read_text()) if path.exists() else None
            except (OSError, ValueError):
                record = None
            now = datetime.now(timezone.utc).isoformat()
            record = record if isinstance(record, dict) else {
                "kind": "compaction", "compaction_id": tag, "started_at": now, "partitions": [], "pending": [],
                "adopted": True}
            record["partitions"] = list(record.get("partitions") or []) + [entry]
            record.update(finished_at=now, recovered_at=now)
            write_record(path, record)
            done.append(f"compaction {tag}: {table}/{part.name} was swapped by a compaction without a record "
                        f"({len(missing)} files -> {len(after)}, {after_rows} rows); record written")
    return done
