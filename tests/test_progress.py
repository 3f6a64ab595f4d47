"""The periodic progress line: its figures (pure) and its presence in a real demo crawl's log, with the final
summary unchanged."""
from __future__ import annotations

import re

from crawler.extensions.progress import counters, progress_line


def test_progress_line_figures_and_rates():
    before = counters({})
    now = counters({"response_received_count": 120, "export/rows/articles": 30, "export/rows/comments": 600,
                    "comments/detected/discourse": 10, "comments/detected/wordpress": 5,
                    "comments/source/api": 9, "comments/source/html": 2, "comments/incomplete_thread": 1})
    line = progress_line(now, before, minutes=0.5)
    assert line == ("progress: 120 pages (240/min) | staged articles=30 (60/min) threads=0 (0/min) "
                    "comments=600 (1,200/min) | threads open=4 complete=10 incomplete=1")


def test_demo_crawl_logs_progress_and_keeps_the_summary(demo_run):
    lines = [ln for ln in demo_run.stderr.splitlines() if "progress: " in ln]
    assert lines, demo_run.stderr[-2000:]
    pattern = re.compile(r"progress: [\d,]+ pages \([\d,]+/min\) \| staged articles=[\d,]+ \([\d,]+/min\) "
                         r"threads=[\d,]+ \([\d,]+/min\) comments=[\d,]+ \([\d,]+/min\) \| threads open=[\d,]+ "
                         r"complete=[\d,]+ incomplete=[\d,]+$")
    assert all(pattern.search(ln) for ln in lines), lines
    tail = demo_run.stderr.strip().splitlines()[-3:]
    assert tail[0].startswith("[demo] Parquet dataset: ")
    assert re.match(r"\[demo\] articles=\d+ threads=\d+ comments=\d+ \| dropped/skipped: ", tail[1])
    assert tail[2] == "[demo] exit 0: ok"
