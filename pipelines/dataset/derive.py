"""Files derived from the committed data, regenerated after each commit, in a child process.

    python -m pipelines.dataset.derive OUTPUT_DIR latest card croissant report

Writes the named files in that order (``latest`` = the ``latest/`` snapshot, ``card`` = README.md,
``croissant`` = croissant.json, ``report`` = report.html) and prints one JSON line per file,
``{"name": ..., "ok": true|false, "error": ...}``; one failing file does not stop the others.

The exporter runs this in a child process (:func:`derive_in_child`) rather than in the crawl: these tools read
the whole dataset (a million rows and more) through DuckDB and pyarrow, and the report imports matplotlib; in
the crawl process their buffers and imports stayed in its resident set after the commit and made its peak
(+90 MB at 15k rows, +170 MB at 52k). The child's memory is returned to the system when it exits.
"""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

logger = logging.getLogger(__name__)
NAMES = ("latest", "card", "croissant", "report")
REPO = Path(__file__).resolve().parents[2]
PARENT_ENV = "DERIVE_PARENT_PID"


def write_one(output_dir: str, name: str) -> None:
    if name == "latest":
        from .snapshot import write_snapshot as write
    elif name == "card":
        from .card import write_card as write
    elif name == "croissant":
        from .croissant import write_croissant as write
    elif name == "report":
        from .report import write_report as write  # imports matplotlib: only when wanted
    else:
        raise ValueError(f"unknown derived file {name!r}; allowed: {', '.join(NAMES)}")
    write(output_dir)


class DerivedChild:
    """A running derive child (:func:`start_derive`); :meth:`results` waits for it. The exporter starts it as soon
    as the run's files and manifest are published, so it works on the second core while the crawl applies its
    state deltas (the language worker is idle by then), and waits for it before the run ends: the files are
    still part of the run (counted, logged) and the exit code still comes after them."""

    def __init__(self, names: list[str], proc: subprocess.Popen | None, error: str | None = None):
        self.names, self.proc, self.error = names, proc, error

    def results(self, timeout: float = 3600.0) -> dict[str, str | None]:
        """name -> None (written) or the error text. A child that dies or cannot start fails every file it did
        not report."""
        if self.proc is None:
            return {n: self.error for n in self.names}
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except (OSError, subprocess.SubprocessError) as exc:
            self.proc.kill()
            self.proc.communicate()
            return {n: f"child process failed: {exc!r}" for n in self.names}
        results: dict[str, str | None] = {}
        for line in (out or "").splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if isinstance(rec, dict) and rec.get("name") in self.names:
                results[rec["name"]] = None if rec.get("ok") else str(rec.get("error"))
        for n in self.names:
            if n not in results:
                tail = (err or "").strip().splitlines()[-3:]
                results[n] = f"child process exited {self.proc.returncode} before writing it: {' | '.join(tail)}"
        return results


def start_derive(output_dir, names: list[str]) -> DerivedChild:
    """Start :func:`main` in a child Python for ``names`` (it dies with its parent: a killed crawl leaves no
    writer of derived files behind; the next commit writes them again)."""
    if not names:
        return DerivedChild([], None)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)}
    if threading.current_thread() is threading.main_thread():  # the death signal follows the starting thread
        env[PARENT_ENV] = str(os.getpid())
    cmd = [sys.executable, "-m", "pipelines.dataset.derive", str(output_dir), *names]
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    except (OSError, subprocess.SubprocessError) as exc:
        return DerivedChild(names, None, f"child process failed: {exc!r}")
    return DerivedChild(names, proc)


def derive_in_child(output_dir, names: list[str], timeout: float = 3600.0) -> dict[str, str | None]:
    """Run :func:`main` in a child Python for ``names`` and wait; returns name -> None (written) or the error
    text."""
    return start_derive(output_dir, names).results(timeout)


def _die_with_parent() -> None:
    """Linux: SIGKILL this process when the parent that started it dies (kill -9 of the crawl mid-commit); if
    the parent is already gone, exit now. Elsewhere: nothing (the child finishes its files)."""
    parent = os.environ.pop(PARENT_ENV, None)
    if not parent or not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != int(parent):
        os._exit(1)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    output_dir, names = args[0], args[1:]
    _die_with_parent()
    failed = 0
    for name in names:
        try:
            write_one(output_dir, name)
            print(json.dumps({"name": name, "ok": True}), flush=True)
        except Exception as exc:  # noqa: BLE001 - reported to the parent, which counts and logs it
            failed += 1
            print(json.dumps({"name": name, "ok": False, "error": repr(exc)}), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
