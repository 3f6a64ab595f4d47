"""Step 5c — near-duplicate signatures: MinHash over word shingles, for articles and long comments.

Computes each record's MinHash signature (:mod:`pipelines.dedup.minhash`) and attaches it to the record
registered with the run's labeler; the clusters themselves are formed when the run ends
(:mod:`pipelines.dedup.labels`, LSH candidates verified by estimated Jaccard >= DEDUP_NEAR_THRESHOLD),
so the result does not depend on arrival order.

* Articles: the body text (headline, footer and boilerplate are not part of ``body_text``), when it has
  at least one full shingle.
* Comments: only from DEDUP_COMMENT_NEAR_MIN_WORDS words up. Shorter comments keep the exact-text rule of
  :mod:`pipelines.dedup.exact` — MinHash on a dozen words says little, and one-liners repeat naturally.
"""
from __future__ import annotations

import logging

from crawler.items import ArticleRecord, CommentRecord, RecordBatch

from ..batch import per_record
from ..precompute import of as precomputed
from . import minhash as mh
from .keys import COMMENT_NEAR_MIN_WORDS
from .labels import labeler_for

logger = logging.getLogger(__name__)


def near_tokens(item, comment_min_words: int) -> list[str] | None:
    """The words to sign, or None when the record takes no part in near-duplicate matching."""
    if isinstance(item, ArticleRecord) and not item.is_tombstone:
        words = mh.tokens(item.body_text)
        return words if len(words) >= mh.SHINGLE_WORDS else None
    if isinstance(item, CommentRecord) and not item.is_deleted:
        words = mh.tokens(item.body_text)
        return words if len(words) >= comment_min_words else None
    return None


class NearDedupPipeline:
    step = "dedup_near"

    def __init__(self, stats, labeler, comment_min_words: int = COMMENT_NEAR_MIN_WORDS) -> None:
        self.stats, self.labeler, self.comment_min_words = stats, labeler, comment_min_words

    @classmethod
    def from_crawler(cls, crawler):
        step = cls(crawler.stats, labeler_for(crawler),
                   crawler.settings.getint("DEDUP_COMMENT_NEAR_MIN_WORDS", COMMENT_NEAR_MIN_WORDS))
        step.crawler = crawler
        return step

    def process_item(self, item, spider=None):
        """One record, or a batch whose signatures are computed together (same values as one by one)."""
        if isinstance(item, RecordBatch):
            try:
                return self._sign_batch(item)
            except Exception:  # noqa: BLE001 - the record-by-record path finds and reports the culprit
                logger.exception("batch signing failed; signing record by record")
        return self._sign_each(item)

    def _worker_signature(self, record):
        """(True, (signature, its bytes, its band keys) or None) when the language worker signed this record's
        present text with this step's rules (pipelines/precompute.py); (False, None): sign it here."""
        pre = precomputed(record)
        if pre is None or pre.content_hash is None or pre.near_min_words != self.comment_min_words:
            return False, None
        return True, pre.sig

    def _sign_batch(self, batch: RecordBatch) -> RecordBatch:
        todo = []
        for record in batch.records:
            known, sig = self._worker_signature(record)
            if known:
                self._take(record, sig)
                continue
            words = near_tokens(record, self.comment_min_words)
            doc = self._pending_doc(record) if words is not None else None
            if doc is not None:
                todo.append((record, doc, words))
        if todo:
            # the labeler stores each signature's bytes and band keys (labels.py scraped): computed here for the
            # whole batch in one matrix operation, the values band_keys / to_bytes give one by one
            sigs = mh.signatures([words for _, _, words in todo])
            for (record, doc, _), sig, bands in zip(todo, sigs, mh.band_keys_matrix(sigs).tolist()):
                doc.sig, doc.sig_parts = sig, (mh.to_bytes(sig), bands)
                self.stats.inc_value(f"dedup/{record.table}/signed")
        return batch

    def _take(self, record, signed) -> None:
        if signed is None:
            return
        doc = self._pending_doc(record)
        if doc is not None:
            doc.sig, doc.sig_parts = signed[0], signed[1:]
            self.stats.inc_value(f"dedup/{record.table}/signed")
            self.stats.inc_value(f"pipeline/precomputed/{self.step}")

    def _pending_doc(self, item):
        rid = item.article_id if isinstance(item, ArticleRecord) else item.comment_id
        return self.labeler.pending[item.table].get(rid)

    @per_record
    def _sign_each(self, item, spider=None):
        known, sig = self._worker_signature(item)
        if known:
            self._take(item, sig)
            return item
        words = near_tokens(item, self.comment_min_words)
        if words is None:
            return item
        doc = self._pending_doc(item)
        if doc is not None:
            doc.sig = mh.signature(mh.shingle_hashes(words))
            self.stats.inc_value(f"dedup/{item.table}/signed")
        return item
