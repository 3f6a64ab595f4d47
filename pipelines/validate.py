"""Step 1 — validate: required fields present, sizes sane, dates plausible.

Pure functions return the problems they found; the pipeline drops (an error: data the site had but we
could not keep) or repairs (an implausible date becomes null, counted) accordingly.
"""
from __future__ import annotations

import functools

from dataclasses import fields
from datetime import datetime, timedelta, timezone

from crawler.items import ArticleRecord, CommentRecord, ThreadRecord

from .batch import per_record
from .drops import drop

REQUIRED = {
    ArticleRecord: ("article_id", "url", "canonical_url", "site", "title", "body_text", "run_id", "fetched_at"),
    ThreadRecord: ("thread_id", "platform", "article_id", "url", "run_id", "fetched_at"),
    CommentRecord: ("comment_id", "thread_id", "article_id", "platform", "native_id", "run_id", "fetched_at"),
}
DATE_FIELDS = ("published_at", "modified_at", "edited_at")
MAX_TITLE_CHARS = 2000
MAX_COMMENT_CHARS = 200_000


TOMBSTONE_EXEMPT = {"title", "body_text"}  # a tombstone records that content vanished


def missing_fields(rec) -> list[str]:
    out = []
    for name in REQUIRED.get(type(rec), ()):
        if rec.is_tombstone and name in TOMBSTONE_EXEMPT:
            continue
        if name == "body_text" and getattr(rec, "body_optional", False):
            continue  # a topic or submission without text: the row is what its comments join to
        v = getattr(rec, name)
        if v is None or (isinstance(v, str) and not v.strip()):
            out.append(name)
    # A comment with no text of its own (only a quote, an emote or a link; a hidden or deleted one) is still a
    # comment: its row is kept so that its replies keep their parent.
    return out


def oversize_field(rec, max_body: int) -> str | None:
    if isinstance(rec, ArticleRecord):
        if len(rec.body_text) > max_body:
            return "body_text"
        if len(rec.title) > MAX_TITLE_CHARS:
            return "title"
    if isinstance(rec, CommentRecord) and len(rec.body_text or "") + len(rec.quoted_text or "") > MAX_COMMENT_CHARS:
        return "body_text"
    return None


INT64_MIN, INT64_MAX = -(2 ** 63), 2 ** 63 - 1


def out_of_range_numbers(rec) -> list[str]:
    """Integer fields a server stated (``X-WP-Total: 10**29``, a ``num_comments`` of -5) that no column can hold
    or that cannot be a count: outside int64, or a negative ``*_count_*``."""
    out = []
    for name in _field_names(type(rec)):
        v = getattr(rec, name, None)
        if isinstance(v, int) and not isinstance(v, bool):
            if v < INT64_MIN or v > INT64_MAX or (v < 0 and "count" in name):
                out.append(name)
    return out


@functools.cache
def _field_names(cls) -> tuple[str, ...]:
    """A record class's field names (``dataclasses.fields`` builds its tuple anew on every call)."""
    return tuple(f.name for f in fields(cls))


def implausible_dates(rec, now: datetime, min_year: int) -> list[str]:
    """Date fields outside [min_year, now + 1 day]."""
    out = []
    for name in DATE_FIELDS:
        v = getattr(rec, name, None)
        if v is not None and (v.year < min_year or v > now + timedelta(days=1)):
            out.append(name)
    return out


class ValidatePipeline:
    step = "validate"

    def __init__(self, stats, max_body: int, min_year: int):
        self.stats, self.max_body, self.min_year = stats, max_body, min_year

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        step = cls(crawler.stats, s.getint("VALIDATE_MAX_BODY_CHARS", 2_000_000), s.getint("VALIDATE_MIN_YEAR", 1995))
        step.crawler = crawler
        return step

    @per_record
    def process_item(self, item, spider=None):
        missing = missing_fields(item)
        if missing:
            drop(self.stats, self.step, f"missing_{missing[0]}", item, detail=", ".join(missing))
        big = oversize_field(item, self.max_body)
        if big:
            drop(self.stats, self.step, f"oversize_{big}", item)
        for name in out_of_range_numbers(item):
            setattr(item, name, None)  # the server's number is not kept; the row is (exporter drops it if required)
            self.stats.inc_value(f"pipeline/repaired/{self.step}/out_of_range_{name}")
        for name in implausible_dates(item, datetime.now(timezone.utc), self.min_year):
            setattr(item, name, None)  # the raw string stays in *_raw where the schema has one
            if hasattr(item, f"{name}_offset_minutes"):
                setattr(item, f"{name}_offset_minutes", None)  # no time, no offset of it
            self.stats.inc_value(f"pipeline/repaired/{self.step}/implausible_{name}")
        self.stats.inc_value(f"pipeline/{self.step}/ok/{item.table}")
        return item
