"""Compaction on a real dataset (three `scrapy crawl demo` runs into one OUTPUT_DIR) and on Parquet files
written with the real schema; the CLI runs as a subprocess."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from crawler.items import ArticleRecord, record_columns
from crawler.state.run_lock import RunLock
from pipelines.dataset.compact import exchange_dirs, plan_groups, needs_compaction, recover_parked
from pipelines.schema import TABLES, arrow_schema

from .conftest import REPO, run_crawl

ID = {"articles": "article_id", "threads": "thread_id", "comments": "comment_id"}


def compact_cli(output: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scrapy", "dataset", "compact", str(output), *args], cwd=REPO,
                          capture_output=True, text=True, timeout=300, env=dict(os.environ, PYTHONPATH=str(REPO)))


def parquet_files(output: Path) -> list[Path]:
    return sorted(p for t in TABLES for p in (output / t).rglob("*.parquet"))


def rows_multiset(output: Path, table: str) -> list[str]:
    rows = ds.dataset(output / table, format="parquet", partitioning="hive").to_table().to_pylist()
    return sorted(json.dumps(r, sort_keys=True, default=str) for r in rows)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def three_runs(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("compact") / "dataset"
    for _ in range(3):  # a new port each time: new URLs, so each run writes its own files
        res = run_crawl(out, "-a", "articles=4", "-a", "comments=3", "-a", f"port={free_port()}")
        assert res.returncode == 0, res.stderr[-2000:]
    return out


def test_compaction_keeps_every_row_and_leaves_fewer_files(three_runs):
    before_files = parquet_files(three_runs)
    before = {t: rows_multiset(three_runs, t) for t in TABLES}
    ids_before = {t: sorted(pq.read_table(three_runs / t, columns=[ID[t]]).column(0).to_pylist()) for t in TABLES}
    assert len(before_files) == 9

    proc = compact_cli(three_runs)
    assert proc.returncode == 0, proc.stderr

    after_files = parquet_files(three_runs)
    assert len(after_files) == 3 and not set(after_files) & set(before_files)
    con = duckdb.connect()
    for t in TABLES:
        assert rows_multiset(three_runs, t) == before[t]
        assert sorted(pq.read_table(three_runs / t, columns=[ID[t]]).column(0).to_pylist()) == ids_before[t]
        n_duck = con.execute(f"SELECT count(*) FROM read_parquet('{three_runs}/{t}/**/*.parquet', "
                             "hive_partitioning=1)").fetchall()[0][0]
        assert n_duck == len(before[t]) == ds.dataset(three_runs / t, partitioning="hive").count_rows()
        assert pq.read_schema(next((three_runs / t).rglob("*.parquet"))).metadata[b"table"] == t.encode()
    assert not (three_runs / "_staging").exists() and not (three_runs / "_compact_old").exists()

    records = list((three_runs / "_manifests").glob("compact-*.json"))
    assert len(records) == 1
    rec = json.loads(records[0].read_text())
    assert rec["files_before"] == 9 and rec["files_after"] == 3
    assert rec["rows"] == {t: len(before[t]) for t in TABLES}
    assert {p["swap"] for p in rec["partitions"]} == {"renameat2"}

    # a second compaction changes nothing and writes no record
    again = compact_cli(three_runs)
    assert again.returncode == 0 and "below_min_files" in again.stderr
    assert parquet_files(three_runs) == after_files
    assert len(list((three_runs / "_manifests").glob("compact-*.json"))) == 1


def test_compaction_refuses_while_the_lock_is_held(three_runs):
    before = parquet_files(three_runs)
    with RunLock(three_runs, owner="test-holder"):
        proc = compact_cli(three_runs)
    assert proc.returncode == 6
    assert "locked" in proc.stderr and "test-holder" in proc.stderr
    assert parquet_files(three_runs) == before


def write_articles(path: Path, start: int, n: int, schema: pa.Schema | None = None) -> None:
    now = datetime(2026, 11, 25, 6, 0, tzinfo=timezone.utc)
    rows = [record_columns(ArticleRecord(article_id=f"a{i:04d}", url=f"http://x/{i}", canonical_url=f"http://x/{i}",
                                         site="x", title=f"T{i}", body_text="b" * i, fetched_at=now, valid_from=now,
                                         run_id="r", parser="p@1", content_hash="h"))
            for i in range(start, start + n)]
    schema = schema or arrow_schema("articles")
    rows = [{k: v for k, v in r.items() if k in schema.names} for r in rows]
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)


def test_target_rows_packs_files_and_row_groups_are_bounded(tmp_path):
    part = tmp_path / "articles" / "crawl_date=2026-11-25"
    for k, n in enumerate([10, 10, 10, 40, 5, 5]):
        write_articles(part / f"part-run{k}-00001.parquet", 100 * k, n)
    big_inode = (part / "part-run3-00001.parquet").stat().st_ino
    proc = compact_cli(tmp_path, "--table", "articles", "--target-rows", "25", "--row-group-rows", "4")
    assert proc.returncode == 0, proc.stderr
    names = sorted(p.name for p in part.iterdir())
    # [10+10] [10] [40] [5+5]: the single 10 and the 40 are kept as they are
    assert len(names) == 4 and {"part-run2-00001.parquet", "part-run3-00001.parquet"} <= set(names)
    assert (part / "part-run3-00001.parquet").stat().st_ino == big_inode  # hard-linked, not rewritten
    merged = [pq.ParquetFile(part / n) for n in names if n.startswith("part-compact-")]
    assert sorted(f.metadata.num_rows for f in merged) == [10, 20]
    for f in merged:
        assert max(f.metadata.row_group(i).num_rows for i in range(f.num_row_groups)) <= 4
    ids = pq.read_table(part, columns=["article_id"]).column(0).to_pylist()
    assert sorted(ids) == sorted([f"a{100 * k + i:04d}" for k, n in enumerate([10, 10, 10, 40, 5, 5]) for i in range(n)])


def test_files_missing_a_nullable_column_are_merged_with_nulls(tmp_path):
    part = tmp_path / "articles" / "crawl_date=2026-11-24"
    full = arrow_schema("articles")
    older = pa.schema([f for f in full if f.name != "syndicated_from"], metadata=full.metadata)
    write_articles(part / "part-old-00001.parquet", 0, 3, older)
    write_articles(part / "part-new-00001.parquet", 3, 3)
    assert compact_cli(tmp_path).returncode == 0
    table = pq.read_table(part)
    assert table.num_rows == 6 and table.column("syndicated_from").null_count == 6
    assert len(list(part.iterdir())) == 1


def test_plan_groups_and_skip_reasons():
    assert plan_groups([("a", 5), ("b", 5), ("c", 5)], 10) == [["a", "b"], ["c"]]
    assert plan_groups([("a", 50), ("b", 1), ("c", 1)], 10) == [["a"], ["b", "c"]]
    assert plan_groups([], 10) == []
    assert needs_compaction(1, [["a"]], 2) == "below_min_files"
    assert needs_compaction(2, [["a"], ["b"]], 2) == "already_packed"
    assert needs_compaction(2, [["a", "b"]], 2) is None


def test_exchange_dirs_swaps_contents(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    (a / "new").write_text("1"), (b / "old").write_text("2")
    assert exchange_dirs(a, b) == "renameat2"
    assert [p.name for p in b.iterdir()] == ["new"] and [p.name for p in a.iterdir()] == ["old"]


def test_interrupted_fallback_swap_is_recovered(tmp_path):
    """A kill between the two fallback renames: the partition is gone and the old files are parked."""
    parked = tmp_path / "_compact_old" / "compact-1" / "articles" / "crawl_date=2026-11-25"
    write_articles(parked / "part-r1-00001.parquet", 0, 2)
    write_articles(tmp_path / "articles" / "crawl_date=2026-11-25" / "part-r2-00001.parquet", 2, 2)  # a later run
    assert recover_parked(tmp_path) == ["restored parked articles/crawl_date=2026-11-25"]
    assert pq.read_table(tmp_path / "articles").num_rows == 4 and not (tmp_path / "_compact_old").exists()
    # ... and a kill after the second rename: the compacted file is in place, the parked copy goes
    parked2 = tmp_path / "_compact_old" / "compact-2" / "articles" / "crawl_date=2026-11-25"
    write_articles(parked2 / "part-r1-00001.parquet", 0, 2)
    live = tmp_path / "articles" / "crawl_date=2026-11-25"
    merged = pq.read_table(live)
    for p in live.iterdir():
        p.unlink()
    pq.write_table(merged, live / "part-compact-2-00001.parquet")
    assert recover_parked(tmp_path) == ["deleted parked articles/crawl_date=2026-11-25"]
    assert pq.read_table(tmp_path / "articles").num_rows == 4
