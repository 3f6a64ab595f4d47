"""Step 2 — clean: unicode repair (mojibake), control characters, whitespace, leftover markup.

Text fields are fixed in place; ``word_count`` is derived here. Counts how many records needed a
unicode repair (``pipeline/repaired/clean/mojibake``).
"""
from __future__ import annotations

import re
import unicodedata

import ftfy

from crawler.htmltext import html_to_text, normalise_whitespace
from crawler.items import ArticleRecord, CommentRecord

from .batch import per_record

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\ufeff]")
_TAG = re.compile(r"<(p|br|div|span|a|strong|em|b|i)\b[^>]*>", re.I)
TEXT_FIELDS = {
    ArticleRecord: ("title", "body_text", "summary", "section"),
    CommentRecord: ("body_text", "quoted_text", "author_name"),
}
LIST_FIELDS = {ArticleRecord: ("authors", "authors_raw", "tags")}


def clean_text(text: str | None) -> tuple[str | None, bool]:
    """(cleaned text, whether mojibake/encoding damage was repaired)."""
    if text is None:
        return None, False
    if text.isascii():  # mojibake needs non-ASCII characters: nothing for ftfy to repair
        fixed, repaired = text, False
    else:
        fixed = ftfy.fix_text(text, normalization="NFC")
        repaired = fixed != unicodedata.normalize("NFC", text)
    if _TAG.search(fixed):  # markup that slipped through a parser
        fixed = html_to_text(fixed)
    fixed = normalise_whitespace(_CONTROL.sub("", fixed))
    return fixed, repaired


def clean_record(rec) -> int:
    """Clean a record in place; returns the number of fields that needed unicode repair."""
    repaired = 0
    for name in TEXT_FIELDS.get(type(rec), ()):
        value, fixed = clean_text(getattr(rec, name))
        setattr(rec, name, value if (value or name in ("body_text", "title")) else None)
        repaired += fixed
    for name in LIST_FIELDS.get(type(rec), ()):
        values = []
        for v in getattr(rec, name):
            c, fixed = clean_text(v)
            repaired += fixed
            if c:
                values.append(c)
        setattr(rec, name, list(dict.fromkeys(values)))
    if isinstance(rec, ArticleRecord):
        rec.word_count = len(rec.body_text.split())
    return repaired


class CleanPipeline:
    step = "clean"

    def __init__(self, stats):
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        step = cls(crawler.stats)
        step.crawler = crawler
        return step

    @per_record
    def process_item(self, item, spider=None):
        if clean_record(item):
            self.stats.inc_value(f"pipeline/repaired/{self.step}/mojibake")
        return item
