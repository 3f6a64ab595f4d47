"""The latest view as files: ``OUTPUT_DIR/latest/<table>/part-00000.parquet``.

One row per id at its latest version (highest ``version``, then latest ``valid_from``); ids whose latest row
is a tombstone are left out. Columns are the table's (rows written before a column existed get null) plus
``crawl_date`` (the Hive partition of the row's file). The versioned tables are not touched.

``scrapy dataset snapshot OUTPUT_DIR`` writes it; with ``LATEST_AT_COMMIT`` (default on) every commit
refreshes it. The dataset card lists ``articles_latest`` / ``threads_latest`` / ``comments_latest`` configs
for it, so ``datasets.load_dataset(OUTPUT_DIR, "comments_latest")`` gives the current corpus.

Each table is written by DuckDB (streaming, ordered by id) into a fresh directory that is then exchanged with
the old one (``renameat2(RENAME_EXCHANGE)``, as compaction swaps partitions; two renames where unavailable), so
a reader sees the old or the new view of a table, never a half-written file and never no view. A refresh that
fails removes that table's view (``latest/<table>`` would no longer be the latest; the card, regenerated after
it, lists only the views that exist); the next refresh writes it again.
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import duckdb
import pyarrow as pa

from . import cli, duck
from .compact import exchange_dirs
from ..schema import PARTITION_COLUMN, TABLES

LATEST_DIR = "latest"
ID_COLUMN = {"articles": "article_id", "threads": "thread_id", "comments": "comment_id"}

HELP = "write the latest view OUTPUT_DIR/latest/<table>/*.parquet (one row per id at its latest version, tombstones left out)"


def versioned_glob(output: Path, table: str) -> str:
    return str(output / table / f"{PARTITION_COLUMN}=*" / "*.parquet").replace("'", "''")


def latest_query(output: Path, table: str) -> str:
    """SQL of the latest view of ``table``: every schema column (null where a file lacks it) + crawl_date."""
    id_col = ID_COLUMN[table]
    cols = ", ".join(f'"{c.name}"' for c in TABLES[table])
    return (f"SELECT {cols}, CAST({PARTITION_COLUMN} AS VARCHAR) AS {PARTITION_COLUMN} FROM ("
            f"SELECT *, row_number() OVER (PARTITION BY {id_col} ORDER BY version DESC, valid_from DESC) AS _rank "
            f"FROM read_parquet('{versioned_glob(output, table)}', hive_partitioning=1, union_by_name=1)) "
            f"WHERE _rank = 1 AND NOT is_tombstone ORDER BY {id_col}")


def duckdb_type(t: pa.DataType) -> str:
    if pa.types.is_list(t):
        return duckdb_type(t.value_type) + "[]"
    if pa.types.is_timestamp(t):
        return "TIMESTAMPTZ"
    return {pa.bool_(): "BOOLEAN", pa.int32(): "INTEGER", pa.int64(): "BIGINT", pa.float64(): "DOUBLE"}.get(t, "VARCHAR")


def _missing_columns(con, output: Path, table: str) -> list:
    have = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{versioned_glob(output, table)}', "
                                      "hive_partitioning=1, union_by_name=1)").fetchall()}
    return [c for c in TABLES[table] if c.name not in have]


def write_snapshot(output_dir) -> dict[str, int]:
    """Write the latest view of every table that has files; returns rows per table."""
    output = Path(output_dir)
    con = duck.connect()
    con.execute("SET preserve_insertion_order = true")
    rows: dict[str, int] = {}
    for table in TABLES:
        if not any(output.glob(f"{table}/{PARTITION_COLUMN}=*/*.parquet")):
            continue
        query = latest_query(output, table)
        missing = _missing_columns(con, output, table)
        if missing:  # every file predates these columns: give them as typed nulls
            cols = ", ".join(f'"{c.name}"' if c not in missing else f'CAST(NULL AS {duckdb_type(c.type)}) AS "{c.name}"'
                             for c in TABLES[table])
            query = query.replace(", ".join(f'"{c.name}"' for c in TABLES[table]), cols, 1)
        final = output / LATEST_DIR / table
        fresh = output / LATEST_DIR / f".{table}.new"
        old = output / LATEST_DIR / f".{table}.old"
        for d in (fresh, old):
            shutil.rmtree(d, ignore_errors=True)
        try:
            fresh.mkdir(parents=True)
            target = str(fresh / "part-00000.parquet").replace("'", "''")
            con.execute(f"COPY ({query}) TO '{target}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 100000)")
            rows[table] = con.execute(f"SELECT count(*) FROM read_parquet('{target}')").fetchone()[0]
        except BaseException:
            # the view would no longer be the latest: it goes (the card lists only the views that exist), so
            # nobody reads a stale "latest" as the current corpus; the next refresh writes it again
            shutil.rmtree(fresh, ignore_errors=True)
            shutil.rmtree(final, ignore_errors=True)
            raise
        if final.exists():  # one atomic exchange: latest/<table> is the old view or the new one, never absent
            exchange_dirs(fresh, final, parking=old)
            shutil.rmtree(fresh if fresh.exists() else old, ignore_errors=True)
        else:
            fresh.rename(final)
        shutil.rmtree(old, ignore_errors=True)
    return rows


def run(output_dir: Path, args=None) -> int:
    rows = write_snapshot(output_dir)
    for table, n in rows.items():
        print(f"{Path(output_dir) / LATEST_DIR / table}: {n:,} rows")
    if not rows:
        print(f"{output_dir}: no committed tables yet", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(cli.main(sys.modules[__name__]))
