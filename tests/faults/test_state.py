"""State faults with the real demo crawl (`scrapy crawl demo`, small site): unwritable output (a read-only
location, the output directory replaced by a file, a table directory replaced by a file), corrupted state
files, and a run killed in the middle. Each asserts the exit code and what a reader of the dataset sees."""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from .conftest import run_crawl

SMALL = {"articles": "3", "comments": "2"}
READ_ONLY = Path("/sys/fs/cryptonews-fault-output")  # sysfs refuses mkdir, even for root


@pytest.fixture
def read_only() -> Path:
    """A location where even root cannot create the output directory."""
    try:
        READ_ONLY.mkdir(parents=True)
    except OSError:
        return READ_ONLY
    READ_ONLY.rmdir()
    pytest.skip(f"{READ_ONLY.parent} is writable here")


def visible_parquet(out: Path) -> list[Path]:
    return [p for p in out.rglob("*.parquet") if "_staging" not in p.parts] if out.exists() else []


def test_read_only_output_location_exit_4(tmp_path, read_only):
    run = run_crawl(tmp_path, spider="demo", args=SMALL, output=read_only)
    assert run.returncode == 4, run.log[-2000:]


def test_read_only_output_location_fails_without_output(tmp_path, read_only):
    run = run_crawl(tmp_path, spider="demo", args=SMALL, output=read_only)
    assert run.returncode != 0, run.log[-2000:]
    assert not read_only.exists()


def test_output_dir_replaced_by_a_file_fails(tmp_path):
    out = tmp_path / "dataset"
    out.write_text("not a directory")
    run = run_crawl(tmp_path, spider="demo", args=SMALL, output=out)
    assert run.returncode != 0, run.log[-2000:]
    assert out.read_text() == "not a directory"  # left alone


def test_table_dir_replaced_by_a_file_exit_4(tmp_path):
    out = tmp_path / "dataset"
    out.mkdir()
    (out / "articles").write_text("in the way")
    run = run_crawl(tmp_path, spider="demo", args=SMALL, output=out)
    assert run.returncode == 4, run.log[-2000:]
    assert run.stat("export/failed/commit") == 1 and run.stat("export/committed") is False
    assert visible_parquet(out) == []  # articles are committed first: nothing became visible
    assert not (out / "_manifests").exists()


def test_failed_commit_leaves_no_partial_run_visible(tmp_path):
    out = tmp_path / "dataset"
    out.mkdir()
    (out / "comments").write_text("in the way")
    run = run_crawl(tmp_path, spider="demo", args=SMALL, output=out)
    assert run.returncode == 4, run.log[-2000:]
    assert visible_parquet(out) == []


def test_corrupted_dedup_state_is_set_aside_and_rebuilt(tmp_path):
    out = tmp_path / "dataset"
    (out / "_state").mkdir(parents=True)
    (out / "_state" / "dedup.sqlite").write_bytes(b"SQLite format 3\x00" + os.urandom(4096))
    run = run_crawl(tmp_path, spider="demo", args=SMALL, output=out)
    assert run.returncode == 0, run.log[-2000:]
    assert run.stat("dedup/state/corrupt") == 1
    assert list((out / "_state").glob("dedup.sqlite.broken-*"))  # kept for inspection
    assert len(run.rows("articles")) > 0


def test_corrupted_crawl_state_is_set_aside_and_recreated(tmp_path):
    out = tmp_path / "dataset"
    (out / "_state").mkdir(parents=True)
    (out / "_state" / "crawl.sqlite").write_bytes(b"\x00garbage" * 512)
    run = run_crawl(tmp_path, spider="demo", args=SMALL, output=out)
    assert run.returncode == 0, run.log[-2000:]
    aside = list((out / "_state").glob("crawl.sqlite.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == b"\x00garbage" * 512  # kept for inspection
    assert run.stat("state/corrupt_recreated") == str(aside[0])
    assert len(run.rows("articles")) > 0


def test_corrupted_author_salt_refuses_to_rekey(tmp_path):
    out = tmp_path / "dataset"
    out.mkdir()
    (out / ".author_salt").write_text("zz-not-hex\x00")
    run = run_crawl(tmp_path, spider="demo", args=SMALL, output=out)
    assert run.returncode != 0, run.log[-2000:]  # a new salt would silently change every pseudonym
    assert (out / ".author_salt").read_text() == "zz-not-hex\x00"
    assert visible_parquet(out) == []


def test_interrupted_run_leaves_nothing_visible_and_rerun_is_clean(tmp_path):
    out = tmp_path / "dataset"
    proc, finish = run_crawl(tmp_path / "killed", spider="demo", output=out, wait=False, timeout=60,
                             settings={"DOWNLOAD_DELAY": "0.25", "CONCURRENT_REQUESTS_PER_DOMAIN": "1",
                                       "PARQUET_ROW_GROUP_ROWS": "2"})
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline and proc.poll() is None:
        staged = list((out / "_staging").rglob("*.parquet")) if (out / "_staging").exists() else []
        if len(staged) >= 2:  # rows of at least two tables are on disk, in staging
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the crawl ended before it could be interrupted"
    assert staged, "nothing was staged before the kill"
    killed_runs = {p.name for p in (out / "_staging").iterdir()}
    proc.send_signal(signal.SIGKILL)
    killed = finish()
    assert killed.returncode == -signal.SIGKILL
    assert visible_parquet(out) == [] and not (out / "_manifests").exists()

    rerun = run_crawl(tmp_path / "rerun", spider="demo", output=out)
    assert rerun.returncode == 0, rerun.log[-2000:]
    arts = rerun.rows("articles")
    assert arts and len({a["article_id"] for a in arts}) == len(arts)
    assert {a["run_id"] for a in arts} == {rerun.stat("run/id")}  # nothing of the killed run leaked in
    assert len(arts) == rerun.stat("export/rows/articles")
    leftovers = {p.name for p in (out / "_staging").iterdir()} if (out / "_staging").exists() else set()
    assert not (killed_runs & leftovers)  # the killed run's staging was cleaned up by the re-run
