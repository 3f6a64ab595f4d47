"""Step 4 — language: langdetect (numpy, many texts at once, same answers), seeded so the same text always
gets the same answer.

Text shorter than LANGUAGE_MIN_CHARS (letters only) gets 'und' rather than a guess. Only the first
LANGUAGE_MAX_CHARS characters are read. Records are detected in batches (up to LANGUAGE_BATCH_SIZE): a batch
is sent when the event loop has nothing else ready or when it is full. With LANGUAGE_WORKER on (the default
on machines with more than one core) batches go to one worker process while the crawl goes on downloading
and parsing; records arriving meanwhile form the next batch. The answer for a text is the same in or out of
a worker and whatever batch it is in; a failed worker is replaced by in-process detection (logged, counted
as ``pipeline/language/worker_failed``), never a lost record.
"""
from __future__ import annotations

import logging
import os
import re
from concurrent.futures import Future

from twisted.internet.defer import Deferred, gatherResults

from crawler.items import ArticleRecord, CommentRecord

from ..batch import records_of
from .langdetect_fast import detect_batch
from .worker import DetectorProcess

logger = logging.getLogger(__name__)
UNDETERMINED = "und"
_NON_LETTERS = re.compile(r"[\W\d_]+", re.UNICODE)
_URLS = re.compile(r"https?://\S+")


def language_sample(text: str | None, min_chars: int = 40, max_chars: int = 2000) -> str | None:
    """The part of ``text`` langdetect reads, or None when it has too few letters to judge."""
    sample = _URLS.sub(" ", (text or "")[:max_chars])
    return sample if len(_NON_LETTERS.sub("", sample)) >= min_chars else None


def detect_languages(samples: list[str]) -> list[tuple[str, float | None]]:
    """(ISO 639-1 code or 'und', probability or None) for each sample, detected together."""
    ranked = detect_batch(samples, seed=0)  # featureless text gives [], not an exception
    return [(r[0].lang.split("-")[0], round(float(r[0].prob), 4)) if r else (UNDETERMINED, None) for r in ranked]


def detect_language(text: str | None, min_chars: int = 40, max_chars: int = 2000) -> tuple[str, float | None]:
    """(ISO 639-1 code or 'und', probability or None)."""
    sample = language_sample(text, min_chars, max_chars)
    return (UNDETERMINED, None) if sample is None else detect_languages([sample])[0]


def text_for(rec) -> str:
    if isinstance(rec, ArticleRecord):
        return f"{rec.title}\n\n{rec.body_text}"
    return rec.body_text or ""


class LanguagePipeline:
    step = "language"

    def __init__(self, stats, min_chars: int, max_chars: int, batch_size: int = 256, worker: bool = False):
        self.stats, self.min_chars, self.max_chars = stats, min_chars, max_chars
        self.batch_size = max(1, batch_size)
        self.worker = worker
        self.pool: DetectorProcess | None = None
        self._pending: list[tuple[object, str, Deferred]] = []
        self._call = None
        self._in_flight = False

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        worker = s.get("LANGUAGE_WORKER", "auto")
        worker = (os.cpu_count() or 1) > 1 if str(worker).lower() == "auto" else s.getbool("LANGUAGE_WORKER")
        return cls(crawler.stats, s.getint("LANGUAGE_MIN_CHARS", 40), s.getint("LANGUAGE_MAX_CHARS", 2000),
                   s.getint("LANGUAGE_BATCH_SIZE", 256), worker)

    def open_spider(self, spider=None):
        if self.worker:
            try:
                self.pool = DetectorProcess()
                self.stats.set_value(f"pipeline/{self.step}/worker", 1)
            except OSError as exc:
                self._worker_failed(exc)
                return
            self._in_flight = True  # records arriving while the worker starts wait as for a batch in flight
            self.pool.start(self._worker_started)

    def _worker_started(self, error: BaseException | None) -> None:
        self._in_flight = False
        if error is not None:
            self._worker_failed(error)
        if self._pending:
            self._flush()

    def close_spider(self, spider=None):
        if self.pool is not None:
            peak = self.pool.peak_rss_mb()  # the worker's memory is part of the run's footprint
            if peak is not None:
                self.stats.set_value(f"pipeline/{self.step}/worker_peak_rss_mb", peak)
            self.pool.shutdown(wait=True)
            self.pool = None

    def process_item(self, item, spider=None):
        """Tags the record (or every record of a batch); records that need the detector wait for their
        batch, so this returns an awaitable of the item then."""
        waiting: list[Deferred] = []
        for record in records_of(item):
            if not isinstance(record, (ArticleRecord, CommentRecord)):
                continue
            sample = language_sample(text_for(record), self.min_chars, self.max_chars)
            if sample is None:
                self._tag(record, UNDETERMINED, None)
                continue
            d: Deferred = Deferred()
            self._pending.append((record, sample, d))
            waiting.append(d)
        if not waiting:
            return item
        if len(self._pending) >= self.batch_size and not self._in_flight:
            self._flush()
        elif self._call is None and not self._in_flight:
            from twisted.internet import reactor

            self._call = reactor.callLater(0, self._flush)
        from scrapy.utils.defer import maybe_deferred_to_future

        done = waiting[0] if len(waiting) == 1 else gatherResults(waiting, consumeErrors=True)
        return maybe_deferred_to_future(done.addCallback(lambda _: item))

    def _flush(self) -> None:
        if self._call is not None and self._call.active():
            self._call.cancel()
        self._call = None
        if self._in_flight or not self._pending:
            return
        batch, self._pending = self._pending[:self.batch_size], self._pending[self.batch_size:]
        self.stats.inc_value(f"pipeline/{self.step}/batches")
        self.stats.max_value(f"pipeline/{self.step}/batch_size_max", len(batch))
        samples = [sample for _, sample, _ in batch]
        if self.pool is not None:
            try:
                future = self.pool.submit(detect_languages, samples)
            except Exception as exc:  # noqa: BLE001 - broken or shut-down pool: detect here instead
                self._worker_failed(exc)
            else:
                self._in_flight = True
                self.pool.when_done(future, self._worker_answered, batch)
                return
        self._resolve(batch, samples, None)
        if self._pending:
            self._flush()

    def _worker_answered(self, future: Future, batch: list) -> None:
        self._in_flight = False
        samples = [sample for _, sample, _ in batch]
        try:
            answers = future.result()
        except Exception as exc:  # noqa: BLE001 - the worker died: these records are detected here
            self._worker_failed(exc)
            answers = None
        self._resolve(batch, samples, answers)
        if self._pending:
            self._flush()

    def _worker_failed(self, exc: BaseException) -> None:
        logger.warning("language worker failed (%r); detecting in the crawl process from now on", exc)
        self.stats.inc_value(f"pipeline/{self.step}/worker_failed")
        if self.pool is not None:
            self.pool.shutdown(wait=False)
        self.pool = None

    def _resolve(self, batch: list, samples: list[str], answers: list | None) -> None:
        if answers is None:
            try:
                answers = detect_languages(samples)
            except Exception:  # noqa: BLE001 - a bug here must not lose or hang records: one text at a time
                logger.exception("language detection failed for a batch of %d records", len(batch))
                answers = [self._detect_one(sample) for sample in samples]
        for (item, _, d), (lang, score) in zip(batch, answers):
            self._tag(item, lang, score)
            d.callback(item)

    def _detect_one(self, sample: str) -> tuple[str, float | None]:
        try:
            return detect_languages([sample])[0]
        except Exception:  # noqa: BLE001 - the record is kept, marked undetermined, and counted
            logger.exception("language detection failed: %r", sample[:80])
            self.stats.inc_value(f"pipeline/{self.step}/errors")
            return UNDETERMINED, None

    def _tag(self, item, lang: str, score: float | None) -> None:
        item.language, item.language_score = lang, score
        self.stats.inc_value(f"pipeline/{self.step}/{item.table}/{lang}")
