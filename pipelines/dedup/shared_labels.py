"""The run's duplicate labeler in shared mode: the same rules as :class:`pipelines.dedup.labels.DedupLabeler`,
applied once to the records of every worker of the crawl round.

Each record that passes every step is registered in the round (its id, content hash, order keys and MinHash
signature). When the round's crawl is over, one worker computes the labels of the whole round against the
committed dedup state and stores them in Redis; every worker reads them (:meth:`SharedRound.labels`). The
representative of a cluster is therefore chosen once, the same for all workers, and the labels are the ones a
single process crawling the same pages would write. Each worker then remembers only its own records.
"""
from __future__ import annotations

import base64
import logging

from crawler.state.dedup_store import TABLES, StateError
from crawler.state.redis_dedup_store import RedisDedupStore

from . import minhash as mh
from .keys import Key
from .labels import RunDoc
from .labels_memory import InMemoryDedupLabeler as DedupLabeler

logger = logging.getLogger(__name__)


class SharedDedupLabeler(DedupLabeler):
    round: object = None

    def scraped(self, item, response=None, spider=None) -> None:
        entries: dict[str, list[dict]] = {}
        for table, doc in self._keep(item):
            k = doc.key
            entries.setdefault(table, []).append({
                "id": k.id, "content_hash": k.content_hash, "published_at": k.published_at,
                "order_url": k.order_url, "version": doc.version, "exact": doc.exact,
                "sig": base64.b64encode(mh.to_bytes(doc.sig)).decode() if doc.sig is not None else None})
        for table, docs in entries.items():
            self.round.register(table, docs)

    def _round_labels(self) -> dict[str, dict]:
        own, out = self.docs, {}
        try:
            for table in TABLES:
                docs = {}
                for d in self.round.round_docs(table):
                    sig = mh.from_bytes(base64.b64decode(d["sig"])) if d["sig"] else None
                    docs[d["id"]] = RunDoc(Key(d["id"], d["content_hash"], d["published_at"], d["order_url"]),
                                           d["version"], d["exact"], sig)
                self.docs = {**own, table: docs}
                out[table] = DedupLabeler._compute(self, table)
        finally:
            self.docs = own
        return out

    def labels(self, table: str) -> dict[str, tuple]:
        if not self._labels:
            self._labels = self.round.labels(self._round_labels, TABLES)
        return self._labels.get(table, {})

    def commit(self, run_id: str) -> None:
        """The shared exporter applies :meth:`changes` itself, through the commit journal."""


class _Stats:
    """The crawler's stats, looked up when used (the labeler is made before Scrapy creates them)."""

    def __init__(self, crawler):
        self._crawler = crawler

    def __getattr__(self, name):
        return getattr(self._crawler.stats, name)


def install_labeler(crawler, ctx) -> SharedDedupLabeler:
    from scrapy import signals

    s = crawler.settings
    store = None
    if s.getbool("DEDUP_STATE_ENABLED", True):
        try:
            store = RedisDedupStore(ctx.client, ctx.cfg.prefix, mh.PARAMS)
        except StateError as exc:
            logger.error("dedup state unavailable (%s): this run deduplicates within the round only", exc)
            ctx.startup_notes.append("dedup/state/unavailable")
    ctx.dedup_store = store
    lab = SharedDedupLabeler(_Stats(crawler), store, s.getfloat("DEDUP_NEAR_THRESHOLD", 0.6),
                             s.getbool("DEDUP_DROP_DUPLICATES", False))
    lab.round = ctx.round
    crawler.signals.connect(lab.scraped, signal=signals.item_scraped)
    crawler.signals.connect(lab.dropped, signal=signals.item_dropped)
    crawler.signals.connect(lab.dropped, signal=signals.item_error)
    crawler.dedup_labeler = lab
    return lab
