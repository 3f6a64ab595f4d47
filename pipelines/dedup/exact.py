"""Step 5 — exact deduplication: same URL/id dropped, same content labelled.

* A second record with the same ``canonical_url`` (articles) or id (threads, comments) in one run is the
  same thing fetched twice: dropped (not an error), counted.
* Records with the same normalised-content hash form a cluster; every member except the representative
  gets ``duplicate_of`` = the representative's id. Rows are kept, only labelled.
* The representative is chosen deterministically — earliest ``published_at``, then canonical URL, then
  id — so labels do not depend on the order pages arrived in. Labels are therefore computed when the
  run ends, together with near-duplicates and earlier runs, by :mod:`pipelines.dedup.labels`
  (``crawler.dedup_labeler``), and applied by the Parquet exporter before it commits. This step
  computes content hashes and registers each record with that labeler.
* Short comments follow their own rule: exact normalised text only, and only from
  COMMENT_DEDUP_MIN_CHARS (normalised) up — "+1" under two articles is not a duplicate.
  ``exact_labels`` below is the within-run, exact-only form of the same rule (kept for its tests).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from crawler.ids import content_hash, normalise_for_hash
from crawler.items import ArticleRecord, CommentRecord, ThreadRecord

from ..batch import per_record
from ..drops import drop
from ..precompute import of as precomputed
from .keys import COMMENT_DEDUP_MIN_CHARS, THREAD_STATE_FIELDS, Key, thread_hash  # noqa: F401 - re-exported
from .labels import RunDoc, labeler_for


@dataclass(frozen=True)
class DocKey:
    id: str
    content_hash: str
    published_at: datetime | None
    order_url: str  # canonical URL (articles) or source URL (comments)


def rep_sort_key(d: DocKey):
    return (d.published_at is None, d.published_at.timestamp() if d.published_at else 0.0, d.order_url, d.id)


def exact_labels(docs: list[DocKey]) -> dict[str, tuple[str, str, str]]:
    """{id: (duplicate_of, reason, cluster_id)} for every non-representative member of a content cluster,
    and (None, None, cluster_id) for representatives of clusters with more than one member."""
    clusters: dict[str, list[DocKey]] = {}
    for d in docs:
        clusters.setdefault(d.content_hash, []).append(d)
    out: dict[str, tuple] = {}
    for members in clusters.values():
        if len(members) < 2:
            continue
        rep = min(members, key=rep_sort_key)
        for m in members:
            out[m.id] = (None, None, rep.id) if m.id == rep.id else (rep.id, "content", rep.id)
    return out


def comment_exact_eligible(body: str, is_deleted: bool, min_chars: int) -> bool:
    """The short-comment rule: only comments of at least ``min_chars`` normalised characters take part."""
    return not is_deleted and len(normalise_for_hash(body or "")) >= min_chars


class ExactDedupPipeline:
    step = "dedup_exact"

    def __init__(self, stats, comment_min_chars: int = COMMENT_DEDUP_MIN_CHARS, labeler=None):
        self.stats = stats
        self.comment_min_chars = comment_min_chars
        self.labeler = labeler
        self.seen: dict[str, set[str]] = {"articles": set(), "threads": set(), "comments": set()}  # no labeler only
        self.claim = None  # shared mode: claim(table, key) -> bool, the round's "fetched twice" across workers

    @classmethod
    def from_crawler(cls, crawler):
        step = cls(crawler.stats, crawler.settings.getint("COMMENT_DEDUP_MIN_CHARS", COMMENT_DEDUP_MIN_CHARS),
                   labeler_for(crawler))
        step.crawler = crawler
        round_ = getattr(crawler, "shared_round", None)
        if round_ is not None:
            step.claim = round_.claim
        return step

    @per_record
    def process_item(self, item, spider=None):
        pre = precomputed(item)  # hash and normalised length from the language worker (same values)
        if pre is not None and pre.content_hash is None:
            pre = None
        if isinstance(item, ArticleRecord):
            self._once(item, item.canonical_url, "duplicate_url")
            if pre is not None:
                item.content_hash, has_text = pre.content_hash, pre.norm_len > 0
            else:
                item.content_hash = content_hash(item.body_text)
                has_text = item.is_tombstone or bool(normalise_for_hash(item.body_text))
            self._prepare(item, item.article_id, item.content_hash, item.canonical_url,
                          not item.is_tombstone and has_text)
        elif isinstance(item, ThreadRecord):
            self._once(item, item.thread_id, "duplicate_thread")
            self._prepare(item, item.thread_id, thread_hash(item), item.url, False)
        elif isinstance(item, CommentRecord):
            self._once(item, item.comment_id, "duplicate_comment")
            if pre is not None:
                item.content_hash = pre.content_hash
                eligible = not item.is_deleted and pre.norm_len >= self.comment_min_chars
            else:
                item.content_hash = content_hash(item.body_text or "")
                eligible = comment_exact_eligible(item.body_text, item.is_deleted, self.comment_min_chars)
            if not eligible and not item.is_deleted:
                self.stats.inc_value("dedup/comments/too_short_to_label")
            self._prepare(item, item.comment_id, item.content_hash, item.source_url, eligible)
        return item

    def _prepare(self, item, rid: str, chash: str, order_url: str, exact: bool) -> None:
        if self.labeler is None:
            return
        published = getattr(item, "published_at", None)
        key = Key(rid, chash, published.timestamp() if published else None, order_url)
        self.labeler.prepare(item.table, item, RunDoc(key, item.version, exact))

    def _once(self, item, key: str, reason: str) -> None:
        """Same URL / id a second time in this run: dropped. Asked of the labeler, which keeps the run's keys on
        disk (not a set growing with every record)."""
        if self.labeler is not None:
            first = self.labeler.first_time(item.table, key)
        else:
            first = key not in self.seen[item.table]
            self.seen[item.table].add(key)
        if not first:
            drop(self.stats, self.step, reason, item, error=False)
        if self.claim is not None and not self.claim(item.table, key):  # another worker of the round has it
            self.stats.inc_value(f"dedup/{item.table}/claimed_by_another_worker")
            drop(self.stats, self.step, reason, item, error=False)
