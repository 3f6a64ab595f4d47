"""The run's duplicate labeler: exact + near-duplicate clusters, across sites and across runs.

One :class:`DedupLabeler` per crawl (``crawler.dedup_labeler``), shared by the dedup steps. A record is
registered only once it has passed every pipeline (Scrapy's ``item_scraped`` signal), so records dropped
later are never labelled nor remembered. Registered records go to the run's scratch file
(:class:`~.run_docs.RunDocs`), not to memory: the crawl's memory does not grow with the number of records.

When the run ends the exporter asks :meth:`label_batch` for the labels of each batch of ids it streams out of
its staged files, then calls :meth:`commit` once its files are in place; only then does the persistent
state advance. Clusters are formed over *nodes* — all records with one content hash are one node (they are
duplicates of each other whatever else holds), a signed record without an exact hash is a node of its own —
so the work and the memory at the end scale with the duplicate structure, not with the record count.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from crawler.state.dedup_store import TABLES, SeenDoc, StateError

from ..batch import records_of
from . import minhash as mh
from .clusters import order_key
from .keys import ID_FIELD, Key
from .run_docs import RunDocs, node_of

logger = logging.getLogger(__name__)
RUN_DOCS_FILE = "dedup_run.sqlite"


@dataclass
class RunDoc:
    key: Key
    version: int = 1
    exact: bool = False  # takes part in content-hash clusters
    sig: np.ndarray | None = None  # takes part in near-duplicate clusters
    sig_parts: tuple | None = None  # (bytes, band keys) of sig when already computed (by the language worker)
    item: object = None  # the record while it is on its way (released once scraped or dropped)


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        p = self.parent.setdefault(x, x)
        while p != x:
            gp = self.parent[p]
            self.parent[x] = gp
            x, p = p, gp
        return x

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


@dataclass
class _TableLabels:
    """The outcome for one table: node -> (representative id, its content hash); stats."""

    by_node: dict[str, tuple[str, str]] = field(default_factory=dict)
    committed: set[str] = field(default_factory=set)  # representatives from earlier runs


@dataclass
class RecordIntake:
    """What every labeler has and does while the crawl runs (the single-process one here, the in-memory and
    shared ones in :mod:`.labels_memory` / :mod:`.shared_labels`): its settings, seen-before look-ups in the
    committed state, each record held on its way to the exporter until Scrapy says it was scraped or dropped,
    and a state that fails is no longer used."""

    stats: object
    store: object | None = None  # a DedupStore, or None: within-run dedup only
    threshold: float = 0.6
    drop_duplicates: bool = False
    pending: dict[str, dict[str, RunDoc]] = field(default_factory=lambda: {t: {} for t in TABLES}, kw_only=True)

    def seen_before(self, table: str, rid: str) -> SeenDoc | None:
        if self.store is None:
            return None
        try:
            return self.store.get(table, [rid]).get(rid)
        except StateError as exc:
            self._state_failed("read", exc)
            return None

    def seen_before_many(self, table: str, ids: list[str]) -> dict[str, SeenDoc]:
        """One look-up for the records of a batch (a thread's comments)."""
        if self.store is None:
            return {}
        try:
            return self.store.get(table, ids)
        except StateError as exc:
            self._state_failed("read", exc)
            return {}

    def prepare(self, table: str, item, doc: RunDoc) -> None:
        """A record on its way to the exporter; it counts once :meth:`scraped` confirms it."""
        doc.item = item
        self.pending[table][doc.key.id] = doc

    def _pop(self, item) -> RunDoc | None:
        table = getattr(item, "table", None)
        rid = getattr(item, ID_FIELD.get(table, ""), None)
        doc = self.pending.get(table, {}).get(rid)
        if doc is None or doc.item is not item:  # e.g. a same-URL duplicate dropped while the first is pending
            return None
        doc.item = None
        return self.pending[table].pop(rid)

    def dropped(self, item, response=None, exception=None, spider=None) -> None:
        """``item_dropped`` / ``item_error``: forget the record (skipped as unchanged, dropped by a later
        step, or failed)."""
        for record in records_of(item):
            self._pop(record)

    def _state_failed(self, what: str, exc: Exception) -> None:
        logger.error("dedup state %s failed (%s); continuing without cross-run state", what, exc)
        self.stats.inc_value(f"dedup/state/{what}_failed")
        self.store = None


def state_row(rid: str, content_hash: str, version: int, published_at, order_url: str, label: tuple | None,
              sig: bytes | None, run_id: str, drop_duplicates: bool,
              bands: list[int] | None = None) -> tuple[SeenDoc, list[int]] | None:
    """What the dedup state remembers of one record a run wrote, given its label ``(duplicate_of, reason,
    cluster_id)`` (None: in no cluster): the (SeenDoc, LSH band keys) to apply, or None for a duplicate left out
    of the files (DEDUP_DROP_DUPLICATES: not remembered as written either). The one rule every labeler commits
    by: the record points at its representative (itself when it is one or stands alone); a content duplicate
    keeps no signature nor bands (its representative holds the same ones). ``bands``: the band keys of ``sig``
    when the caller computed them already (:func:`keeps_signature` says for which rows)."""
    dup_of, reason, cluster = label or (None, None, None)
    if drop_duplicates and dup_of is not None:
        return None
    if reason == "content":
        sig = None
    if sig is None:
        bands = []
    elif bands is None:
        bands = mh.band_keys(mh.from_bytes(sig))
    return SeenDoc(rid, content_hash, version, dup_of or cluster or rid, cluster, published_at, order_url, run_id,
                   sig), bands


def keeps_signature(label: tuple | None, sig: bytes | None, drop_duplicates: bool) -> bool:
    """Whether :func:`state_row` keeps this record's signature (and so needs its band keys)."""
    return sig is not None and not (label and (label[1] == "content" or (drop_duplicates and label[0] is not None)))


def band_keys_of(sigs: list[bytes]) -> list[list[int]]:
    """LSH band keys of many signatures (as bytes) at once: one vectorised pass instead of one per signature."""
    if not sigs:
        return []
    return mh.band_keys_matrix(np.frombuffer(b"".join(sigs), dtype="<u4").reshape(len(sigs), -1)).tolist()


# The registered records among a batch of ids (a row group's: 5,000), in one query with the ids as one JSON
# parameter, probed in id order (json_each first: SQLite would otherwise scan the table per id); a third less CPU
# than 500-id IN lists (docs/performance.md, "The close phase (session 6)").
_IDS_DOCS = ("SELECT d.id, d.node, d.chash FROM json_each(?) j CROSS JOIN docs d ON d.tbl = ? AND d.id = j.value")
_CHANGES_CHUNK = 2000  # records read from the scratch file per vectorised band-key pass


@dataclass
class DedupLabeler(RecordIntake):
    run_docs_path: Path | None = None  # the scratch file (None: a temporary file)
    retention_days: float = 0  # DEDUP_NEAR_RETENTION_DAYS: records older than this leave near matching
    _run: RunDocs | None = None
    _done: dict[str, _TableLabels] = field(default_factory=dict)

    @property
    def run(self) -> RunDocs:
        if self._run is None:
            self._run = RunDocs(self.run_docs_path)
        return self._run

    # -- fed by the pipeline steps ----------------------------------------------------------------------
    def first_time(self, table: str, key: str) -> bool:
        """Whether this run meets (table, key) for the first time (asked on disk, not kept in memory)."""
        return self.run.first_time(table, key)

    def scraped(self, item, response=None, spider=None) -> None:
        """``item_scraped``: the record (every record of the batch) passed every step and is in the
        exporter's staging files: it goes to the run's scratch file."""
        for record in records_of(item):
            doc = self._pop(record)
            if doc is not None:
                k = doc.key
                if doc.sig is None:
                    sig, bands = None, ()
                elif doc.sig_parts is not None:
                    sig, bands = doc.sig_parts
                else:
                    sig, bands = mh.to_bytes(doc.sig), mh.band_keys(doc.sig)
                self.run.add(record.table, k.id, k.content_hash, k.published_at, k.order_url, record.version,
                             doc.exact, sig, bands)

    # -- asked by the exporter ----------------------------------------------------------------------------
    def label_batch(self, table: str, ids: list[str]) -> dict[str, tuple]:
        """``{id: (duplicate_of, reason, cluster_id)}`` for those of ``ids`` in a cluster of two or more."""
        done = self._labels_of(table)
        if not done.by_node:
            return {}
        out = {}
        wanted = json.dumps(sorted({i for i in ids if isinstance(i, str)}))
        for rid, node, chash in self.run.query(_IDS_DOCS, (wanted, table)):
            hit = done.by_node.get(node)
            if hit is not None:
                out[rid] = _label(rid, chash, *hit)
        return out

    def has_labels(self, table: str) -> bool:
        return bool(self._labels_of(table).by_node)

    def labels(self, table: str) -> dict[str, tuple]:
        """Every label of the table at once (tests and benchmarks; the exporter streams :meth:`label_batch`)."""
        done = self._labels_of(table)
        out = {}
        for rid, node, chash in self.run.query("SELECT id, node, chash FROM docs WHERE tbl = ?", (table,)):
            hit = done.by_node.get(node)
            if hit is not None:
                out[rid] = _label(rid, chash, *hit)
        return out

    def drop_ids(self, table: str) -> set[str]:
        """Labelled duplicates the exporter leaves out of the files when DEDUP_DROP_DUPLICATES is on (tests;
        the exporter drops while it streams)."""
        if not self.drop_duplicates:
            return set()
        return {i for i, lab in self.labels(table).items() if lab[0] is not None}

    def is_dropped(self, label: tuple | None) -> bool:
        return self.drop_duplicates and label is not None and label[0] is not None

    def commit(self, run_id: str) -> None:
        if self.store is None:
            return
        changes = {t: self._changes(t, run_id) for t in TABLES if self.run.count.get(t)}
        try:
            n = self.store.apply(run_id, changes)
            self.stats.set_value("dedup/state/committed_records", n)
            if self.retention_days > 0 and hasattr(self.store, "prune"):
                cutoff = datetime.now(timezone.utc) - timedelta(days=self.retention_days)
                self.stats.set_value("dedup/state/pruned_records", self.store.prune(cutoff))
        except StateError as exc:
            self._state_failed("commit", exc)
            raise  # the run's commit failed: exit 4 with the reason; the next run rebuilds the state

    def _changes(self, table: str, run_id: str):
        """(SeenDoc, band keys) of every record of the run (streamed from the scratch file, in id order)."""
        done = self._labels_of(table)
        rows = self.run.query(
            "SELECT d.id, d.chash, d.version, d.published, d.order_url, d.node, n.sig FROM docs d "
            "LEFT JOIN nodes n ON n.tbl = d.tbl AND n.node = d.node WHERE d.tbl = ? ORDER BY d.id", (table,))
        chunk: list[tuple] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= _CHANGES_CHUNK:
                yield from self._state_rows(chunk, done, run_id)
                chunk = []
        yield from self._state_rows(chunk, done, run_id)

    def _state_rows(self, chunk: list[tuple], done: _TableLabels, run_id: str):
        labelled = []
        for rid, chash, version, published, order_url, node, sig in chunk:
            hit = done.by_node.get(node)
            labelled.append(_label(rid, chash, *hit) if hit else None)
        need = [i for i, (r, lab) in enumerate(zip(chunk, labelled)) if keeps_signature(lab, r[6], self.drop_duplicates)]
        bands = dict(zip(need, band_keys_of([chunk[i][6] for i in need])))
        for i, ((rid, chash, version, published, order_url, node, sig), lab) in enumerate(zip(chunk, labelled)):
            row = state_row(rid, chash, version, published, order_url, lab, sig, run_id, self.drop_duplicates,
                            bands.get(i))
            if row is not None:
                yield row

    def close(self) -> None:
        if self._run is not None:
            self._run.close()

    # -- internals ----------------------------------------------------------------------------------------
    def _labels_of(self, table: str) -> _TableLabels:
        if table not in self._done:
            self._done[table] = _TableLabels() if table == "threads" else self._compute(table)
        return self._done[table]

    def _compute(self, table: str) -> _TableLabels:
        run = self.run
        uf = _UnionFind()
        size: dict[str, int] = {}  # records per node, for nodes with edges or more than one record
        for node, n in run.query("SELECT node, count(*) FROM docs WHERE tbl = ? GROUP BY node HAVING count(*) > 1",
                                 (table,)):
            size[node] = n
            uf.find(node)
        near, n_candidates = self._near_edges(table)
        self.stats.set_value(f"dedup/{table}/near_candidates", n_candidates)
        committed: dict[str, Key] = {}
        prior: list[tuple[str, str]] = []
        if self.store is not None and run.count.get(table):
            try:
                prior, committed = self._prior_edges(table)
            except StateError as exc:
                self._state_failed("read", exc)
        for a, b in near + prior:
            uf.union(a, b)
        rewritten = run.docs_of(table, list(committed))  # representatives this run writes a new version of
        for rid, (node, _) in rewritten.items():
            uf.union("c" + rid, node)  # one record, whichever side it is seen from
        firsts = self._firsts(table, uf.parent)
        comps: dict[str, list[str]] = {}
        for node in list(uf.parent):
            comps.setdefault(uf.find(node), []).append(node)
        out = _TableLabels(committed=set(committed))
        for members in comps.values():
            current = [m for m in members if not m.startswith("c")]
            anchors = [committed[m[1:]] for m in members if m.startswith("c") and m[1:] in committed]
            records = sum(size.get(m, 1) for m in current) + sum(a.id not in rewritten for a in anchors)
            if not current or records < 2:
                continue
            rep = min(anchors or [firsts[m] for m in current], key=order_key)
            rep_hash = rewritten[rep.id][1] if rep.id in rewritten else rep.content_hash
            for m in current:
                out.by_node[m] = (rep.id, rep_hash)
        self._count(table, out)
        return out

    def _firsts(self, table: str, nodes) -> dict[str, Key]:
        """The earliest record (published_at, unknown last; then URL, then id) of each of ``nodes``: one pass
        over the run's records, keeping one key per node."""
        out: dict[str, Key] = {}
        for rid, chash, published, order_url, node in self.run.query(
                "SELECT id, chash, published, order_url, node FROM docs WHERE tbl = ?", (table,)):
            if node in nodes:
                k = Key(rid, chash, published, order_url)
                cur = out.get(node)
                if cur is None or order_key(k) < order_key(cur):
                    out[node] = k
        return out

    def _near_edges(self, table: str) -> tuple[list[tuple[str, str]], int]:
        """Verified near-duplicate pairs of nodes of this run, and the number of LSH candidate pairs. Nodes are
        taken in a deterministic order (their name); a bucket of more than MAX_BUCKET nodes (boilerplate) pairs
        each with its first node only, which keeps the work linear."""
        run = self.run

        def pairs():
            bucket, key = [], None
            for k, node in run.query("SELECT key, node FROM node_bands WHERE tbl = ? ORDER BY key, node", (table,)):
                if k != key:
                    yield from _bucket_pairs(table, bucket)
                    bucket, key = [], k
                bucket.append(node)
            yield from _bucket_pairs(table, bucket)

        run.executemany("INSERT OR IGNORE INTO pairs VALUES (?, ?, ?)", pairs())
        n_candidates = next(run.query("SELECT count(*) FROM pairs WHERE tbl = ?", (table,)))[0]
        edges: list[tuple[str, str]] = []
        chunk: list[tuple[str, str]] = []
        for a, b in run.query("SELECT a, b FROM pairs WHERE tbl = ? ORDER BY a, b", (table,)):
            chunk.append((a, b))
            if len(chunk) >= 20_000:
                edges += self._verify(table, chunk)
                chunk = []
        edges += self._verify(table, chunk)
        return edges, n_candidates

    def _verify(self, table: str, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
        if not pairs:
            return []
        nodes = sorted({n for p in pairs for n in p})
        sigs: dict[str, np.ndarray] = {}
        for i in range(0, len(nodes), 500):
            part = nodes[i:i + 500]
            q = f"SELECT node, sig FROM nodes WHERE tbl = ? AND node IN ({','.join('?' * len(part))})"
            sigs.update((n, mh.from_bytes(s)) for n, s in self.run.query(q, (table, *part)))
        a = np.stack([sigs[x] for x, _ in pairs])
        b = np.stack([sigs[y] for _, y in pairs])
        ok = np.count_nonzero(a == b, axis=1) >= self.threshold * mh.NUM_PERM
        return [p for p, good in zip(pairs, ok) if good]

    def _prior_edges(self, table: str) -> tuple[list[tuple[str, str]], dict[str, Key]]:
        """Edges from this run's nodes to the committed representatives (``c<id>``) of matching earlier records,
        and those representatives. Earlier versions of records this run rewrites are not matches."""
        run, store = self.run, self.store
        edges: list[tuple[str, str]] = []
        anchors: set[str] = set()

        def others(prior):
            mine = run.existing(table, [p.id for p in prior])
            return [p for p in prior if p.id not in mine]

        hashes = [h for (h,) in run.query("SELECT DISTINCT chash FROM docs WHERE tbl = ? AND exact = 1", (table,))]
        for i in range(0, len(hashes), 500):
            found = store.by_hash(table, hashes[i:i + 500])
            for h, prior in found.items():
                for p in others(prior):
                    anchors.add(p.rep_id)
                    edges.append((node_of("", h, True), "c" + p.rep_id))
        for node, blob in run.query("SELECT node, sig FROM nodes WHERE tbl = ?", (table,)):
            sig = mh.from_bytes(blob)
            prior = [p for p in store.by_bands(table, mh.band_keys(sig), mh.MAX_BUCKET) if p.sig]
            prior = others(prior) if prior else []
            if prior:
                same = np.count_nonzero(np.stack([mh.from_bytes(p.sig) for p in prior]) == sig, axis=1)
                for p, s in zip(prior, same):
                    if s >= self.threshold * mh.NUM_PERM:
                        anchors.add(p.rep_id)
                        edges.append((node, "c" + p.rep_id))
        committed = {rid: Key(p.id, p.content_hash, p.published_at, p.order_url)
                     for rid, p in store.get(table, anchors).items()}
        return [(a, b) for a, b in edges if b[1:] in committed], committed

    def _count(self, table: str, done: _TableLabels) -> None:
        dups = content = cross = 0
        foreign: dict[str, bool] = {}  # representative from an earlier run that this run does not rewrite
        run = self.run
        if done.by_node:
            rewritten = run.existing(table, {rep for rep, _ in done.by_node.values()} & done.committed)
            for rep, _ in done.by_node.values():
                foreign[rep] = rep in done.committed and rep not in rewritten
            for rid, chash, node in run.query("SELECT id, chash, node FROM docs WHERE tbl = ?", (table,)):
                hit = done.by_node.get(node)
                if hit is None or rid == hit[0]:
                    continue
                dups += 1
                content += chash == hit[1]
                cross += foreign[hit[0]]
        self.stats.set_value(f"dedup/{table}/labelled_duplicates", dups)
        self.stats.set_value(f"dedup/{table}/content_labelled", content)
        self.stats.set_value(f"dedup/{table}/near_labelled", dups - content)
        self.stats.set_value(f"dedup/{table}/cross_run_labelled", cross)
        self.stats.set_value(f"dedup/{table}/clusters", len(foreign))
        if self.drop_duplicates:
            self.stats.set_value(f"dedup/{table}/dropped_duplicates", dups)


def _label(rid: str, chash: str, rep: str, rep_hash: str) -> tuple:
    if rid == rep:
        return (None, None, rep)
    return (rep, "content" if chash == rep_hash else "near", rep)


def _bucket_pairs(table: str, nodes: list[str]):
    if len(nodes) < 2:
        return
    if len(nodes) <= mh.MAX_BUCKET:
        for i, a in enumerate(nodes):
            for b in nodes[i + 1:]:
                yield table, a, b
    else:
        for b in nodes[1:]:
            yield table, nodes[0], b


def labeler_for(crawler) -> DedupLabeler:
    """The crawl's shared labeler (created on first use): opens the state and listens for scraped items."""
    existing = getattr(crawler, "dedup_labeler", None)
    if existing is not None:  # this one, or another mode's (shared mode installs its own before the steps)
        return existing
    from scrapy import signals

    from crawler.state.dedup_store import open_store

    from .rebuild import rebuild_from_dataset

    s = crawler.settings
    output = s.get("OUTPUT_DIR", "output")
    store = None
    if s.getbool("DEDUP_STATE_ENABLED", True):
        path = s.get("DEDUP_STATE_PATH") or str(Path(output) / "_state" / "dedup.sqlite")
        spider = getattr(crawler, "spider", None)
        if getattr(spider, "refusal", None) is None:  # a run that does not hold the lock touches no state
            store = open_store(path, mh.PARAMS, crawler.stats, logger, output=output,
                               rebuild=lambda st: rebuild_from_dataset(output, st))
    ctx = getattr(crawler, "run_context", None)
    lab = DedupLabeler(crawler.stats, store, s.getfloat("DEDUP_NEAR_THRESHOLD", 0.6),
                       s.getbool("DEDUP_DROP_DUPLICATES", False),
                       run_docs_path=(ctx.staging / RUN_DOCS_FILE) if ctx is not None else None,
                       retention_days=s.getfloat("DEDUP_NEAR_RETENTION_DAYS", 365))
    crawler.signals.connect(lab.scraped, signal=signals.item_scraped)
    crawler.signals.connect(lab.dropped, signal=signals.item_dropped)
    crawler.signals.connect(lab.dropped, signal=signals.item_error)
    crawler.signals.connect(lab.close, signal=signals.engine_stopped)
    crawler.dedup_labeler = lab
    return lab
