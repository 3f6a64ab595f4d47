"""DuckDB connections of the dataset tools, with a bounded memory budget.

The card, the ``latest/`` snapshot and the report run inside the crawl process right after a commit, over the
whole dataset (a million rows and more): DuckDB's default budget (80 % of the machine's RAM) would let the
crawl's peak grow with the dataset. Capped here (``DATASET_DUCKDB_MEMORY``, default 256MB; one thread), DuckDB
spills its sorts and aggregates to a temporary directory instead.
"""
from __future__ import annotations

import os
import tempfile

import duckdb


def connect() -> duckdb.DuckDBPyConnection:
    return duckdb.connect(config={"memory_limit": os.environ.get("DATASET_DUCKDB_MEMORY", "256MB"), "threads": 1,
                                  "temp_directory": os.path.join(tempfile.gettempdir(), "duckdb-dataset-spill"),
                                  "preserve_insertion_order": False})
