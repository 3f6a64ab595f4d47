"""Pure-function tests: tokens, shingles, MinHash signatures, LSH band keys, similarity."""
from __future__ import annotations

import random

import numpy as np

from crawler.demo_site.content import generate_article
from pipelines.dedup import minhash as mh


def story(i: int, seed: int) -> str:
    return "\n\n".join(generate_article(i, random.Random(seed), 0, [0]).paragraphs)


def test_tokens_ignore_case_punctuation_and_whitespace():
    assert mh.tokens("Bitcoin, ETF!  filing\n\nin  OSLO.") == ["bitcoin", "etf", "filing", "in", "oslo"]
    assert mh.tokens("") == []


def test_shingles_are_unique_kgrams_and_short_texts_get_one():
    words = "a b c d e f a b c d e".split()
    h = mh.shingle_hashes(words, k=5)
    assert h.size == 6  # 7 windows, "a b c d e" twice
    assert len(np.unique(h)) == h.size
    assert mh.shingle_hashes(["only", "three", "words"], k=5).size == 1
    assert mh.shingle_hashes([], k=5).size == 0
    assert not np.array_equal(mh.shingle_hashes("a b c d e".split()), mh.shingle_hashes("e d c b a".split()))


def test_signature_is_deterministic_and_independent_of_set_order():
    h = mh.shingle_hashes(mh.tokens(story(1, 1)))
    perm = h.copy()
    np.random.default_rng(0).shuffle(perm)
    assert np.array_equal(mh.signature(h), mh.signature(perm))
    assert mh.signature(h).dtype == np.uint32 and mh.signature(h).shape == (mh.NUM_PERM,)
    assert np.array_equal(mh.from_bytes(mh.to_bytes(mh.signature(h))), mh.signature(h))


def test_estimated_similarity_tracks_exact_jaccard():
    base = story(3, 10)
    variants = [base + "\n\nA new closing paragraph written for this test, with a dozen extra words in it.",
                "\n\n".join(base.split("\n\n")[:4]), story(3, 11), story(7, 12)]
    hb = mh.shingle_hashes(mh.tokens(base))
    for v in variants:
        hv = mh.shingle_hashes(mh.tokens(v))
        est = mh.similarity(mh.signature(hb), mh.signature(hv))
        assert abs(est - mh.jaccard(hb, hv)) < 0.15, (est, mh.jaccard(hb, hv))
    assert mh.similarity(mh.text_signature(base), mh.text_signature(base.upper())) == 1.0


def test_band_keys_shared_by_near_copies_not_by_other_stories():
    a = mh.text_signature(story(5, 1))
    b = mh.text_signature(story(5, 1) + " Update: withdrawals resumed later that day.")
    c = mh.text_signature(story(9, 2))
    ka, kb, kc = mh.band_keys(a), mh.band_keys(b), mh.band_keys(c)
    assert len(ka) == mh.BANDS and ka == mh.band_keys(a.copy())
    assert set(ka) & set(kb)
    assert not set(ka) & set(kc)
    assert all(-(2**63) <= k < 2**63 for k in ka)  # fits a SQLite INTEGER


def test_candidate_pairs_from_shared_buckets_and_capped_large_buckets():
    keys = np.array([[1, 10], [2, 10], [1, 11], [3, 12]], dtype=np.int64)  # rows 0-2 share keys, 3 alone
    assert mh.candidate_pairs(keys).tolist() == [[0, 1], [0, 2]]
    big = np.array([[7]] * 5, dtype=np.int64)
    assert len(mh.candidate_pairs(big, max_bucket=10)) == 10  # all pairs
    assert mh.candidate_pairs(big, max_bucket=4).tolist() == [[0, 1], [0, 2], [0, 3], [0, 4]]  # first row only
    assert mh.candidate_pairs(np.zeros((0, mh.BANDS), dtype=np.int64)).shape == (0, 2)


def test_verify_matches_pairwise_similarity():
    sigs = np.stack([mh.text_signature(story(i % 3, i // 3)) for i in range(5)] + [mh.text_signature(story(0, 0))])
    pairs = np.array([[a, b] for a in range(6) for b in range(a + 1, 6)])
    mask = mh.verify(sigs, pairs, 0.5, chunk=4)
    assert mask.tolist() == [mh.similarity(sigs[a], sigs[b]) >= 0.5 for a, b in pairs]
    assert 0 < mask.sum() < len(pairs)
    assert np.array_equal(mh.band_keys_matrix(sigs)[2], mh.band_keys(sigs[2]))


def test_batched_signatures_equal_one_by_one():
    import random

    rng = random.Random(5)
    vocab = [f"word{i}" for i in range(400)]
    lists = [[rng.choice(vocab) for _ in range(rng.randint(0, 90))] for _ in range(150)] + [[], ["one"], ["a"] * 12]
    together = mh.signatures(lists)
    assert together.shape == (len(lists), mh.NUM_PERM)
    for words, row in zip(lists, together):
        assert np.array_equal(row, mh.signature(mh.shingle_hashes(words)))


def test_band_keys_of_many_signatures_equal_one_by_one():
    """The commit computes the band keys of 2,000 signatures per pass (labels.band_keys_of): the same keys as
    the per-record band_keys, in the same order; keeps_signature says which rows state_row keeps a signature for."""
    from pipelines.dedup.labels import band_keys_of, keeps_signature, state_row

    sigs = [mh.to_bytes(mh.text_signature(story(i, i))) for i in range(40)]
    assert band_keys_of(sigs) == [mh.band_keys(mh.from_bytes(s)) for s in sigs]
    assert band_keys_of([]) == []
    for label, drop, kept in [(None, False, True), (("x", "near", "c"), False, True), (("x", "content", "c"), False, False),
                              (("x", "near", "c"), True, False), ((None, None, "c"), True, True)]:
        assert keeps_signature(label, sigs[0], drop) is kept
        row = state_row("id1", "h", 1, None, "u", label, sigs[0], "run", drop, band_keys_of([sigs[0]])[0])
        plain = state_row("id1", "h", 1, None, "u", label, sigs[0], "run", drop)
        assert row == plain
        assert (row is not None and row[0].sig is not None) is kept
    assert keeps_signature(None, None, False) is False
