"""This run's records as the dedup steps saw them, on disk: what lets the crawl's memory stay flat.

A run may register a million records; their ids, content hashes, order keys and MinHash signatures live in
a scratch SQLite file beside the run's staged output (``_staging/<run_id>/dedup_run.sqlite``, removed with
it; a killed run's scratch goes with its staging directory), not in the crawl process. The labeler
(:mod:`pipelines.dedup.labels`) writes records here as they are scraped and reads them back when the run
ends: exact groups and LSH buckets come from SQL over this file, clusters are formed over *nodes* (one per
distinct content hash; one per record for signed records without an exact hash), and labels are looked up
per batch of ids while the exporter streams its staged files.

The file is scratch: no journal, no fsync (``journal_mode=OFF``, ``synchronous=OFF``).
"""
from __future__ import annotations

import os
import sqlite3
import tempfile
import weakref
from collections.abc import Iterable, Iterator
from operator import itemgetter
from pathlib import Path

import xxhash

_SCHEMA = """
CREATE TABLE IF NOT EXISTS seen(k BLOB PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS docs(tbl TEXT NOT NULL, id TEXT NOT NULL, chash TEXT NOT NULL, published REAL,
  order_url TEXT NOT NULL, version INTEGER NOT NULL, exact INTEGER NOT NULL, node TEXT NOT NULL,
  PRIMARY KEY(tbl, id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS nodes(tbl TEXT NOT NULL, node TEXT NOT NULL, sig BLOB, PRIMARY KEY(tbl, node))
  WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS node_bands(tbl TEXT NOT NULL, key INTEGER NOT NULL, node TEXT NOT NULL,
  PRIMARY KEY(tbl, key, node)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pairs(tbl TEXT NOT NULL, a TEXT NOT NULL, b TEXT NOT NULL, PRIMARY KEY(tbl, a, b))
  WITHOUT ROWID;
"""
_FLUSH = 2000
_CACHE_BYTES = 8 * 2**20  # the connection's page cache
_SORT_FROM_BYTES = _CACHE_BYTES  # file size from which flushes write in key order
_BY_KEY = itemgetter(1)  # docs: id, nodes: node, node_bands: band key (the second column of each primary key)


def node_of(rid: str, chash: str, exact: bool) -> str:
    """Records with the same content hash are one node (they are duplicates of each other anyway)."""
    return f"h{chash}" if exact else f"i{rid}"


class RunDocs:
    """The scratch store. ``path`` None: a temporary file (benchmarks and tests without a staging dir)."""

    def __init__(self, path: str | Path | None = None):
        self._tmp = path is None
        if path is None:
            fd, name = tempfile.mkstemp(prefix="dedup-run-", suffix=".sqlite")
            os.close(fd)
            path = name
            weakref.finalize(self, _remove, name)
        self.path = Path(path)
        self.db: sqlite3.Connection | None = None
        self._docs: list[tuple] = []
        self._nodes: list[tuple] = []
        self._bands: list[tuple] = []
        self.count: dict[str, int] = {}
        self._key_order = False  # flushes write in key order (set once the file outgrows the page cache)

    def _open(self) -> sqlite3.Connection:
        if self.db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode = OFF")
            self.db.execute("PRAGMA synchronous = OFF")
            self.db.execute(f"PRAGMA cache_size = -{_CACHE_BYTES // 1024}")  # bounded, whatever the run's size
            self.db.execute("PRAGMA temp_store = FILE")
            self.db.executescript(_SCHEMA)
            self.db.execute("BEGIN")  # one long transaction, committed at each flush: no commit per record
        return self.db

    def _file_bytes(self) -> int:
        try:
            return self.path.stat().st_size
        except OSError:
            return 0

    # -- during the run -------------------------------------------------------------------------------------
    def first_time(self, table: str, key: str) -> bool:
        """True the first time (table, key) is asked this run (same URL / id twice in one run: False)."""
        k = xxhash.xxh128_digest(f"{table}\x1f{key}".encode("utf-8"))
        cur = self._open().execute("INSERT OR IGNORE INTO seen VALUES (?)", (k,))
        return cur.rowcount == 1

    def add(self, table: str, rid: str, chash: str, published: float | None, order_url: str, version: int,
            exact: bool, sig: bytes | None, band_keys: Iterable[int] = ()) -> None:
        node = node_of(rid, chash, exact)
        self._docs.append((table, rid, chash, published, order_url, version, int(exact), node))
        if sig is not None:
            self._nodes.append((table, node, sig))
            self._bands.extend((table, k, node) for k in band_keys)
        self.count[table] = self.count.get(table, 0) + 1
        if len(self._docs) >= _FLUSH:
            self.flush()

    def flush(self) -> None:
        if not (self._docs or self._nodes):
            return
        db = self._open()
        # Once the file is larger than the page cache: rows in key order, so each insert lands beside the previous
        # one in the B-tree instead of on a random page (band keys are hashes) and a flush touches far fewer pages
        # (below that size every page is cached and the sort would only add its own cost). The tables hold the
        # same rows whatever the order: the sort is stable, so a record registered twice in one batch still ends
        # as its last registration (INSERT OR REPLACE); nodes and bands are INSERT OR IGNORE.
        if self._key_order or self._file_bytes() > _SORT_FROM_BYTES:
            self._key_order = True
            self._docs.sort(key=_BY_KEY)
            self._nodes.sort(key=_BY_KEY)
            self._bands.sort(key=_BY_KEY)
        db.executemany("INSERT OR REPLACE INTO docs VALUES (?,?,?,?,?,?,?,?)", self._docs)
        db.executemany("INSERT OR IGNORE INTO nodes VALUES (?,?,?)", self._nodes)
        db.executemany("INSERT OR IGNORE INTO node_bands VALUES (?,?,?)", self._bands)
        db.execute("COMMIT")
        db.execute("BEGIN")
        self._docs, self._nodes, self._bands = [], [], []

    # -- when the run ends ------------------------------------------------------------------------------------
    def query(self, sql: str, args: Iterable = ()) -> Iterator[tuple]:
        self.flush()
        yield from self._open().execute(sql, tuple(args))

    def executemany(self, sql: str, rows: Iterable[tuple]) -> None:
        self._open().executemany(sql, rows)

    def existing(self, table: str, ids: Iterable[str]) -> set[str]:
        """Which of ``ids`` this run registered."""
        ids = list(ids)
        out: set[str] = set()
        for i in range(0, len(ids), 500):
            part = ids[i:i + 500]
            q = f"SELECT id FROM docs WHERE tbl = ? AND id IN ({','.join('?' * len(part))})"
            out.update(r[0] for r in self.query(q, (table, *part)))
        return out

    def docs_of(self, table: str, ids: list[str]) -> dict[str, tuple[str, str]]:
        """{id: (node, content hash)} of ``ids`` registered this run."""
        out: dict[str, tuple[str, str]] = {}
        for i in range(0, len(ids), 500):
            part = ids[i:i + 500]
            q = f"SELECT id, node, chash FROM docs WHERE tbl = ? AND id IN ({','.join('?' * len(part))})"
            out.update((r[0], (r[1], r[2])) for r in self.query(q, (table, *part)))
        return out

    def close(self) -> None:
        """Scratch: nothing in it outlives the run, so a COMMIT that fails here (a full disk, after the run's own
        commit has already reported) is not an error of the run; the connection is closed either way."""
        if self.db is not None:
            db, self.db = self.db, None
            try:
                if db.in_transaction:
                    db.execute("COMMIT")
            except sqlite3.Error:
                pass
            finally:
                db.close()
        if self._tmp:
            try:
                self.path.unlink()
            except OSError:
                pass


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
