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
