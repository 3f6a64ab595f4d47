"""Persistent deduplication state across runs: what earlier runs wrote, per table and record id.

The :class:`DedupStore` protocol is all the pipelines use, so another backend (e.g. Redis: a hash per
record, a set per content hash and per LSH band key) can replace :class:`SQLiteDedupStore` later.
Writes happen only in :meth:`DedupStore.apply`, one transaction per run, called after the run's Parquet
files are committed — a crashed run never marks unwritten rows as seen.

The SQLite file lives at ``OUTPUT_DIR/_state/dedup.sqlite`` unless DEDUP_STATE_PATH says otherwise.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol

STATE_FORMAT = "1"
TABLES = ("articles", "threads", "comments")


class StateError(Exception):
    """The state file is unreadable, corrupt or from an incompatible version."""


class StateBusy(StateError):
    """The state file is locked by another process: not corrupt, and never to be moved aside."""


def _is_busy(exc: Exception) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc))


@dataclass(frozen=True)
class SeenDoc:
    """One record as last committed: its content hash and version, and its duplicate cluster."""

    id: str
    content_hash: str
    version: int = 1
    rep_id: str = ""  # representative of its cluster; its own id when it is one or stands alone
    cluster_id: str | None = None  # None while it is in no cluster
    published_at: float | None = None  # POSIX seconds (for the representative order)
    order_url: str = ""
    run_id: str = ""
    sig: bytes | None = None  # MinHash signature, when near-duplicate matching applies


class DedupStore(Protocol):
    def get(self, table: str, ids: Iterable[str]) -> dict[str, SeenDoc]: ...
    def by_hash(self, table: str, hashes: Iterable[str]) -> dict[str, list[SeenDoc]]: ...
    def by_bands(self, table: str, keys: Iterable[int], max_bucket: int = 0) -> list[SeenDoc]: ...
    def apply(self, run_id: str, changes: Mapping[str, list[tuple[SeenDoc, list[int]]]]) -> int: ...
    def meta(self, key: str) -> str | None: ...
    def close(self) -> None: ...


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs(run_id TEXT PRIMARY KEY, committed_at TEXT NOT NULL, docs INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS docs(n INTEGER PRIMARY KEY, tbl TEXT NOT NULL, id TEXT NOT NULL,
  content_hash TEXT NOT NULL, version INTEGER NOT NULL, rep_id TEXT NOT NULL, cluster_id TEXT,
  published_at REAL, order_url TEXT NOT NULL, run_id TEXT NOT NULL, sig BLOB);
CREATE UNIQUE INDEX IF NOT EXISTS docs_id ON docs(tbl, id);
CREATE INDEX IF NOT EXISTS docs_hash ON docs(tbl, content_hash);
CREATE TABLE IF NOT EXISTS bands(key INTEGER NOT NULL, n INTEGER NOT NULL, PRIMARY KEY(key, n)) WITHOUT ROWID;
"""
_COLS = "id, content_hash, version, rep_id, cluster_id, published_at, order_url, run_id, sig"


def _guarded(method):
    """SQLite errors while reading (a file damaged mid-run) surface as StateError, never as a raw traceback."""
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except sqlite3.DatabaseError as exc:
            raise StateError(f"{self.path}: {exc}") from exc
    wrapper.__name__, wrapper.__doc__ = method.__name__, method.__doc__
    return wrapper


def _doc(row) -> SeenDoc:
    return SeenDoc(*row)


def _chunks(items: list, n: int = 500):
    for i in range(0, len(items), n):
        yield items[i:i + n]


class SQLiteDedupStore:
    """:class:`DedupStore` in one SQLite file. Opening checks integrity and format; failures raise StateError."""

    def __init__(self, path: str | Path, params: str = "") -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._has: dict[str, bool] = {}
        try:
            self.db = sqlite3.connect(self.path, isolation_level=None, timeout=10)
            if self.db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise StateError(f"integrity check failed for {self.path}")
            self.db.executescript(_SCHEMA)
            fmt, stored_params = self.meta("format"), self.meta("params")
            if fmt is None:
                self.db.executemany("INSERT INTO meta VALUES (?, ?)", [("format", STATE_FORMAT), ("params", params)])
            elif fmt != STATE_FORMAT or stored_params != params:
                raise StateError(f"state format {fmt}/{stored_params} does not match {STATE_FORMAT}/{params}")
        except sqlite3.DatabaseError as exc:
            if _is_busy(exc):
                raise StateBusy(f"{self.path}: {exc}") from exc
            raise StateError(f"{self.path}: {exc}") from exc

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _has_docs(self, table: str) -> bool:
        """Whether ``table`` has any record; remembered until the next :meth:`apply` (a first run of a
        table then asks nothing per record)."""
        if table not in self._has:
            row = self.db.execute("SELECT 1 FROM docs WHERE tbl = ? LIMIT 1", (table,)).fetchone()
            self._has[table] = row is not None
        return self._has[table]

    @_guarded
    def get(self, table: str, ids: Iterable[str]) -> dict[str, SeenDoc]:
        ids = list(ids)
        if not ids or not self._has_docs(table):
            return {}
        if len(ids) == 1:
            row = self.db.execute(f"SELECT {_COLS} FROM docs WHERE tbl = ? AND id = ?", (table, ids[0])).fetchone()
            return {row[0]: _doc(row)} if row else {}
        out: dict[str, SeenDoc] = {}
        for part in _chunks(ids):
            q = f"SELECT {_COLS} FROM docs WHERE tbl = ? AND id IN ({','.join('?' * len(part))})"
            out.update((r[0], _doc(r)) for r in self.db.execute(q, (table, *part)))
        return out

    @_guarded
    def by_hash(self, table: str, hashes: Iterable[str]) -> dict[str, list[SeenDoc]]:
        out: dict[str, list[SeenDoc]] = {}
        if not self._has_docs(table):
            return out
        for part in _chunks(sorted(set(hashes))):
            q = f"SELECT {_COLS} FROM docs WHERE tbl = ? AND content_hash IN ({','.join('?' * len(part))})"
            for r in self.db.execute(q, (table, *part)):
                out.setdefault(r[1], []).append(_doc(r))
        return out

    @_guarded
    def by_bands(self, table: str, keys: Iterable[int], max_bucket: int = 0) -> list[SeenDoc]:
        """Records sharing at least one LSH band key (candidates; stale keys of old versions may match too).
        With ``max_bucket``, keys already shared by more records (boilerplate) are ignored."""
        keys = list(keys)
        if not keys or not self._has_docs(table):
            return []
        marks = ",".join("?" * len(keys))
        cap = f"SELECT key FROM bands WHERE key IN ({marks}) GROUP BY key HAVING count(*) <= ?" if max_bucket else marks
        cols = ", ".join(f"d.{c.strip()}" for c in _COLS.split(","))
        q = (f"SELECT DISTINCT {cols} FROM bands b CROSS JOIN docs d ON d.n = b.n "  # CROSS JOIN: bands first
             f"WHERE b.key IN ({cap}) AND d.tbl = ? ORDER BY d.n")
        args = (*keys, max_bucket, table) if max_bucket else (*keys, table)
        return [_doc(r) for r in self.db.execute(q, args)]

    def apply(self, run_id: str, changes: Mapping[str, list[tuple[SeenDoc, list[int]]]]) -> int:
        """Upsert every changed record (and its LSH band keys) in one transaction; returns the count."""
        n_docs = 0
        self._has.clear()
        try:
            self.db.execute("BEGIN IMMEDIATE")
            for table, docs in changes.items():
                for d, bands in docs:
                    values = (d.content_hash, d.version, d.rep_id, d.cluster_id, d.published_at, d.order_url,
                              d.run_id, d.sig)
                    old = self.db.execute("SELECT n FROM docs WHERE tbl = ? AND id = ?", (table, d.id)).fetchone()
                    if old:  # a new version: same row number, so band rows of the old version stay harmless
                        n = old[0]
                        self.db.execute("UPDATE docs SET content_hash=?, version=?, rep_id=?, cluster_id=?, "
                                        "published_at=?, order_url=?, run_id=?, sig=? WHERE n = ?", (*values, n))
                    else:
                        n = self.db.execute("INSERT INTO docs(tbl, " + _COLS + ") VALUES (?,?,?,?,?,?,?,?,?,?)",
                                            (table, d.id, *values)).lastrowid
                    self.db.executemany("INSERT OR IGNORE INTO bands VALUES (?, ?)", [(k, n) for k in bands])
                    n_docs += 1
            self.db.execute("INSERT OR REPLACE INTO runs VALUES (?, ?, ?)",
                            (run_id, datetime.now(timezone.utc).isoformat(), n_docs))
            self.db.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise StateError(f"{self.path}: {exc}") from exc
        return n_docs

    @_guarded
    def applied_runs(self) -> set[str]:
        """Run ids whose records this state holds (see crawler/state/consistency.py)."""
        return {r[0] for r in self.db.execute("SELECT run_id FROM runs")}

    def mark_runs(self, run_ids: Iterable[str]) -> None:
        """Record runs as covered (by a rebuild from the dataset that holds them)."""
        now = datetime.now(timezone.utc).isoformat()
        try:
            with self.db:
                self.db.execute("BEGIN IMMEDIATE")
                self.db.executemany("INSERT OR IGNORE INTO runs VALUES (?, ?, 0)", [(r, now) for r in run_ids])
        except sqlite3.DatabaseError as exc:
            raise StateError(f"{self.path}: {exc}") from exc

    @_guarded
    def counts(self) -> dict[str, int]:
        rows = self.db.execute("SELECT tbl, COUNT(*) FROM docs GROUP BY tbl").fetchall()
        return dict(rows) | {"runs": self.db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]}

    def close(self) -> None:
        self.db.close()


def open_store(path: str | Path, params: str, stats, logger, rebuild=None, output: str | Path | None = None):
    """Open the state and make sure it matches the committed dataset before anything reads it.

    A corrupt or incompatible file, a missing one (while the dataset has runs), or one that does not match the
    dataset's committed runs (:mod:`crawler.state.consistency`) is moved aside (kept for inspection), logged,
    counted (``dedup/state/corrupt``, ``dedup/state/rebuilt/<missing|behind|ahead|corrupt>``) and replaced by
    a store that ``rebuild(store)`` refills from the dataset. A state that is busy (another process holds it)
    is never touched (``dedup/state/busy``). Returns None (counted ``dedup/state/unavailable``) when
    no state can be had; the run then fails (``export/failed/dedup_state``), it never writes without one."""
    from .consistency import committed_runs, set_aside, verdict

    path = Path(path)
    output = Path(output) if output is not None else path.parent.parent
    existed = path.exists()
    reason = None
    try:
        store = SQLiteDedupStore(path, params)
    except StateBusy as exc:  # someone else is using it: leave it exactly as it is
        stats.inc_value("dedup/state/busy")
        logger.error("dedup state busy (%s); not touched, this run will not commit", exc)
        return None
    except OSError as exc:  # cannot even create the file: nothing to move aside
        return _unavailable(stats, logger, exc)
    except StateError as exc:
        logger.error("dedup state unusable (%s); moving it aside, rebuilding it from the dataset", exc)
        stats.inc_value("dedup/state/corrupt")
        store, reason = None, "corrupt"
    if store is not None:
        committed = committed_runs(output)
        try:
            v = verdict(committed, store.applied_runs() if existed else None)
        except StateError as exc:
            v, store = None, store.close()
            reason = "corrupt"
            logger.error("dedup state unreadable (%s); rebuilding it from the dataset", exc)
        if v is not None and v.matches:
            return store
        if v is not None:
            reason = v.status
            logger.warning("dedup state does not match the dataset: %s; rebuilding it from the dataset", v)
            if store is not None:
                store.close()
    try:
        tag = "broken" if reason == "corrupt" else reason  # dedup.sqlite.broken-<time>, .behind-<time>, …
        set_aside(path, f"{tag}-{datetime.now(timezone.utc):%Y%m%dT%H%M%S%fZ}")
        store = SQLiteDedupStore(path, params)
        n = rebuild(store) if rebuild is not None else 0
        store.mark_runs(committed_runs(output))
        stats.inc_value("dedup/state/rebuilt_records", n)
        stats.inc_value(f"dedup/state/rebuilt/{reason}")
        logger.warning("dedup state rebuilt from the dataset (%s): %d records", reason, n)
        return store
    except (StateError, OSError) as exc:
        return _unavailable(stats, logger, exc)


def _unavailable(stats, logger, exc):
    logger.error("dedup state unavailable (%s): this run cannot know what earlier runs wrote", exc)
    stats.inc_value("dedup/state/unavailable")
    return None
