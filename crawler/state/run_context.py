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

from .consistency import committed_runs, set_aside, verdict
from .crawl_state import CorruptDelta, CorruptState, CrawlState, StateDelta
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


class StateRebuildFailed(RuntimeError):
    """The crawl state did not match the dataset and could not be rebuilt from it: the run must not crawl."""


class DamagedJournal(ValueError):
    """COMMIT.json is empty, truncated or not a journal."""


def read_journal(staging: Path) -> dict:
    try:
        journal = json.loads((staging / JOURNAL).read_text())
        if not isinstance(journal, dict) or not {"run_id", "moves", "manifest"} <= set(journal):
            raise ValueError("not a commit journal")
        return journal
    except (ValueError, UnicodeDecodeError) as exc:
        raise DamagedJournal(f"{staging / JOURNAL}: {exc}") from exc


def fault_kill(point: str, wanted: str | None) -> None:
    """Fault tests only (``FAULT_INJECT_KILL_AT``): die by SIGKILL at a named point of the commit."""
    if wanted and wanted == point:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


PENDING_EXIT = {"code": None, "reason": "pending: the commit's state steps had not finished"}


def manifest_path(output: Path, run_id: str) -> Path:
    return output / "_manifests" / f"{run_id}.json"


def record_exit(output: Path, run_id: str, code: int | None, reason: str, **extra) -> None:
    """Write a run's exit into its committed manifest. The manifest is written, as part of the commit, before
    the crawl and dedup states are applied, with ``exit`` pending (:data:`PENDING_EXIT`); the run records its
    real exit once the commit is over (or failed), so the manifest never says 0 for a run that exited 4. Nothing
    happens when the run has no manifest (its commit never got that far)."""
    path = manifest_path(output, run_id)
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError):
        return
    if isinstance(manifest, dict):
        manifest["exit"] = {"code": code, "reason": reason, **extra}
        try:
            write_json_atomic(path, manifest)
        except OSError as exc:  # e.g. a full disk: the manifest keeps saying pending, which is not a lie
            logger.error("exit of run %s not recorded in its manifest: %s", run_id, exc)


def _recovered_manifest(output: Path, journal: dict, completed_by: str | None) -> dict:
    """The manifest a recovery writes: the journal's, with the exit the run itself recorded (it failed after its
    manifest) or, when it never recorded one (killed), a pending exit saying who completed the commit."""
    manifest = dict(journal["manifest"])
    try:
        prior = json.loads(manifest_path(output, journal["run_id"]).read_text()).get("exit")
    except (OSError, ValueError, AttributeError):
        prior = None
    if isinstance(prior, dict) and prior.get("code") is not None:
        manifest["exit"] = {**prior, "completed_by": completed_by}
    else:
        manifest["exit"] = {"code": None, "reason": "the run stopped during its commit (killed?); the commit was "
                            "completed by a later run", "completed_by": completed_by}
    return manifest


def finish_commit(output: Path, staging: Path, state: CrawlState | None, after_files=None,
                  pause: float = 0.0, events: list | None = None, kill_at: str | None = None,
                  completed_by: str | None = None, after_manifest=None) -> dict:
    """Steps 3-4 for a staging dir holding a journal; safe to repeat after a crash at any point.
    ``pause`` (seconds slept after each rename) exists only so kill tests can hit the commit window.
    ``events`` collects what recovery had to work around (a file a compaction already merged, a damaged delta);
    None means the live commit of this process. ``completed_by``: the run (or tool) that recovers the commit.
    ``after_manifest(journal)``: called once the files and the manifest are published, before the state deltas
    (the exporter starts its derived-files child there)."""
    journal = read_journal(staging)
    live = events is None
    events = events if events is not None else []
    for move in journal["moves"]:
        src, dst = output / move["src"], output / move["dst"]
        if src.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dst)
            fault_kill("first_rename", kill_at)
            if pause:
                time.sleep(pause)
        elif not dst.exists():
            if live:  # this process staged it a moment ago: it vanished (removed by hand, a failing disk), and its
                # rows with it. The commit fails (exit 4) before a manifest names a file that does not exist.
                raise FileNotFoundError(f"staged file {move['src']} vanished before it was committed")
            # it was published and then replaced (a compaction merged it into a new file, which holds its rows):
            # nothing left to move; the rest of the commit still has to happen
            logger.warning("commit of %s: %s is gone (merged by a compaction?); completing the rest",
                           journal["run_id"], dst)
            events.append("missing_file")
    manifests = output / "_manifests"
    manifests.mkdir(parents=True, exist_ok=True)
    write_json_atomic(manifests / f"{journal['run_id']}.json",
                      journal["manifest"] if live else _recovered_manifest(output, journal, completed_by))
    fault_kill("manifest", kill_at)
    if after_manifest is not None:
        after_manifest(journal)
    if state is not None and (staging / DELTA).exists():
        try:
            delta = StateDelta.load(staging / DELTA)
        except CorruptDelta as exc:  # the state stays behind the dataset: the consistency check rebuilds it
            logger.error("crawl-state delta of %s unreadable (%s); the crawl state will be rebuilt",
                         journal["run_id"], exc)
            events.append("damaged_delta")
        else:
            state.apply(delta, journal["run_id"])
    fault_kill("crawl_state", kill_at)
    if after_files is not None:
        after_files(journal)
    shutil.rmtree(staging, ignore_errors=True)
    return journal


def roll_back_damaged(output: Path, staging: Path) -> str:
    """A staging dir whose journal cannot be read. If the run's manifest was written, every rename had happened
    (the manifest comes after them): the run is committed, only the journal's removal is missing. Otherwise the
    run is undone: files of it already renamed into the dataset are removed, so nothing half-visible stays."""
    run_id = staging.name
    manifest = output / "_manifests" / f"{run_id}.json"
    try:
        files = json.loads(manifest.read_text())["files"]
    except (OSError, ValueError, KeyError, TypeError):
        files = None
    if files is not None and all((output / f["path"]).exists() for f in files):
        shutil.rmtree(staging, ignore_errors=True)
        return "completed"
    for table_dir in (p for p in output.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))):
        for f in table_dir.glob(f"*/part-{run_id}-*.parquet"):
            f.unlink()
    if manifest.exists():
        manifest.unlink()
    shutil.rmtree(staging, ignore_errors=True)
    return "rolled_back"


@dataclass
class RunContext:
    output: Path
    run_id: str
    state_enabled: bool = True
    state: CrawlState | None = None
    delta: StateDelta = field(default_factory=StateDelta)
    recovered: list[str] = field(default_factory=list)
    discarded: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)  # what recovery and the state check did, as stat names
    took_lock: bool = False
    rebuilt: dict = field(default_factory=dict)  # what a crawl-state rebuild recovered (pages, threads, comments)

    @property
    def staging(self) -> Path:
        return self.output / "_staging" / self.run_id

    def open(self, roll_forward_hook=None) -> "RunContext":
        """Lock, recover leftovers of killed runs, open the crawl state. Raises LockHeld / CorruptState."""
        self.output.mkdir(parents=True, exist_ok=True)
        self.took_lock = acquire_lock(self.output, self.run_id)  # nothing below runs without the lock
        state_path = self.output / "_state" / "crawl.sqlite"
        existed = state_path.exists()
        if self.state_enabled:
            self.state = CrawlState(state_path)
            self.delta = StateDelta(spool_dir=self.staging)  # per-comment changes go to files, not memory
        self.recover(roll_forward_hook)
        if self.state is not None:
            self.check_state(state_path, existed)
        return self

    def check_state(self, path: Path, existed: bool) -> None:
        """The crawl state must match the committed dataset (crawler/state/consistency.py); when it does not
        (missing, behind, ahead) it is set aside and a fresh state starts from the dataset as it is: every page
        is fetched again, and the dedup state (rebuilt from the Parquet files) keeps unchanged rows out."""
        committed = committed_runs(self.output)
        v = verdict(committed, self.state.applied_runs() if existed else None)
        if v.matches:
            return
        logger.warning("crawl state does not match the dataset: %s; rebuilding it from the dataset", v)
        self.state.close()
        set_aside(path, f"{v.status}-{self.run_id}")
        self.state = CrawlState(path)
        try:  # pages (identity, times, schedule, gone), threads and their comments, from the committed files
            from .crawl_rebuild import rebuild

            self.rebuilt = rebuild(self.state, self.output)
        except Exception as exc:  # noqa: BLE001
            # never mark a state that lacks the dataset's threads and pages as covering it: that would hide the
            # loss for good (no tombstones for what the sites delete). The fresh state goes, so the next run finds
            # it missing and tries again; this run refuses (exit 4, the reason in its summary line).
            self.state.close()
            self.state = None
            for suffix in ("", "-wal", "-shm", "-journal"):
                path.with_name(path.name + suffix).unlink(missing_ok=True)
            logger.error("crawl state not rebuilt from the dataset: %r", exc)
            raise StateRebuildFailed(f"the crawl state could not be rebuilt from the dataset ({type(exc).__name__}: "
                                     f"{exc}); nothing crawled, the next run tries again") from exc
        self.state.mark_applied(committed)
        self.events.append(f"state/crawl/rebuilt/{v.status}")

    def recover(self, roll_forward_hook=None) -> None:
        from pipelines.dataset.compact_record import reconcile  # a compaction killed part-way: complete its record

        for line in reconcile(self.output):
            logger.warning("recovery: %s", line)
            self.events.append("run/recovered/compaction")
        recovered, discarded, events = recover_staging(self.output, self.state, roll_forward_hook, skip=self.run_id)
        self.recovered += recovered
        self.discarded += discarded
        self.events += events

    def close(self) -> None:
        if self.state is not None:
            self.state.close()
        if self.took_lock:
            release_lock(self.output)


def recover_staging(output: Path, state: CrawlState | None, roll_forward_hook=None, skip: str | None = None):
    """Finish or undo what killed runs left under ``_staging/`` (the caller holds the lock): a journal is rolled
    forward, a damaged journal is completed or rolled back (:func:`roll_back_damaged`), a staging dir without a
    journal is deleted (nothing of it was visible). Used by every run and by compaction, before anything else.
    Returns (rolled forward, discarded, event stat names)."""
    recovered, discarded, events = [], [], []
    root = output / "_staging"
    if not root.is_dir():
        return recovered, discarded, events
    # compact-* folders belong to pipelines/dataset/compact.py (copies or already-replaced files: safe to drop)
    for d in sorted(p for p in root.iterdir() if p.is_dir() and p.name != skip):
        if (d / JOURNAL).exists():
            try:
                found: list[str] = []
                finish_commit(output, d, state, roll_forward_hook, events=found, completed_by=skip or "compact")
                events += [f"run/recovered/{e}" for e in found]
            except DamagedJournal as exc:
                outcome = roll_back_damaged(output, d)
                logger.error("commit journal of run %s is damaged (%s): %s", d.name, exc, outcome.replace("_", " "))
                events.append(f"run/recovered/damaged_journal_{outcome}")
                continue
            recovered.append(d.name)
            logger.warning("rolled forward the commit of killed run %s", d.name)
        else:
            shutil.rmtree(d, ignore_errors=True)
            discarded.append(d.name)
            logger.warning("discarded uncommitted leftovers of killed run %s", d.name)
    return recovered, discarded, events


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


__all__ = ["RunContext", "LockHeld", "CorruptState", "DamagedJournal", "StateRebuildFailed", "finish_commit",
           "read_journal", "record_exit", "write_json_atomic", "JOURNAL", "DELTA", "PENDING_EXIT"]
