"""The cross-run dedup state in Redis (shared mode): the :class:`crawler.state.dedup_store.DedupStore` protocol,
answering exactly as :class:`~crawler.state.dedup_store.SQLiteDedupStore` (format 2) does on the same changes
(tested side by side in ``tests/test_shared_state.py``):

* a record comes back as that store gives it back: its representative is its own id when it is one, its
  published time a float, its run the run whose commit wrote it;
* only records that are their own representative are found by content hash (a duplicate is reached through
  its representative);
* a record's band keys are replaced when a new version of a signed record is written; a band key shared by
  more than ``max_bucket`` records (of any table, as the SQLite band index counts them) is left out;
* :meth:`RedisDedupStore.prune` takes records of runs committed before a time out of near matching;
* results are in the SQLite store's row order (its row key, from the id).

Keys (under ``PREFIX:dd:``): ``meta`` (format, MinHash parameters), ``docs:TABLE`` record id → the record as last
committed (JSON, with its band keys), ``hash:TABLE:HASH`` the representatives with that content hash,
``band:KEY`` the records (``TABLEINDEX:id``) with that LSH band key, ``signed:RUN`` the signed records last
committed by that run (what :meth:`~RedisDedupStore.prune` visits), ``runs`` run id → commit time and count.
:meth:`RedisDedupStore.apply` writes one run in one MULTI/EXEC transaction. Workers of one crawl round never
write the same record (the round's seen-set gives every page to one worker), and no worker applies its records
before the round's duplicate labels are fixed (:mod:`crawler.shared.round`), so every worker labels against the
same committed state.

:func:`pack` / :func:`unpack` are the JSON form of a :class:`SeenDoc` in a worker's commit journal (the dedup
delta it applies after its files are committed).
"""
from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from itertools import islice

from .dedup_store import TABLES, SeenDoc, StateError

try:  # the SQLite store's row key, whose order its answers come in
    from .dedup_store import _home
except ImportError:  # its layout changed: ids in their own order (same records, maybe another order)
    def _home(tbl: int, rid: str) -> int:
        return 0

_TBL = {t: i for i, t in enumerate(TABLES)}

FORMAT = "redis-2"  # the layout above (answers of the SQLite store's format 2)
_BATCH = 2000


def _s(v):
    return v.decode() if isinstance(v, bytes) else v


def _b64(b: bytes | None) -> str | None:
    return base64.b64encode(b).decode() if b is not None else None


def _unb64(s: str | None) -> bytes | None:
    return base64.b64decode(s) if s is not None else None


def pack(d: SeenDoc) -> str:
    return json.dumps([d.id, d.content_hash, d.version, d.rep_id, d.cluster_id, d.published_at, d.order_url,
                       d.run_id, _b64(d.sig)])


def unpack(raw) -> SeenDoc:
    v = json.loads(raw)
    v[8] = _unb64(v[8])
    return SeenDoc(*v)


def _row(d: SeenDoc, run_id: str, bands: list[int]) -> str:
    """The record as the store keeps it: normalised as the SQLite store gives it back."""
    rep = d.rep_id or d.id
    pub = float(d.published_at) if d.published_at is not None else None
    return json.dumps([d.content_hash, int(d.version), rep, d.cluster_id, pub, d.order_url or "", run_id,
                       _b64(d.sig), [int(b) for b in bands]])


def _doc(rid: str, raw) -> tuple[SeenDoc, list[int]]:
    chash, version, rep, cluster, pub, url, run, sig, bands = json.loads(raw)
    return SeenDoc(rid, chash, version, rep, cluster, pub, url, run, _unb64(sig)), bands


class RedisDedupStore:
    def __init__(self, client, prefix: str, params: str = "") -> None:
        import redis

        self.r, self.k = client, f"{prefix}:dd:"
        self._errors = (redis.RedisError,)
        try:
            self.r.hsetnx(self.k + "meta", "format", FORMAT)
            self.r.hsetnx(self.k + "meta", "params", params)
            fmt, stored = self.meta("format"), self.meta("params")
        except self._errors as exc:
            raise StateError(f"redis dedup state: {exc}") from exc
        if fmt != FORMAT or stored != params:
            raise StateError(f"state format {fmt}/{stored} does not match {FORMAT}/{params}")

    def meta(self, key: str) -> str | None:
        return _s(self.r.hget(self.k + "meta", key))

    def _rows(self, table: str, ids: list[str]) -> dict[str, tuple[SeenDoc, list[int]]]:
        if not ids:
            return {}
        try:
            raws = self.r.hmget(self.k + "docs:" + table, ids)
        except self._errors as exc:
            raise StateError(f"redis dedup state: {exc}") from exc
        return {i: _doc(i, r) for i, r in zip(ids, raws) if r is not None}

    def _ordered(self, table: str, ids) -> list[str]:
        """Ids in the SQLite store's row order."""
        tbl = _TBL[table]
        return sorted(set(ids), key=lambda i: (_home(tbl, i), i))

    def get(self, table: str, ids: Iterable[str]) -> dict[str, SeenDoc]:
        return {i: d for i, (d, _) in self._rows(table, list(dict.fromkeys(ids))).items()}

    def by_hash(self, table: str, hashes: Iterable[str]) -> dict[str, list[SeenDoc]]:
        hashes = sorted({h for h in hashes if h is not None})
        if not hashes:
            return {}
        try:
            pipe = self.r.pipeline(transaction=False)
            for h in hashes:
                pipe.smembers(f"{self.k}hash:{table}:{h}")
            members = pipe.execute()
        except self._errors as exc:
            raise StateError(f"redis dedup state: {exc}") from exc
        rows = self._rows(table, sorted({_s(i) for m in members for i in m}))
        out: dict[str, list[SeenDoc]] = {}
        for h, m in zip(hashes, members):
            found = [rows[i][0] for i in self._ordered(table, (_s(x) for x in m))
                     if i in rows and rows[i][0].content_hash == h and rows[i][0].rep_id == i]
            if found:
                out[h] = found
        return out

    def by_bands(self, table: str, keys: Iterable[int], max_bucket: int = 0) -> list[SeenDoc]:
        """Records sharing at least one LSH band key (candidates). With ``max_bucket``, keys already shared by
        more records (boilerplate) are ignored."""
        names = [f"{self.k}band:{int(k)}" for k in dict.fromkeys(keys)]
        if not names:
            return []
        tag = f"{_TBL[table]}:"
        try:
            pipe = self.r.pipeline(transaction=False)
            for n in names:
                pipe.scard(n)
            sizes = pipe.execute()
            use = [n for n, c in zip(names, sizes) if c and (not max_bucket or c <= max_bucket)]
            members = {_s(i) for i in self.r.sunion(use)} if use else set()
        except self._errors as exc:
            raise StateError(f"redis dedup state: {exc}") from exc
        rows = self._rows(table, [m[len(tag):] for m in members if m.startswith(tag)])
        return [rows[i][0] for i in self._ordered(table, rows)]

    def apply(self, run_id: str, changes: Mapping[str, Iterable[tuple[SeenDoc, list[int]]]]) -> int:
        """Upsert every changed record (and its band keys) in one transaction; returns the count. The records
        may come from a generator (read in batches)."""
        n_docs = 0
        try:
            pipe = self.r.pipeline(transaction=True)
            for table, docs in changes.items():
                docs = iter(docs)
                while batch := list(islice(docs, _BATCH)):
                    self._write(pipe, table, batch, run_id)
                    n_docs += len(batch)
            pipe.hset(self.k + "runs", run_id, json.dumps({"committed_at": datetime.now(timezone.utc).isoformat(),
                                                           "docs": n_docs}))
            pipe.execute()
        except self._errors as exc:
            raise StateError(f"redis dedup state: {exc}") from exc
        return n_docs

    def _write(self, pipe, table: str, batch: list[tuple[SeenDoc, list[int]]], run_id: str) -> None:
        tag = f"{_TBL[table]}:"
        old = self._rows(table, [d.id for d, _ in batch])
        for d, bands in batch:
            member = tag + d.id
            prev = old.get(d.id)
            if prev is not None:
                p, prev_bands = prev
                pipe.srem(f"{self.k}hash:{table}:{p.content_hash}", d.id)
                if p.sig is not None:  # the old version's band keys can never match again
                    for b in prev_bands:
                        pipe.srem(f"{self.k}band:{b}", member)
                    pipe.srem(f"{self.k}signed:{p.run_id}", member)
            pipe.hset(self.k + "docs:" + table, d.id, _row(d, run_id, bands))
            if (d.rep_id or d.id) == d.id:
                pipe.sadd(f"{self.k}hash:{table}:{d.content_hash}", d.id)
            for b in bands:
                pipe.sadd(f"{self.k}band:{int(b)}", member)
            if d.sig is not None:
                pipe.sadd(f"{self.k}signed:{run_id}", member)

    def prune(self, before: datetime) -> int:
        """Retention: records last committed by a run before ``before`` leave near-duplicate matching (their
        signature and band keys are deleted); their id, version and content hash stay. Returns the count."""
        cut = before.astimezone(timezone.utc).isoformat()
        n = 0
        try:
            old = [_s(r) for r, v in self.r.hgetall(self.k + "runs").items() if json.loads(v)["committed_at"] < cut]
            for run in old:
                members = [_s(m) for m in self.r.smembers(f"{self.k}signed:{run}")]
                by_table: dict[str, list[str]] = {}
                for m in members:
                    t, _, rid = m.partition(":")
                    by_table.setdefault(TABLES[int(t)], []).append(rid)
                pipe = self.r.pipeline(transaction=True)
                for table, ids in by_table.items():
                    for rid, (d, bands) in self._rows(table, ids).items():
                        if d.sig is None or d.run_id != run:
                            continue
                        for b in bands:
                            pipe.srem(f"{self.k}band:{b}", f"{_TBL[table]}:{rid}")
                        pipe.hset(self.k + "docs:" + table, rid, _row(
                            SeenDoc(rid, d.content_hash, d.version, d.rep_id, d.cluster_id, d.published_at,
                                    d.order_url, d.run_id, None), run, []))
                        n += 1
                pipe.delete(f"{self.k}signed:{run}")
                pipe.execute()
        except self._errors as exc:
            raise StateError(f"redis dedup state: {exc}") from exc
        return n

    def has_run(self, run_id: str) -> bool:
        return bool(self.r.hexists(self.k + "runs", run_id))

    def applied_runs(self) -> set[str]:
        """Run ids whose records this state holds."""
        return {_s(r) for r in self.r.hkeys(self.k + "runs")}

    def mark_runs(self, run_ids: Iterable[str]) -> None:
        """Record runs as covered (by a rebuild from the dataset that holds them)."""
        now = json.dumps({"committed_at": datetime.now(timezone.utc).isoformat(), "docs": 0})
        pipe = self.r.pipeline(transaction=True)
        for r in run_ids:
            pipe.hsetnx(self.k + "runs", r, now)
        pipe.execute()

    def counts(self) -> dict[str, int]:
        out = {t: self.r.hlen(self.k + "docs:" + t) for t in TABLES}
        return {t: n for t, n in out.items() if n} | {"runs": self.r.hlen(self.k + "runs")}

    def close(self) -> None:
        pass
