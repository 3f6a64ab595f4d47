"""croissant.json of a demo crawl: mlcroissant (the MLCommons reference library) loads it, and the records of
every record set equal the Parquet rows, column by column."""
from __future__ import annotations

import json
import math
from datetime import datetime, timezone

import duckdb
import numpy as np
import pytest

from pipelines.dataset.croissant import ID_COLUMN
from pipelines.schema import PARTITION_COLUMN, TABLES

mlc = pytest.importorskip("mlcroissant")


def plain(v):
    """mlcroissant's values (bytes, numpy arrays, pandas Timestamps, NaN) and DuckDB's as comparable Python."""
    if isinstance(v, bytes):
        return v.decode("utf-8")
    if isinstance(v, (list, tuple, np.ndarray)):
        return [plain(x) for x in v]
    if hasattr(v, "to_pydatetime"):
        v = v.to_pydatetime()
    if isinstance(v, datetime):
        return v.astimezone(timezone.utc).replace(tzinfo=None)
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, np.generic):
        return plain(v.item())
    return v


@pytest.fixture(scope="module")
def croissant(demo_run):
    path = demo_run.output / "croissant.json"
    if not path.exists():  # written at commit; older layouts: write it here
        from pipelines.dataset.croissant import write_croissant
        write_croissant(demo_run.output)
    return path


def test_croissant_describes_every_table_with_types_docs_and_joins(croissant):
    doc = json.loads(croissant.read_text())
    assert doc["conformsTo"].startswith("http://mlcommons.org/croissant/1.")
    sets = {rs["name"]: rs for rs in doc["recordSet"]}
    for table, cols in TABLES.items():
        fields = {f["name"]: f for f in sets[table]["field"]}
        assert set(fields) == {c.name for c in cols} | {PARTITION_COLUMN}
        assert all(fields[c.name]["description"] == c.doc for c in cols)
        assert fields["assets"].get("repeated") is True and fields["assets"]["dataType"] == "sc:Text"
    files = {d["@id"]: d for d in doc["distribution"]}
    assert files["comments-files"]["encodingFormat"] == "application/x-parquet"
    refs = {(rs["name"], f["name"]): f["references"] for rs in doc["recordSet"] for f in rs["field"] if "references" in f}
    assert ("comments", "thread_id") in refs and ("threads", "article_id") in refs and ("comments", "article_id") in refs


@pytest.mark.parametrize("table", list(TABLES))
def test_mlcroissant_records_equal_the_parquet_rows(demo_run, croissant, table):
    ds = mlc.Dataset(jsonld=str(croissant))
    names = [c.name for c in TABLES[table]] + [PARTITION_COLUMN]
    got = [tuple(plain(r[f"{table}/{n}"]) for n in names) for r in ds.records(record_set=table)]
    glob = str(demo_run.output / table / f"{PARTITION_COLUMN}=*" / "*.parquet")
    cur = duckdb.connect().execute(
        f"SELECT {', '.join(n if n != PARTITION_COLUMN else f'CAST({n} AS VARCHAR)' for n in names)} "
        f"FROM read_parquet('{glob}', hive_partitioning=1, union_by_name=1)")
    want = [tuple(plain(v) for v in row) for row in cur.fetchall()]
    key = names.index(ID_COLUMN[table]), names.index("version")
    assert len(got) == len(want) > 0
    assert sorted(got, key=lambda r: (r[key[0]], r[key[1]])) == sorted(want, key=lambda r: (r[key[0]], r[key[1]]))


@pytest.mark.parametrize("table", list(TABLES))
def test_mlcroissant_latest_records_equal_the_snapshot_rows(demo_run, croissant, table):
    ds = mlc.Dataset(jsonld=str(croissant))
    names = [c.name for c in TABLES[table]] + [PARTITION_COLUMN]
    got = sorted(tuple(plain(r[f"{table}_latest/{n}"]) for n in names) for r in ds.records(record_set=f"{table}_latest"))
    cur = duckdb.connect().execute(f"SELECT {', '.join(names)} FROM read_parquet('{demo_run.output}/latest/{table}/*.parquet')")
    want = sorted(tuple(plain(v) for v in row) for row in cur.fetchall())
    assert got == want and len(got) > 0
