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
from pathlib import Path

logger = logging.getLogger(__name__)
NAMES = ("latest", "card", "croissant", "report")
REPO = Path(__file__).resolve().parents[2]


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


def derive_in_child(output_dir, names: list[str], timeout: float = 3600.0) -> dict[str, str | None]:
    """Run :func:`main` in a child Python for ``names``; returns name -> None (written) or the error text.
    A child that dies or cannot start fails every file it did not report."""
    if not names:
        return {}
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)}
    cmd = [sys.executable, "-m", "pipelines.dataset.derive", str(output_dir), *names]
    results: dict[str, str | None] = {}
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    except (OSError, subprocess.SubprocessError) as exc:
        return {n: f"child process failed: {exc!r}" for n in names}
    for line in proc.stdout.splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict) and rec.get("name") in names:
            results[rec["name"]] = None if rec.get("ok") else str(rec.get("error"))
    for n in names:
        if n not in results:
            tail = (proc.stderr or "").strip().splitlines()[-3:]
            results[n] = f"child process exited {proc.returncode} before writing it: {' | '.join(tail)}"
    return results


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    output_dir, names = args[0], args[1:]
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
