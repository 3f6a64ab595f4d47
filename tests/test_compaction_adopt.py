"""A dataset an older version left damaged: its compaction wrote the record only at the very end, and was killed
after swapping one partition — merged ``part-compact-<tag>-N`` files no record names, the files the run
manifests name missing, every crawl refusing (exit 4). ``scrapy dataset verify`` (as every crawl's start-up
recovery) now writes the missing record when the merged files hold exactly the missing files' rows; readers
then read every row once, also after the retired copies are gone. Real Parquet; the CLI as a subprocess."""
from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.dataset import compact as C
from pipelines.dataset.reader import committed_paths, read_committed
from pipelines.dataset.verify import quick_problems

from .conftest import REPO


def test_an_unrecorded_compaction_of_an_older_version_is_adopted(tmp_path):
    out = tmp_path / "dataset"
    for run in ("r1", "r2"):  # two committed runs, each one file in each of two partitions
        files = []
        for d in ("2026-01-01", "2026-01-02"):
            p = out / "comments" / f"crawl_date={d}" / f"part-{run}-00001.parquet"
            p.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(pa.table({"comment_id": [f"{run}{d}a", f"{run}{d}b"], "version": [1, 1]}), p)
            files.append({"table": "comments", "path": str(p.relative_to(out)), "rows": 2})
        (out / "_manifests").mkdir(exist_ok=True)
        (out / "_manifests" / f"{run}.json").write_text(json.dumps({"run_id": run, "files": files}))
    before = sorted(read_committed(out, "comments").column("comment_id").to_pylist())
    # what the old code left: the first partition swapped, no record (it was written only after the last)
    part = sorted((out / "comments").glob("crawl_date=*"))[0]
    args = types.SimpleNamespace(target_rows=1000, min_files=2, row_group_rows=100)
    assert C.compact_partition(out, part, "comments", "compact-20260101T000000Z-dead", args, {}) is not None
    assert not list((out / "_manifests").glob("compact-*.json"))
    assert len([p for p in quick_problems(out) if p.missing]) == 2  # every crawl refused on these

    v = subprocess.run([sys.executable, "-m", "scrapy", "dataset", "verify", str(out), "--quick"], cwd=REPO,
                       capture_output=True, text=True, timeout=120)
    assert v.returncode == 0, v.stderr
    assert "was swapped by a compaction without a record" in v.stderr
    (record,) = (out / "_manifests").glob("compact-*.json")
    assert json.loads(record.read_text())["adopted"] is True
    C.remove_retired(out, 0)  # the grace period is over: the replaced names exist nowhere now
    assert sorted(read_committed(out, "comments").column("comment_id").to_pylist()) == before
    paths = [str(p) for p in committed_paths(out, "comments")]
    assert duckdb.sql(f"SELECT count(*), count(DISTINCT comment_id) FROM read_parquet({paths!r})").fetchall() == \
        [(len(before), len(before))]
    assert quick_problems(out) == []


def test_an_orphan_that_does_not_account_for_the_missing_rows_is_left_alone(tmp_path):
    out = tmp_path / "dataset"
    part = out / "comments" / "crawl_date=2026-01-01"
    part.mkdir(parents=True)
    pq.write_table(pa.table({"comment_id": ["x"], "version": [1]}), part / "part-compact-20260101T000000Z-dead-00001.parquet")
    (out / "_manifests").mkdir()
    (out / "_manifests" / "r1.json").write_text(json.dumps({"run_id": "r1", "files": [
        {"table": "comments", "path": "comments/crawl_date=2026-01-01/part-r1-00001.parquet", "rows": 5}]}))
    v = subprocess.run([sys.executable, "-m", "scrapy", "dataset", "verify", str(out), "--quick"], cwd=REPO,
                       capture_output=True, text=True, timeout=120)
    assert v.returncode == 4 and "named by _manifests/r1.json but missing" in v.stderr, v.stderr
    assert not list((out / "_manifests").glob("compact-*.json"))
