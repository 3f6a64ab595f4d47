"""The derived-files child (pipelines/dataset/derive.py): started while the crawl applies its state deltas, waited
for before the run ends, and never left behind by a crawl killed with SIGKILL (it would keep writing latest/ and
README.md beside the next run's own child)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipelines.dataset.derive import start_derive

REPO = Path(__file__).resolve().parents[1]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (dead, not yet reaped by init) is not a writer
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def blocked_output(tmp_path: Path) -> Path:
    """An output dir whose card blocks in the child: a manifest that is a FIFO nobody writes to."""
    out = tmp_path / "out"
    (out / "_manifests").mkdir(parents=True)
    os.mkfifo(out / "_manifests" / "run-blocked.json")
    return out


def unblock(out: Path) -> None:
    fd = os.open(out / "_manifests" / "run-blocked.json", os.O_WRONLY | os.O_NONBLOCK)
    os.close(fd)


def test_results_report_every_file(tmp_path):
    child = start_derive(tmp_path, ["card", "nonsense"])
    results = child.results()
    assert results["card"] is None and (tmp_path / "README.md").is_file()
    assert "unknown derived file" in results["nonsense"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the parent-death signal is Linux's prctl")
def test_the_child_dies_with_a_killed_crawl(tmp_path):
    out = blocked_output(tmp_path)
    parent = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\n"
         "from pipelines.dataset.derive import start_derive\n"
         "child = start_derive(sys.argv[1], ['card'])\n"
         "print(child.proc.pid, flush=True)\n"
         "time.sleep(120)\n", str(out)],
        cwd=REPO, stdout=subprocess.PIPE, text=True)
    pid = int(parent.stdout.readline())
    try:
        deadline = time.monotonic() + 60  # the child is started and blocked on the FIFO: it stays alive
        while time.monotonic() < deadline and not Path(f"/proc/{pid}/fd").exists():
            time.sleep(0.05)
        time.sleep(1.0)
        assert alive(pid), "the child should still be writing (blocked on its FIFO manifest)"
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and alive(pid):
            time.sleep(0.05)
        assert not alive(pid), "the derived-files child outlived the crawl that started it"
        assert not (out / "README.md").exists()
    finally:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)
        parent.kill()
        try:
            unblock(out)
        except OSError:
            pass
