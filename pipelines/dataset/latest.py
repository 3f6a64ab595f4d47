""""Latest version of everything": DuckDB views over a dataset written by incremental runs.

Each record (article, thread, comment) may have several rows: version 1, 2, ... and possibly a tombstone
(``is_tombstone``) when it vanished. ``latest_<table>`` keeps each id's highest version and drops ids whose
latest row is a tombstone::

    import duckdb
    from pipelines.dataset.latest import register_latest_views
    con = duckdb.connect()
    register_latest_views(con, "output")
    con.execute("SELECT count(*) FROM latest_articles").fetchall()

``scrapy dataset latest OUTPUT_DIR`` prints row counts of the raw and latest views.
"""
from __future__ import annotations

import sys
from pathlib import Path

import duckdb

from . import cli, duck

HELP = "row counts of every table: all rows and the latest version of each record"
ID_COLUMN = {"articles": "article_id", "threads": "thread_id", "comments": "comment_id"}


def latest_sql(table: str, output_dir: str | Path) -> str:
    glob = str(Path(output_dir) / table / "**" / "*.parquet").replace("'", "''")
    id_col = ID_COLUMN[table]
    return (f"SELECT * EXCLUDE (_rank) FROM (SELECT *, row_number() OVER (PARTITION BY {id_col} "
            f"ORDER BY version DESC, valid_from DESC) AS _rank FROM read_parquet('{glob}', hive_partitioning=1, "
            f"union_by_name=1)) WHERE _rank = 1 AND NOT is_tombstone")


def register_latest_views(con: duckdb.DuckDBPyConnection, output_dir: str | Path) -> list[str]:
    """Create ``all_<table>`` and ``latest_<table>`` views for every table present."""
    made = []
    for table in ID_COLUMN:
        if not any((Path(output_dir) / table).rglob("*.parquet")):
            continue
        glob = str(Path(output_dir) / table / "**" / "*.parquet").replace("'", "''")
        con.execute(f"CREATE OR REPLACE VIEW all_{table} AS SELECT * FROM read_parquet('{glob}', "
                    "hive_partitioning=1, union_by_name=1)")
        con.execute(f"CREATE OR REPLACE VIEW latest_{table} AS {latest_sql(table, output_dir)}")
        made.append(table)
    return made


def run(output_dir: Path, args=None) -> int:
    con = duck.connect()
    for table in register_latest_views(con, output_dir):
        n_all = con.execute(f"SELECT count(*) FROM all_{table}").fetchone()[0]
        n_latest = con.execute(f"SELECT count(*) FROM latest_{table}").fetchone()[0]
        print(f"{table:<9} rows={n_all:<8} latest={n_latest}")
    return 0


if __name__ == "__main__":
    sys.exit(cli.main(sys.modules[__name__]))
