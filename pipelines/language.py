"""Step 4 — language: langdetect (numpy inner loop, same answers), seeded so the same text always gets the same answer.

Text shorter than LANGUAGE_MIN_CHARS (letters only) gets 'und' rather than a guess. Only the first
LANGUAGE_MAX_CHARS characters are read.
"""
from __future__ import annotations

import re

from langdetect.lang_detect_exception import LangDetectException

from crawler.items import ArticleRecord, CommentRecord

from .langdetect_fast import make_detector
UNDETERMINED = "und"
_NON_LETTERS = re.compile(r"[\W\d_]+", re.UNICODE)
_URLS = re.compile(r"https?://\S+")


def detect_language(text: str | None, min_chars: int = 40, max_chars: int = 2000) -> tuple[str, float | None]:
    """(ISO 639-1 code or 'und', probability or None)."""
    sample = _URLS.sub(" ", (text or "")[:max_chars])
    if len(_NON_LETTERS.sub("", sample)) < min_chars:
        return UNDETERMINED, None
    try:
        best = make_detector(sample, seed=0).get_probabilities()[0]
    except LangDetectException:
        return UNDETERMINED, None
    return best.lang.split("-")[0], round(float(best.prob), 4)


def text_for(rec) -> str:
    if isinstance(rec, ArticleRecord):
        return f"{rec.title}\n\n{rec.body_text}"
    return rec.body_text or ""


class LanguagePipeline:
    step = "language"

    def __init__(self, stats, min_chars: int, max_chars: int):
        self.stats, self.min_chars, self.max_chars = stats, min_chars, max_chars

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        return cls(crawler.stats, s.getint("LANGUAGE_MIN_CHARS", 40), s.getint("LANGUAGE_MAX_CHARS", 2000))

    def process_item(self, item, spider=None):
        if isinstance(item, (ArticleRecord, CommentRecord)):
            item.language, item.language_score = detect_language(text_for(item), self.min_chars, self.max_chars)
            self.stats.inc_value(f"pipeline/{self.step}/{item.table}/{item.language}")
        return item
