"""Step 4 — language: langdetect (numpy, many texts at once, same answers), seeded so the same text always
gets the same answer.

Text shorter than LANGUAGE_MIN_CHARS (letters only) gets 'und' rather than a guess. Only the first
LANGUAGE_MAX_CHARS characters are read. Records are detected in batches (up to LANGUAGE_BATCH_SIZE): a batch
is sent when the event loop has nothing else ready or when it is full. With LANGUAGE_WORKER on (the default
on machines with more than one core) batches go to one worker process while the crawl goes on downloading
and parsing; records arriving meanwhile form the next batch. The answer for a text is the same in or out of
a worker and whatever batch it is in; a failed worker is replaced by in-process detection (logged, counted
as ``pipeline/language/worker_failed``), never a lost record. With the worker, whole items go to it, and
with LANGUAGE_WORKER_PRECOMPUTE it also computes what the later steps need from the same texts (asset tags,
content hashes, MinHash signatures: :mod:`pipelines.precompute`), so that work runs on the second core too.
"""
from __future__ import annotations

import logging
import os
import re
from concurrent.futures import Future
from pathlib import Path

from twisted.internet.defer import Deferred, gatherResults

from crawler.items import ArticleRecord, CommentRecord

from .. import precompute
from ..dedup.keys import COMMENT_NEAR_MIN_WORDS
from ..batch import records_of
from .langdetect_fast import detect_batch
from .worker import DetectorProcess

logger = logging.getLogger(__name__)
UNDETERMINED = "und"
JOB_FLIGHTS = 2  # item batches sent to the worker before the first answer: one computed while one travels
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


_MATCHERS: dict = {}  # in the worker: registry file -> AssetMatcher, loaded once


def _matcher(registry: str):
    if registry not in _MATCHERS:
        from ..assets.matching import AssetMatcher
        from ..assets.registry import load_registry

        _MATCHERS[registry] = AssetMatcher(load_registry(registry or None))
    return _MATCHERS[registry]


def detect_and_precompute(jobs: list, min_chars: int, max_chars: int, assets_registry: str | None,
                          near_min_words: int) -> list:
    """In the worker: the languages of every record of every item (``precompute.describe`` tuples), detected
    together, then what the later steps need (:func:`pipelines.precompute.compute`). Per item
    (languages, values): a language per record ((lang, score), None for threads) and the values, or None for
    an item whose text the worker could not read (the crawl process then does it all, and reports why)."""
    samples, where, out = [], [], []
    for j, job in enumerate(jobs):
        row = []
        try:
            for r, desc in enumerate(job):
                if desc is None or desc[0] == "t":
                    row.append(None)
                    continue
                sample = language_sample(f"{desc[1]}\n\n{desc[3]}" if desc[0] == "a" else (desc[3] or ""),
                                         min_chars, max_chars)
                row.append((UNDETERMINED, None))
                if sample is not None:
                    samples.append(sample)
                    where.append((j, r))
        except Exception:  # noqa: BLE001 - the crawl process detects this item itself
            while where and where[-1][0] == j:
                where.pop()
                samples.pop()
            row = None
        out.append(row)
    for (j, r), answer in zip(where, detect_languages(samples) if samples else []):
        out[j][r] = answer
    try:
        matcher = _matcher(assets_registry) if assets_registry is not None else None
    except Exception:  # noqa: BLE001 - the asset step tags in the crawl process (and reports the problem)
        matcher = None
    answers = []
    for job, row in zip(jobs, out):
        values = None
        if row is not None:
            try:
                values = precompute.compute(job, [a[0] if a else None for a in row], matcher, near_min_words)
            except Exception:  # noqa: BLE001 - the later steps compute these in the crawl process
                values = None
        answers.append((row, values))
    return answers


class LanguagePipeline:
    step = "language"

    def __init__(self, stats, min_chars: int, max_chars: int, batch_size: int = 256, worker: bool = False,
                 assets_registry: str | None = None, near_min_words: int = 30, precompute_on: bool = False):
        self.stats, self.min_chars, self.max_chars = stats, min_chars, max_chars
        self.batch_size = max(1, batch_size)
        self.worker = worker
        # what the worker also computes (pipelines/precompute.py): asset tags from this registry (None: the asset
        # step is off), signatures with the near step's comment threshold
        self.assets_registry, self.near_min_words = assets_registry, near_min_words
        self.precompute_on = precompute_on  # LANGUAGE_WORKER_PRECOMPUTE
        self.pool: DetectorProcess | None = None
        self._pending: list[tuple[object, str, Deferred]] = []  # records detected in this process (no worker)
        self._jobs: list[tuple[list, list, Deferred]] = []  # whole items for the worker: (records, describe, done)
        self._jobs_records = 0
        self._flights = 0  # item batches at the worker (up to JOB_FLIGHTS: it never waits for the next one)
        self._failed = False
        self._call = None
        self._in_flight = False

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        worker = s.get("LANGUAGE_WORKER", "auto")
        worker = (os.cpu_count() or 1) > 1 if str(worker).lower() == "auto" else s.getbool("LANGUAGE_WORKER")
        registry = None
        if s.getbool("ASSETS_ENABLED", True):
            registry = s.get("ASSETS_REGISTRY") or ""
            registry = str(Path(registry).resolve()) if registry else ""
        return cls(crawler.stats, s.getint("LANGUAGE_MIN_CHARS", 40), s.getint("LANGUAGE_MAX_CHARS", 2000),
                   s.getint("LANGUAGE_BATCH_SIZE", 256), worker, registry,
                   s.getint("DEDUP_COMMENT_NEAR_MIN_WORDS", COMMENT_NEAR_MIN_WORDS),
                   s.getbool("LANGUAGE_WORKER_PRECOMPUTE", False))

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
        if self._pending or self._jobs:
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
        batch, so this returns an awaitable of the item then. With the worker, the whole item goes to it (its
        languages and what the later steps need: pipelines/precompute.py)."""
        if self.pool is not None and self.precompute_on:
            return self._queue(item)
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

    def _queue(self, item):
        records = records_of(item)
        descs = [precompute.describe(r) for r in records]
        if all(d is None for d in descs):
            return item
        d: Deferred = Deferred()
        self._jobs.append((records, descs, d))
        self._jobs_records += len(records)
        self._schedule(self._jobs_records)
        from scrapy.utils.defer import maybe_deferred_to_future

        return maybe_deferred_to_future(d.addCallback(lambda _: item))

    def _schedule(self, queued: int) -> None:
        if queued >= self.batch_size and not self._in_flight:
            self._flush()
        elif self._call is None and not self._in_flight:
            from twisted.internet import reactor

            self._call = reactor.callLater(0, self._flush)

    def _flush(self) -> None:
        if self._call is not None and self._call.active():
            self._call.cancel()
        self._call = None
        if self._in_flight:
            return
        while self._jobs and not self._in_flight:
            self._flush_jobs()
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

    def _flush_jobs(self) -> None:
        """Send whole items, up to batch_size records, to the worker; without one, detect them here."""
        if self.pool is None:
            jobs, self._jobs, self._jobs_records = self._jobs, [], 0
            for records, _, d in jobs:
                self._detect_here(records)
                d.callback(None)
            return
        batch, size = [], 0
        while self._jobs and (not batch or size + len(self._jobs[0][0]) <= self.batch_size):
            batch.append(self._jobs.pop(0))
            size += len(batch[-1][0])
        self._jobs_records -= size
        self.stats.inc_value(f"pipeline/{self.step}/batches")
        self.stats.max_value(f"pipeline/{self.step}/batch_size_max", size)
        try:
            future = self.pool.submit(detect_and_precompute, [descs for _, descs, _ in batch], self.min_chars,
                                      self.max_chars, self.assets_registry, self.near_min_words)
        except Exception as exc:  # noqa: BLE001 - broken or shut-down pool: detect here instead
            self._worker_failed(exc)
            self._jobs[:0] = batch
            self._jobs_records += size
            self._flush_jobs()
            return
        self._flights += 1
        self._in_flight = self._flights >= JOB_FLIGHTS
        self.pool.when_done(future, self._jobs_answered, batch)

    def _jobs_answered(self, future: Future, batch: list) -> None:
        self._flights -= 1
        self._in_flight = self._flights >= JOB_FLIGHTS
        try:
            answers = future.result()
        except Exception as exc:  # noqa: BLE001 - the worker died: these records are detected here
            self._worker_failed(exc)
            answers = [(None, None)] * len(batch)
        for (records, descs, d), (languages, values) in zip(batch, answers):
            try:
                if languages is None:
                    self._detect_here(records)
                else:
                    for rec, desc, answer in zip(records, descs, languages):
                        if answer is not None:
                            self._tag(rec, *answer)
                    precompute.attach(records, values, self.near_min_words)
                    if values is not None:
                        self.stats.inc_value(f"pipeline/{self.step}/precomputed", len(records))
            except Exception:  # noqa: BLE001 - a bug here must not lose or hang records
                logger.exception("language answers could not be applied to %d records", len(records))
                self._detect_here(records)
            d.callback(None)
        if self._pending or self._jobs:
            self._flush()

    def _detect_here(self, records: list) -> None:
        """Languages of ``records`` in this process (no worker, or the worker failed on them)."""
        todo = []
        for rec in records:
            if not isinstance(rec, (ArticleRecord, CommentRecord)):
                continue
            sample = language_sample(text_for(rec), self.min_chars, self.max_chars)
            if sample is None:
                self._tag(rec, UNDETERMINED, None)
            else:
                todo.append((rec, sample))
        if todo:
            for (rec, _), (lang, score) in zip(todo, self._answers_here([s for _, s in todo])):
                self._tag(rec, lang, score)

    def _answers_here(self, samples: list[str]) -> list:
        try:
            return detect_languages(samples)
        except Exception:  # noqa: BLE001 - a bug here must not lose or hang records: one text at a time
            logger.exception("language detection failed for a batch of %d records", len(samples))
            return [self._detect_one(sample) for sample in samples]

    def _worker_answered(self, future: Future, batch: list) -> None:
        self._in_flight = False
        samples = [sample for _, sample, _ in batch]
        try:
            answers = future.result()
        except Exception as exc:  # noqa: BLE001 - the worker died: these records are detected here
            self._worker_failed(exc)
            answers = None
        self._resolve(batch, samples, answers)
        if self._pending or self._jobs:
            self._flush()

    def _worker_failed(self, exc: BaseException) -> None:
        if not self._failed:  # batches in flight fail one after another: one failure
            self._failed = True
            logger.warning("language worker failed (%r); detecting in the crawl process from now on", exc)
            self.stats.inc_value(f"pipeline/{self.step}/worker_failed")
        if self.pool is not None:
            self.pool.shutdown(wait=False)
        self.pool = None

    def _resolve(self, batch: list, samples: list[str], answers: list | None) -> None:
        if answers is None:
            answers = self._answers_here(samples)
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
