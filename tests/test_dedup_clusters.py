"""Pure-function tests: clusters, representatives and reasons, in any arrival order."""
from __future__ import annotations

import random

from pipelines.dedup.clusters import Key, assign, components, exact_edges


def key(i, h, day=None, url=None):
    return Key(i, h, None if day is None else day * 86400.0, url or f"http://s/{i}/")


def test_representative_is_earliest_then_url_then_id():
    cur = {k.id: k for k in [key("b", "h", 3), key("a", "h", 2, "http://z/"), key("c", "h", None, "http://a/")]}
    labels = assign(cur, {}, exact_edges(cur.values()))
    assert labels == {"a": (None, None, "a"), "b": ("a", "content", "a"), "c": ("a", "content", "a")}
    tie = {k.id: k for k in [key("y", "h", 1, "http://b/"), key("x", "h", 1, "http://c/"),
                             key("z", "h", 1, "http://b/")]}
    assert assign(tie, {}, exact_edges(tie.values()))["z"] == ("y", "content", "y")  # same date and URL: id


def test_near_edges_give_reason_near_and_join_transitively():
    cur = {k.id: k for k in [key("o", "h1", 1), key("e", "h2", 2), key("x", "h1", 3), key("lone", "h9", 0)]}
    labels = assign(cur, {}, [("e", "o")] + exact_edges(cur.values()))
    assert labels["o"] == (None, None, "o")
    assert labels["e"] == ("o", "near", "o") and labels["x"] == ("o", "content", "o")
    assert "lone" not in labels


def test_labels_do_not_depend_on_order_of_records_or_edges():
    rng = random.Random(4)
    keys = [key(f"d{i}", f"h{i % 7}", rng.choice([None, 1, 2, 3]), f"http://s{rng.randrange(3)}/") for i in range(60)]
    near = [(f"d{rng.randrange(60)}", f"d{rng.randrange(60)}") for _ in range(25)]
    expected = assign({k.id: k for k in keys}, {}, exact_edges(keys) + near)
    assert any(v[1] == "near" for v in expected.values()) and any(v[1] == "content" for v in expected.values())
    for seed in range(5):
        r = random.Random(seed)
        ks, es = keys[:], [(b, a) if r.random() < 0.5 else (a, b) for a, b in near]
        r.shuffle(ks)
        r.shuffle(es)
        assert assign({k.id: k for k in ks}, {}, es + exact_edges(ks)) == expected


def test_committed_representative_stays_even_when_a_new_record_is_earlier():
    cur = {"new": key("new", "h", 1, "http://a/")}
    committed = {"old": key("old", "h", 5)}
    assert assign(cur, committed, [("new", "old")]) == {"new": ("old", "content", "old")}
    # two committed clusters bridged by a new record: the earlier committed representative wins
    committed = {"r1": key("r1", "h1", 4), "r2": key("r2", "h2", 2)}
    cur = {"n": key("n", "h3", 1)}
    assert assign(cur, committed, [("n", "r1"), ("n", "r2")]) == {"n": ("r2", "near", "r2")}


def test_new_version_of_a_committed_representative_stays_representative():
    cur = {"rep": key("rep", "h-new", 1), "copy": key("copy", "h-new", 2)}
    committed = {"rep": key("rep", "h-old", 1)}
    labels = assign(cur, committed, exact_edges(cur.values()))
    assert labels == {"rep": (None, None, "rep"), "copy": ("rep", "content", "rep")}


def test_components():
    assert components(["a", "b", "c", "d"], [("b", "a"), ("c", "b")]) == [["a", "b", "c"], ["d"]]
    assert components([], []) == []
