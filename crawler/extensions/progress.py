"""A periodic progress line for long runs, in the style of Scrapy's LogStats.

Every ``PROGRESS_INTERVAL`` seconds (0 switches it off) one INFO line from ``crawler.extensions.progress``::

    progress: 1,204 pages (301/min) | staged articles=150 (38/min) threads=140 (35/min) comments=2,911 (730/min) | threads open=6 complete=138 incomplete=2

* pages: responses received (``response_received_count``);
* staged: rows accepted by the Parquet exporter into the run's staging files (``export/rows/<table>``);
  they become visible at commit;
* threads open: comment threads detected whose pages are still being fetched; complete / incomplete: threads
  assembled (``comments/source/*``) with every comment page read, or not (``comments/incomplete_thread``).

Rates are per minute over the time since the previous line (measured, not assumed to be the interval). The final summary of ``scrapy crawl`` is not changed.
"""
from __future__ import annotations

import logging
import time

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import create_looping_call

logger = logging.getLogger(__name__)
TABLES = ("articles", "threads", "comments")


def counters(stats: dict) -> dict:
    """The figures the progress line shows, from a stats dict."""
    detected = sum(v for k, v in stats.items() if k.startswith("comments/detected/") and isinstance(v, int))
    finished = sum(v for k, v in stats.items() if k.startswith("comments/source/") and isinstance(v, int))
    out = {"pages": stats.get("response_received_count", 0), "threads_finished": finished,
           "threads_open": max(0, detected - finished), "threads_incomplete": stats.get("comments/incomplete_thread", 0)}
    for t in TABLES:
        out[t] = stats.get(f"export/rows/{t}", 0)
    return out


def progress_line(now: dict, before: dict, minutes: float) -> str:
    """One line from two snapshots of :func:`counters` taken ``minutes`` apart."""
    def rate(key):
        return f"{(now[key] - before.get(key, 0)) / minutes:,.0f}/min" if minutes > 0 else "n/a"

    staged = " ".join(f"{t}={now[t]:,} ({rate(t)})" for t in TABLES)
    complete = max(0, now["threads_finished"] - now["threads_incomplete"])
    return (f"progress: {now['pages']:,} pages ({rate('pages')}) | staged {staged} | threads "
            f"open={now['threads_open']:,} complete={complete:,} incomplete={now['threads_incomplete']:,}")


class ProgressLog:
    def __init__(self, stats, interval: float):
        self.stats, self.interval = stats, interval
        self.task = None
        self.before: dict = {}

    @classmethod
    def from_crawler(cls, crawler):
        interval = crawler.settings.getfloat("PROGRESS_INTERVAL", 60.0)
        if interval <= 0:
            raise NotConfigured("PROGRESS_INTERVAL is 0")
        ext = cls(crawler.stats, interval)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider) -> None:
        self.before, self.at = counters(self.stats.get_stats()), time.monotonic()
        self.task = create_looping_call(self.log)
        self.task.start(self.interval, now=False)

    def log(self) -> None:
        now, at = counters(self.stats.get_stats()), time.monotonic()
        logger.info(progress_line(now, self.before, (at - self.at) / 60.0))
        self.before, self.at = now, at

    def spider_closed(self, spider, reason=None) -> None:
        if self.task is not None and self.task.running:
            self.task.stop()
