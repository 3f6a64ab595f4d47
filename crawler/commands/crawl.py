"""`scrapy crawl` with this project's exit codes (see crawler/exitcodes.py) and a one-line summary.

Before anything starts (no log, no server, no lock), the command checks what the operator typed: the spider
name, the ``-s`` setting values (:mod:`crawler.settings_check`), the asset registry, and the spider's own
arguments (a spider's ``check_arguments(**spargs)`` classmethod, when it has one). A problem prints one line,
``usage error: <what is wrong>; allowed: <what is>``, on stderr and exits 2 (``USAGE``), without a traceback.
"""
from __future__ import annotations

import sys

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError
from scrapy.spiderloader import get_spider_loader

from crawler.exitcodes import STARTUP, USAGE, exit_code, summary_line
from crawler.settings_check import check_settings
from crawler.usage import UsageProblem


def one_line(message: str) -> str:
    """A problem message on one line (multi-line registry reports joined with '; ')."""
    lines = [ln.strip() for ln in str(message).splitlines() if ln.strip()]
    if len(lines) > 1 and lines[0].endswith(":"):
        return lines[0] + " " + "; ".join(lines[1:])
    return "; ".join(lines)


def usage_exit(message: str) -> None:
    print(f"usage error: {one_line(message)}", file=sys.stderr)
    sys.exit(USAGE)


class Command(ScrapyCrawl):
    def process_options(self, args, opts) -> None:
        super().process_options(args, opts)
        if len(args) != 1:
            return  # Scrapy's own usage message (run)
        try:
            self.preflight(args[0], opts.spargs)
        except UsageProblem as exc:
            usage_exit(str(exc))

    def preflight(self, spider_name: str, spargs: dict) -> None:
        """Raise UsageProblem for anything typed or configured wrongly."""
        check_settings(self.settings)
        loader = get_spider_loader(self.settings)
        try:
            spidercls = loader.load(spider_name)
        except KeyError:
            raise UsageProblem(f"unknown spider {spider_name!r}; allowed: {', '.join(sorted(loader.list()))}") \
                from None
        if self.settings.getbool("ASSETS_ENABLED", True):
            from pipelines.assets.registry import load_registry

            load_registry(self.settings.get("ASSETS_REGISTRY") or None)
        check = getattr(spidercls, "check_arguments", None)
        if check is not None:
            check(**spargs)

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
