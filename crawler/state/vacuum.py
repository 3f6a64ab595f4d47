"""Compacting a state file after a commit that grew it: ``VACUUM`` when the file has grown by a quarter since it
was last compacted (a first run, a catch-up after a pause, a rebuild from the dataset), not after every run.

A run's records land all over the files' B-trees (ids and hashes are random), which leaves pages part-filled:
right after a first run of 1,000 × 50 the dedup state is 6 % and the crawl state 25 % larger than the same rows
compacted (docs/performance.md, "State format"). ``VACUUM`` writes the file anew, full pages in key order. It
is its own transaction after the run's commit (the rollback journal keeps it safe under kill -9: a killed
``VACUUM`` leaves the file as the commit left it), its cost is one pass over the file, and growth by a quarter
between two of them keeps that cost a constant share of what the runs write. The page count after the last one
is kept in the file's ``meta`` table (``vacuumed_pages``).
"""
from __future__ import annotations

import sqlite3

GROWTH = 1.25  # compact once the file has this many times the pages it had after the last compaction
MIN_PAGES = 256  # files below 1 MB (4 KB pages) are left alone


def compact_if_grown(db: sqlite3.Connection, growth: float = GROWTH, min_pages: int = MIN_PAGES) -> bool:
    """``VACUUM`` the file of ``db`` (outside any transaction) if it has grown enough; returns whether it did."""
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    row = db.execute("SELECT value FROM meta WHERE key = 'vacuumed_pages'").fetchone()
    last = int(row[0]) if row else 0
    if pages < min_pages or pages < last * growth:
        return False
    if db.in_transaction:
        db.commit()
    db.execute("VACUUM")
    with db:
        db.execute("INSERT OR REPLACE INTO meta VALUES ('vacuumed_pages', ?)",
                   (str(db.execute("PRAGMA page_count").fetchone()[0]),))
    return True
