"""What identifies a record for deduplication, and which records take part — shared by the steps, the
labeler and the state rebuild (it imports none of them, so none of them needs another to know these).
"""
from __future__ import annotations

from dataclasses import dataclass

from crawler.ids import stable_hash

COMMENT_DEDUP_MIN_CHARS = 60  # comments shorter than this (normalised) take no part in content clusters
COMMENT_NEAR_MIN_WORDS = 30  # comments shorter than this take no part in near-duplicate matching
ID_FIELD = {"articles": "article_id", "threads": "thread_id", "comments": "comment_id"}
ORDER_URL = {"articles": "canonical_url", "threads": "url", "comments": "source_url"}
THREAD_STATE_FIELDS = ("platform", "article_id", "native_thread_id", "comment_count_reported",
                       "comment_count_collected", "is_complete", "source", "is_tombstone")


@dataclass(frozen=True)
class Key:
    id: str
    content_hash: str
    published_at: float | None  # POSIX seconds
    order_url: str


def thread_hash(t) -> str:
    """Threads have no text: their "content" is what the row states about the thread."""
    return stable_hash(*(repr(getattr(t, f)) for f in THREAD_STATE_FIELDS))
