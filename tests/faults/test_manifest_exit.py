"""What a run manifest says about the run's exit is true.

The manifest is written in the middle of the commit, before the crawl and dedup states are applied. It used to
carry the exit computed at that moment (0), so a run whose state step then failed (exit 4) left a manifest saying
"0 ok" — and the next run's roll-forward wrote the same again. Now the manifest is written with the exit pending,
and the run records its real exit once the commit is over or has failed; a roll-forward keeps the exit the run
recorded and names the run that completed the commit.

A real fault: the crawl state on a full disk (a 1 MB tmpfs at ``_state/``, root only; skipped otherwise).
"""
from __future__ import annotations

import json
from pathlib import Path

from .conftest import run_crawl
from .dataset_checks import fill, free_port, tmpfs

SMALL = {"articles": "3", "comments": "2"}


def demo(tmp: Path, out: Path, port: str, articles: int):
    return run_crawl(tmp / f"run-{len(list(tmp.glob('run-*')))}", spider="demo", output=out,
                     args={**SMALL, "articles": str(articles), "port": port})


def manifests(out: Path) -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in (out / "_manifests").glob("*.json")
            if not p.name.startswith("compact-")}


def test_the_manifest_records_the_runs_real_exit(tmp_path):
    port, out = str(free_port()), tmp_path / "dataset"
    out.mkdir()
    with tmpfs(out / "_state", "1m") as fs:
        first = demo(tmp_path, out, port, 3)
        assert first.returncode == 0, first.log[-3000:]
        (m1,) = manifests(out).values()
        assert m1["exit"] == {"code": 0, "reason": "ok"}

        filler = fill(fs)  # the crawl state cannot be written: the commit fails after the manifest
        failed = demo(tmp_path, out, port, 4)
        assert failed.returncode == 4, failed.log[-3000:]
        new = {k: v for k, v in manifests(out).items() if k != m1["run_id"]}
        assert list(new) == [failed.stat("run/id")], "the failed run's manifest was written (files renamed)"
        exit2 = new[failed.stat("run/id")]["exit"]
        assert exit2["code"] == 4 and "not committed" in exit2["reason"], exit2

        filler.unlink()
        again = demo(tmp_path, out, port, 4)
        assert again.returncode == 0, again.log[-3000:]
        assert again.stat("run/recovered/rolled_forward") == 1
        after = manifests(out)
        rolled = after[failed.stat("run/id")]["exit"]
        assert rolled["code"] == 4 and rolled["completed_by"] == again.stat("run/id"), rolled
        assert after[again.stat("run/id")]["exit"] == {"code": 0, "reason": "ok"}
