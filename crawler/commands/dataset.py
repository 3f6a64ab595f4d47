"""`scrapy dataset VERB OUTPUT_DIR [options]`: the tools that work on a committed dataset.

`scrapy dataset --help` lists the verbs; `scrapy dataset VERB --help` shows a verb's options. An unknown verb
or a missing OUTPUT_DIR is one line on stderr and exit 2; otherwise the exit code is the tool's own
(crawler/exitcodes.py).

Adding a verb: write `pipelines/dataset/<name>.py` in the shape `pipelines/dataset/cli.py` describes (`HELP`,
`add_arguments(parser)`, `run(output_dir, args) -> int`), import it below and add one line to `VERBS`.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from scrapy.commands import ScrapyCommand

from crawler.exitcodes import USAGE

# verb -> tool module in pipelines/dataset/; keep sorted. Imported when the verb runs (or --help lists them): Scrapy
# imports every command module on every `scrapy` call, `scrapy crawl` included, and these tools pull in pandas,
# matplotlib and pyarrow.dataset (~1 s and tens of MB the crawl has no use for).
VERBS = {
    "card": "card",
    "compact": "compact",
    "croissant": "croissant",
    "dedup-rebuild": "dedup_rebuild",
    "dedup-report": "dedup_report",
    "latest": "latest",
    "report": "report",
    "snapshot": "snapshot",
    "verify": "verify",
}


def tool_of(verb: str):
    return importlib.import_module(f"pipelines.dataset.{VERBS[verb]}")


def verb_list() -> str:
    width = max(map(len, VERBS))
    return "verbs:\n" + "\n".join(f"  {verb:<{width}}  {tool_of(verb).HELP}" for verb in VERBS)


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "VERB OUTPUT_DIR [options]"

    def short_desc(self) -> str:
        return "Run a tool on a committed dataset: " + ", ".join(VERBS)

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        # `--help` is ours so that `scrapy dataset VERB --help` can show the verb's own options
        parser.add_argument("-h", "--help", action="store_true", dest="verb_help", help="show this help")
        parser.formatter_class = argparse.RawDescriptionHelpFormatter
        parser.epilog = verb_list() + "\n\nrun `scrapy dataset VERB --help` for a verb's options"
        self.parser = parser

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        verb, rest = (args[0], args[1:]) if args else (None, [])
        if verb is None and opts.verb_help:
            self.parser.print_help()
            return
        if verb is None:
            print("scrapy dataset: give a verb (" + ", ".join(VERBS) + "); see scrapy dataset --help",
                  file=sys.stderr)
            self.exitcode = USAGE
            return
        if verb not in VERBS:
            print(f"scrapy dataset: unknown verb {verb!r} (verbs: {', '.join(VERBS)})", file=sys.stderr)
            self.exitcode = USAGE
            return
        from pipelines.dataset import cli

        self.exitcode = cli.main(tool_of(verb), rest + (["--help"] if opts.verb_help else []), prog=f"scrapy dataset {verb}")
