"""What the files regenerated at each commit cost: latest/ snapshot, dataset card, croissant.json, report.html.

    python benchmarks/dataset_tools.py [--articles 300 --comments 20] [--output DIR] [--repeat 3]

Crawls a scaled demo site once into a temporary directory (or uses ``--output``, an existing dataset), then
times each tool on it (best of ``--repeat``, wall clock, after one warm-up that pays the imports), and prints
the row counts, seconds per tool and the report's size. Nothing is asserted: the figures are for
docs/performance.md and the operator choosing LATEST_AT_COMMIT / CROISSANT_AT_COMMIT / REPORT_AT_COMMIT.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def crawl(out: Path, articles: int, comments: int) -> None:
    cmd = [sys.executable, "-m", "scrapy", "crawl", "demo", "-a", f"articles={articles}", "-a", f"comments={comments}",
           "-a", "port=0", "-s", f"OUTPUT_DIR={out}", "-s", "LOG_LEVEL=WARNING", "-s", "LATEST_AT_COMMIT=False",
           "-s", "CROISSANT_AT_COMMIT=False", "-s", "REPORT_AT_COMMIT=False"]
    subprocess.run(cmd, cwd=ROOT, check=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=int, default=300)
    ap.add_argument("--comments", type=int, default=20)
    ap.add_argument("--output", type=Path, default=None)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        out = args.output or Path(tmp) / "dataset"
        if args.output is None:
            t0 = time.perf_counter()
            crawl(out, args.articles, args.comments)
            print(f"demo crawl ({args.articles} articles x {args.comments} comments): {time.perf_counter() - t0:.1f} s")
        from pipelines.dataset.card import write_card
        from pipelines.dataset.croissant import write_croissant
        from pipelines.dataset.report import write_report
        from pipelines.dataset.snapshot import write_snapshot

        rows = write_snapshot(out)
        print("rows (latest view): " + ", ".join(f"{t}={n:,}" for t, n in rows.items()))
        for name, fn in (("snapshot", write_snapshot), ("card", write_card), ("croissant", write_croissant),
                         ("report", write_report)):
            times = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                fn(out)
                times.append(time.perf_counter() - t0)
            print(f"{name:<10} best {min(times):.2f} s  (of {args.repeat}: {', '.join(f'{t:.2f}' for t in times)})")
        print(f"report.html: {(out / 'report.html').stat().st_size / 1024:.0f} KiB; "
              f"croissant.json: {(out / 'croissant.json').stat().st_size / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
