"""Plain typed records that flow from parsers through pipelines to the Parquet exporter.

Field meanings are documented once, in :mod:`pipelines.schema` (and ``docs/schema.md``);
a test keeps the dataclass fields here equal to the schema columns.
Parsers fill what the page says; pipelines fill the rest (language, hashes, duplicates,
run metadata). Timestamps are timezone-aware ``datetime`` in UTC.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime

from pipelines.schema import SCHEMA_VERSION


@dataclass
class _RunMeta:
    version: int = 1
    valid_from: datetime | None = None
    is_tombstone: bool = False
    fetched_at: datetime | None = None
    run_id: str = ""
    parser: str = ""
    schema_version: int = SCHEMA_VERSION


@dataclass
class ArticleRecord(_RunMeta):
    article_id: str = ""
    url: str = ""
    canonical_url: str = ""
    site: str = ""
    title: str = ""
    body_text: str = ""
    summary: str | None = None
    authors: list[str] = field(default_factory=list)
    authors_raw: list[str] = field(default_factory=list)
    published_at: datetime | None = None
    published_at_raw: str | None = None
    published_at_offset_minutes: int | None = None
    modified_at: datetime | None = None
    section: str | None = None
    tags: list[str] = field(default_factory=list)
    image_url: str | None = None
    language: str = "und"
    language_score: float | None = None
    word_count: int = 0
    content_hash: str = ""
    duplicate_of: str | None = None
    duplicate_reason: str | None = None
    cluster_id: str | None = None
    syndicated_from: str | None = None
    assets: list[str] | None = None
    is_paywalled: bool | None = None
    # Not a column: set by parsers whose rows may legitimately have no body (a discussion's topic or
    # submission without text, a topic whose opening post could not be had); validation then accepts ''.
    body_optional: bool = False

    table = "articles"


@dataclass
class ThreadRecord(_RunMeta):
    thread_id: str = ""
    platform: str = ""
    article_id: str = ""
    url: str = ""
    native_thread_id: str | None = None
    comment_count_reported: int | None = None
    comment_count_collected: int = 0
    is_complete: bool = False
    source: str = ""
    assets: list[str] | None = None
    title: str | None = None
    community: str | None = None
    author_id: str | None = None
    score: int | None = None
    created_at: datetime | None = None
    discussion_url: str | None = None
    # Not a column: the raw author name as parsed; the pseudonymise step turns it into author_id.
    author_name: str | None = None

    table = "threads"


@dataclass
class CommentRecord(_RunMeta):
    comment_id: str = ""
    thread_id: str = ""
    article_id: str = ""
    parent_id: str | None = None
    depth: int = 0
    position: int = 0
    platform: str = ""
    native_id: str = ""
    author_id: str | None = None
    author_pseudonymised: bool = False
    body_text: str = ""
    quoted_text: str | None = None
    published_at: datetime | None = None
    published_at_raw: str | None = None
    edited_at: datetime | None = None
    score: int | None = None
    is_deleted: bool = False
    language: str = "und"
    language_score: float | None = None
    content_hash: str = ""
    duplicate_of: str | None = None
    duplicate_reason: str | None = None
    cluster_id: str | None = None
    source_url: str = ""
    assets: list[str] | None = None
    is_placeholder: bool | None = None
    is_edited: bool | None = None
    # Not a column: the raw author name as parsed; the clean step turns it into author_id.
    author_name: str | None = None

    table = "comments"


RECORD_TYPES = (ArticleRecord, ThreadRecord, CommentRecord)


@dataclass
class RecordBatch:
    """Several records travelling through the pipeline steps as one Scrapy item: a comment thread (its
    thread row, comments and tombstones) is one batch, so the per-item cost of Scrapy is paid once per
    thread, not once per comment. Every step treats each record on its own (``pipelines/batch.py``):
    a record dropped by a step leaves the batch with its reason and counter, the others go on."""

    records: list = field(default_factory=list)
    source_url: str = ""
    table = "batch"
NON_COLUMN_FIELDS = {"author_name", "body_optional"}


_COLUMNS: dict[type, tuple[str, ...]] = {}


def record_columns(rec) -> dict:
    """The record as a dict of schema columns only (drops helper fields such as author_name).
    Shallow: list values are shared with the record, which is not used after export."""
    names = _COLUMNS.get(type(rec))
    if names is None:
        names = _COLUMNS[type(rec)] = tuple(f.name for f in fields(rec) if f.name not in NON_COLUMN_FIELDS)
    return {n: getattr(rec, n) for n in names}


def field_names(cls) -> list[str]:
    return [f.name for f in fields(cls) if f.name not in NON_COLUMN_FIELDS]
