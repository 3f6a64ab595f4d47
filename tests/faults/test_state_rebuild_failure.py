"""A crawl state that must be rebuilt from the dataset, and the rebuild fails (a committed file whose data pages are
damaged, footer intact: the start-up check, which reads footers only, passes; DuckDB fails reading the rows).

The run must not crawl on an empty state marked as covering the dataset (that hid the loss for good: no later run
rebuilt it, so pages and comments deleted on the sites never got tombstones). It refuses with exit 4 and the
reason; no state claims the committed runs; once the file is whole again the next run rebuilds the state.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

from .conftest import run_crawl
from .dataset_checks import check_dataset, free_port, visible_files

SMALL = {"articles": "3", "comments": "2"}


def demo(tmp: Path, out: Path, port: str):
    return run_crawl(tmp / f"run-{len(list(tmp.glob('run-*')))}", spider="demo", output=out,
                     args={**SMALL, "port": port})


def summary(run) -> str:
    return "\n".join(line for line in run.log.splitlines() if line.startswith("[demo] exit"))


def test_a_failed_crawl_state_rebuild_refuses_the_run_and_is_retried(tmp_path):
    port, out = str(free_port()), tmp_path / "dataset"
    assert demo(tmp_path, out, port).returncode == 0
    victim = max((f for f in visible_files(out) if "comments" in f.parts), key=lambda f: f.stat().st_size)
    whole = victim.read_bytes()
    data = bytearray(whole)
    for k in range(64, min(len(data) - 2000, 4000)):  # scribble over the first data pages, footer intact
        data[k] ^= 0x5A
    victim.write_bytes(bytes(data))
    (out / "_state" / "crawl.sqlite").unlink()  # the crawl state is lost: it must be rebuilt from the files
    manifests = sorted(p.name for p in (out / "_manifests").glob("*.json"))

    run = demo(tmp_path, out, port)
    assert run.returncode == 4, run.log[-3000:]
    assert "crawl state could not be rebuilt" in summary(run), summary(run)
    assert run.stat("downloader/request_count") == 0  # nothing crawled on a state that lacks the dataset
    assert sorted(p.name for p in (out / "_manifests").glob("*.json")) == manifests
    state = out / "_state" / "crawl.sqlite"
    if state.exists():  # whatever is left must not claim to cover the committed runs
        with sqlite3.connect(state) as con:
            assert not con.execute("SELECT name FROM sqlite_master WHERE name = 'applied_runs'").fetchall() or \
                not con.execute("SELECT * FROM applied_runs").fetchall()

    victim.write_bytes(whole)  # the file is repaired: the next run rebuilds the state and crawls
    again = demo(tmp_path, out, port)
    assert again.returncode == 0, again.log[-3000:]
    assert again.stat("state/crawl/rebuilt/missing") == 1
    assert again.stat("state/crawl/rebuilt_from_dataset/pages") >= 3
    check_dataset(out)
