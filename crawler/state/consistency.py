"""The one place that decides whether a state (crawl state, dedup state) matches the committed dataset.

The committed dataset is what ``_manifests/<run_id>.json`` says: one manifest per committed run (compaction
manifests ``compact-*`` are not runs). Every state records the runs it has applied (crawl state
``applied_runs``, dedup state ``runs``). A state matches when it has applied exactly the committed runs:

* ``missing``: no state file, but the dataset has committed runs (``rm -rf OUT/_state``, a new machine);
* ``behind``: committed runs the state never applied (its commit failed: disk full; an older backup);
* ``ahead``: runs the state applied that the dataset does not have (the dataset was restored or files were
  removed: trusting the state would skip rows the dataset lacks, or answer 304 for pages it does not hold);
* ``corrupt``: the file is unreadable (decided by the store when it opens).

Anything but a match means the state is rebuilt from the committed Parquet files and manifests **before the
run writes anything** (:func:`crawler.state.dedup_store.open_store`, :meth:`RunContext.open`). Runs a rebuild
covers are recorded as applied, so the next run finds a match.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

REBUILD_RUN = "rebuild"  # the run id a rebuild applies its records under (not a dataset run)


def committed_runs(output: str | Path) -> set[str]:
    """Run ids with a readable manifest (the runs the dataset holds). Unreadable manifests are skipped here
    (``scrapy dataset verify`` reports them)."""
    root = Path(output) / "_manifests"
    if not root.is_dir():
        return set()
    out = set()
    for p in root.glob("*.json"):
        if p.name.startswith("compact-") or p.name.startswith("."):
            continue
        try:
            run_id = json.loads(p.read_text()).get("run_id") or p.stem
        except (OSError, ValueError, AttributeError):
            continue
        out.add(run_id)
    return out


@dataclass(frozen=True)
class Verdict:
    status: str  # "match", "missing", "behind", "ahead"
    detail: str = ""

    @property
    def matches(self) -> bool:
        return self.status == "match"

    def __str__(self) -> str:
        return self.status + (f" ({self.detail})" if self.detail else "")


def verdict(committed: set[str], applied: set[str] | None) -> Verdict:
    """Does a state that applied ``applied`` (None: there is no state) match a dataset of ``committed`` runs?"""
    if applied is None:
        return Verdict("missing", f"{len(committed)} committed run(s)") if committed else Verdict("match")
    applied = set(applied) - {REBUILD_RUN}
    behind, ahead = committed - applied, applied - committed
    if behind:
        return Verdict("behind", f"{len(behind)} committed run(s) not in the state, e.g. {sorted(behind)[0]}")
    if ahead:
        return Verdict("ahead", f"{len(ahead)} run(s) in the state but not in the dataset, e.g. {sorted(ahead)[0]}")
    return Verdict("match")


def set_aside(path: Path, tag: str) -> Path | None:
    """Move a state file and its SQLite companions aside (kept for inspection); returns the new name."""
    if not path.exists():
        return None
    aside = path.with_name(f"{path.name}.{tag}")
    for suffix in ("", "-wal", "-shm", "-journal"):
        p = path.with_name(path.name + suffix)
        if p.exists():
            p.replace(aside.with_name(aside.name + suffix))
    return aside
