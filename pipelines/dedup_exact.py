"""Step 5 — exact deduplication: same URL/id dropped, same content labelled.

* A second record with the same ``canonical_url`` (articles) or id (threads, comments) in one run is the
  same thing fetched twice: dropped (not an error), counted.
* Records with the same normalised-content hash form a cluster; every member except the representative
  gets ``duplicate_of`` = the representative's id. Rows are kept, only labelled.
* The representative is chosen deterministically — earliest ``published_at``, then canonical URL, then
  id — so labels do not depend on the order pages arrived in. Labels are therefore computed when the
  run ends (:meth:`labels`) and applied by the Parquet exporter before it commits.
* Comments shorter than COMMENT_DEDUP_MIN_CHARS (normalised) are never labelled: "+1" under two
  articles is not a duplicate.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from crawler.ids import content_hash, normalise_for_hash
from crawler.items import ArticleRecord, CommentRecord, ThreadRecord

from .drops import drop

COMMENT_DEDUP_MIN_CHARS = 60


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


class ExactDedupPipeline:
    step = "dedup_exact"

    def __init__(self, stats, comment_min_chars: int = COMMENT_DEDUP_MIN_CHARS):
        self.stats = stats
        self.comment_min_chars = comment_min_chars
        self.seen: dict[str, set[str]] = {"articles": set(), "threads": set(), "comments": set()}
        self.docs: dict[str, list[DocKey]] = {"articles": [], "comments": []}

    @classmethod
    def from_crawler(cls, crawler):
        obj = cls(crawler.stats, crawler.settings.getint("COMMENT_DEDUP_MIN_CHARS", COMMENT_DEDUP_MIN_CHARS))
        crawler.dedup_labeler = obj  # the exporter asks for labels at commit time
        return obj

    def process_item(self, item, spider=None):
        if isinstance(item, ArticleRecord):
            self._once(item, item.canonical_url, "duplicate_url")
            item.content_hash = content_hash(item.body_text)
            self.docs["articles"].append(DocKey(item.article_id, item.content_hash, item.published_at,
                                                item.canonical_url))
        elif isinstance(item, ThreadRecord):
            self._once(item, item.thread_id, "duplicate_thread")
        elif isinstance(item, CommentRecord):
            self._once(item, item.comment_id, "duplicate_comment")
            item.content_hash = content_hash(item.body_text or "")
            if not item.is_deleted and len(normalise_for_hash(item.body_text or "")) >= self.comment_min_chars:
                self.docs["comments"].append(DocKey(item.comment_id, item.content_hash, item.published_at,
                                                    item.source_url))
        return item

    def _once(self, item, key: str, reason: str) -> None:
        seen = self.seen[item.table]
        if key in seen:
            drop(self.stats, self.step, reason, item, error=False)
        seen.add(key)

    def labels(self, table: str) -> dict[str, tuple]:
        labels = exact_labels(self.docs.get(table, []))
        self.stats.set_value(f"dedup/{table}/labelled_duplicates", sum(1 for v in labels.values() if v[0]))
        return labels
