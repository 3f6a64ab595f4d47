"""The run's duplicate labeler: exact + near-duplicate clusters, across sites and across runs.

One :class:`DedupLabeler` per crawl (``crawler.dedup_labeler``), shared by the dedup steps. A record is
registered only once it has passed every pipeline (Scrapy's ``item_scraped`` signal), so records dropped
later are never labelled nor remembered. The Parquet exporter calls :meth:`labels` per table when the run
ends, then :meth:`commit` once its files are in place; only then does the persistent state advance.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from crawler.state.dedup_store import TABLES, SeenDoc, StateError

from ..batch import records_of
from . import minhash as mh
from .clusters import assign
from .edges import prior_edges, run_edges
from .keys import ID_FIELD, Key
from .rebuild import rebuild_from_dataset

logger = logging.getLogger(__name__)


@dataclass
class RunDoc:
    key: Key
    version: int = 1
    exact: bool = False  # takes part in content-hash clusters
    sig: np.ndarray | None = None  # takes part in near-duplicate clusters
    item: object = None  # the record while it is on its way (released once scraped or dropped)


@dataclass
class DedupLabeler:
    stats: object
    store: object | None = None  # a DedupStore, or None: within-run dedup only
    threshold: float = 0.6
    drop_duplicates: bool = False
    docs: dict[str, dict[str, RunDoc]] = field(default_factory=lambda: {t: {} for t in TABLES})
    pending: dict[str, dict[str, RunDoc]] = field(default_factory=lambda: {t: {} for t in TABLES})
    _labels: dict[str, dict] = field(default_factory=dict)
    _dropped: dict[str, set[str]] = field(default_factory=dict)  # ids the exporter was told to leave out

    # -- fed by the pipeline steps ----------------------------------------------------------------------
    def seen_before(self, table: str, rid: str) -> SeenDoc | None:
        if self.store is None:
            return None
        try:
            return self.store.get(table, [rid]).get(rid)
        except StateError as exc:
            self._state_failed("read", exc)
            return None

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

    def scraped(self, item, response=None, spider=None) -> None:
        """``item_scraped``: the record (every record of the batch) passed every step and is in the
        exporter's staging files."""
        for record in records_of(item):
            doc = self._pop(record)
            if doc is not None:
                doc.version = record.version
                self.docs[record.table][doc.key.id] = doc

    def dropped(self, item, response=None, exception=None, spider=None) -> None:
        """``item_dropped`` / ``item_error``: forget the record (skipped as unchanged, dropped by a later
        step, or failed)."""
        for record in records_of(item):
            self._pop(record)

    # -- asked by the exporter ----------------------------------------------------------------------------
    def labels(self, table: str) -> dict[str, tuple]:
        if table not in self._labels:
            self._labels[table] = self._compute(table)
        return self._labels[table]

    def drop_ids(self, table: str) -> set[str]:
        """Labelled duplicates the exporter leaves out of the files when DEDUP_DROP_DUPLICATES is on (they
        are then not remembered as written either)."""
        if not self.drop_duplicates:
            return set()
        ids = self._dropped[table] = {i for i, lab in self.labels(table).items() if lab[0] is not None}
        self.stats.set_value(f"dedup/{table}/dropped_duplicates", len(ids))
        return ids

    def commit(self, run_id: str) -> None:
        if self.store is None:
            return
        changes = {}
        for table, docs in self.docs.items():
            labels, dropped = self.labels(table), self._dropped.get(table, set())
            rows = []
            for rid, d in docs.items():
                if rid in dropped:
                    continue
                dup_of, _, cluster = labels.get(rid, (None, None, None))
                k = d.key
                rows.append((SeenDoc(rid, k.content_hash, d.version, dup_of or cluster or rid, cluster,
                                     k.published_at, k.order_url, run_id,
                                     mh.to_bytes(d.sig) if d.sig is not None else None),
                             mh.band_keys(d.sig) if d.sig is not None else []))
            changes[table] = rows
        try:
            n = self.store.apply(run_id, changes)
            self.stats.set_value("dedup/state/committed_records", n)
        except StateError as exc:
            self._state_failed("commit", exc)
            raise  # the run's commit failed: exit 4 with the reason; the next run rebuilds the state

    # -- internals ----------------------------------------------------------------------------------------
    def _state_failed(self, what: str, exc: Exception) -> None:
        logger.error("dedup state %s failed (%s); continuing without cross-run state", what, exc)
        self.stats.inc_value(f"dedup/state/{what}_failed")
        self.store = None

    def _compute(self, table: str) -> dict[str, tuple]:
        if table == "threads":  # threads are only remembered (versions), never clustered
            return {}
        docs = self.docs.get(table, {})
        exact = [d.key for d in docs.values() if d.exact]
        sigs = {i: d.sig for i, d in docs.items() if d.sig is not None}
        edges, n_candidates = run_edges(exact, sigs, self.threshold)
        self.stats.set_value(f"dedup/{table}/near_candidates", n_candidates)
        committed: dict[str, Key] = {}
        if self.store is not None and (exact or sigs):
            try:
                more, committed = prior_edges(self.store, table, docs, exact, sigs, self.threshold)
                edges += more
            except StateError as exc:
                self._state_failed("read", exc)
        labels = assign({i: d.key for i, d in docs.items()}, committed, edges)
        self._count(table, labels, committed)
        return labels

    def _count(self, table: str, labels: dict, committed: dict) -> None:
        dups = [v for v in labels.values() if v[0] is not None]
        self.stats.set_value(f"dedup/{table}/labelled_duplicates", len(dups))
        for reason in ("content", "near"):
            self.stats.set_value(f"dedup/{table}/{reason}_labelled", sum(v[1] == reason for v in dups))
        self.stats.set_value(f"dedup/{table}/cross_run_labelled",
                             sum(v[0] in committed and v[0] not in self.docs[table] for v in dups))
        self.stats.set_value(f"dedup/{table}/clusters", len({v[2] for v in labels.values()}))


def labeler_for(crawler) -> DedupLabeler:
    """The crawl's shared labeler (created on first use): opens the state and listens for scraped items."""
    existing = getattr(crawler, "dedup_labeler", None)
    if isinstance(existing, DedupLabeler):
        return existing
    from pathlib import Path

    from scrapy import signals

    from crawler.state.dedup_store import open_store

    s = crawler.settings
    output = s.get("OUTPUT_DIR", "output")
    store = None
    if s.getbool("DEDUP_STATE_ENABLED", True):
        path = s.get("DEDUP_STATE_PATH") or str(Path(output) / "_state" / "dedup.sqlite")
        spider = getattr(crawler, "spider", None)
        if getattr(spider, "refusal", None) is None:  # a run that does not hold the lock touches no state
            store = open_store(path, mh.PARAMS, crawler.stats, logger, output=output,
                               rebuild=lambda st: rebuild_from_dataset(output, st))
    lab = DedupLabeler(crawler.stats, store, s.getfloat("DEDUP_NEAR_THRESHOLD", 0.6),
                       s.getbool("DEDUP_DROP_DUPLICATES", False))
    crawler.signals.connect(lab.scraped, signal=signals.item_scraped)
    crawler.signals.connect(lab.dropped, signal=signals.item_dropped)
    crawler.signals.connect(lab.dropped, signal=signals.item_error)
    crawler.dedup_labeler = lab
    return lab
