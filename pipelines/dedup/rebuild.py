"""Rebuild the cross-run dedup state from the Parquet dataset itself (after corruption, or on demand).

Everything the state holds can be recomputed from committed rows: the latest version of each record,
its content hash, its cluster (``duplicate_of`` / ``cluster_id``) and — from the text — its MinHash
signature. Runs that crashed before their files were committed left no rows, so they are not "seen".

``scrapy dataset dedup-rebuild OUTPUT_DIR [STATE_PATH]`` (:mod:`pipelines.dataset.dedup_rebuild`) rebuilds
into a fresh file.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path
from types import SimpleNamespace

from crawler.state.consistency import committed_runs
from crawler.state.dedup_store import SeenDoc, SQLiteDedupStore

from . import minhash as mh
from .keys import COMMENT_NEAR_MIN_WORDS, ID_FIELD, ORDER_URL, THREAD_STATE_FIELDS, thread_hash

ID = ID_FIELD


def latest_rows(rows: list[dict], id_col: str) -> list[dict]:
    """The highest version of each id (ties: the latest valid_from)."""
    best: dict[str, dict] = {}
    for r in rows:
        cur = best.get(r[id_col])
        if cur is None or (r["version"], r["valid_from"]) > (cur["version"], cur["valid_from"]):
            best[r[id_col]] = r
    return [best[k] for k in sorted(best)]


def state_entry(table: str, r: dict, comment_min_words: int = COMMENT_NEAR_MIN_WORDS):
    """(SeenDoc, band keys) for one committed row."""
    rid = r[ID[table]]
    sig = None
    if table == "threads":
        chash = thread_hash(SimpleNamespace(**r))
    else:
        chash = r["content_hash"]
        words = [] if r.get("is_deleted") or r["is_tombstone"] else mh.tokens(r["body_text"])
        if len(words) >= (mh.SHINGLE_WORDS if table == "articles" else comment_min_words):
            sig = mh.signature(mh.shingle_hashes(words))
    cluster = r.get("cluster_id")
    published = r.get("published_at")
    doc = SeenDoc(rid, chash, r["version"], r.get("duplicate_of") or cluster or rid, cluster,
                  published.timestamp() if published else None, r[ORDER_URL[table]], r["run_id"],
                  mh.to_bytes(sig) if sig is not None else None)
    return doc, (mh.band_keys(sig) if sig is not None else [])


def rebuild_from_dataset(output_dir: str | Path, store) -> int:
    """Every table's latest rows streamed into ``store.apply`` (which takes generators and writes in batches):
    the latest version per id is chosen by DuckDB within its capped memory (it spills), so a rebuild of a
    million rows holds one batch of rows at a time, not the dataset (it loaded every row: 2.6 GB at 1M)."""
    changes = {}
    for table, id_col in ID.items():
        files = data_files(Path(output_dir) / table)
        if not files:
            continue  # no committed file (an emptied partition directory has no schema to read)
        cols = {id_col, "version", "valid_from", "run_id", "is_tombstone", ORDER_URL[table]}
        if table == "threads":
            cols |= set(THREAD_STATE_FIELDS)
        else:
            cols |= {"content_hash", "duplicate_of", "cluster_id", "published_at", "body_text"}
            cols |= {"is_deleted"} if table == "comments" else set()
        changes[table] = _entries(table, latest_rows_streamed(files, sorted(cols), id_col))
    return store.apply("rebuild", changes) if changes else 0


def _entries(table: str, rows):
    """A function, not a generator expression in the loop: the table is bound now, not when ``apply`` reads."""
    for r in rows:
        yield state_entry(table, r)


def data_files(root: Path) -> list[str]:
    """A table's Parquet files as ``pyarrow.dataset`` lists them: names starting with ``_`` or ``.`` (scratch,
    retired files) are not data."""
    if not root.is_dir():
        return []
    return sorted(str(p) for p in root.rglob("*.parquet")
                  if not any(part.startswith(("_", ".")) for part in p.relative_to(root).parts))


def latest_rows_streamed(files: list[str], columns: list[str], id_col: str, batch_rows: int = 5000):
    """The rows :func:`latest_rows` gives (highest version of each id, ties: the latest valid_from; in id order),
    as dicts, one Arrow batch at a time (the same Python values ``Table.to_pylist`` gives)."""
    from pipelines.dataset import duck  # DuckDB with its memory cap and spill directory

    con = duck.connect()
    try:
        cols = ", ".join(f'"{c}"' for c in columns)
        rel = con.sql(
            f"SELECT {cols} FROM read_parquet(?, union_by_name = true, hive_partitioning = false) "
            f'QUALIFY row_number() OVER (PARTITION BY "{id_col}" ORDER BY version DESC, valid_from DESC) = 1 '
            f'ORDER BY "{id_col}"', params=[files])
        for batch in rel.to_arrow_reader(batch_rows):
            yield from batch.to_pylist()
    finally:
        con.close()


def roll_forward_refresher(settings):
    """The hook a run gives its run context: after a killed run's commit is rolled forward, the dedup state may
    have missed it; then it is rebuilt from the dataset (the dataset is the source of truth; the state is a
    cache of it) and the stale file kept beside it."""
    output = Path(settings.get("OUTPUT_DIR", "output"))
    path = Path(settings.get("DEDUP_STATE_PATH") or output / "_state" / "dedup.sqlite")

    def refresh(journal: dict) -> None:
        if not path.exists():
            return
        try:
            with sqlite3.connect(path) as db:
                known = db.execute("SELECT 1 FROM runs WHERE run_id = ?", (journal["run_id"],)).fetchone()
        except sqlite3.DatabaseError:
            known = None
        if known:
            return
        aside = path.with_name(path.name + f".stale-{journal['run_id']}")
        path.replace(aside)
        store = SQLiteDedupStore(path, mh.PARAMS)
        try:
            rebuild_from_dataset(output, store)
            store.mark_runs(committed_runs(output))  # it covers them: the run's own check then finds a match
        finally:
            store.close()

    return refresh
