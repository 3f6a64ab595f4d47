"""Compaction: merge the many small per-run files of each partition into few large ones, atomically.

``scrapy dataset compact OUTPUT_DIR [--table T] [--min-files 2] [--target-rows N] [--row-group-rows N]``

Under the dataset lock, for each ``<table>/crawl_date=X/`` with at least ``--min-files`` files whose files
can be packed into fewer files of at most ``--target-rows`` rows (consecutive, in name order; a file already
larger stays as it is and is hard-linked), the new partition is built under
``_staging/compact-<ts>/<table>/crawl_date=X/`` by streaming batches (memory bounded by one row group),
its row count is read back and checked against the old partition's, and the two directories are swapped
with ``renameat2(RENAME_EXCHANGE)`` — readers see the old file set or the new one, never a mix. Where
renameat2 is unavailable two renames are used (the old directory parks in ``_compact_old/<ts>/`` so a kill
between them loses nothing: the next compaction puts it back). The record ``_manifests/compact-<ts>.json`` is
written before each swap (the partition under ``pending``) and after it (under ``partitions``), so a kill at any
point leaves a record that says what every partition holds (:mod:`.compact_record`: readers apply it at once;
the next crawl, ``compact`` or ``verify`` completes it). Exit codes as crawler/exitcodes.py: 0 ok, 4 a partition
failed its check (left untouched), 6 the lock is held (2: no such directory, or bad options).

``FAULT_INJECT_KILL_AT=compact_<point>@<n>`` (fault tests only) kills the process by SIGKILL at a point of the
n-th partition compacted: ``built``, ``retired``, ``pending``, ``swapped``, ``recorded``.
"""
from __future__ import annotations

import ctypes
import errno
import logging
import os
import secrets
import shutil
import sys
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from crawler.exitcodes import LOCKED, NOT_COMMITTED, OK
from crawler.state.crawl_state import CrawlState
from crawler.state.run_context import recover_staging
from crawler.state.run_lock import LockHeld, RunLock

from ..schema import PARTITION_COLUMN, TABLES, arrow_schema
from . import cli
from .compact_record import recover_parked, reconcile, record_path, write_record  # noqa: F401 (re-exported)
from .writer import reading, writing

HELP = "merge the small per-run files of each partition into few large ones, atomically"
logger = logging.getLogger(__name__)
AT_FDCWD, RENAME_EXCHANGE = -100, 2
DEFAULT_TARGET_ROWS = 1_000_000
DEFAULT_ROW_GROUP_ROWS = 10_000
DEFAULT_GRACE_SECONDS = 3600  # replaced files stay in _compact_retired/ this long before they are deleted
RETIRED = "_compact_retired"


def retire(output: Path, partition_dir: Path, tag: str, table: str, partition: str) -> Path:
    """Link every file of a partition about to be swapped out under
    ``_compact_retired/<tag>/<table>/<partition>/`` *before* the swap, so that at every moment each committed
    name is found in its partition or there (what :mod:`pipelines.dataset.reader` relies on); the links are
    removed after the grace period."""
    dest = output / RETIRED / tag / table / partition
    dest.mkdir(parents=True, exist_ok=True)
    for f in sorted(partition_dir.glob("*.parquet")):
        if not (dest / f.name).exists():
            os.link(f, dest / f.name)
    fsync_dir(dest)
    return dest


def remove_retired(output: Path, grace: float, now: float | None = None) -> list[str]:
    """Delete retired compaction leftovers older than ``grace`` seconds (by the time they were retired)."""
    import time

    now = time.time() if now is None else now
    root, done = output / RETIRED, []
    for d in sorted(root.iterdir()) if root.is_dir() else []:
        if now - d.stat().st_mtime >= grace:
            shutil.rmtree(d, ignore_errors=True)
            done.append(f"removed retired {d.name} (older than the {grace:.0f} s grace period)")
    try:
        root.rmdir()
    except OSError:
        pass
    return done


def plan_groups(files: list[tuple[str, int]], target_rows: int) -> list[list[str]]:
    """Pack (name, rows) files, in the given order, into consecutive groups of at most target_rows rows."""
    groups, cur, cur_rows = [], [], 0
    for name, rows in files:
        if cur and cur_rows + rows > target_rows:
            groups.append(cur)
            cur, cur_rows = [], 0
        cur.append(name)
        cur_rows += rows
    return groups + ([cur] if cur else [])


def needs_compaction(n_files: int, groups: list[list[str]], min_files: int) -> str | None:
    """Why a partition is skipped, or None when it should be compacted."""
    if n_files < min_files:
        return "below_min_files"
    if len(groups) >= n_files:
        return "already_packed"
    return None


def exchange_dirs(a: Path, b: Path, parking: Path | None = None) -> str:
    """Swap directories a and b atomically (renameat2 RENAME_EXCHANGE); returns the method used.

    Fallback (no renameat2 / unsupported filesystem): b → parking, a → b; a then no longer exists and the
    old contents of b are in parking (instead of in a)."""
    fn = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if fn is not None:
        fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
        if fn(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE) == 0:
            return "renameat2"
        err = ctypes.get_errno()
        if err not in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
            raise OSError(err, os.strerror(err), str(a))
    if parking is None:
        raise OSError(errno.ENOSYS, "renameat2 unavailable and no parking directory given", str(a))
    parking.parent.mkdir(parents=True, exist_ok=True)
    os.rename(b, parking)
    os.rename(a, b)
    return "rename"


def align(batch: pa.RecordBatch, target: pa.Schema) -> pa.RecordBatch:
    """The batch in the target schema: same columns cast; nullable columns it lacks filled with nulls."""
    cols = []
    for f in target:
        if f.name in batch.schema.names:
            cols.append(batch.column(f.name).cast(f.type))
        elif f.nullable:
            cols.append(pa.nulls(batch.num_rows, f.type))
        else:
            raise ValueError(f"file lacks required column {f.name}")
    return pa.RecordBatch.from_arrays(cols, schema=target)


def target_schema(table: str, paths: list[Path]) -> pa.Schema:
    """The files' schema when they all agree, else the current schema when every file's columns fit it."""
    schemas = [pq.read_schema(p) for p in paths]
    if all(s.equals(schemas[0], check_metadata=True) for s in schemas):
        return schemas[0]
    current = arrow_schema(table)
    for p, s in zip(paths, schemas):
        if not set(s.names) <= set(current.names):
            raise ValueError(f"{p.name} has columns outside schema: {sorted(set(s.names) - set(current.names))}")
    return current


def merge_files(sources: list[Path], dest: Path, schema: pa.Schema, row_group_rows: int) -> int:
    """Stream sources into one file in row groups of row_group_rows; returns rows written."""
    n, buf, buffered = 0, [], 0
    with writing(dest, schema, compression="zstd") as writer:  # closed exactly once, also on a full disk
        for src in sources:
            with reading(src) as pf:
                for batch in pf.iter_batches(batch_size=row_group_rows):
                    buf.append(align(batch, schema))
                    buffered += batch.num_rows
                    if buffered >= row_group_rows:
                        writer.write_table(pa.Table.from_batches(buf, schema), row_group_size=row_group_rows)
                        n, buf, buffered = n + buffered, [], 0
        if buf:
            writer.write_table(pa.Table.from_batches(buf, schema), row_group_size=row_group_rows)
            n += buffered
    return n


def file_rows(paths: list[Path]) -> int:
    return sum(pq.ParquetFile(p).metadata.num_rows for p in paths)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def build_partition(table: str, old: Path, new: Path, groups: list[list[str]], tag: str,
                    row_group_rows: int) -> list[str]:
    """Write the compacted partition into `new` (merged groups; single files hard-linked). Returns names."""
    new.mkdir(parents=True)
    schema = target_schema(table, [old / n for g in groups for n in g])
    names, seq = [], 0
    for group in groups:
        if len(group) == 1:
            os.link(old / group[0], new / group[0])
            names.append(group[0])
            continue
        seq += 1
        name = f"part-{tag}-{seq:05d}.parquet"
        merge_files([old / n for n in group], new / name, schema, row_group_rows)
        with open(new / name, "rb") as fh:
            os.fsync(fh.fileno())
        names.append(name)
    fsync_dir(new)
    return names


def bump(stats: dict, key: str) -> None:
    stats[key] = stats.get(key, 0) + 1


def fault_kill(point: str, n: int) -> None:
    """Fault tests only: die by SIGKILL at ``FAULT_INJECT_KILL_AT=compact_<point>@<n>`` (n: the partition)."""
    if os.environ.get("FAULT_INJECT_KILL_AT") == f"compact_{point}@{n}":
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


class Progress:
    """The compaction's record, written before and after each partition's swap (see :mod:`.compact_record`)."""

    def __init__(self, output: Path, tag: str, started: datetime):
        self.path, self.parts, self.count = record_path(output, tag), [], 0
        self.record = {"kind": "compaction", "compaction_id": tag, "started_at": started.isoformat(),
                       "partitions": self.parts, "pending": [], "files_before": 0, "files_after": 0, "rows": {}}

    def write(self, pending: list[dict], **extra) -> None:
        rows: dict[str, int] = {}
        for e in self.parts:
            rows[e["table"]] = rows.get(e["table"], 0) + e["rows"]
        self.record.update(extra, pending=pending, finished_at=datetime.now(timezone.utc).isoformat(), rows=rows,
                           files_before=sum(len(e["files_before"]) for e in self.parts),
                           files_after=sum(len(e["files_after"]) for e in self.parts))
        write_record(self.path, self.record)

    def pending(self, entry: dict) -> None:
        self.write([entry])  # from here on, the partition holds what its files_after say once they are in it

    def swapped(self, entry: dict) -> None:
        self.parts.append(entry)
        self.write([])


def compact_partition(output: Path, old: Path, table: str, tag: str, args, stats: dict,
                      progress: Progress | None = None) -> dict | None:
    """Compact one partition directory; returns its record entry, or None when skipped/failed."""
    key = f"{table}/{old.name}"
    sized = [(p.name, pq.ParquetFile(p).metadata.num_rows) for p in sorted(old.glob("*.parquet"))]
    groups = plan_groups(sized, args.target_rows)
    skip = needs_compaction(len(sized), groups, args.min_files)
    if skip:
        bump(stats, f"compact/skipped/{skip}")
        logger.info("skip %s: %s (%d files, %d groups)", key, skip, len(sized), len(groups))
        return None
    new, parking = output / "_staging" / tag / table / old.name, output / "_compact_old" / tag / table / old.name
    before_rows = sum(r for _, r in sized)
    retired, entry = None, None
    if progress is not None:
        progress.count += 1
    seq = progress.count if progress is not None else 1  # the n of FAULT_INJECT_KILL_AT=compact_<point>@<n>
    try:
        names = build_partition(table, old, new, groups, tag, args.row_group_rows)
        after_rows = file_rows([new / n for n in names])
        if after_rows != before_rows:
            raise ValueError(f"row count changed: {before_rows} before, {after_rows} after")
        fault_kill("built", seq)
        retired = retire(output, old, tag, table, old.name)  # old names stay findable from now on
        fault_kill("retired", seq)
        entry = {"table": table, "partition": old.name, "files_before": [n for n, _ in sized], "files_after": names,
                 "rows": after_rows}
        if progress is not None:
            progress.pending(entry)  # written before the swap: a kill after it leaves a record that says so
        fault_kill("pending", seq)
        method = exchange_dirs(new, old, parking=parking)
    except (OSError, ValueError, pa.ArrowException) as exc:
        bump(stats, "compact/failed")
        logger.error("compaction of %s abandoned, partition left as it was: %s", key, exc)
        if parking.exists() and not old.exists():
            os.rename(parking, old)  # a fallback swap failed between its two renames: put the old files back
        shutil.rmtree(new, ignore_errors=True)
        if retired is not None:
            shutil.rmtree(retired, ignore_errors=True)
        if entry is not None and progress is not None:
            try:
                progress.write([])  # not swapped: the partition holds its old files
            except OSError as exc2:  # the pending entry stays; it is not swapped, so readers ignore it
                logger.error("compaction record of %s not updated: %s", key, exc2)
        return None
    fault_kill("swapped", seq)
    entry["swap"] = method
    if progress is not None:
        progress.swapped(entry)
    fault_kill("recorded", seq)
    bump(stats, f"compact/swap/{method}")
    bump(stats, "compact/partitions")
    logger.info("swapped %s with %s (%d files -> %d, %d rows)", key, method, len(sized), len(names), after_rows)
    fsync_dir(old.parent)
    # the swapped-out directory goes; its files live on as the retired links until the grace period is over
    shutil.rmtree(new if method == "renameat2" else parking, ignore_errors=True)
    if method != "renameat2":
        shutil.rmtree(parking.parent.parent, ignore_errors=True)
    return entry


def compact(output: Path, args) -> tuple[int, dict]:
    """Compact every partition of the chosen tables (the lock must be held). Returns (exit code, record)."""
    started = datetime.now(timezone.utc)
    tag = f"compact-{started:%Y%m%dT%H%M%SZ}-{secrets.token_hex(2)}"
    stats: dict[str, int] = {}
    # first finish what killed crawls left: a journal names files by their partition paths, so it must be
    # completed before any of them is replaced (or every later crawl would find them gone)
    state_path = output / "_state" / "crawl.sqlite"
    state = CrawlState(state_path) if state_path.exists() else None
    try:
        forward, discarded, events = recover_staging(output, state)
    finally:
        if state is not None:
            state.close()
    recovered = [f"rolled forward run {r}" for r in forward] + [f"discarded run leftovers {r}" for r in discarded]
    recovered += [f"{e}" for e in events]
    for r in forward:
        bump(stats, "compact/recovered/rolled_forward")
    recovered += reconcile(output)  # a compaction killed part-way: its record completed (before retired go)
    recovered += remove_retired(output, getattr(args, "grace_seconds", DEFAULT_GRACE_SECONDS))
    for d in sorted((output / "_staging").glob("compact-*")):
        shutil.rmtree(d, ignore_errors=True)  # leftovers of a killed compaction: copies or old files
        recovered.append(f"removed {d.name}")
    for msg in recovered:
        logger.warning("recovery: %s", msg)
    progress = Progress(output, tag, started)
    for table in [args.table] if args.table else list(TABLES):
        for old in sorted((output / table).glob(f"{PARTITION_COLUMN}=*")):
            compact_partition(output, old, table, tag, args, stats, progress)
    shutil.rmtree(output / "_staging" / tag, ignore_errors=True)
    try:
        (output / "_staging").rmdir()
    except OSError:
        pass
    if progress.parts:
        progress.write([], recovered=recovered, stats=stats)
    elif progress.path.exists():
        progress.path.unlink()  # every partition failed its check: nothing was swapped, the record goes
    record = {**progress.record, "recovered": recovered, "stats": stats}
    return (NOT_COMMITTED if stats.get("compact/failed") else OK), record


def add_arguments(parser) -> None:
    parser.add_argument("--table", choices=list(TABLES))
    parser.add_argument("--min-files", type=int, default=2)
    parser.add_argument("--target-rows", type=int, default=DEFAULT_TARGET_ROWS)
    parser.add_argument("--row-group-rows", type=int, default=DEFAULT_ROW_GROUP_ROWS)
    parser.add_argument("--grace-seconds", type=float, default=DEFAULT_GRACE_SECONDS,
                        help="replaced files are kept this long in _compact_retired/ before deletion")


def run(output_dir: Path, args) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s [%(name)s] %(levelname)s: %(message)s")
    output = Path(output_dir).resolve()
    try:
        lock = RunLock(output, owner="compact").acquire()
    except LockHeld as exc:
        print(f"compact: refusing to run, the dataset is locked: {exc}", file=sys.stderr)
        return LOCKED
    try:
        code, record = compact(output, args)
    finally:
        lock.release()
    print(f"compact: {len(record['partitions'])} partitions, files {record['files_before']} -> "
          f"{record['files_after']}, rows {record['rows']}, stats {record['stats']}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(cli.main(sys.modules[__name__]))
