"""The run's scratch store (pipelines/dedup/run_docs.py): what a flush leaves in the file.

Once the file outgrows the page cache a flush writes its rows in key order (fewer B-tree pages touched); the
tables must hold exactly what inserting the rows in arrival order holds: a record registered twice in one
batch ends as its last registration, a node keeps its first signature, band rows are the same set.
"""
from __future__ import annotations

import random
import sqlite3

import pytest

from pipelines.dedup import run_docs
from pipelines.dedup.run_docs import RunDocs, node_of


def _registrations(n: int, seed: int = 7) -> list[tuple]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        rid = f"c{rng.randrange(n // 2):06d}"  # ids repeat: the same comment registered again, changed
        chash = f"{rng.randrange(n // 3):032x}"  # content hashes repeat: several records per node
        exact = rng.random() < 0.7
        sig = rng.randbytes(16) if rng.random() < 0.8 else None
        bands = [rng.getrandbits(62) - 2**61 for _ in range(4)]
        table = rng.choice(("comments", "articles"))
        out.append((table, rid, chash, rng.random() * 1e9, f"https://example.org/t/{i}", i, exact, sig, bands))
    return out


def _in_arrival_order(regs: list[tuple]) -> sqlite3.Connection:
    """What the old, unsorted flush stored: each row inserted in the order it was registered."""
    db = sqlite3.connect(":memory:")
    db.executescript(run_docs._SCHEMA)
    for table, rid, chash, published, order_url, version, exact, sig, bands in regs:
        node = node_of(rid, chash, exact)
        db.execute("INSERT OR REPLACE INTO docs VALUES (?,?,?,?,?,?,?,?)",
                   (table, rid, chash, published, order_url, version, int(exact), node))
        if sig is not None:
            db.execute("INSERT OR IGNORE INTO nodes VALUES (?,?,?)", (table, node, sig))
            db.executemany("INSERT OR IGNORE INTO node_bands VALUES (?,?,?)", [(table, k, node) for k in bands])
    return db


def _tables(db) -> dict[str, list[tuple]]:
    return {t: sorted(db.execute(f"SELECT * FROM {t}")) for t in ("docs", "nodes", "node_bands")}


# 0: every flush writes in key order (as once the file outgrows the page cache); the default: a small file's
# flushes write in arrival order
KEY_ORDER = pytest.mark.parametrize("sort_from", [0, run_docs._SORT_FROM_BYTES], ids=["key_order", "small_file"])


@KEY_ORDER
def test_a_sorted_flush_stores_what_arrival_order_stores(tmp_path, monkeypatch, sort_from):
    monkeypatch.setattr(run_docs, "_SORT_FROM_BYTES", sort_from)
    monkeypatch.setattr(run_docs, "_FLUSH", 97)  # several flushes, each with repeated ids and nodes inside it
    regs = _registrations(1500)
    store = RunDocs(tmp_path / "dedup_run.sqlite")
    for reg in regs:
        store.add(*reg)
    store.flush()
    got = _tables(store.db)
    want = _tables(_in_arrival_order(regs))
    assert store._key_order is (sort_from == 0)
    store.close()
    assert got == want
    # the data really has what the sort must not disturb: an id registered twice, a node signed twice
    ids = [(r[0], r[1]) for r in regs]
    assert len(set(ids)) < len(ids)
    signed = [(r[0], node_of(r[1], r[2], r[6])) for r in regs if r[7] is not None]
    assert len(set(signed)) < len(signed)


@KEY_ORDER
def test_the_last_registration_of_a_record_in_one_batch_wins(tmp_path, monkeypatch, sort_from):
    monkeypatch.setattr(run_docs, "_SORT_FROM_BYTES", sort_from)
    store = RunDocs(tmp_path / "dedup_run.sqlite")
    store.add("comments", "b", "h2", None, "https://example.org/2", 1, True, b"sig-b", [5, 1])
    store.add("comments", "a", "h1", 10.0, "https://example.org/1", 1, False, b"first", [9, 3])
    store.add("comments", "a", "h1", 20.0, "https://example.org/1", 2, False, b"second", [9, 3])
    rows = list(store.query("SELECT id, published, version FROM docs WHERE tbl = 'comments' ORDER BY id"))
    sig = list(store.query("SELECT sig FROM nodes WHERE node = ?", (node_of("a", "h1", False),)))
    store.close()
    assert rows == [("a", 20.0, 2), ("b", None, 1)]
    assert sig == [(b"first",)]  # a node keeps the signature it was first stored with
