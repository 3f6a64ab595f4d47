"""One run's hold on a dataset: the lock, recovery of killed runs, the crawl state, the commit journal.

Commit protocol (``Committer``), for the run's staged files under ``OUTPUT_DIR/_staging/<run_id>/``:

1. the staged files are complete (labels applied) and the crawl-state delta is saved beside them;
2. ``COMMIT.json`` is written (atomic rename): the list of renames and the manifest — from here on the run
   *will* be committed, by this process or by the next run that finds the journal;
3. every file is renamed into its partition (atomic per file);
4. the manifest is written to ``_manifests/<run_id>.json``; the crawl-state delta is applied; then the
   staging directory is removed.

A run killed before step 2 leaves only staging files, which the next run deletes (nothing was visible and
no state advanced, so the next run fetches that data again). A run killed after step 2 is rolled forward
by the next run before it reads any state.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .crawl_state import CorruptState, CrawlState, StateDelta
from .run_lock import LockHeld, RunLock

logger = logging.getLogger(__name__)
JOURNAL = "COMMIT.json"
DELTA = "crawl_delta.json"
_HELD: dict[str, RunLock] = {}  # locks this process holds, by resolved output dir


def acquire_lock(output: Path, owner: str) -> bool:
    """Take the dataset lock for this process (idempotent). Returns True when this call took it."""
    key = str(output.resolve())
    if key in _HELD:
        return False
    _HELD[key] = RunLock(output, owner).acquire()
    return True


def release_lock(output: Path) -> None:
    lock = _HELD.pop(str(output.resolve()), None)
    if lock is not None:
        lock.release()


def write_json_atomic(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w") as fh:
        json.dump(data, fh, indent=1, sort_keys=True, default=str)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def finish_commit(output: Path, staging: Path, state: CrawlState | None, after_files=None,
                  pause: float = 0.0) -> dict:
    """Steps 3-4 for a staging dir holding a journal; safe to repeat after a crash at any point.
    ``pause`` (seconds slept after each rename) exists only so kill tests can hit the commit window."""
    journal = json.loads((staging / JOURNAL).read_text())
    for move in journal["moves"]:
        src, dst = output / move["src"], output / move["dst"]
        if src.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dst)
            if pause:
                time.sleep(pause)
        elif not dst.exists():
            raise FileNotFoundError(f"commit of {journal['run_id']}: neither {src} nor {dst} exists")
    manifests = output / "_manifests"
    manifests.mkdir(parents=True, exist_ok=True)
    write_json_atomic(manifests / f"{journal['run_id']}.json", journal["manifest"])
    if state is not None and (staging / DELTA).exists():
        state.apply(StateDelta.load(staging / DELTA), journal["run_id"])
    if after_files is not None:
        after_files(journal)
    shutil.rmtree(staging, ignore_errors=True)
    return journal


@dataclass
class RunContext:
    output: Path
    run_id: str
    state_enabled: bool = True
    state: CrawlState | None = None
    delta: StateDelta = field(default_factory=StateDelta)
    recovered: list[str] = field(default_factory=list)
    discarded: list[str] = field(default_factory=list)
    took_lock: bool = False

    @property
    def staging(self) -> Path:
        return self.output / "_staging" / self.run_id

    def open(self, roll_forward_hook=None) -> "RunContext":
        """Lock, recover leftovers of killed runs, open the crawl state. Raises LockHeld / CorruptState."""
        self.output.mkdir(parents=True, exist_ok=True)
        self.took_lock = acquire_lock(self.output, self.run_id)
        state_path = self.output / "_state" / "crawl.sqlite"
        if self.state_enabled:
            self.state = CrawlState(state_path)
        self.recover(roll_forward_hook)
        return self

    def recover(self, roll_forward_hook=None) -> None:
        root = self.output / "_staging"
        if not root.is_dir():
            return
        # compact-* folders belong to pipelines/dataset/compact.py (copies or already-replaced files: safe to drop)
        for d in sorted(p for p in root.iterdir() if p.is_dir() and p.name != self.run_id):
            if (d / JOURNAL).exists():
                finish_commit(self.output, d, self.state, roll_forward_hook)
                self.recovered.append(d.name)
                logger.warning("rolled forward the commit of killed run %s", d.name)
            else:
                shutil.rmtree(d, ignore_errors=True)
                self.discarded.append(d.name)
                logger.warning("discarded uncommitted leftovers of killed run %s", d.name)

    def close(self) -> None:
        if self.state is not None:
            self.state.close()
        if self.took_lock:
            release_lock(self.output)


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


__all__ = ["RunContext", "LockHeld", "CorruptState", "finish_commit", "write_json_atomic", "JOURNAL", "DELTA"]
