"""``scrapy dataset dedup-rebuild OUTPUT_DIR [STATE_PATH]``: rebuild the cross-run dedup state from the Parquet
files (the logic is :mod:`pipelines.dedup.rebuild`) into a fresh file, by default
``OUTPUT_DIR/_state/dedup.sqlite``; an existing file is never overwritten (move it away first).
"""
from __future__ import annotations

import sys
from pathlib import Path

from crawler.state.dedup_store import SQLiteDedupStore

from ..dedup import minhash as mh
from ..dedup.rebuild import rebuild_from_dataset
from . import cli

HELP = "rebuild the cross-run dedup state (_state/dedup.sqlite) from the Parquet files"


def add_arguments(parser) -> None:
    parser.add_argument("state_path", metavar="STATE_PATH", nargs="?", type=Path,
                        help="where to write the state (default OUTPUT_DIR/_state/dedup.sqlite); must not exist")


def run(output_dir: Path, args) -> int:
    path = args.state_path or output_dir / "_state" / "dedup.sqlite"
    if path.exists():
        print(f"{path} exists; move it away first", file=sys.stderr)
        return 1
    print(f"{rebuild_from_dataset(output_dir, SQLiteDedupStore(path, mh.PARAMS))} records written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(cli.main(sys.modules[__name__]))
