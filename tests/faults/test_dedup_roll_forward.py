"""A run killed right after writing its manifest (``FAULT_INJECT_KILL_AT=manifest``) leaves the dedup state
without that run. The next run rolls the commit forward and its hook (``roll_forward_refresher``) rebuilds the
dedup state from the dataset; the rebuilt state must record the committed runs it covers, or the run's own state
check finds it "behind" and rebuilds everything a second time (twice the work on a large dataset)."""
from __future__ import annotations

import sqlite3

from .conftest import run_crawl
from .dataset_checks import check_dataset, free_port

SMALL = {"articles": "3", "comments": "2"}


def test_a_dedup_state_rebuilt_by_a_roll_forward_is_not_rebuilt_again(tmp_path):
    port, out = str(free_port()), tmp_path / "dataset"
    assert run_crawl(tmp_path / "a", spider="demo", output=out, args={**SMALL, "port": port}).returncode == 0
    killed = run_crawl(tmp_path / "b", spider="demo", output=out, args={**SMALL, "articles": "4", "port": port},
                       settings={"FAULT_INJECT_KILL_AT": "manifest"})
    assert killed.returncode == -9, killed.log[-2000:]
    again = run_crawl(tmp_path / "c", spider="demo", output=out, args={**SMALL, "articles": "4", "port": port})
    assert again.returncode == 0, again.log[-3000:]
    assert again.stat("run/recovered/rolled_forward") == 1
    rebuilt = again.stats_with("dedup/state/rebuilt/")
    assert rebuilt == {}, f"the dedup state was rebuilt a second time: {rebuilt}"
    with sqlite3.connect(out / "_state" / "dedup.sqlite") as db:
        runs = {r[0] for r in db.execute("SELECT run_id FROM runs")}
    manifests = {p.stem for p in (out / "_manifests").glob("*.json") if not p.name.startswith("compact-")}
    assert manifests <= runs
    check_dataset(out)
