"""The duplicate labeler with every record of the run in memory — for shared mode, where the round's records
come from all workers (:mod:`pipelines.dedup.shared_labels`) and are held for the round's labels anyway.

The same rules as :class:`pipelines.dedup.labels.DedupLabeler` (which a single crawl uses, and which keeps the
run's records on disk so the crawl's memory does not grow with them); this class is the form the rules had
before that: ``docs`` holds every registered record, :meth:`labels` returns a dict of every label.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from crawler.state.dedup_store import TABLES, SeenDoc, StateError

from ..batch import records_of
from . import minhash as mh
from .clusters import assign
from .edges import prior_edges, run_edges
from .keys import Key
from .labels import RecordIntake, RunDoc, state_row

logger = logging.getLogger(__name__)


@dataclass
class InMemoryDedupLabeler(RecordIntake):
    docs: dict[str, dict[str, RunDoc]] = field(default_factory=lambda: {t: {} for t in TABLES})
    _labels: dict[str, dict] = field(default_factory=dict)

    _seen: dict[str, set[str]] = field(default_factory=lambda: {t: set() for t in TABLES})

    # -- fed by the pipeline steps ----------------------------------------------------------------------
    def first_time(self, table: str, key: str) -> bool:
        """Whether this run meets (table, key) for the first time."""
        if key in self._seen[table]:
            return False
        self._seen[table].add(key)
        return True

    def scraped(self, item, response=None, spider=None) -> None:
        """``item_scraped``: the record (every record of the batch) passed every step and is in the
        exporter's staging files."""
        self._keep(item)

    def _keep(self, item) -> list[tuple[str, RunDoc]]:
        """Remember the scraped records of ``item`` (with the version written); returns them."""
        kept = []
        for record in records_of(item):
            doc = self._pop(record)
            if doc is not None:
                doc.version = record.version
                self.docs[record.table][doc.key.id] = doc
                kept.append((record.table, doc))
        return kept

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
        ids = {i for i, lab in self.labels(table).items() if lab[0] is not None}
        self.stats.set_value(f"dedup/{table}/dropped_duplicates", len(ids))
        return ids

    def changes(self, run_id: str) -> dict[str, list[tuple[SeenDoc, list[int]]]]:
        """What a commit adds to the dedup state: every remembered record with its label (:func:`state_row`)."""
        changes = {}
        for table, docs in self.docs.items():
            labels, rows = self.labels(table), []
            for rid, d in docs.items():
                k = d.key
                row = state_row(rid, k.content_hash, d.version, k.published_at, k.order_url, labels.get(rid),
                                mh.to_bytes(d.sig) if d.sig is not None else None, run_id,
                                self.drop_duplicates)
                if row is not None:
                    rows.append(row)
            changes[table] = rows
        return changes

    def commit(self, run_id: str) -> None:
        if self.store is None:
            return
        try:
            n = self.store.apply(run_id, self.changes(run_id))
            self.stats.set_value("dedup/state/committed_records", n)
        except StateError as exc:
            self._state_failed("commit", exc)

    # -- internals ----------------------------------------------------------------------------------------
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
