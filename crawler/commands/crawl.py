"""`scrapy crawl` with this project's exit codes (see crawler/exitcodes.py) and a one-line summary."""
from __future__ import annotations

import sys

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError

from crawler.exitcodes import STARTUP, exit_code, summary_line


class Command(ScrapyCrawl):
    def run(self, args, opts) -> None:
        if len(args) != 1:
            raise UsageError("give exactly one spider name")
        crawler = self._create_crawler(args[0])
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed or crawler.stats is None:
            self.exitcode = STARTUP
            return
        stats = crawler.stats.get_stats()
        code, reason = exit_code(stats)
        out = stats.get("export/output_dir", "?")
        print(f"[{args[0]}] Parquet dataset: {out}", file=sys.stderr)
        print(f"[{args[0]}] {summary_line(stats)}", file=sys.stderr)
        print(f"[{args[0]}] exit {code}: {reason}", file=sys.stderr)
        self.exitcode = code
