"""Test-only extension: writes the crawl's final stats as JSON to ``STATS_DUMP_PATH`` (set by the
fault suite with ``-s``), also when the exporter could not commit (no run manifest then)."""
from __future__ import annotations

import json
from pathlib import Path

from scrapy import signals
from scrapy.exceptions import NotConfigured


class StatsDumpExtension:
    def __init__(self, crawler, path: str):
        self.crawler, self.path = crawler, Path(path)

    @classmethod
    def from_crawler(cls, crawler):
        path = crawler.settings.get("STATS_DUMP_PATH")  # where to write the stats JSON; unset = off
        if not path:
            raise NotConfigured
        ext = cls(crawler, path)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.engine_stopped, signal=signals.engine_stopped)
        return ext

    def spider_closed(self, spider, reason):
        # written here too: engine_stopped is not sent when the spider closes while opening
        self.write({"finish_reason": reason})

    def engine_stopped(self):
        self.write({})

    def write(self, defaults: dict) -> None:
        stats = {**defaults, **self.crawler.stats.get_stats()}
        stats = {k: (v if isinstance(v, (int, float, str, bool)) or v is None else str(v)) for k, v in stats.items()}
        self.path.write_text(json.dumps(stats, indent=1, sort_keys=True))
