"""Persistent deduplication state across runs: what earlier runs wrote, per table and record id.

The :class:`DedupStore` protocol is all the pipelines use, so another backend (e.g. Redis: a hash per
record, a set per content hash and per LSH band key) can replace :class:`SQLiteDedupStore` later.
Writes happen only in :meth:`DedupStore.apply`, one transaction per run, called after the run's Parquet
files are committed — a crashed run never marks unwritten rows as seen.

The SQLite file lives at ``OUTPUT_DIR/_state/dedup.sqlite`` unless DEDUP_STATE_PATH says otherwise.
"""
from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol

import xxhash

from .vacuum import compact_if_grown

logger = logging.getLogger(__name__)

STATE_FORMAT = "4"
TABLES = ("articles", "threads", "comments")
# the table code stored per record: comments (most records) get 0, which SQLite stores in no byte at all
_TBL = {"comments": 0, "articles": 1, "threads": 2}
_NAME = {c: t for t, c in _TBL.items()}
# Row key = the id's first 64 bits with the top bit flipped: keys then sort as the ids do, so a run's records
# (written in id order) append to the B-tree and fill its pages, instead of splitting pages at random. The
# tables share the key space; the same id in two tables is a key collision, resolved by probing.
_SALT = {0: 1 << 63, 1: 1 << 63, 2: 1 << 63}  # the same for every table code
_HEX32 = re.compile(r"[0-9a-f]{32}\Z")
_I64 = 1 << 63


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
    def apply(self, run_id: str, changes: Mapping[str, Iterable[tuple[SeenDoc, list[int]]]]) -> int: ...
    def prune(self, before: datetime) -> int: ...
    def meta(self, key: str) -> str | None: ...
    def close(self) -> None: ...


# Format 4 — what the decisions need, in as few bytes as SQLite allows (docs/performance.md, "State format"):
# * docs: the row key ``n`` is the first 64 bits of the 128-bit hex id, so a look-up by id is a rowid look-up and
#   no index repeats the id; the row keeps the id's other 64 bits (the whole id only after a key collision, text
#   for ids that are not 32 hex digits). Content hashes are two 64-bit integers (``h``, ``hr``); only records
#   that are their own representative (``rep`` IS NULL) are in the hash index — a duplicate is found through its
#   representative, which has its hash (content duplicate) or its cluster (near duplicate). ``rep`` is NULL for
#   a record that is its own representative, else the representative's row key (an 8-byte integer; format 4 —
#   the representative's whole id where its key is taken by another record); ``cluster`` is NULL (none), 1 (=
#   rep) or an id. URLs and run ids are stored once, in ``urls`` / ``runs``, and referenced by small integers.
#   ``tbl`` is 0 for comments (most records: no byte), 1 articles, 2 threads.
# * sigs: each distinct MinHash signature once (format 4; format 3 kept one per signed record — most signed
#   records of a site with repeated comments share theirs with others), numbered ``s``, with ``refs`` = how many
#   records carry it; a record points at it by ``docs.s`` (partial index). A signature no record carries any more
#   goes, with its band rows.
# * bands: one (band key, s) pair per LSH band of a signature, WITHOUT ROWID; the band key is kept as its top 32
#   bits (format 4; 4 bytes instead of 8: every candidate is verified on its signature anyway, and a 32-bit
#   collision makes a false candidate about once per 2**32 / (bands stored) look-ups).
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS runs(n INTEGER PRIMARY KEY, run_id TEXT NOT NULL UNIQUE, committed_at TEXT NOT NULL,
  docs INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS urls(n INTEGER PRIMARY KEY, h INTEGER NOT NULL, url TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS urls_hash ON urls(h);
CREATE TABLE IF NOT EXISTS docs(n INTEGER PRIMARY KEY, tbl INTEGER NOT NULL, id NOT NULL, h INTEGER NOT NULL,
  hr NOT NULL, version INTEGER NOT NULL, rep, cluster, published, url INTEGER NOT NULL, run INTEGER NOT NULL,
  s INTEGER);
CREATE INDEX IF NOT EXISTS docs_hash ON docs(h) WHERE rep IS NULL;
CREATE INDEX IF NOT EXISTS docs_s ON docs(s) WHERE s IS NOT NULL;
CREATE TABLE IF NOT EXISTS sigs(s INTEGER PRIMARY KEY, refs INTEGER NOT NULL, sig BLOB);
CREATE TABLE IF NOT EXISTS bands(key INTEGER NOT NULL, s INTEGER NOT NULL, PRIMARY KEY(key, s)) WITHOUT ROWID;
"""
_SELECT = ("SELECT d.n, d.tbl, d.id, d.h, d.hr, d.version, d.rep, d.cluster, d.published, u.url, r.run_id, g.sig"
           ", d.s FROM docs d LEFT JOIN urls u ON u.n = d.url LEFT JOIN runs r ON r.n = d.run"
           " LEFT JOIN sigs g ON g.s = d.s")
_BATCH = 2000


def _signed(x: int) -> int:
    return x - (1 << 64) if x >= _I64 else x


def _h64(text: str) -> int:
    return _signed(xxhash.xxh64_intdigest(text.encode("utf-8"), 20261201))


def _band(key: int) -> int:
    """A band key as stored: its top 32 bits (a signed 4-byte integer)."""
    return int(key) >> 32


def _enc_id(rid: str) -> bytes | str:
    return bytes.fromhex(rid) if _HEX32.match(rid) else rid


def _dec_id(v: bytes | str) -> str:
    return v.hex() if isinstance(v, bytes) else v


def _home(tbl: int, rid: str) -> int:
    """The row key a record's id maps to (before any collision probing)."""
    if _HEX32.match(rid):
        return _signed(int(rid[:16], 16) ^ _SALT[tbl])
    return _signed((_h64(rid) & 0xFFFFFFFFFFFFFFFF) ^ _SALT[tbl])


def _enc_hash(chash: str | None) -> tuple[int | None, int | str | None]:
    if chash is None:
        return None, None
    if _HEX32.match(chash):
        return _signed(int(chash[:16], 16)), _signed(int(chash[16:], 16))
    return _h64(chash), chash


def _dec_hash(h: int, hr: int | str) -> str:
    if isinstance(hr, str):
        return hr
    return f"{h & 0xFFFFFFFFFFFFFFFF:016x}{hr & 0xFFFFFFFFFFFFFFFF:016x}"


def _guarded(method):
    """SQLite errors while reading (a file damaged mid-run) surface as StateError, never as a raw traceback."""
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except sqlite3.DatabaseError as exc:
            raise StateError(f"{self.path}: {exc}") from exc
    wrapper.__name__, wrapper.__doc__ = method.__name__, method.__doc__
    return wrapper


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
            fresh = self.db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
            if fresh:
                self.db.execute("PRAGMA page_size = 4096")
                self.db.execute("PRAGMA auto_vacuum = INCREMENTAL")  # pruned pages can be given back
            elif self.db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise StateError(f"integrity check failed for {self.path}")
            # one write transaction per run, mostly appends: the rollback journal holds only the few pages it
            # changes, where a WAL would hold (and then copy) every page the run writes (docs/performance.md)
            self.db.execute("PRAGMA journal_mode = DELETE")
            self.db.execute("PRAGMA cache_size = -16384")  # 16 MB of pages for the commit's batched upserts
            if not fresh and self.db.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone() is None:
                raise StateError(f"{self.path} is not a dedup state")
            if not fresh and (self.meta("format") or STATE_FORMAT) != STATE_FORMAT:  # before the schema meets it
                raise StateError(f"state format {self.meta('format')} does not match {STATE_FORMAT}")
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
            row = self.db.execute("SELECT 1 FROM docs WHERE tbl = ? LIMIT 1", (_TBL[table],)).fetchone()
            self._has[table] = row is not None
        return self._has[table]

    @staticmethod
    def _row_id(row) -> str:
        n, tbl, v = row[0], row[1], row[2]
        if isinstance(v, bytes) and len(v) == 8:  # the other half of the id is the row key
            return f"{(n ^ _SALT[tbl]) & 0xFFFFFFFFFFFFFFFF:016x}{v.hex()}"
        return _dec_id(v)

    def _docs(self, rows: list) -> list[SeenDoc]:
        """SeenDocs of these rows; representatives stored as row keys are resolved in one query."""
        keys = {(r[1], r[6]) for r in rows if isinstance(r[6], int)}
        reps = self._rep_ids(keys) if keys else {}
        return [self._doc(r, reps) for r in rows]

    def _rep_ids(self, keys: set[tuple[int, int]]) -> dict[tuple[int, int], str]:
        """``(tbl, row key) -> id`` of the representatives referenced by row key (the record at that key: a
        representative is referenced by key only where it sits at its home key, checked when it is written)."""
        out: dict[tuple[int, int], str] = {}
        for part in _chunks(sorted({n for _, n in keys}), 500):
            q = f"SELECT n, tbl, id FROM docs WHERE n IN ({','.join('?' * len(part))})"
            for r in self.db.execute(q, part):
                out[(r[1], r[0])] = self._row_id(r)
        return out

    def _doc(self, row, reps: dict) -> SeenDoc:
        rid = self._row_id(row)
        v = row[6]
        rep = rid if v is None else (reps.get((row[1], v), "") if isinstance(v, int) else _dec_id(v))
        cluster = None if row[7] is None else (rep if row[7] == 1 else _dec_id(row[7]))
        published = float(row[8]) if row[8] is not None else None
        return SeenDoc(rid, _dec_hash(row[3], row[4]), row[5], rep, cluster, published, row[9] or "", row[10] or "",
                       row[11])

    def _lookup(self, tbl: int, ids: list[str]) -> dict[str, tuple]:
        """Rows of ``ids`` (following collision probes where a home key holds another id)."""
        out: dict[str, tuple] = {}
        home = {rid: _home(tbl, rid) for rid in ids}
        for part in _chunks(list(home.items()), 500):
            q = f"{_SELECT} WHERE d.n IN ({','.join('?' * len(part))})"
            rows = {r[0]: r for r in self.db.execute(q, [n for _, n in part])}
            for rid, n in part:
                while True:
                    r = rows.get(n) or self.db.execute(f"{_SELECT} WHERE d.n = ?", (n,)).fetchone()
                    if r is None:
                        break
                    if r[1] == tbl and self._row_id(r) == rid:
                        out[rid] = r
                        break
                    n = _signed((n + 1) & 0xFFFFFFFFFFFFFFFF)  # a collision: the next key was used
        return out

    @_guarded
    def get(self, table: str, ids: Iterable[str]) -> dict[str, SeenDoc]:
        ids = list(dict.fromkeys(ids))
        if not ids or not self._has_docs(table):
            return {}
        found = self._lookup(_TBL[table], ids)
        return dict(zip(found, self._docs(list(found.values()))))

    @_guarded
    def by_hash(self, table: str, hashes: Iterable[str]) -> dict[str, list[SeenDoc]]:
        out: dict[str, list[SeenDoc]] = {}
        if not self._has_docs(table):
            return out
        wanted = {h: _enc_hash(h) for h in set(hashes) if h is not None}
        by_h: dict[int, list[str]] = {}
        for h, (h64, _) in wanted.items():
            by_h.setdefault(h64, []).append(h)
        for part in _chunks(sorted(by_h), 500):
            q = f"{_SELECT} WHERE d.h IN ({','.join('?' * len(part))}) AND d.rep IS NULL AND d.tbl = ? ORDER BY d.n"
            rows = [r for r in self.db.execute(q, (*part, _TBL[table])) if _dec_hash(r[3], r[4]) in wanted]
            for r, d in zip(rows, self._docs(rows)):
                out.setdefault(d.content_hash, []).append(d)
        return out

    @_guarded
    def by_bands(self, table: str, keys: Iterable[int], max_bucket: int = 0) -> list[SeenDoc]:
        """Records sharing at least one LSH band key (candidates). With ``max_bucket``, keys already shared by
        more records (boilerplate; of any table, a shared signature counted once per record) are ignored."""
        keys = list(dict.fromkeys(_band(k) for k in keys))
        if not keys or not self._has_docs(table):
            return []
        marks = ",".join("?" * len(keys))
        cap = (f"SELECT b.key FROM bands b JOIN sigs g ON g.s = b.s WHERE b.key IN ({marks}) GROUP BY b.key "
               f"HAVING sum(g.refs) <= ?") if max_bucket else marks
        q = (f"{_SELECT} WHERE d.s IN (SELECT DISTINCT s FROM bands WHERE key IN ({cap})) AND d.tbl = ? ORDER BY d.n")
        args = (*keys, max_bucket, _TBL[table]) if max_bucket else (*keys, _TBL[table])
        return self._docs(self.db.execute(q, args).fetchall())

    def _urls(self, values: list[str], cache: dict) -> None:
        """Put the small integer that stands for each URL (each URL is stored once) in ``cache``: the batch's
        unknown URLs are looked up in one query per 500 hashes, the new ones numbered in order of first
        appearance (as SQLite's own rowids would be: the largest plus one) and inserted at once."""
        if len(cache) > 50_000:
            cache.clear()
        todo = [v for v in dict.fromkeys(values) if v not in cache]
        if not todo:
            return
        hashes = {v: _h64(v) for v in todo}
        for part in _chunks(sorted(set(hashes.values())), 500):
            for n, url in self.db.execute(f"SELECT n, url FROM urls WHERE h IN ({','.join('?' * len(part))}) "
                                          "ORDER BY n", part):
                if url in hashes and url not in cache:
                    cache[url] = n
        new = [v for v in todo if v not in cache]
        if new:
            n0 = self.db.execute("SELECT max(n) FROM urls").fetchone()[0] or 0
            rows = [(n0 + i, hashes[v], v) for i, v in enumerate(new, 1)]
            self.db.executemany("INSERT INTO urls(n, h, url) VALUES (?, ?, ?)", rows)
            cache.update((v, n) for n, _, v in rows)

    def _rep_refs(self, tbl: int, batch: list[tuple[SeenDoc, list[int]]]) -> dict[str, int | bytes | str]:
        """How each representative of the batch is stored: its row key (an integer) where the representative
        sits at its home key, or will (the key is free: checked once the commit's records are in, see
        :meth:`_check_refs`), else its whole id."""
        reps = {d.rep_id for d, _ in batch if d.rep_id not in ("", d.id)}
        out: dict[str, int | bytes | str] = {}
        homes = {}
        for rid in reps:
            if _HEX32.match(rid):
                homes[rid] = _home(tbl, rid)
            else:
                out[rid] = rid
        taken: dict[int, tuple] = {}
        promised: dict[int, str] = {}  # keys already promised in this commit to a representative not yet written
        for part in _chunks(sorted(set(homes.values())), 500):
            marks = ",".join("?" * len(part))
            taken.update((r[0], r) for r in self.db.execute(f"SELECT n, tbl, id FROM docs WHERE n IN ({marks})", part))
            promised.update(self.db.execute(f"SELECT n, rid FROM pending WHERE tbl = ? AND n IN ({marks})",
                                            (tbl, *part)))
        pending = []
        for rid, n in homes.items():
            r = taken.get(n)
            if promised.get(n, rid) != rid:  # two representatives with one home key in one commit
                out[rid] = _enc_id(rid)
            elif r is None:
                if n not in promised:
                    pending.append((tbl, n, bytes.fromhex(rid[16:]), rid))
                    promised[n] = rid
                out[rid] = n
            else:
                out[rid] = n if r[1] == tbl and self._row_id(r) == rid else _enc_id(rid)
        self.db.executemany("INSERT INTO pending VALUES (?, ?, ?, ?)", pending)
        return out

    def _check_refs(self, run_n: int) -> None:
        """Representatives referenced by a key that was free when the reference was written: where the key does
        not hold that representative now (it was never written, or another record took the key first), the
        references written by this commit get the whole id instead."""
        bad = self.db.execute("SELECT p.tbl, p.n, p.rid FROM pending p LEFT JOIN docs d ON d.n = p.n "
                              "WHERE d.n IS NULL OR d.tbl != p.tbl OR d.id IS NOT p.lo").fetchall()
        for tbl, n, rid in bad:
            self.db.execute("UPDATE docs SET rep = ? WHERE tbl = ? AND rep = ? AND run = ?",
                            (_enc_id(rid), tbl, n, run_n))
        self.db.execute("DELETE FROM pending")

    def _stored_sigs(self, wanted: dict[tuple, None]) -> dict[tuple, int]:
        """``(signature, band keys) -> number`` of the ones already stored (the same signature with the same band
        keys), for all of a batch at once: candidates by (first band key, signature) joined in SQL, then only
        those whose every band key is stored for them."""
        if not wanted:
            return {}
        db = self.db
        db.execute("CREATE TEMP TABLE IF NOT EXISTS want(i INTEGER PRIMARY KEY, key INTEGER, sig BLOB)")
        db.execute("CREATE TEMP TABLE IF NOT EXISTS want_keys(i INTEGER, key INTEGER, PRIMARY KEY(i, key)) "
                   "WITHOUT ROWID")
        db.execute("DELETE FROM want")
        db.execute("DELETE FROM want_keys")
        items = list(wanted)
        db.executemany("INSERT INTO want VALUES (?, ?, ?)", ((i, keys[0], sig) for i, (sig, keys) in enumerate(items)))
        cands = db.execute("SELECT w.i, g.s FROM want w JOIN bands b ON b.key = w.key JOIN sigs g ON g.s = b.s "
                           "AND g.sig = w.sig ORDER BY w.i, g.s").fetchall()
        if not cands:
            return {}
        db.executemany("INSERT INTO want_keys VALUES (?, ?)", ((i, k) for i, _ in {i: 0 for i, _ in cands}.items()
                                                               for k in items[i][1]))
        db.execute("CREATE TEMP TABLE IF NOT EXISTS want_s(i INTEGER, s INTEGER)")
        db.execute("DELETE FROM want_s")
        db.executemany("INSERT INTO want_s VALUES (?, ?)", cands)
        full = {(i, s) for i, s, c in db.execute(
            "SELECT c.i, c.s, (SELECT count(*) FROM want_keys k JOIN bands b ON b.key = k.key AND b.s = c.s "
            "WHERE k.i = c.i) FROM want_s c")
            if c == len(items[i][1])}
        out: dict[tuple, int] = {}
        for i, s in cands:  # the first (lowest-numbered) candidate that has every band key, as one by one
            if (i, s) in full and items[i] not in out:
                out[items[i]] = s
        return out

    def _signatures(self, batch: list[tuple[SeenDoc, list[int]]], refs: dict, new_sigs: list, band_rows: list,
                    next_s: list[int]) -> list[int | None]:
        """The number of each record's signature: an identical one already stored (same signature and band keys)
        is shared, else a new number (in the batch's order) whose band rows are written."""
        keyed = []
        for d, bands in batch:
            keyed.append(None if not bands and d.sig is None else (d.sig, tuple(sorted({_band(k) for k in bands}))))
        stored = self._stored_sigs({k: None for k in keyed if k is not None and k[0] is not None and k[1]})
        mine: dict = {}  # signatures numbered in this batch
        out: list[int | None] = []
        for k in keyed:
            if k is None:
                out.append(None)
                continue
            s = (stored.get(k) or mine.get(k)) if k[0] is not None and k[1] else None
            if s is None:
                s, next_s[0] = next_s[0], next_s[0] + 1
                new_sigs.append((s, 0, k[0]))
                band_rows += [(b, s) for b in k[1]]
                if k[0] is not None:
                    mine[k] = s
            refs[s] = refs.get(s, 0) + 1
            out.append(s)
        return out

    def _write(self, tbl: int, batch: list[tuple[SeenDoc, list[int]]], run_n: int, urls: dict, stale: list,
               fresh: bool, next_s: list[int]) -> None:
        """Upsert one batch of records: new ones inserted, known ones updated in place. ``fresh``: the table had
        no record before this commit (a first run): nothing to look up."""
        existing = {} if fresh else self._lookup(tbl, [d.id for d, _ in batch])
        rep_refs = self._rep_refs(tbl, batch)
        inserts, updates, band_rows, new_ids, new_sigs = [], [], [], [], []
        refs: dict[int, int] = {}
        numbers = self._signatures(batch, refs, new_sigs, band_rows, next_s)
        self._urls([d.order_url or "" for d, _ in batch], urls)
        for (d, bands), sn in zip(batch, numbers):
            h, hr = _enc_hash(d.content_hash)
            rep = None if d.rep_id in ("", d.id) else rep_refs[d.rep_id]
            cluster = None if d.cluster_id is None else (1 if d.cluster_id == (d.rep_id or d.id) else
                                                         _enc_id(d.cluster_id))
            pub = d.published_at
            if pub is not None and float(pub).is_integer():
                pub = int(pub)
            cols = (h, hr, d.version, rep, cluster, pub, urls[d.order_url or ""], run_n, sn)
            old = existing.get(d.id)
            if old is not None:
                updates.append((*cols, old[0]))
                if old[12] is not None:  # the old version no longer carries its signature
                    stale.append(old[12])
            else:
                n = _home(tbl, d.id)
                stored_id = bytes.fromhex(d.id[16:]) if _HEX32.match(d.id) else _enc_id(d.id)
                inserts.append([n, tbl, stored_id, *cols])
                new_ids.append(d.id)
        self.db.executemany("INSERT INTO sigs VALUES (?, ?, ?)", new_sigs)
        self.db.executemany("UPDATE sigs SET refs = refs + ? WHERE s = ?", [(c, s) for s, c in refs.items()])
        before = self.db.total_changes
        self.db.executemany("INSERT OR IGNORE INTO docs VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", inserts)
        if self.db.total_changes - before < len(inserts):  # some home keys hold other records: probe further
            for row, rid in zip(inserts, new_ids):
                if self.db.execute("SELECT 1 FROM docs WHERE n = ? AND tbl = ? AND id IS ?",
                                   (row[0], tbl, row[2])).fetchone():
                    continue
                n = row[0]
                while self.db.execute("SELECT 1 FROM docs WHERE n = ?", (n,)).fetchone():
                    n = _signed((n + 1) & 0xFFFFFFFFFFFFFFFF)
                row[0], row[2] = n, _enc_id(rid)  # off its home key: the whole id is kept
                self.db.execute("INSERT INTO docs VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", row)
        self.db.executemany("UPDATE docs SET h=?, hr=?, version=?, rep=?, cluster=?, published=?, url=?, run=?, "
                            "s=? WHERE n = ?", updates)
        band_rows.sort()
        self.db.executemany("INSERT OR IGNORE INTO bands VALUES (?, ?)", band_rows)

    def apply(self, run_id: str, changes: Mapping[str, Iterable[tuple[SeenDoc, list[int]]]]) -> int:
        """Upsert every changed record (and its LSH band keys) in one transaction; returns the count. The
        records may come from a generator: they are written in batches, never all held at once."""
        n_docs = 0
        self._has.clear()
        try:
            self.db.execute("BEGIN IMMEDIATE")
            row = self.db.execute("SELECT n FROM runs WHERE run_id = ?", (run_id,)).fetchone()
            run_n = row[0] if row else self.db.execute(
                "INSERT INTO runs(run_id, committed_at, docs) VALUES (?, ?, 0)",
                (run_id, datetime.now(timezone.utc).isoformat())).lastrowid
            urls: dict[str, int] = {}
            stale: list[int] = []  # signatures the records rewritten in this commit no longer carry
            next_s = [(self.db.execute("SELECT max(s) FROM sigs").fetchone()[0] or 0) + 1]
            self.db.execute("CREATE TEMP TABLE IF NOT EXISTS pending(tbl INTEGER, n INTEGER, lo BLOB, rid TEXT, "
                            "PRIMARY KEY(tbl, n)) WITHOUT ROWID")
            self.db.execute("DELETE FROM pending")
            for table, docs in changes.items():
                tbl = _TBL[table]
                fresh = self.db.execute("SELECT 1 FROM docs WHERE tbl = ? LIMIT 1", (tbl,)).fetchone() is None
                batch: list = []
                for item in docs:
                    batch.append(item)
                    if len(batch) >= _BATCH:
                        self._write(tbl, batch, run_n, urls, stale, fresh, next_s)
                        n_docs += len(batch)
                        batch = []
                if batch:
                    self._write(tbl, batch, run_n, urls, stale, fresh, next_s)
                    n_docs += len(batch)
            self._check_refs(run_n)
            self._release(stale)
            self.db.execute("UPDATE runs SET committed_at = ?, docs = ? WHERE n = ?",
                            (datetime.now(timezone.utc).isoformat(), n_docs, run_n))
            self.db.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise StateError(f"{self.path}: {exc}") from exc
        self._compact()
        return n_docs

    def _compact(self) -> None:
        """After a commit that grew the file by a quarter: compacted (:mod:`crawler.state.vacuum`). The commit
        stands whatever happens here (a full disk: the file stays as committed, logged)."""
        try:
            compact_if_grown(self.db)
        except sqlite3.DatabaseError as exc:
            logger.warning("dedup state %s not compacted after the commit (%s)", self.path, exc)

    def _release(self, numbers: list[int]) -> None:
        """One record fewer carries each of these signatures (a number may repeat); a signature no record carries
        goes, with its band rows: one pass over the band table for all of them (it is keyed by band key; a
        DELETE per number would each scan it)."""
        if not numbers:
            return
        counts: dict[int, int] = {}
        for s in numbers:
            counts[s] = counts.get(s, 0) + 1
        self.db.executemany("UPDATE sigs SET refs = refs - ? WHERE s = ?", [(c, s) for s, c in counts.items()])
        self.db.execute("CREATE TEMP TABLE IF NOT EXISTS gone(s INTEGER PRIMARY KEY)")
        self.db.execute("DELETE FROM gone")
        for part in _chunks(sorted(counts), 500):
            self.db.execute(f"INSERT INTO gone SELECT s FROM sigs WHERE s IN ({','.join('?' * len(part))}) "
                            "AND refs <= 0", part)
        if self.db.execute("SELECT 1 FROM gone LIMIT 1").fetchone():
            self.db.execute("DELETE FROM bands WHERE s IN (SELECT s FROM gone)")
            self.db.execute("DELETE FROM sigs WHERE s IN (SELECT s FROM gone)")
        self.db.execute("DELETE FROM gone")
        numbers.clear()

    @_guarded
    def prune(self, before: datetime) -> int:
        """Retention: records last committed by a run before ``before`` leave near-duplicate matching (they no
        longer carry a signature; a signature no record carries goes with its band keys); their id, version and
        content hash stay, so seen-before and exact-duplicate decisions are unchanged. Returns the number of
        records pruned."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            old = "SELECT n FROM runs WHERE committed_at < ?"
            cut = before.astimezone(timezone.utc).isoformat()
            rows = self.db.execute(f"SELECT n, s FROM docs WHERE s IS NOT NULL AND run IN ({old})", (cut,)).fetchall()
            ns = [r[0] for r in rows]
            self._release([r[1] for r in rows])
            for part in _chunks(ns, 500):
                marks = ",".join("?" * len(part))
                self.db.execute(f"UPDATE docs SET s = NULL WHERE n IN ({marks})", part)
            self.db.execute("COMMIT")
        except sqlite3.DatabaseError:
            self.db.execute("ROLLBACK")
            raise
        if ns:
            self.db.execute("PRAGMA incremental_vacuum")  # the freed pages go back to the file system
        return len(ns)

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
                self.db.executemany("INSERT OR IGNORE INTO runs(run_id, committed_at, docs) VALUES (?, ?, 0)", [(r, now) for r in run_ids])
        except sqlite3.DatabaseError as exc:
            raise StateError(f"{self.path}: {exc}") from exc

    @_guarded
    def counts(self) -> dict[str, int]:
        rows = self.db.execute("SELECT tbl, COUNT(*) FROM docs GROUP BY tbl").fetchall()
        return {_NAME[t]: c for t, c in rows} | {"runs": self.db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]}

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
    except Exception as exc:  # noqa: BLE001 - a rebuild that cannot read the dataset: no state, no commit
        return _unavailable(stats, logger, exc)


def _unavailable(stats, logger, exc):
    logger.error("dedup state unavailable (%s): this run cannot know what earlier runs wrote", exc)
    stats.inc_value("dedup/state/unavailable")
    return None
