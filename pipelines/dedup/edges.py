"""Which records are linked as duplicates: same content hash or verified near-duplicate, within the run
and against the records of earlier runs (through a :class:`crawler.state.dedup_store.DedupStore`).

Every function returns edges as ``(id, id)`` pairs; clusters and representatives are formed from them by
:func:`pipelines.dedup.clusters.assign`. Nothing here depends on the order records arrived in: rows are
sorted by id before LSH, and candidates are verified pair by pair (estimated Jaccard >= threshold).
"""
from __future__ import annotations

import numpy as np

from . import minhash as mh
from .clusters import exact_edges
from .keys import Key


def near_edges(sigs_by_id: dict[str, np.ndarray], threshold: float) -> tuple[list[tuple[str, str]], int]:
    """Verified near-duplicate pairs among this run's signatures, and the number of LSH candidates."""
    ids = sorted(sigs_by_id)
    if len(ids) < 2:
        return [], 0
    sigs = np.stack([sigs_by_id[i] for i in ids])
    pairs = mh.candidate_pairs(mh.band_keys_matrix(sigs))
    ok = mh.verify(sigs, pairs, threshold)
    return [(ids[a], ids[b]) for a, b in pairs[ok].tolist()], len(pairs)


def run_edges(exact: list[Key], sigs_by_id: dict[str, np.ndarray], threshold: float):
    near, n_candidates = near_edges(sigs_by_id, threshold)
    return exact_edges(exact) + near, n_candidates


def prior_edges(store, table: str, run_ids, exact: list[Key], sigs_by_id: dict[str, np.ndarray],
                threshold: float) -> tuple[list[tuple[str, str]], dict[str, Key]]:
    """Edges from this run's records to the committed representatives of matching earlier records, and
    those representatives. Earlier versions of records this run rewrites (``run_ids``) are not matches."""
    edges, anchors = [], set()
    by_hash: dict[str, list[str]] = {}
    for k in exact:
        by_hash.setdefault(k.content_hash, []).append(k.id)
    for h, prior in store.by_hash(table, by_hash).items():
        for p in prior:
            if p.id not in run_ids:
                anchors.add(p.rep_id)
                edges += [(i, p.rep_id) for i in by_hash[h]]
    for i, sig in sigs_by_id.items():
        prior = [p for p in store.by_bands(table, mh.band_keys(sig), mh.MAX_BUCKET) if p.id not in run_ids and p.sig]
        if prior:
            same = np.count_nonzero(np.stack([mh.from_bytes(p.sig) for p in prior]) == sig, axis=1)
            for p, s in zip(prior, same):
                if s >= threshold * mh.NUM_PERM:
                    anchors.add(p.rep_id)
                    edges.append((i, p.rep_id))
    committed = {rid: Key(p.id, p.content_hash, p.published_at, p.order_url)
                 for rid, p in store.get(table, anchors).items()}
    return [(a, b) for a, b in edges if b in committed], committed
