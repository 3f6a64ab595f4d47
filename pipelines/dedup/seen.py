"""Step 5b — records seen by earlier runs: unchanged ones are not written again, changed ones get a new version.

Looks each record up in the persistent dedup state (:mod:`crawler.state.dedup_store`, via the run's
labeler). Same id and same content hash as last committed → dropped, not an error, counted
``dedup/<table>/unchanged_skipped``. Same id, different hash → written as ``version`` = previous + 1,
counted ``dedup/<table>/new_version``; a new version is not a duplicate of its earlier self. Without a
state (disabled or unavailable) every record is new.
"""
from __future__ import annotations

from crawler.items import ArticleRecord, CommentRecord, ThreadRecord

from ..batch import per_record
from ..drops import drop
from .keys import thread_hash
from .labels import labeler_for

ID_AND_HASH = {
    ArticleRecord: lambda r: (r.article_id, r.content_hash),
    CommentRecord: lambda r: (r.comment_id, r.content_hash),
    ThreadRecord: lambda r: (r.thread_id, thread_hash(r)),
}


def decide(previous, content_hash: str) -> tuple[str, int]:
    """("new", 1), ("unchanged", v) or ("changed", v + 1) for a record last committed as ``previous``."""
    if previous is None:
        return "new", 1
    if previous.content_hash == content_hash:
        return "unchanged", previous.version
    return "changed", previous.version + 1


class SeenBeforePipeline:
    step = "dedup_seen"

    def __init__(self, stats, labeler) -> None:
        self.stats, self.labeler = stats, labeler

    @classmethod
    def from_crawler(cls, crawler):
        step = cls(crawler.stats, labeler_for(crawler))
        step.crawler = crawler
        return step

    @per_record
    def process_item(self, item, spider=None):
        get = ID_AND_HASH.get(type(item))
        if get is None:
            return item
        rid, chash = get(item)
        outcome, version = decide(self.labeler.seen_before(item.table, rid), chash)
        if outcome == "unchanged":
            self.stats.inc_value(f"dedup/{item.table}/unchanged_skipped")
            drop(self.stats, self.step, f"unchanged_{item.table}", item, error=False)
        if outcome == "changed":
            self.stats.inc_value(f"dedup/{item.table}/new_version")
        item.version = version
        return item
