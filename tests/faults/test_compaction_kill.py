"""A compaction killed (SIGKILL, ``FAULT_INJECT_KILL_AT=compact_<point>@<n>``) at every point of its first and
second partition: after the build, after the retired links, after the pending record, after the swap, after the
record. The dataset is two real demo crawls (every table's partition holds two files, so all three are compacted).

After each kill, with nothing recovered yet, the documented reader (``read_committed``) and DuckDB over
``committed_paths`` read exactly the rows of before (no row lost, none twice); ``scrapy dataset verify`` completes
the record and finds nothing wrong; the next ``compact`` (grace 0: the retired copies go) finishes the job, and
every reader — also one that lists directories — still reads the same rows. A crawl after a kill between a swap
and its record completes the record itself and exits 0. (Before this, the record was written only at the very
end: a kill after the first swap made every later crawl refuse with exit 4, for good.)
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines.dataset.reader import committed_paths, read_committed

from .conftest import REPO, run_crawl
from .dataset_checks import check_dataset, free_port

SMALL = {"articles": "3", "comments": "2"}
ID = {"articles": "article_id", "threads": "thread_id", "comments": "comment_id"}
POINTS = ["built", "retired", "pending", "swapped", "recorded"]


def tool(verb: str, out: Path, *args: str, kill_at: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "FAULT_INJECT_KILL_AT"}
    if kill_at:
        env["FAULT_INJECT_KILL_AT"] = kill_at
    return subprocess.run([sys.executable, "-m", f"pipelines.dataset.{verb}", str(out), *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)


def documented_rows(out: Path) -> dict:
    """Per table: the sorted (id, version) list read with pyarrow through read_committed, and DuckDB's
    (rows, distinct (id, version)) over committed_paths."""
    got = {}
    for table, key in ID.items():
        t = read_committed(out, table, columns=[key, "version"])
        pairs = sorted(zip(t.column(key).to_pylist(), t.column("version").to_pylist()))
        paths = [str(p) for p in committed_paths(out, table)]
        duck = duckdb.sql(f"SELECT count(*), count(DISTINCT ({key}, version)) FROM read_parquet({paths!r})") \
            .fetchall()[0] if paths else (0, 0)
        got[table] = (pairs, duck)
    return got


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("compactkill")
    out = tmp / "dataset"
    for k in range(2):  # two sites (ports): every partition gets a second file
        r = run_crawl(tmp / f"r{k}", spider="demo", output=out, args={**SMALL, "port": str(free_port())})
        assert r.returncode == 0, r.log[-2000:]
    for table in ID:
        assert len(list((out / table).glob("crawl_date=*/*.parquet"))) >= 2, table
    rows = documented_rows(out)
    assert all(pairs and duck == (len(pairs), len(pairs)) for pairs, duck in rows.values())
    return out, rows


def killed_copy(base, tmp_path: Path, point: str) -> Path:
    src, _ = base
    out = tmp_path / "dataset"
    shutil.copytree(src, out)
    killed = tool("compact", out, kill_at=f"compact_{point}")
    assert killed.returncode == -9, killed.stderr[-2000:]
    return out


@pytest.mark.parametrize("n", [1, 2])
@pytest.mark.parametrize("point", POINTS)
def test_a_compaction_killed_at_any_point_loses_and_duplicates_nothing(base, tmp_path, point, n):
    _, before = base
    out = killed_copy(base, tmp_path, f"{point}@{n}")
    assert documented_rows(out) == before, "read before any recovery"

    v = tool("verify", out)
    assert v.returncode == 0, v.stderr[-2000:]
    assert documented_rows(out) == before, "read after verify completed the record"
    for record in (out / "_manifests").glob("compact-*.json"):
        assert not json.loads(record.read_text()).get("pending"), "verify left a pending partition"

    killed_tags = {d.name for d in (out / "_compact_retired").glob("compact-*")}
    again = tool("compact", out, "--grace-seconds", "0")
    assert again.returncode == 0, again.stderr[-2000:]
    assert not (out / "_staging").exists()
    # the killed compaction's retired copies are gone (grace 0): its replaced names are read no more
    assert not killed_tags & {d.name for d in (out / "_compact_retired").glob("compact-*")}
    assert documented_rows(out) == before, "read after the next compaction"
    assert tool("verify", out).returncode == 0
    counts = check_dataset(out)  # a listing reader too: every file readable, no duplicate (id, version)
    assert counts == {table: len(pairs) for table, (pairs, _) in before.items()}
    for table in ID:  # everything compacted: one file per partition
        assert len(list((out / table).glob("crawl_date=*/*.parquet"))) == 1, table


def test_the_next_crawl_completes_a_killed_compaction_and_exits_0(base, tmp_path):
    _, before = base
    out = killed_copy(base, tmp_path, "swapped@2")
    run = run_crawl(tmp_path / "crawl", spider="demo", output=out, args={**SMALL, "port": str(free_port())})
    assert run.returncode == 0, run.log[-3000:]
    assert run.stat("run/recovered/compaction") >= 1
    after = documented_rows(out)
    for table, (pairs, _) in before.items():  # the crawl (a third site) added rows; none of before went
        assert set(pairs) <= set(after[table][0]) and after[table][1][0] == after[table][1][1]
    assert tool("verify", out).returncode == 0
    expire = tool("compact", out, "--grace-seconds", "0")
    assert expire.returncode == 0, expire.stderr[-2000:]
    assert {t: set(p) for t, (p, _) in documented_rows(out).items()} == {t: set(p) for t, (p, _) in after.items()}
