"""Verify a committed dataset: every Parquet file readable, every manifest readable, every committed file present.

``scrapy dataset verify OUTPUT_DIR [--quick] [--quarantine]``

* default (deep): every file's footer is parsed and every row group decoded; its row count must equal the
  footer's. Prints one line per problem and exits 4 when there is any (0 otherwise).
* ``--quick``: sizes, the ``PAR1`` magic at both ends, the footer length and the footer itself (no data
  pages): what every crawl runs at its start (:func:`quick_problems`), so a damaged file makes the run refuse
  with its name (exit 4) instead of being noticed later as "dataset card not written".
* ``--quarantine``: damaged files are moved to ``_quarantine/<their path>`` (kept for inspection), files a run
  manifest names that are gone are recorded there as lost, and the crawl and dedup states are set aside, so the
  next crawl rebuilds them from what is left and fetches the lost rows again.

A compaction killed part-way (its record still has a ``pending`` partition) is completed first, under the
dataset lock (:mod:`.compact_record`), as every crawl and ``compact`` do at their start.

Manifests (``_manifests/*.json``) must parse; a file a run manifest names must exist unless a compaction
record lists it among the files it replaced.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pyarrow.parquet as pq

from crawler.exitcodes import NOT_COMMITTED, OK

from ..schema import TABLES
from . import cli
from .compact_record import MalformedRecord, applied_partitions, needs_recovery, reconcile

HELP = "check that every committed Parquet file and manifest is readable (--quick: footers only)"
MAGIC = b"PAR1"


@dataclass(frozen=True)
class Problem:
    path: str  # relative to OUTPUT_DIR
    reason: str
    missing: bool = False  # a file a run manifest names is gone (--quarantine records it as lost)

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


def committed_files(output: Path) -> list[Path]:
    """Every visible Parquet file of the tables (what readers glob), staging and ``_``/``.`` dirs excluded."""
    out = []
    for table in TABLES:
        root = output / table
        if not root.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(("_", ".")))
            out += [Path(dirpath) / f for f in sorted(filenames) if f.endswith(".parquet") and not f.startswith((".", "_"))]
    return out


def footer_problem(path: Path) -> str | None:
    """Cheap: size, magic bytes at both ends, footer length, footer parse. None when fine."""
    try:
        size = path.stat().st_size
        if size < 12:
            return f"too short ({size} bytes) to be Parquet"
        with open(path, "rb") as fh:
            head = fh.read(4)
            fh.seek(size - 8)
            tail = fh.read(8)
        if head != MAGIC:
            return "does not start with PAR1"
        if tail[4:] != MAGIC:
            return "does not end with PAR1 (truncated?)"
        footer_len = int.from_bytes(tail[:4], "little")
        if footer_len + 12 > size:
            return f"footer length {footer_len} exceeds the file ({size} bytes)"
        pq.read_metadata(path)
    except OSError as exc:
        return f"unreadable: {exc}"
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several kinds for a bad footer
        return f"footer unreadable: {type(exc).__name__}: {exc}"
    return None


def data_problem(path: Path) -> str | None:
    """Deep: decode every row group; rows must equal the footer's count."""
    try:
        pf = pq.ParquetFile(path)
        rows = 0
        for i in range(pf.num_row_groups):
            rows += pf.read_row_group(i).num_rows
        if rows != pf.metadata.num_rows:
            return f"{rows} rows decoded, the footer says {pf.metadata.num_rows}"
    except Exception as exc:  # noqa: BLE001
        return f"data unreadable: {type(exc).__name__}: {exc}"
    return None


def manifest_problems(output: Path) -> list[Problem]:
    root = output / "_manifests"
    if not root.is_dir():
        return []
    problems, named, replaced = [], [], set()
    for p in sorted(root.glob("*.json")):
        rel = str(p.relative_to(output))
        try:
            m = json.loads(p.read_text())
            if not isinstance(m, dict):
                raise ValueError("not an object")
        except (OSError, ValueError) as exc:
            problems.append(Problem(rel, f"manifest unreadable: {exc}"))
            continue
        if m.get("kind") == "compaction":
            try:
                parts = applied_partitions(output, m)
            except MalformedRecord as exc:
                problems.append(Problem(rel, f"compaction record malformed: {exc}"))
                continue
            for part in parts:
                replaced.update(f"{part['table']}/{part['partition']}/{n}" for n in part.get("files_before") or [])
        else:
            named += [(rel, f.get("path")) for f in m.get("files") or [] if isinstance(f, dict)]
    for q in (output / "_quarantine").glob("*/QUARANTINE.json"):  # files verify --quarantine took out
        try:
            replaced.update(json.loads(q.read_text()).get("files") or [])
        except (OSError, ValueError, AttributeError):
            problems.append(Problem(str(q.relative_to(output)), "quarantine record unreadable"))
    for rel, path in named:
        if path and path not in replaced and not (output / path).exists():
            problems.append(Problem(path, f"named by {rel} but missing", missing=True))
    return problems


def quick_problems(output: str | Path) -> list[Problem]:
    output = Path(output)
    out = []
    for f in committed_files(output):
        why = footer_problem(f)
        if why:
            out.append(Problem(str(f.relative_to(output)), why))
    return out + manifest_problems(output)


def problems(output: str | Path, deep: bool = True) -> list[Problem]:
    output = Path(output)
    found = quick_problems(output)
    if deep:
        bad = {p.path for p in found}
        for f in committed_files(output):
            rel = str(f.relative_to(output))
            if rel not in bad:
                why = data_problem(f)
                if why:
                    found.append(Problem(rel, why))
    return found


def quarantine(output: Path, found: list[Problem]) -> list[str]:
    """Move damaged Parquet files to _quarantine/ and set the states aside (the next crawl rebuilds them)."""
    from crawler.state.consistency import set_aside

    stamp = f"{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}"
    done, moved = [], []
    for p in found:
        src = output / p.path
        if p.missing and not src.exists():  # gone already: recorded as lost, so it stops failing every check
            done.append(f"recorded {p.path} as lost (named by a manifest, missing)")
            moved.append(p.path)
        elif src.suffix == ".parquet" and src.exists():
            dst = output / "_quarantine" / stamp / p.path
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(src), str(dst))
            try:
                src.parent.rmdir()  # an emptied partition directory goes too
            except OSError:
                pass
            done.append(f"quarantined {p.path}")
            moved.append(p.path)
    if moved:
        record = output / "_quarantine" / stamp / "QUARANTINE.json"
        record.parent.mkdir(parents=True, exist_ok=True)  # when only missing files are recorded
        record.write_text(json.dumps({"files": moved, "at": stamp}, indent=1))
        for name in ("crawl.sqlite", "dedup.sqlite"):
            aside = set_aside(output / "_state" / name, f"quarantine-{stamp}")
            if aside is not None:
                done.append(f"set aside _state/{name} (rebuilt by the next crawl)")
    return done


def remote_refusal(args) -> str | None:
    """Why this invocation cannot run on a remote (s3://) dataset, or None. A remote dataset's committed set is
    what its manifests list, and the tools run on a temporary local copy of it: moving a damaged file there
    would leave every reader of the remote dataset reading it."""
    if getattr(args, "quarantine", False):
        return (f"--quarantine is not available on a remote dataset ({args.output_dir}): it would move the damaged "
                "files only in a temporary local copy; run verify without --quarantine to list them")
    return None


def add_arguments(parser) -> None:
    parser.add_argument("--quick", action="store_true", help="sizes and footers only (what each crawl checks)")
    parser.add_argument("--quarantine", action="store_true",
                        help="move damaged files to _quarantine/ and set the states aside for a rebuild")


def recover(output: Path) -> list[str]:
    """Complete the record of a compaction killed part-way (:func:`.compact_record.reconcile`), under the dataset
    lock; while another process holds it, the record is left for that one (readers apply it meanwhile)."""
    if not needs_recovery(output):
        return []
    from crawler.state.run_lock import LockHeld, RunLock

    try:
        lock = RunLock(output, owner="verify").acquire()
    except (LockHeld, OSError) as exc:
        return [f"a killed compaction's record is left pending (dataset lock not taken: {exc})"]
    try:
        return reconcile(output)
    finally:
        lock.release()


def run(output_dir: Path, args) -> int:
    output = Path(output_dir)
    for line in recover(output):
        print(f"verify: recovery: {line}", file=sys.stderr)
    files = committed_files(output)
    found = problems(output, deep=not args.quick)
    for p in found:
        print(f"verify: {p}", file=sys.stderr)
    if found and args.quarantine:
        for line in quarantine(output, found):
            print(f"verify: {line}", file=sys.stderr)
    print(f"verify: {len(files)} files checked ({'footers' if args.quick else 'every row group'}), "
          f"{len(found)} problem(s)", file=sys.stderr)
    return NOT_COMMITTED if found else OK


if __name__ == "__main__":
    sys.exit(cli.main(sys.modules[__name__]))
