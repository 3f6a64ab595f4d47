"""The command line every dataset tool shares.

A tool module defines::

    HELP = "one line: what the tool does"                          # shown by `scrapy dataset --help`
    def add_arguments(parser: argparse.ArgumentParser) -> None      # its options besides OUTPUT_DIR
    def run(output_dir: Path, args: argparse.Namespace) -> int      # the exit code (crawler/exitcodes.py)
    if __name__ == "__main__":
        sys.exit(cli.main(sys.modules[__name__]))                  # `python -m pipelines.dataset.<module>`

:func:`main` parses ``OUTPUT_DIR`` plus the tool's options, refuses a missing directory with one line on
stderr and exit 2 (a usage error), and returns ``run``'s code. ``scrapy dataset`` calls the same :func:`main`.
A tool may also define ``remote_refusal(args) -> str | None``: on an ``s3://`` dataset a reason refuses the
invocation with that one line and exit 2 (e.g. ``verify --quarantine``, which would change only the local copy).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from types import ModuleType

from crawler.exitcodes import USAGE


def parser_for(tool: ModuleType, prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=tool.HELP)
    parser.add_argument("output_dir", metavar="OUTPUT_DIR", help="the dataset directory (or s3://BUCKET/PREFIX)")
    add = getattr(tool, "add_arguments", None)
    if add is not None:
        add(parser)
    return parser


def main(tool: ModuleType, argv: list[str] | None = None, prog: str | None = None) -> int:
    name = tool.__spec__.name if tool.__name__ == "__main__" and tool.__spec__ else tool.__name__
    prog = prog or f"python -m {name}"
    parser = parser_for(tool, prog)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse printed the usage and the reason (or --help)
        return int(exc.code or 0)
    if str(args.output_dir).startswith("s3://"):  # a shared-mode dataset on an object store
        why = getattr(tool, "remote_refusal", lambda _args: None)(args)
        if why:  # the tool would change only the temporary local copy, not the remote dataset
            print(f"{prog}: {why}", file=sys.stderr)
            return USAGE
        from crawler.shared.mirror import run_on_remote

        return run_on_remote(tool, args, prog)
    args.output_dir = Path(args.output_dir)
    if not args.output_dir.is_dir():
        print(f"{prog}: no dataset at {args.output_dir} (not a directory)", file=sys.stderr)
        return USAGE
    return tool.run(args.output_dir, args)
