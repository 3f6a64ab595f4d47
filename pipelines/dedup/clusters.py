"""Duplicate clusters and their representatives — pure functions, independent of arrival order.

A cluster is a connected component of "same content hash" and "near-duplicate" edges between records.
Its representative is chosen deterministically:

* if the component touches records committed by earlier runs, the earliest (by the order below) of their
  committed representatives — a representative already in the dataset stays the representative;
* otherwise the earliest record of this run: earliest ``published_at`` (unknown dates last), then
  canonical URL (``order_url``), then id.

Every other member of the run gets ``(duplicate_of=rep, reason, cluster_id=rep)`` with reason
``"content"`` when its content hash equals the representative's, else ``"near"``; the representative
gets ``(None, None, rep)``. Rows of earlier runs are never relabelled (their files are immutable).
"""
from __future__ import annotations

from collections.abc import Iterable

from .keys import Key


def order_key(k: Key) -> tuple:
    return (k.published_at is None, k.published_at or 0.0, k.order_url, k.id)


def components(nodes: Iterable[str], edges: Iterable[tuple[str, str]]) -> list[list[str]]:
    """Connected components (each sorted; the list sorted by first member) via union-find."""
    parent: dict[str, str] = {n: n for n in nodes}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[str, list[str]] = {}
    for n in list(parent):
        groups.setdefault(find(n), []).append(n)
    return sorted((sorted(g) for g in groups.values()), key=lambda g: g[0])


def exact_edges(keys: Iterable[Key]) -> list[tuple[str, str]]:
    """Edges joining records that share a content hash (a chain per hash is enough for components)."""
    by_hash: dict[str, list[str]] = {}
    for k in keys:
        by_hash.setdefault(k.content_hash, []).append(k.id)
    return [(a, b) for ids in by_hash.values() for a, b in zip(sorted(ids), sorted(ids)[1:])]


def assign(current: dict[str, Key], committed: dict[str, Key],
           edges: Iterable[tuple[str, str]]) -> dict[str, tuple[str | None, str | None, str]]:
    """Labels ``{id: (duplicate_of, reason, cluster_id)}`` for this run's records in clusters of 2+.

    ``current``: this run's records. ``committed``: representatives already in the dataset (an id may be
    in both when this run writes a new version of it). ``edges``: pairs of ids from either side.
    """
    labels: dict[str, tuple] = {}
    for group in components(current, edges):
        if len(group) < 2 or not any(m in current for m in group):
            continue
        earlier = [committed[m] for m in group if m in committed]
        rep = min(earlier or [current[m] for m in group if m in current], key=order_key)
        rep_hash = current[rep.id].content_hash if rep.id in current else rep.content_hash
        for m in group:
            if m not in current:
                continue
            if m == rep.id:
                labels[m] = (None, None, rep.id)
            else:
                reason = "content" if current[m].content_hash == rep_hash else "near"
                labels[m] = (rep.id, reason, rep.id)
    return labels

