"""The run's dedup scratch file (pipelines/dedup/run_docs.py): CPU of its flushes, key order vs arrival order.

    python benchmarks/run_docs_flush.py [--records 100000] [--texts 0]

Registers ``--records`` synthetic signed records (32 band keys each, as the near step stores them) in the real
``RunDocs`` (its flushes write in key order once the file outgrows the page cache) and, in the same invocation, the same rows through the
same SQL in arrival order (what flush did before), and prints the CPU seconds spent in the flushes of each and
that both files hold the same rows. ``--texts N`` draws the content from N distinct texts (the demo's
comments repeat a pool of texts, so most band rows are already there); 0 (the default): every text distinct,
as on real sites. Synthetic data: the figures are for the store alone, not a crawl.
"""
from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipelines.dedup import run_docs  # noqa: E402
from pipelines.dedup.run_docs import RunDocs, node_of  # noqa: E402


def registrations(n: int, texts: int, seed: int = 1):
    rng = random.Random(seed)
    pool = [f"{rng.getrandbits(128):032x}" for _ in range(texts)]
    for i in range(n):
        chash = rng.choice(pool) if texts else f"{rng.getrandbits(128):032x}"
        bands = random.Random(chash)
        yield ("comments", f"c{rng.getrandbits(60):015x}", chash, 1.7e9 + i, f"https://example.org/t/{i // 50}", 1,
               True, b"s" * 512, [bands.getrandbits(63) for _ in range(32)])


class ArrivalOrder(RunDocs):
    """The flush without the sort: the rows in the order they were registered."""

    def flush(self) -> None:
        if not (self._docs or self._nodes):
            return
        db = self._open()
        db.executemany("INSERT OR REPLACE INTO docs VALUES (?,?,?,?,?,?,?,?)", self._docs)
        db.executemany("INSERT OR IGNORE INTO nodes VALUES (?,?,?)", self._nodes)
        db.executemany("INSERT OR IGNORE INTO node_bands VALUES (?,?,?)", self._bands)
        db.execute("COMMIT")
        db.execute("BEGIN")
        self._docs, self._nodes, self._bands = [], [], []


def timed(cls, path: Path, n: int, texts: int) -> float:
    spent = 0.0
    store = cls(path)
    real_flush = store.flush

    def flush():
        nonlocal spent
        t = time.process_time()
        real_flush()
        spent += time.process_time() - t

    store.flush = flush
    for reg in registrations(n, texts):
        store.add(*reg)
    store.flush()
    store.close()
    return spent


def rows(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        return hash(tuple(tuple(db.execute(f"SELECT * FROM {t}")) for t in ("docs", "nodes", "node_bands")))
    finally:
        db.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--texts", type=int, default=0, help="distinct texts (0: every record's text distinct)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        a, b = Path(tmp, "arrival.sqlite"), Path(tmp, "sorted.sqlite")
        t_arrival = timed(ArrivalOrder, a, args.records, args.texts)
        t_sorted = timed(RunDocs, b, args.records, args.texts)
        same = rows(a) == rows(b)
        print(f"{args.records:,} records, {args.texts or 'all'} distinct texts, flush every {run_docs._FLUSH:,}; "
              f"file {b.stat().st_size / 2**20:.0f} MB")
        print(f"flush CPU: arrival order {t_arrival:.2f} s, key order (RunDocs) {t_sorted:.2f} s "
              f"(ratio {t_sorted / t_arrival:.2f}); same rows: {same}")


if __name__ == "__main__":
    main()
