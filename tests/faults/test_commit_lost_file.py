"""A staged file vanishes during the run's own commit (removed while the commit renames its files, slowed down
by ``FAULT_INJECT_COMMIT_PAUSE``). Its rows are gone: the commit fails (exit 4, the file named) instead of
warning and exiting 0. The run after it completes the journal (a roll-forward cannot tell a lost file from one a
compaction merged) and its start-up check names the missing file (exit 4); ``verify --quarantine`` records it as
lost and sets the states aside, and the next crawl fetches the lost rows again: exit 0, a whole dataset.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from .conftest import REPO, run_crawl
from .dataset_checks import check_dataset, free_port

SMALL = {"articles": "3", "comments": "2"}


def summary(run) -> str:
    return "\n".join(line for line in run.log.splitlines() if line.startswith("[demo] exit"))


def verify(out: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scrapy", "dataset", "verify", str(out), *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


def test_a_staged_file_lost_during_the_commit_fails_it_and_is_repaired(tmp_path):
    out, first_port, second_port = tmp_path / "dataset", str(free_port()), str(free_port())
    assert run_crawl(tmp_path / "a", spider="demo", output=out, args={**SMALL, "port": first_port}).returncode == 0
    proc, result = run_crawl(tmp_path / "b", spider="demo", output=out, args={**SMALL, "port": second_port},
                             settings={"FAULT_INJECT_COMMIT_PAUSE": "2"}, wait=False)
    lost = None
    deadline = time.monotonic() + 150
    while lost is None and proc.poll() is None and time.monotonic() < deadline:
        for journal in (out / "_staging").glob("*/COMMIT.json"):
            try:
                moves = json.loads(journal.read_text())["moves"]
            except (OSError, ValueError):
                continue
            waiting = [m for m in moves if (out / m["src"]).exists()]
            if len(waiting) < len(moves) and waiting:  # renaming has begun: take away one not yet renamed
                (out / waiting[-1]["src"]).unlink()
                lost = waiting[-1]
                break
        time.sleep(0.02)
    failed = result()
    assert lost is not None, "the commit window was not caught"
    assert failed.returncode == 4, failed.log[-3000:]
    assert "vanished before it was committed" in summary(failed) and lost["src"] in summary(failed)

    blocked = run_crawl(tmp_path / "c", spider="demo", output=out, args={**SMALL, "port": second_port})
    assert blocked.returncode == 4 and lost["dst"] in summary(blocked), blocked.log[-3000:]
    q = verify(out, "--quarantine")
    assert q.returncode == 4 and f"recorded {lost['dst']} as lost" in q.stderr, q.stderr[-2000:]
    assert verify(out).returncode == 0
    fixed = run_crawl(tmp_path / "d", spider="demo", output=out, args={**SMALL, "port": second_port})
    assert fixed.returncode == 0, fixed.log[-3000:]
    assert fixed.stat(f"export/rows/{lost['table']}") >= lost["rows"] > 0  # the lost rows were fetched again
    check_dataset(out)
    assert verify(out).returncode == 0
