"""State faults on the real demo crawl (small site, one fixed port so consecutive runs see the same URLs): lost,
stale and damaged states, commits interrupted at each point, damaged journals, compaction over a pending
journal, a locked-out run beside a busy state, a damaged committed file, full disks (a real tmpfs, root only).

Each case asserts the exit code, the reason in the summary line, and the dataset afterwards: every file
readable by pyarrow and DuckDB, 0 duplicate (id, version) rows, row counts equal to an undisturbed run of the
same sequence of site versions.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyarrow.dataset as ds
import pytest

from .conftest import REPO, run_crawl
from .dataset_checks import check_dataset, fill, free_port, tmpfs, visible_files

SMALL = {"articles": "3", "comments": "2"}


@pytest.fixture(scope="module")
def port():
    return str(free_port())


def demo(tmp: Path, out: Path, port: str, articles: int = 3, settings: dict | None = None, tag: str = ""):
    return run_crawl(tmp / f"run{tag}-{len(list(tmp.glob('run*')))}", spider="demo", output=out,
                     args={**SMALL, "articles": str(articles), "port": port}, settings=settings)


@pytest.fixture(scope="module")
def reference(tmp_path_factory, port):
    """Row counts of undisturbed runs, by the sequence of site sizes (articles per run)."""
    cache: dict[tuple, dict] = {}

    def counts(*sequence: int) -> dict:
        if sequence not in cache:
            tmp = tmp_path_factory.mktemp("reference")
            for n in sequence:
                r = demo(tmp, tmp / "dataset", port, n)
                assert r.returncode == 0, r.log[-2000:]
            cache[sequence] = check_dataset(tmp / "dataset")
        return cache[sequence]

    return counts


def summary(run) -> str:
    return "\n".join(line for line in run.log.splitlines() if line.startswith("[demo] exit"))


# -- 1. state loss, stale and damaged states -----------------------------------------------------------------
def _rm_state(out: Path, which: str) -> None:
    st = out / "_state"
    if which == "all":
        shutil.rmtree(st)
    elif which in ("dedup", "crawl"):
        (st / f"{which}.sqlite").unlink()
    elif which == "dedup_empty":
        (st / "dedup.sqlite").write_bytes(b"")
    elif which == "crawl_empty":
        (st / "crawl.sqlite").write_bytes(b"")
    elif which == "dedup_truncated":
        p = st / "dedup.sqlite"
        p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])
    elif which == "both_truncated":
        for name in ("dedup.sqlite", "crawl.sqlite"):
            p = st / name
            p.write_bytes(p.read_bytes()[:100])


@pytest.mark.parametrize("which", ["all", "dedup", "crawl", "dedup_empty", "crawl_empty", "dedup_truncated",
                                   "both_truncated"])
def test_lost_or_damaged_state_is_rebuilt_before_anything_is_written(tmp_path, port, reference, which):
    out = tmp_path / "dataset"
    assert demo(tmp_path, out, port).returncode == 0
    _rm_state(out, which)
    run = demo(tmp_path, out, port)  # every page is fetched again: the rows it has must not be written twice
    assert run.returncode == 0, run.log[-3000:]
    assert "exit 0: ok" in summary(run)
    assert check_dataset(out) == reference(3, 3)
    rebuilt = run.stats_with("dedup/state/rebuilt/") or run.stats_with("state/crawl/rebuilt/") \
        or run.stats_with("state/corrupt")
    assert rebuilt, "the state was not rebuilt"


LATER = {"DISCUSSION_LOOKUP": "none"}  # API lookups re-run on every full fetch: not what these cases compare


def later_clock() -> str:  # every page's revisit is due (the schedule's offsets end at 7 days)
    return (datetime.now(timezone.utc) + timedelta(days=8)).isoformat()


def row_set(out: Path) -> dict[str, set]:
    import duckdb

    key = {"articles": "article_id", "threads": "thread_id", "comments": "comment_id"}
    return {t: set(duckdb.sql(f"SELECT {k}, version, is_tombstone FROM read_parquet('{out}/{t}/**/*.parquet')")
                   .fetchall()) for t, k in key.items()}


@pytest.fixture(scope="module")
def shrinking_site(tmp_path_factory, port):
    """An undisturbed crawl of a site that loses an article (4 then 3), the second run when all is due: the
    vanished article is revisited and gets its tombstone; its comments theirs."""
    tmp = tmp_path_factory.mktemp("shrinking")
    out = tmp / "dataset"
    assert demo(tmp, out, port, 4, settings=LATER).returncode == 0
    run = demo(tmp, out, port, 3, settings={**LATER, "CRAWL_CLOCK": later_clock()})
    assert run.returncode == 0 and run.stat("state/tombstone/articles") == 1, run.log[-2000:]
    return check_dataset(out), row_set(out)


@pytest.mark.parametrize("which", ["all", "crawl", "crawl_empty"])
def test_a_lost_crawl_state_is_rebuilt_from_the_dataset_so_deletions_are_noticed(tmp_path, port, shrinking_site,
                                                                                 which):
    """Not a fresh state: the pages, threads and comments the dataset holds are known again (identity, times,
    schedule), so the run after the loss writes exactly what an undisturbed run writes — the vanished article's
    tombstone and its comments' tombstones, no new version of anything unchanged, 0 duplicate (id, version)."""
    out = tmp_path / "dataset"
    assert demo(tmp_path, out, port, 4, settings=LATER).returncode == 0
    _rm_state(out, which)
    run = demo(tmp_path, out, port, 3, settings={**LATER, "CRAWL_CLOCK": later_clock()})
    assert run.returncode == 0, run.log[-3000:]
    assert "exit 0: ok" in summary(run)
    assert run.stat("state/crawl/rebuilt_from_dataset/pages") >= 4
    assert run.stat("state/crawl/rebuilt_from_dataset/comments") > 0
    assert run.stat("state/tombstone/articles") == 1
    counts, rows = shrinking_site
    assert check_dataset(out) == counts
    assert row_set(out) == rows


def test_an_older_backup_of_the_state_is_rebuilt(tmp_path, port, reference):
    out = tmp_path / "dataset"
    assert demo(tmp_path, out, port).returncode == 0
    shutil.copytree(out / "_state", tmp_path / "backup")
    assert demo(tmp_path, out, port).returncode == 0
    shutil.rmtree(out / "_state")
    shutil.copytree(tmp_path / "backup", out / "_state")  # restored: one committed run behind
    run = demo(tmp_path, out, port)
    assert run.returncode == 0, run.log[-3000:]
    assert run.stat("dedup/state/rebuilt/behind") == 1 and run.stat("state/crawl/rebuilt/behind") == 1
    assert check_dataset(out) == reference(3, 3, 3)


def test_a_state_ahead_of_the_dataset_is_rebuilt(tmp_path, port, reference):
    """The dataset was restored/removed but the state kept: trusting it would skip rows the dataset lacks."""
    out = tmp_path / "dataset"
    assert demo(tmp_path, out, port).returncode == 0
    for d in ("articles", "threads", "comments", "_manifests"):
        shutil.rmtree(out / d)
    run = demo(tmp_path, out, port)
    assert run.returncode == 0, run.log[-3000:]
    assert run.stat("dedup/state/rebuilt/ahead") == 1 and run.stat("state/crawl/rebuilt/ahead") == 1
    assert check_dataset(out) == reference(3)


# -- commits interrupted at each point; damaged journals and deltas (9) --------------------------------------------
KILL_POINTS = ["journal", "first_rename", "manifest", "crawl_state"]


@pytest.mark.parametrize("point", KILL_POINTS)
def test_a_commit_killed_at_each_point_is_completed_by_the_next_run(tmp_path, port, reference, point):
    out = tmp_path / "dataset"
    killed = demo(tmp_path, out, port, settings={"FAULT_INJECT_KILL_AT": point})
    assert killed.returncode == -9
    run = demo(tmp_path, out, port, 4)
    assert run.returncode == 0, run.log[-3000:]
    assert run.stat("run/recovered/rolled_forward") == 1
    assert check_dataset(out) == reference(3, 4)


def _damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    path.write_bytes({"empty": b"", "truncated": data[: len(data) // 2], "garbage": b"\x00\xffnot json",
                      "wrong_shape": b"[1, 2, 3]"}[how])


@pytest.mark.parametrize("how", ["empty", "truncated", "wrong_shape"])
@pytest.mark.parametrize("point", ["journal", "first_rename", "manifest"])
def test_a_damaged_commit_journal_never_blocks_later_runs(tmp_path, port, reference, point, how):
    out = tmp_path / "dataset"
    assert demo(tmp_path, out, port, settings={"FAULT_INJECT_KILL_AT": point}).returncode == -9
    journal = next((out / "_staging").glob("*/COMMIT.json"))
    _damage(journal, how)
    run = demo(tmp_path, out, port)
    assert run.returncode == 0, run.log[-3000:]
    assert "JSONDecodeError" not in run.log and "Traceback" not in run.log
    outcome = "completed" if point == "manifest" else "rolled_back"
    assert run.stat(f"run/recovered/damaged_journal_{outcome}") == 1
    assert check_dataset(out) == reference(3)
    assert not (out / "_staging").exists() or not list((out / "_staging").glob("*/COMMIT.json"))


@pytest.mark.parametrize("how", ["empty", "truncated", "garbage"])
def test_a_damaged_crawl_delta_never_blocks_later_runs(tmp_path, port, reference, how):
    out = tmp_path / "dataset"
    assert demo(tmp_path, out, port, settings={"FAULT_INJECT_KILL_AT": "journal"}).returncode == -9
    _damage(next((out / "_staging").glob("*/crawl_delta.json")), how)
    run = demo(tmp_path, out, port)  # every page again (fresh crawl state): nothing may be written twice
    assert run.returncode == 0, run.log[-3000:]
    assert "Traceback" not in run.log
    assert run.stat("run/recovered/damaged_delta") == 1
    assert run.stat("state/crawl/rebuilt/behind") == 1  # the delta was lost: the crawl state starts fresh
    assert check_dataset(out) == reference(3, 3)


# -- 2. compaction over a pending journal ---------------------------------------------------------------------
def compact(out: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scrapy", "dataset", "compact", str(out), *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("point", KILL_POINTS)
def test_compaction_completes_a_pending_journal_first(tmp_path, port, reference, point):
    out = tmp_path / "dataset"
    assert demo(tmp_path, out, port).returncode == 0
    assert demo(tmp_path, out, port, 4, settings={"FAULT_INJECT_KILL_AT": point}).returncode == -9
    c = compact(out)
    assert c.returncode == 0, c.stderr[-2000:]
    assert "rolled forward run" in c.stderr
    assert not list((out / "_staging").glob("*/COMMIT.json")) if (out / "_staging").exists() else True
    run = demo(tmp_path, out, port, 5)
    assert run.returncode == 0, run.log[-3000:]
    assert "neither" not in run.log
    assert check_dataset(out) == reference(3, 4, 5)


# -- 5. a locked-out run touches nothing ----------------------------------------------------------------------
def _digest(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_a_locked_out_run_beside_a_busy_state_touches_nothing(tmp_path, port, reference):
    out = tmp_path / "dataset"
    assert demo(tmp_path, out, port).returncode == 0
    state = out / "_state"
    before = {p.name: _digest(p) for p in state.iterdir()}
    lock_fd = open(out / ".lock", "a+")
    fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # the holder
    db = sqlite3.connect(state / "dedup.sqlite", isolation_level=None)
    db.execute("BEGIN EXCLUSIVE")  # ... busy with its dedup state for much longer than a few seconds
    try:
        run = demo(tmp_path, out, port, 4)
    finally:
        db.execute("ROLLBACK")
        db.close()
        fcntl.flock(lock_fd, fcntl.LOCK_UN)
        lock_fd.close()
    assert run.returncode == 6, run.log[-3000:]
    assert "another run holds the output lock" in summary(run)
    assert {p.name: _digest(p) for p in state.iterdir()} == before  # nothing moved aside, nothing written
    assert not (out / "_staging").exists() or not list((out / "_staging").iterdir())
    assert check_dataset(out) == reference(3)
    after = demo(tmp_path, out, port, 4)
    assert after.returncode == 0 and check_dataset(out) == reference(3, 4)


def test_a_busy_dedup_state_is_never_moved_aside(tmp_path, port, reference):
    """Another process (a report tool) holds the state busy while a run, which does hold the lock, starts."""
    out = tmp_path / "dataset"
    assert demo(tmp_path, out, port).returncode == 0
    path = out / "_state" / "dedup.sqlite"
    before = _digest(path)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("BEGIN EXCLUSIVE")
    try:
        run = demo(tmp_path, out, port, 4)
    finally:
        db.execute("ROLLBACK")
        db.close()
    assert run.returncode == 4, run.log[-3000:]
    assert "dedup state not usable" in summary(run)
    assert _digest(path) == before and not list(path.parent.glob("dedup.sqlite.*"))
    assert check_dataset(out) == reference(3)
    after = demo(tmp_path, out, port, 4)
    assert after.returncode == 0 and check_dataset(out) == reference(3, 4)


# -- also: a damaged committed file ------------------------------------------------------------------------
def verify(out: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scrapy", "dataset", "verify", str(out), *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("how", ["truncated", "empty", "no_footer_magic", "garbage_footer"])
def test_a_damaged_committed_file_makes_the_run_exit_4_with_its_name(tmp_path, port, reference, how):
    out = tmp_path / "dataset"
    assert demo(tmp_path, out, port).returncode == 0
    victim = next(f for f in visible_files(out) if "comments" in f.parts)
    data = victim.read_bytes()
    victim.write_bytes({"truncated": data[: len(data) * 2 // 3], "empty": b"",
                        "no_footer_magic": data[:-4] + b"XXXX",
                        "garbage_footer": data[:-40] + b"\x07" * 36 + b"PAR1"}[how])
    rel = str(victim.relative_to(out))
    manifests = sorted(p.name for p in (out / "_manifests").glob("*.json"))
    articles = sorted((r["article_id"], r["version"]) for r in ds.dataset(out / "articles", partitioning="hive")
                      .to_table(columns=["article_id", "version"]).to_pylist())
    run = demo(tmp_path, out, port)
    assert run.returncode == 4, run.log[-3000:]
    assert rel in summary(run) and "damaged dataset" in summary(run)
    # nothing new was written: no manifest, no article row, and nothing was even fetched
    assert sorted(p.name for p in (out / "_manifests").glob("*.json")) == manifests
    assert sorted((r["article_id"], r["version"]) for r in run.rows("articles")) == articles
    assert run.stat("downloader/request_count") == 0
    v = verify(out)
    assert v.returncode == 4 and rel in v.stderr
    q = verify(out, "--quarantine")
    assert q.returncode == 4 and "quarantined" in q.stderr
    assert verify(out).returncode == 0
    fixed = demo(tmp_path, out, port)
    assert fixed.returncode == 0, fixed.log[-3000:]
    assert check_dataset(out) == reference(3)  # the lost rows were fetched again, nothing twice


def test_verify_deep_finds_a_damaged_data_page_quick_does_not(tmp_path, port):
    out = tmp_path / "dataset"
    assert demo(tmp_path, out, port).returncode == 0
    victim = max((f for f in visible_files(out)), key=lambda f: f.stat().st_size)
    data = bytearray(victim.read_bytes())
    for k in range(64, min(len(data) - 2000, 4000)):  # scribble over the first data pages, footer intact
        data[k] ^= 0x5A
    victim.write_bytes(bytes(data))
    assert verify(out, "--quick").returncode == 0
    deep = verify(out)
    assert deep.returncode == 4 and str(victim.relative_to(out)) in deep.stderr


def test_verify_reports_unreadable_and_missing_manifest_entries(tmp_path, port):
    out = tmp_path / "dataset"
    assert demo(tmp_path, out, port).returncode == 0
    m = next((out / "_manifests").glob("*.json"))
    files = json.loads(m.read_text())["files"]
    (out / files[0]["path"]).unlink()
    (out / "_manifests" / "broken.json").write_text('{"run_id": ')
    v = verify(out, "--quick")
    assert v.returncode == 4
    assert files[0]["path"] in v.stderr and "missing" in v.stderr and "broken.json" in v.stderr


# -- 3, 4, and the __del__ traceback: full disks (a real tmpfs) ------------------------------------------------------
def test_failed_dedup_state_commit_exits_non_zero_and_is_rebuilt(tmp_path, port, reference):
    out = tmp_path / "dataset"
    with tmpfs(tmp_path / "dedupfs", "1m") as fs:
        settings = {"DEDUP_STATE_PATH": str(fs / "dedup.sqlite")}
        assert demo(tmp_path, out, port, settings=settings).returncode == 0
        filler = fill(fs)
        run = demo(tmp_path, out, port, 4, settings=settings)
        assert run.returncode == 4, run.log[-3000:]
        assert "exit 4: output not committed" in summary(run)
        filler.unlink()
        again = demo(tmp_path, out, port, 4, settings=settings)
        assert again.returncode == 0, again.log[-3000:]
    assert check_dataset(out) == reference(3, 4)


@pytest.mark.parametrize("still_full", [False, True])
def test_failed_crawl_state_commit_exits_non_zero_and_recovers(tmp_path, port, reference, still_full):
    out = tmp_path / "dataset"
    out.mkdir()
    with tmpfs(out / "_state", "1m") as fs:
        assert demo(tmp_path, out, port).returncode == 0
        filler = fill(fs)
        run = demo(tmp_path, out, port, 4)
        assert run.returncode == 4, run.log[-3000:]
        assert "exit 4: output not committed" in summary(run)
        if still_full:  # the next run on the still-full disk: a clear reason, no traceback
            blocked = demo(tmp_path, out, port, 4)
            assert blocked.returncode == 4, blocked.log[-3000:]
            assert "Traceback" not in blocked.log and "exit 4" in summary(blocked)
        filler.unlink()
        again = demo(tmp_path, out, port, 4)
        assert again.returncode == 0, again.log[-3000:]
        assert check_dataset(out) == reference(3, 4)


@pytest.mark.parametrize("leave", [200_000, 400_000])  # room to start; the run's files fail while written / at commit
def test_full_output_disk_exit_4_without_a_writer_traceback_then_recovers(tmp_path, port, reference, leave):
    out = tmp_path / "dataset"
    with tmpfs(out, "3m") as fs:
        filler = fill(fs, leave=leave)
        run = demo(tmp_path, out, port, settings={"PARQUET_ROW_GROUP_ROWS": "10"})
        assert run.returncode == 4, run.log[-3000:]
        assert "exit 4: output not committed" in summary(run)
        assert "Exception ignored" not in run.log and "ParquetWriter.__del__" not in run.log
        assert "Traceback" not in run.log  # a full disk is a logged reason, never a traceback
        assert visible_files(out) == []  # nothing half-committed
        filler.unlink()
        again = demo(tmp_path, out, port, settings={"PARQUET_ROW_GROUP_ROWS": "10"})
        assert again.returncode == 0, again.log[-3000:]
        assert check_dataset(out) == reference(3)
