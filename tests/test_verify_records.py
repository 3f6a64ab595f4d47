"""`scrapy dataset verify` on a compaction record it cannot use: one clear problem line and exit 4, never a
KeyError traceback (which also broke every crawl's start-up check). Real files; the CLI runs as a subprocess."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.dataset.reader import read_committed
from pipelines.dataset.verify import quick_problems

from .conftest import REPO

PART = "comments/crawl_date=2026-01-01"


def dataset(out: Path, entry: dict) -> None:
    (out / PART).mkdir(parents=True)
    pq.write_table(pa.table({"comment_id": ["c1"], "version": [1]}), out / PART / "part-r1-00001.parquet")
    (out / "_manifests").mkdir()
    (out / "_manifests" / "r1.json").write_text(json.dumps(
        {"run_id": "r1", "files": [{"table": "comments", "path": f"{PART}/part-r1-00001.parquet", "rows": 1}]}))
    (out / "_manifests" / "compact-x.json").write_text(json.dumps(
        {"kind": "compaction", "compaction_id": "compact-x", "finished_at": "2026-01-02T00:00:00+00:00",
         "partitions": [entry]}))


@pytest.mark.parametrize("entry", [{"partition": "crawl_date=2026-01-01", "files_before": ["a"]},
                                   {"table": "comments", "files_before": ["a"]},
                                   {"table": "comments", "partition": "crawl_date=2026-01-01", "files_after": 7},
                                   "comments/crawl_date=2026-01-01"], ids=["no_table", "no_partition",
                                                                           "files_not_a_list", "not_an_object"])
def test_a_malformed_compaction_record_is_one_problem_line(tmp_path, entry):
    out = tmp_path / "dataset"
    dataset(out, entry)
    found = quick_problems(out)  # what every crawl runs at its start: a Problem, not a KeyError
    assert [p.path for p in found] == ["_manifests/compact-x.json"]
    assert "compaction record malformed" in found[0].reason
    v = subprocess.run([sys.executable, "-m", "scrapy", "dataset", "verify", str(out), "--quick"], cwd=REPO,
                       capture_output=True, text=True, timeout=120)
    assert v.returncode == 4, v.stderr[-2000:]
    assert "Traceback" not in v.stderr
    problems = [line for line in v.stderr.splitlines() if "compact-x.json" in line]
    assert len(problems) == 1 and "compaction record malformed" in problems[0], v.stderr
    assert read_committed(out, "comments").num_rows == 1  # the documented reader skips the record it cannot use
