"""The SQLite dedup store: round trips, one transaction per run, corrupt or incompatible files."""
from __future__ import annotations

import logging

import pytest
from scrapy.utils.test import get_crawler

from crawler.state.dedup_store import SeenDoc, SQLiteDedupStore, StateError, open_store
from pipelines.dedup import minhash as mh
from pipelines.dedup.rebuild import rebuild_from_dataset

from .test_dedup_pipeline import demo_records, run_records

LOG = logging.getLogger("test")


def doc(i: str, h: str = "h", **kw) -> SeenDoc:
    return SeenDoc(i, h, kw.pop("version", 1), kw.pop("rep_id", i), order_url=f"http://s/{i}/", run_id="r1", **kw)


def test_round_trip_by_id_hash_and_band(tmp_path):
    st = SQLiteDedupStore(tmp_path / "s.sqlite", mh.PARAMS)
    sig = mh.text_signature("one two three four five six seven eight nine ten")
    assert st.apply("r1", {"articles": [(doc("a", sig=mh.to_bytes(sig)), mh.band_keys(sig)), (doc("b", "h2"), [])],
                           "comments": [(doc("a", "hc"), [])]}) == 3
    assert st.get("articles", ["a", "zz"])["a"].sig == mh.to_bytes(sig)
    assert st.get("comments", ["a"])["a"].content_hash == "hc"  # tables are separate namespaces
    assert [d.id for d in st.by_hash("articles", ["h2"])["h2"]] == ["b"]
    assert [d.id for d in st.by_bands("articles", mh.band_keys(sig)[:1])] == ["a"]
    assert st.by_bands("comments", mh.band_keys(sig)) == []
    st.apply("r2", {"articles": [(doc("a", "h3", version=2, rep_id="b", cluster_id="b"), [])]})
    again = SQLiteDedupStore(tmp_path / "s.sqlite", mh.PARAMS)
    a = again.get("articles", ["a"])["a"]
    assert (a.content_hash, a.version, a.rep_id, a.cluster_id) == ("h3", 2, "b", "b")
    assert again.counts() == {"articles": 2, "comments": 1, "runs": 2}


def test_failed_transaction_leaves_nothing(tmp_path):
    st = SQLiteDedupStore(tmp_path / "s.sqlite", mh.PARAMS)
    with pytest.raises(StateError):
        st.apply("r1", {"articles": [(doc("a"), []), (doc("b", None), [])]})  # NOT NULL violated midway
    assert st.get("articles", ["a", "b"]) == {} and st.counts()["runs"] == 0


def test_garbage_file_is_refused_and_replaced_by_a_rebuilt_state(tmp_path, caplog):
    out = tmp_path / "ds"
    run_records(out, demo_records("r1"), "r1")
    path = out / "_state" / "dedup.sqlite"
    path.write_bytes(b"this is not a database" * 200)
    with pytest.raises(StateError):
        SQLiteDedupStore(path, mh.PARAMS)
    crawler = get_crawler()
    with caplog.at_level(logging.ERROR):
        st = open_store(path, mh.PARAMS, crawler.stats, LOG, rebuild=lambda s: rebuild_from_dataset(out, s))
    assert st is not None and "dedup state unusable" in caplog.text
    assert crawler.stats.get_value("dedup/state/corrupt") == 1
    assert crawler.stats.get_value("dedup/state/rebuilt_records") == st.counts()["articles"] + st.counts()["comments"]
    assert len(list(path.parent.glob("dedup.sqlite.broken-*"))) == 1  # kept for inspection


def test_state_of_other_minhash_parameters_is_rebuilt(tmp_path):
    SQLiteDedupStore(tmp_path / "s.sqlite", "old-params").apply("r0", {"articles": [(doc("x"), [])]})
    crawler = get_crawler()
    st = open_store(tmp_path / "s.sqlite", mh.PARAMS, crawler.stats, LOG, rebuild=lambda s: 0)
    assert crawler.stats.get_value("dedup/state/corrupt") == 1 and st.get("articles", ["x"]) == {}


def test_rebuilt_state_gives_the_same_second_run_as_the_original(tmp_path):
    out = tmp_path / "ds"
    run_records(out, demo_records("r1"), "r1")
    (out / "_state" / "dedup.sqlite").write_bytes(b"\0" * 4096)
    crawler = run_records(out, demo_records("r2"), "r2")
    assert crawler.stats.get_value("dedup/state/corrupt") == 1
    n = sum(1 for r in demo_records() if r.table == "articles")
    assert crawler.stats.get_value("dedup/articles/unchanged_skipped") == n
    assert crawler.stats.get_value("dedup/comments/unchanged_skipped") == 5


def test_unwritable_state_means_within_run_dedup_only(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    crawler = run_records(tmp_path / "ds", demo_records(), "r1", DEDUP_STATE_PATH=str(blocker / "sub" / "s.sqlite"))
    assert crawler.stats.get_value("dedup/state/unavailable") == 1
    assert crawler.stats.get_value("dedup/state/corrupt") is None
    assert crawler.stats.get_value("dedup/articles/labelled_duplicates") == 2


def test_retention_prune_keeps_ids_and_hashes_but_leaves_near_matching(tmp_path):
    from datetime import datetime, timedelta, timezone

    st = SQLiteDedupStore(tmp_path / "s.sqlite", mh.PARAMS)
    sig = mh.text_signature("one two three four five six seven eight nine ten")
    st.apply("r1", {"articles": [(doc("a", "h1", sig=mh.to_bytes(sig)), mh.band_keys(sig))]})
    assert st.prune(datetime.now(timezone.utc) - timedelta(days=1)) == 0  # committed just now: kept
    assert st.by_bands("articles", mh.band_keys(sig))
    assert st.prune(datetime.now(timezone.utc) + timedelta(seconds=1)) == 1
    assert st.by_bands("articles", mh.band_keys(sig)) == [] and st.get("articles", ["a"])["a"].sig is None
    assert [d.id for d in st.by_hash("articles", ["h1"])["h1"]] == ["a"]  # seen-before and exact matching stay


def test_ids_and_hashes_round_trip_exactly_and_same_ids_in_two_tables_do_not_collide(tmp_path):
    st = SQLiteDedupStore(tmp_path / "s.sqlite", mh.PARAMS)
    ids = ["0123456789abcdef" * 2, "f" * 32, "8" + "0" * 31, "not-hex"]
    docs = [(SeenDoc(i, "fedcba9876543210" * 2, 2, ids[0], ids[0], 1.5, "http://s/x/", "r1"), []) for i in ids]
    st.apply("r1", {"articles": docs, "comments": docs})
    for table in ("articles", "comments"):
        got = st.get(table, ids)
        assert {i: (d.id, d.content_hash, d.rep_id, d.cluster_id, d.published_at, d.order_url, d.version)
                for i, d in got.items()} == {i: (i, "fedcba9876543210" * 2, ids[0], ids[0], 1.5, "http://s/x/", 2)
                                             for i in ids}


def test_streamed_latest_rows_equal_the_in_memory_rule(tmp_path):
    """The rebuild's streamed pick (DuckDB, bounded memory) gives exactly what :func:`latest_rows` gives over all
    rows: the highest version per id, ties broken by the latest valid_from, id order, the same Python values; a
    file written before a column existed reads it as None; ``_``-prefixed directories are not data."""
    from datetime import datetime, timedelta, timezone

    import pyarrow as pa
    import pyarrow.parquet as pq

    from pipelines.dedup.rebuild import data_files, latest_rows, latest_rows_streamed

    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    ts = pa.timestamp("us", tz="UTC")
    rows = [  # (id, version, valid_from offset in hours, body)
        ("b", 1, 0, "first"), ("b", 2, 1, "second"), ("a", 3, 5, "third"), ("a", 3, 7, "tie, later"),
        ("a", 1, 9, "old version, late"), ("c", 1, 0, None),
    ]
    schema = pa.schema([("comment_id", pa.string()), ("version", pa.int64()), ("valid_from", ts),
                        ("body_text", pa.string()), ("published_at", ts)])
    (tmp_path / "crawl_date=2026-01-01").mkdir()
    (tmp_path / "crawl_date=2026-01-02").mkdir()
    (tmp_path / "_compact_retired").mkdir()
    for name, part in (("crawl_date=2026-01-01/p1.parquet", rows[:3]), ("crawl_date=2026-01-02/p2.parquet", rows[3:5]),
                       ("_compact_retired/old.parquet", [("z", 9, 0, "retired")])):
        pq.write_table(pa.table({"comment_id": [r[0] for r in part], "version": [r[1] for r in part],
                                 "valid_from": [t0 + timedelta(hours=r[2]) for r in part],
                                 "body_text": [r[3] for r in part],
                                 "published_at": [t0 for _ in part]}, schema=schema), tmp_path / name)
    older = pa.schema([f for f in schema if f.name != "published_at"])  # a file from before the column
    pq.write_table(pa.table({"comment_id": ["c"], "version": [1], "valid_from": [t0], "body_text": [None]},
                            schema=older), tmp_path / "crawl_date=2026-01-02/p3.parquet")
    files = data_files(tmp_path)
    assert len(files) == 3
    every = pq.ParquetDataset(files).read().to_pylist()
    for r in every:
        r.setdefault("published_at", None)
    expected = latest_rows(every, "comment_id")
    got = list(latest_rows_streamed(files, ["body_text", "comment_id", "published_at", "valid_from", "version"],
                                    "comment_id", batch_rows=2))
    assert [r["body_text"] for r in got] == ["tie, later", "second", None]
    assert got == [{k: r.get(k) for k in sorted(got[0])} for r in expected]


def test_state_of_an_older_format_is_refused_and_rebuilt(tmp_path, caplog):
    """A format-3 file (one signature per signed record, 64-bit band keys, representatives as ids) is not read by
    the format-4 code: refused with the reason, moved aside, rebuilt from the dataset."""
    import sqlite3

    out = tmp_path / "ds"
    run_records(out, demo_records("r1"), "r1")
    path = out / "_state" / "dedup.sqlite"
    path.unlink()
    with sqlite3.connect(path) as db:  # the format-3 layout, as a session-2 crawl left it
        db.executescript("""
            CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
            CREATE TABLE docs(n INTEGER PRIMARY KEY, tbl INTEGER NOT NULL, id NOT NULL, h INTEGER NOT NULL,
              hr NOT NULL, version INTEGER NOT NULL, rep, cluster, published, url INTEGER NOT NULL,
              run INTEGER NOT NULL, ix INTEGER NOT NULL, sig BLOB, s INTEGER);
            CREATE TABLE bands(key INTEGER NOT NULL, s INTEGER NOT NULL, PRIMARY KEY(key, s)) WITHOUT ROWID;""")
        db.executemany("INSERT INTO meta VALUES (?, ?)", [("format", "3"), ("params", mh.PARAMS)])
    with pytest.raises(StateError, match="state format 3 does not match 4"):
        SQLiteDedupStore(path, mh.PARAMS)
    crawler = get_crawler()
    with caplog.at_level(logging.ERROR):
        st = open_store(path, mh.PARAMS, crawler.stats, LOG, output=out, rebuild=lambda s: rebuild_from_dataset(out, s))
    assert "state format 3 does not match 4" in caplog.text
    assert crawler.stats.get_value("dedup/state/corrupt") == 1 and crawler.stats.get_value("dedup/state/rebuilt/corrupt") == 1
    assert st.meta("format") == "4" and st.counts()["articles"] == sum(1 for r in demo_records() if r.table == "articles")
    assert len(list(path.parent.glob("dedup.sqlite.broken-*"))) == 1  # the old file kept for inspection


def test_shared_signatures_and_representative_keys(tmp_path):
    """Records with one signature share its row (and band rows) while any of them carries it; the bucket cap
    still counts records, not signatures; representatives stored as row keys read back as their ids, also
    when the representative is written after its duplicates, or never (then its whole id is kept)."""
    from datetime import datetime, timedelta, timezone

    st = SQLiteDedupStore(tmp_path / "s.sqlite", mh.PARAMS)
    sig = mh.text_signature("one two three four five six seven eight nine ten eleven")
    blob, keys = mh.to_bytes(sig), mh.band_keys(sig)
    rep, ghost = "f" * 32, "e" * 32  # the representative sorts after its duplicates; ghost is never written
    dups = [SeenDoc(f"{i:032x}", "hd", 1, rep, rep, None, "http://s/c/", "r1", blob) for i in range(3)]
    lone = SeenDoc("d" * 32, "hx", 1, ghost, ghost, None, "", "r1", None)
    st.apply("r1", {"comments": [(d, keys) for d in dups] + [(lone, [])]
                    + [(SeenDoc(rep, "hr", 1, rep, rep, None, "", "r1", blob), keys)]})
    assert st.db.execute("SELECT count(*), sum(refs) FROM sigs").fetchone() == (1, 4)
    assert st.db.execute("SELECT count(*) FROM bands").fetchone()[0] == len({k >> 32 for k in keys})
    got = st.get("comments", [d.id for d in dups] + [rep, lone.id])
    assert [got[d.id].rep_id for d in dups] == [rep] * 3 and got[rep].rep_id == rep and got[lone.id].rep_id == ghost
    assert st.db.execute("SELECT typeof(rep) FROM docs WHERE rep IS NOT NULL GROUP BY 1 ORDER BY 1").fetchall() == [
        ("blob",), ("integer",)]  # the ghost's id in full, the written representative by its key
    assert sorted(d.id for d in st.by_bands("comments", keys)) == sorted([d.id for d in dups] + [rep])
    assert st.by_bands("comments", keys, max_bucket=3) == [] and len(st.by_bands("comments", keys, max_bucket=4)) == 4
    st.apply("r2", {"comments": [(SeenDoc(d.id, "hd2", 2, d.id, None, None, "", "r2", None), []) for d in dups]})
    assert st.db.execute("SELECT count(*), sum(refs) FROM sigs").fetchone() == (1, 1)  # one record still has it
    assert [d.id for d in st.by_bands("comments", keys, max_bucket=1)] == [rep]
    assert st.prune(datetime.now(timezone.utc) + timedelta(seconds=1)) == 1
    assert st.db.execute("SELECT count(*) FROM sigs").fetchone()[0] == st.db.execute(
        "SELECT count(*) FROM bands").fetchone()[0] == 0  # no record carries it: gone with its band rows


def test_a_commit_that_grows_the_file_compacts_it_and_small_ones_do_not(tmp_path):
    """VACUUM after a commit that grew the file by a quarter since the last one (crawler/state/vacuum.py): the
    answers are the same, the file is no larger; a small later commit leaves the file alone."""
    from crawler.state.vacuum import compact_if_grown

    st = SQLiteDedupStore(tmp_path / "s.sqlite", mh.PARAMS)
    docs = [(SeenDoc(f"{i * 7919 % 4001:032x}", f"{i:032x}", 1, "", None, None, f"http://s/{i}/", "r1"), [])
            for i in range(4000)]
    st.apply("r1", {"comments": docs})  # below MIN_PAGES (1 MB): compacted here by hand
    before = st.get("comments", [d.id for d, _ in docs[:50]])
    pages = st.db.execute("PRAGMA page_count").fetchone()[0]
    assert compact_if_grown(st.db, min_pages=1)
    assert st.db.execute("PRAGMA page_count").fetchone()[0] <= pages
    assert st.meta("vacuumed_pages") == str(st.db.execute("PRAGMA page_count").fetchone()[0])
    assert st.get("comments", [d.id for d, _ in docs[:50]]) == before
    st.apply("r2", {"comments": docs[:10]})
    assert not compact_if_grown(st.db, min_pages=1)  # grew by less than a quarter
