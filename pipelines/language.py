"""Step 4 — language: langdetect (numpy inner loop, same answers), seeded so the same text always gets the same answer.

Text shorter than LANGUAGE_MIN_CHARS (letters only) gets 'und' rather than a guess. Only the first
LANGUAGE_MAX_CHARS characters are read.
"""
from __future__ import annotations

import asyncio
import logging
import multiprocessing
import re
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from langdetect.lang_detect_exception import LangDetectException

from crawler.items import ArticleRecord, CommentRecord

from .langdetect_fast import make_detector
logger = logging.getLogger(__name__)
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
    """Tags articles and comments. With LANGUAGE_WORKERS > 0 the detection runs in worker processes (the
    crawl's own thread keeps downloading and parsing meanwhile); answers are identical either way."""

    step = "language"

    def __init__(self, stats, min_chars: int, max_chars: int, workers: int = 0):
        self.stats, self.min_chars, self.max_chars, self.workers = stats, min_chars, max_chars, workers
        self.pool = None

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        return cls(crawler.stats, s.getint("LANGUAGE_MIN_CHARS", 40), s.getint("LANGUAGE_MAX_CHARS", 2000),
                   s.getint("LANGUAGE_WORKERS", 0))

    def open_spider(self, spider=None):
        if self.workers > 0:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(["pipelines.language"])
            self.pool = ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=_warm_up)

    def close_spider(self, spider=None):
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    async def process_item(self, item, spider=None):
        if not isinstance(item, (ArticleRecord, CommentRecord)):
            return item
        text = text_for(item)
        if self.pool is None or not needs_detector(text, self.min_chars):
            result = detect_language(text, self.min_chars, self.max_chars)
        else:
            try:
                result = await asyncio.wrap_future(self.pool.submit(detect_language, text, self.min_chars,
                                                                    self.max_chars))
            except (BrokenProcessPool, OSError) as exc:  # a dead worker must not lose the item
                self.stats.inc_value(f"pipeline/{self.step}/worker_failed")
                logger.warning("language worker failed (%s); detecting in the crawl process", exc)
                self.pool = None
                result = detect_language(text, self.min_chars, self.max_chars)
        item.language, item.language_score = result
        self.stats.inc_value(f"pipeline/{self.step}/{item.table}/{item.language}")
        return item


def needs_detector(text: str, min_chars: int) -> bool:
    return len(_NON_LETTERS.sub("", _URLS.sub(" ", text or ""))) >= min_chars


def _warm_up() -> None:
    detect_language("warm up the language profiles in this worker process before the first item arrives")
