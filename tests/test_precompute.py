"""What the language worker computes for the later steps (pipelines/precompute.py) equals what those steps compute
themselves, and a step takes it only for the very texts and language it was computed from."""
from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from crawler.ids import content_hash
from crawler.items import ArticleRecord, CommentRecord, RecordBatch, ThreadRecord
from pipelines import precompute
from pipelines.assets.matching import AssetMatcher
from pipelines.assets.registry import load_registry
from pipelines.assets.step import AssetTagPipeline, tag_records
from pipelines.dedup import minhash as mh
from pipelines.dedup.exact import ExactDedupPipeline
from pipelines.dedup.near import near_tokens
from pipelines.language.step import detect_and_precompute, detect_language, text_for

NOW = datetime(2026, 11, 25, tzinfo=timezone.utc)
LONG = ("The exchange said on Tuesday that withdrawals of bitcoin and ether would resume after the audit, "
        "and that users who moved their coins to cold storage before the freeze would not pay any fee at all.")
SPANISH = ("El precio de bitcoin subió con fuerza durante la noche mientras los inversores esperaban la decisión "
           "del banco central sobre los tipos de interés y la inflación de este año.")


def thread_batch() -> RecordBatch:
    def comment(i, body, **kw):
        return CommentRecord(comment_id=f"c{i}", thread_id="t1", article_id="a1", platform="wordpress",
                             native_id=str(i), body_text=body, run_id="r", fetched_at=NOW, **kw)

    records = [ThreadRecord(thread_id="t1", platform="wordpress", article_id="a1", url="http://x/a/#comments",
                            title="Is ETH still worth holding?", run_id="r", fetched_at=NOW),
               comment(1, LONG), comment(2, SPANISH), comment(3, "Nice one, sol looks cheap here."),
               comment(4, "+1"), comment(5, "", is_deleted=True), comment(6, LONG.upper()),
               comment(7, "gone", is_tombstone=True)]
    return RecordBatch(records=records, source_url="http://x/a/")


def article() -> ArticleRecord:
    return ArticleRecord(article_id="a1", url="http://x/a", canonical_url="http://x/a/", site="x",
                         title="Bitcoin miners move coins", summary="Miners sold BTC.", body_text=LONG + " " + SPANISH,
                         run_id="r", fetched_at=NOW)


def worker_answers(items: list, min_words: int = 30) -> list:
    """What the worker returns for these items (the worker's function, run here)."""
    return detect_and_precompute([[precompute.describe(r) for r in it.records] for it in items], 40, 2000, "",
                                 min_words)


def test_worker_values_equal_the_steps_own():
    items = [thread_batch(), RecordBatch(records=[article()])]
    answers = worker_answers(items, min_words=10)
    matcher = AssetMatcher(load_registry(None))
    for item, (languages, values) in zip(items, answers):
        expected = [detect_language(text_for(r)) if not isinstance(r, ThreadRecord) else None for r in item.records]
        assert languages == expected
        for r, answer in zip(item.records, languages):
            if answer is not None:
                r.language, r.language_score = answer
        tag_records(item.records, matcher)
        for r, (has_assets, assets, chash, norm_len, sig) in zip(item.records, values):
            assert has_assets and assets == r.assets
            if isinstance(r, ThreadRecord):
                assert chash is None and sig is None
                continue
            assert chash == content_hash(r.body_text)
            words = near_tokens(r, 10)
            assert (sig is not None) == (words is not None), r
            if sig is not None:
                one = mh.signature(mh.shingle_hashes(words))
                assert np.array_equal(sig[0], one) and sig[1] == mh.to_bytes(one) and sig[2] == mh.band_keys(one)
    thread = items[0].records
    assert "ETH" in thread[0].assets  # the title counts
    assert {r.language for r in thread[1:3]} == {"en", "es"}
    assert thread[7].assets is None and answers[0][1][7][:2] == (True, None)  # the tombstone keeps assets null


def test_no_registry_means_no_asset_tags_from_the_worker():
    answers = detect_and_precompute([[precompute.describe(r) for r in thread_batch().records]], 40, 2000, None, 30)
    assert all(v[0] is False for v in answers[0][1])


def test_steps_take_fresh_values_and_compute_stale_ones_themselves():
    """A marker the worker could never compute shows which side a value came from."""
    stats = MemoryStatsCollector(get_crawler())
    step = AssetTagPipeline(stats, AssetMatcher(load_registry(None)))
    batch = thread_batch()
    for r in batch.records:
        r.language = "en"
    marker = (True, ["MARKER"], "0" * 32, 999, None)
    precompute.attach(batch.records, [marker] * len(batch.records), 30)
    step.process_item(batch)
    assert all(r.assets == ["MARKER"] for r in batch.records)
    assert stats.get_value("pipeline/precomputed/assets") == len(batch.records)

    batch.records[1].body_text = LONG + " Solana too."  # a step changed one text after the worker read it
    step.process_item(batch)
    assert batch.records[1].assets != ["MARKER"] and "SOL" in batch.records[1].assets
    assert batch.records[2].assets != ["MARKER"]  # the whole thread is tagged again: its comments are one document

    exact = ExactDedupPipeline(stats)
    fresh, stale = batch.records[2], batch.records[1]
    exact.process_item(fresh)
    exact.process_item(stale)
    assert fresh.content_hash == "0" * 32 and stale.content_hash == content_hash(stale.body_text)

    other = batch.records[3]
    other.language = "es"  # the language changed after the worker: not fresh either
    assert precompute.of(other) is None and precompute.of(batch.records[4]) is not None
