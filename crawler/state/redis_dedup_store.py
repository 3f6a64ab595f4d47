"""The cross-run dedup state in Redis (shared mode): the :class:`crawler.state.dedup_store.DedupStore` protocol.

Keys (under ``PREFIX:dd:``): ``meta`` (format, MinHash parameters), ``docs:TABLE`` record id → the record as
last committed (JSON), ``hash:TABLE:HASH`` the ids with that content hash, ``band:TABLE:KEY`` the ids with that
LSH band key (like the SQLite store, keys of older versions stay: harmless candidates), ``runs`` the runs
applied. :meth:`RedisDedupStore.apply` writes one run in one MULTI/EXEC transaction. Workers of one crawl round
never write the same record (the round's seen-set gives every page to one worker), and no worker applies its
records before the round's duplicate labels are fixed (:mod:`crawler.shared.round`), so every worker labels
against the same committed state.
"""
from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone

from .dedup_store import STATE_FORMAT, SeenDoc, StateError


def _s(v):
    return v.decode() if isinstance(v, bytes) else v


def pack(d: SeenDoc) -> str:
    return json.dumps([d.id, d.content_hash, d.version, d.rep_id, d.cluster_id, d.published_at, d.order_url,
                       d.run_id, base64.b64encode(d.sig).decode() if d.sig is not None else None])


def unpack(raw) -> SeenDoc:
    v = json.loads(raw)
    v[8] = base64.b64decode(v[8]) if v[8] is not None else None
    return SeenDoc(*v)


class RedisDedupStore:
    def __init__(self, client, prefix: str, params: str = "") -> None:
        import redis

        self.r, self.k = client, f"{prefix}:dd:"
        self._errors = (redis.RedisError,)
        try:
            self.r.hsetnx(self.k + "meta", "format", STATE_FORMAT)
            self.r.hsetnx(self.k + "meta", "params", params)
            fmt, stored = self.meta("format"), self.meta("params")
        except self._errors as exc:
            raise StateError(f"redis dedup state: {exc}") from exc
        if fmt != STATE_FORMAT or stored != params:
            raise StateError(f"state format {fmt}/{stored} does not match {STATE_FORMAT}/{params}")

    def meta(self, key: str) -> str | None:
        return _s(self.r.hget(self.k + "meta", key))

    def _docs(self, table: str, ids: list[str]) -> dict[str, SeenDoc]:
        if not ids:
            return {}
        try:
            raws = self.r.hmget(self.k + "docs:" + table, ids)
        except self._errors as exc:
            raise StateError(f"redis dedup state: {exc}") from exc
        return {i: unpack(r) for i, r in zip(ids, raws) if r is not None}

    def get(self, table: str, ids: Iterable[str]) -> dict[str, SeenDoc]:
        return self._docs(table, list(dict.fromkeys(ids)))

    def by_hash(self, table: str, hashes: Iterable[str]) -> dict[str, list[SeenDoc]]:
        hashes = sorted(set(hashes))
        if not hashes:
            return {}
        try:
            pipe = self.r.pipeline(transaction=False)
            for h in hashes:
                pipe.smembers(f"{self.k}hash:{table}:{h}")
            members = pipe.execute()
        except self._errors as exc:
            raise StateError(f"redis dedup state: {exc}") from exc
        ids = sorted({_s(i) for m in members for i in m})
        docs = self._docs(table, ids)
        out: dict[str, list[SeenDoc]] = {}
        for h, m in zip(hashes, members):
            found = [docs[_s(i)] for i in sorted(m) if _s(i) in docs and docs[_s(i)].content_hash == h]
            if found:
                out[h] = found
        return out

    def by_bands(self, table: str, keys: Iterable[int], max_bucket: int = 0) -> list[SeenDoc]:
        names = [f"{self.k}band:{table}:{k}" for k in dict.fromkeys(keys)]
        if not names:
            return []
        try:
            pipe = self.r.pipeline(transaction=False)
            for n in names:
                pipe.scard(n) if max_bucket else pipe.exists(n)
            sizes = pipe.execute()
            use = [n for n, c in zip(names, sizes) if c and (not max_bucket or c <= max_bucket)]
            ids = sorted({_s(i) for i in self.r.sunion(use)}) if use else []
        except self._errors as exc:
            raise StateError(f"redis dedup state: {exc}") from exc
        docs = self._docs(table, ids)
        return [docs[i] for i in ids if i in docs]

    def apply(self, run_id: str, changes: Mapping[str, list[tuple[SeenDoc, list[int]]]]) -> int:
        """Upsert every changed record (and its band keys) in one transaction; returns the count."""
        n_docs = 0
        try:
            pipe = self.r.pipeline(transaction=True)
            for table, docs in changes.items():
                old = self._docs(table, [d.id for d, _ in docs])
                for d, bands in docs:
                    prev = old.get(d.id)
                    if prev is not None and prev.content_hash != d.content_hash:
                        pipe.srem(f"{self.k}hash:{table}:{prev.content_hash}", d.id)
                    pipe.hset(self.k + "docs:" + table, d.id, pack(d))
                    pipe.sadd(f"{self.k}hash:{table}:{d.content_hash}", d.id)
                    for b in bands:
                        pipe.sadd(f"{self.k}band:{table}:{b}", d.id)
                    n_docs += 1
            pipe.hset(self.k + "runs", run_id, json.dumps({"committed_at": datetime.now(timezone.utc).isoformat(),
                                                           "docs": n_docs}))
            pipe.execute()
        except self._errors as exc:
            raise StateError(f"redis dedup state: {exc}") from exc
        return n_docs

    def has_run(self, run_id: str) -> bool:
        return bool(self.r.hexists(self.k + "runs", run_id))

    def counts(self) -> dict[str, int]:
        out = {t: self.r.hlen(self.k + "docs:" + t) for t in ("articles", "threads", "comments")}
        return {t: n for t, n in out.items() if n} | {"runs": self.r.hlen(self.k + "runs")}

    def close(self) -> None:
        pass
