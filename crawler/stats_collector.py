"""The crawl's stats collector: Scrapy's in-memory collector without the per-access deprecation shim.

Scrapy 2.13+ routes *every* attribute access on a stats collector through ``StatsCollector.__getattribute__``
(to warn about the deprecated ``spider`` argument): an f-string, a failed attribute look-up and a wrapper per
``inc_value`` — about 5-15 µs where the dict update itself takes well under one. The pipelines count every
record several times (slash-named stats), so at a million records that shim alone cost minutes of CPU.
This class is :class:`scrapy.statscollectors.MemoryStatsCollector` with plain attribute access; the
methods, their arguments and the stats are the same (``STATS_CLASS`` in ``crawler/settings.py``).
"""
from __future__ import annotations

from scrapy.statscollectors import MemoryStatsCollector


class CrawlStatsCollector(MemoryStatsCollector):
    __getattribute__ = object.__getattribute__
