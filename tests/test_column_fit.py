"""A value its Parquet column cannot store (a number where text belongs, a list where a count belongs, an int64
count in an int32 column) is repaired or its row dropped before it reaches the writer: written as it was, it
would fail the conversion of the whole row group and with it the run's commit. Real files, read back."""
from __future__ import annotations

from datetime import datetime, timezone

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.column_fit import fit_row, misfits
from pipelines.parquet import TableWriter
from pipelines.schema import TABLES, arrow_schema

ODD = [7, 1.5, True, "text", ["x", 3], {"a": 1}, datetime(2026, 1, 2, tzinfo=timezone.utc), 2 ** 40]


def good_row(table: str) -> dict:
    out = {}
    for f in arrow_schema(table):
        t = f.type
        out[f.name] = (f"{f.name} value" if pa.types.is_string(t) else 3 if pa.types.is_integer(t) else
                       0.5 if pa.types.is_floating(t) else False if pa.types.is_boolean(t) else
                       datetime(2026, 1, 2, tzinfo=timezone.utc) if pa.types.is_timestamp(t) else
                       ["BTC"] if pa.types.is_list(t) else None)
    return out


def write_and_read(tmp_path, table: str, rows: list[dict]) -> list[dict]:
    w = TableWriter(table, tmp_path, "r1", 1000, 10_000, "zstd")
    for r in rows:
        w.add("2026-01-02", r)
    staged = w.close()
    return [r for f in staged for r in pq.read_table(f.path).to_pylist()]


@pytest.mark.parametrize("table", sorted(TABLES))
def test_every_odd_value_is_repaired_or_dropped_and_the_rest_is_written(tmp_path, table):
    kept, dropped = [], 0
    for col in arrow_schema(table):
        for value in ODD:
            r = good_row(table)
            r[col.name] = value
            repaired, unfit = fit_row(table, r)
            if unfit:
                assert not col.nullable and unfit.endswith(col.name)
                dropped += 1
                continue
            assert not misfits(table, r)
            kept.append((col.name, value, r))
    rows = write_and_read(tmp_path, table, [r for _, _, r in kept])  # one row group: any misfit would fail it all
    assert len(rows) == len(kept) and dropped > 0
    by_case = dict(zip([(c, repr(v)) for c, v, _ in kept], rows))
    t = dict(zip(arrow_schema(table).names, arrow_schema(table).types))
    for (c, v), r in by_case.items():
        if pa.types.is_string(t[c]) and v in (7, 1.5, 2 ** 40):  # a number where text belongs: its text, kept
            assert r[c] == str(eval(v))


def test_the_unrepaired_value_fails_the_whole_row_group(tmp_path):
    """Why the step exists: a thread title sent as a number (a Hacker News item) fails every row written with it."""
    good, bad = good_row("threads"), good_row("threads")
    bad["title"] = 12345
    with pytest.raises((pa.ArrowTypeError, pa.ArrowInvalid)):
        write_and_read(tmp_path / "raw", "threads", [good, bad])
    repaired, unfit = fit_row("threads", bad)
    assert unfit is None and repaired == [("wrong_type", "title")]
    rows = write_and_read(tmp_path / "fit", "threads", [good, bad])
    assert [r["title"] for r in rows] == ["title value", "12345"]


def test_lists_keep_their_text_items_and_counts_out_of_range_become_null():
    r = good_row("articles")
    r["authors"], r["assets"] = ["Jane Doe", 5, None], "BTC"
    repaired, unfit = fit_row("articles", r)
    assert unfit is None and r["authors"] == ["Jane Doe"] and r["assets"] is None
    t = good_row("threads")
    t["comment_count_reported"] = 10 ** 12
    fit_row("threads", t)
    assert t["comment_count_reported"] is None
