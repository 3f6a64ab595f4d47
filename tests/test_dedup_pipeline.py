"""The real dedup steps and the real Parquet exporter, fed with records built from the demo-site generator.

``run_records`` drives the steps the way Scrapy's scraper does: each record through the pipeline chain,
a DropItem ends its way, a surviving record fires ``item_scraped``; ``close_spider`` of the exporter
commits the files and then the dedup state. The Parquet files are read back with pyarrow.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyarrow.dataset as ds
from scrapy import signals
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from crawler.demo_site.site import DemoSite
from crawler.ids import article_id, comment_id, stable_hash
from crawler.items import ArticleRecord, CommentRecord
from crawler.urls import canonical, site_of
from pipelines.dedup.exact import ExactDedupPipeline
from pipelines.dedup.near import NearDedupPipeline
from pipelines.dedup.seen import SeenBeforePipeline
from pipelines.parquet import ParquetExportPipeline

T0 = datetime(2026, 11, 25, 7, 0, tzinfo=timezone.utc)
UPDATE = ("Update: the operator said later that withdrawals had resumed for every account and that a "
          "full incident report would follow next week.")
STEPS = (ExactDedupPipeline, SeenBeforePipeline, NearDedupPipeline, ParquetExportPipeline)


def art(url: str, body: str, published: datetime, run: str = "r1", title: str = "T") -> ArticleRecord:
    cu = canonical(url)
    fetched = T0 + timedelta(days=int(run[1:]) - 1)
    return ArticleRecord(article_id=article_id(cu), url=url, canonical_url=cu, site=site_of(cu), title=title,
                         body_text=body, published_at=published, fetched_at=fetched, valid_from=fetched,
                         run_id=run, parser="test@1", word_count=len(body.split()))


def comment(native: str, body: str, minute: int, run: str = "r1", host: str = "http://a.example") -> CommentRecord:
    fetched = T0 + timedelta(days=int(run[1:]) - 1)
    return CommentRecord(comment_id=comment_id("wordpress", host, native), thread_id=stable_hash("t"),
                         article_id=article_id(host + "/"), platform="wordpress", native_id=native, body_text=body,
                         published_at=T0 + timedelta(minutes=minute), source_url=f"{host}/c?page=1",
                         fetched_at=fetched, valid_from=fetched, run_id=run, parser="test@1")


def demo_records(run: str = "r1") -> list:
    """Stories of the demo site, an exact copy and an edited copy on a partner site, and comments."""
    site = DemoSite(n_articles=6, comments_per_article=1)
    out = [art(f"http://a.example{a.path}", "\n\n".join(a.paragraphs), a.published, run, a.title)
           for a in site.articles]
    first = site.articles[0]
    body = "\n\n".join(first.paragraphs)
    out.append(art(f"http://b.example/partner{first.path}", body, first.published + timedelta(days=1), run))
    edited = first.paragraphs[:3] + [UPDATE] + first.paragraphs[3:]
    out.append(art(f"http://c.example/news{first.path}", "\n\n".join(edited), first.published - timedelta(hours=1),
                   run))
    long_text = " ".join(f"word{i}" for i in range(40)) + " which is a long comment posted twice"
    out += [comment("1", long_text, 5, run), comment("2", long_text.upper(), 1, run),
            comment("3", long_text + " with an edit", 9, run), comment("4", "+1", 2, run), comment("5", "+1", 3, run)]
    return out


def run_records(output: Path, records: list, run_id: str, commit: bool = True, **settings):
    crawler = get_crawler(settings_dict={"OUTPUT_DIR": str(output), **settings})
    crawler.stats.set_value("run/id", run_id)
    steps = [cls.from_crawler(crawler) for cls in STEPS]
    steps[-1].open_spider()
    for rec in records:
        try:
            for s in steps:
                rec = s.process_item(rec)
        except DropItem as exc:
            crawler.signals.send_catch_log(signals.item_dropped, item=rec, response=None, exception=exc, spider=None)
            continue
        crawler.signals.send_catch_log(signals.item_scraped, item=rec, response=None, spider=None)
    if commit:
        steps[-1].close_spider()
    assert not any(crawler.dedup_labeler.pending.values())  # every record was confirmed or forgotten
    return crawler


def rows(output: Path, table: str) -> list[dict]:
    if not (output / table).is_dir():
        return []
    return ds.dataset(output / table, format="parquet", partitioning="hive").to_table().to_pylist()


def labels_by_url(output: Path) -> dict:
    return {r["canonical_url"]: (r["duplicate_of"], r["duplicate_reason"], r["cluster_id"])
            for r in rows(output, "articles")}


def test_same_records_in_any_order_give_the_same_clusters(tmp_path):
    recs = demo_records()
    results = []
    for seed in range(3):
        shuffled = recs[:]
        random.Random(seed).shuffle(shuffled)
        out = tmp_path / f"o{seed}"
        run_records(out, shuffled, f"run{seed}")
        results.append((labels_by_url(out), sorted((r["comment_id"], r["duplicate_of"], r["duplicate_reason"])
                                                   for r in rows(out, "comments"))))
    assert results[0] == results[1] == results[2]
    arts = results[0][0]
    original, partner, edited = (canonical(f"http://{h}{p}") for h, p in
                                 [("a.example", DemoSite(1, 1).articles[0].path),
                                  ("b.example/partner", DemoSite(1, 1).articles[0].path),
                                  ("c.example/news", DemoSite(1, 1).articles[0].path)])
    rep = article_id(edited)  # published an hour before the original: earliest wins
    assert arts[edited] == (None, None, rep)
    assert arts[original] == (rep, "near", rep) and arts[partner] == (rep, "near", rep)
    assert sum(v[0] is not None for v in arts.values()) == 2
    by_native = {r[0]: r for r in results[0][1]}
    assert by_native[comment_id("wordpress", "http://a.example", "1")][1:] == (
        comment_id("wordpress", "http://a.example", "2"), "content")  # posted earlier, same normalised text
    assert by_native[comment_id("wordpress", "http://a.example", "3")][2] == "near"
    assert by_native[comment_id("wordpress", "http://a.example", "5")][1] is None  # "+1" is never a duplicate


def test_second_run_skips_unchanged_versions_changed_and_points_at_first_run(tmp_path):
    out = tmp_path / "ds"
    run_records(out, demo_records("r1"), "r1")
    first = {r["article_id"]: r for r in rows(out, "articles")}
    site = DemoSite(n_articles=6, comments_per_article=1)
    changed = site.articles[2]
    again = demo_records("r2")
    for rec in again:
        if isinstance(rec, ArticleRecord) and rec.canonical_url.endswith(changed.path):
            rec.body_text += "\n\nCorrection: an earlier version of this story misstated the exchange's name."
    newcomer = site.articles[0]  # republished by a new site, dated earlier than everything before
    again.append(art(f"http://d.example/repost{newcomer.path}", "\n\n".join(newcomer.paragraphs),
                     newcomer.published - timedelta(days=3), "r2"))
    crawler = run_records(out, again, "r2")
    stats = crawler.stats.get_stats()
    n_articles = sum(isinstance(r, ArticleRecord) for r in again) - 1  # without the new repost
    assert stats["dedup/articles/unchanged_skipped"] == n_articles - 1  # all but the changed one
    assert stats["dedup/comments/unchanged_skipped"] == 5
    second = [r for r in rows(out, "articles") if r["run_id"] == "r2"]
    assert len(second) == 2  # the changed story and the new repost; nothing unchanged rewritten
    by_url = {r["canonical_url"]: r for r in second}
    new_version = next(r for u, r in by_url.items() if u.endswith(changed.path))
    assert new_version["version"] == 2 and new_version["duplicate_of"] is None
    assert first[new_version["article_id"]]["version"] == 1
    repost = next(r for u, r in by_url.items() if "d.example" in u)
    first_rep = next(r for r in first.values() if r["duplicate_of"] is None and r["cluster_id"])
    assert repost["duplicate_of"] == first_rep["article_id"] == repost["cluster_id"]  # a row of the first run
    assert first_rep["run_id"] == "r1" and repost["duplicate_reason"] == "near"
    assert not rows(out, "comments") or all(r["run_id"] == "r1" for r in rows(out, "comments"))


def test_a_run_that_never_committed_marks_nothing_as_seen(tmp_path):
    out = tmp_path / "ds"
    run_records(out, demo_records("r1"), "r1", commit=False)  # "crash": files never committed
    crawler = run_records(out, demo_records("r2"), "r2")
    assert crawler.stats.get_value("dedup/articles/unchanged_skipped") is None
    n_articles = sum(isinstance(r, ArticleRecord) for r in demo_records())
    assert {r["run_id"] for r in rows(out, "articles")} == {"r2"} and len(rows(out, "articles")) == n_articles


def test_drop_duplicates_setting_names_the_rows_to_leave_out(tmp_path):
    crawler = run_records(tmp_path / "ds", demo_records(), "r1", DEDUP_DROP_DUPLICATES=True)
    lab = crawler.dedup_labeler
    assert len(lab.drop_ids("articles")) == 2 and crawler.stats.get_value("dedup/articles/dropped_duplicates") == 2
    off = run_records(tmp_path / "ds2", demo_records(), "r1").dedup_labeler
    assert off.drop_ids("articles") == set() and len(off.labels("articles")) == 3


def run_batched(output: Path, records: list, run_id: str, **settings):
    """As ``run_records``, but the comments travel as one RecordBatch (as a thread does in a crawl)."""
    from crawler.items import CommentRecord, RecordBatch

    crawler = get_crawler(settings_dict={"OUTPUT_DIR": str(output), **settings})
    crawler.stats.set_value("run/id", run_id)
    steps = [cls.from_crawler(crawler) for cls in STEPS]
    steps[-1].open_spider()
    singles = [r for r in records if not isinstance(r, CommentRecord)]
    items = singles + [RecordBatch([r for r in records if isinstance(r, CommentRecord)])]
    for item in items:
        try:
            for s in steps:
                item = s.process_item(item)
        except DropItem as exc:
            crawler.signals.send_catch_log(signals.item_dropped, item=item, response=None, exception=exc, spider=None)
            continue
        crawler.signals.send_catch_log(signals.item_scraped, item=item, response=None, spider=None)
    steps[-1].close_spider()
    assert not any(crawler.dedup_labeler.pending.values())
    return crawler


def test_a_batch_of_comments_gives_the_rows_of_comments_one_by_one(tmp_path):
    def comparable(out):
        keep = ("comment_id", "content_hash", "duplicate_of", "duplicate_reason", "cluster_id", "version")
        return sorted(tuple(r[k] for k in keep) for r in rows(out, "comments"))

    one = run_records(tmp_path / "one", demo_records(), "r1")
    batched = run_batched(tmp_path / "batch", demo_records(), "r1")
    assert comparable(tmp_path / "one") == comparable(tmp_path / "batch")
    assert labels_by_url(tmp_path / "one") == labels_by_url(tmp_path / "batch")
    assert batched.stats.get_value("dedup/comments/signed") == one.stats.get_value("dedup/comments/signed") == 3


def test_a_batch_stores_the_signature_bytes_and_band_keys_of_one_by_one_signing(tmp_path, monkeypatch):
    """The batch path computes each signature's bytes and band keys for the whole batch at once; what reaches
    the run's scratch file is what signing one by one stores (the real ``RunDocs.add`` runs, its calls are
    recorded on the way)."""
    from pipelines.dedup import minhash as mh
    from pipelines.dedup.run_docs import RunDocs

    stored: dict[str, list] = {"one": [], "batch": []}
    phase = ["one"]
    real_add = RunDocs.add

    def recording_add(self, table, rid, chash, published, order_url, version, exact, sig, band_keys=()):
        band_keys = list(band_keys)
        stored[phase[0]].append((table, rid, sig, band_keys))
        return real_add(self, table, rid, chash, published, order_url, version, exact, sig, band_keys)

    monkeypatch.setattr(RunDocs, "add", recording_add)
    run_records(tmp_path / "one", demo_records(), "r1")
    phase[0] = "batch"
    run_batched(tmp_path / "batch", demo_records(), "r1")
    signed = [row for row in stored["batch"] if row[2] is not None]
    assert len([row for row in signed if row[0] == "comments"]) == 3
    assert sorted(stored["one"]) == sorted(stored["batch"])
    for _, _, sig, bands in signed:
        assert bands == mh.band_keys(mh.from_bytes(sig)) and len(bands) == mh.BANDS


def test_a_record_dropped_or_failing_in_a_batch_leaves_the_others(tmp_path):
    from crawler.items import RecordBatch
    from pipelines.validate import ValidatePipeline

    crawler = get_crawler(settings_dict={"OUTPUT_DIR": str(tmp_path)})
    dropped, failed = [], []
    crawler.signals.connect(lambda item, **kw: dropped.append(item), signal=signals.item_dropped, weak=False)
    crawler.signals.connect(lambda item, **kw: failed.append(item), signal=signals.item_error, weak=False)
    validate = ValidatePipeline.from_crawler(crawler)
    good, bad, odd = comment("1", "fine words", 1), comment("2", "x", 2), comment("3", "y", 3)
    bad.comment_id = ""  # a required field missing: dropped with its reason
    odd.published_at = "not a datetime"  # the step raises on it: counted as a failure, the batch goes on
    batch = validate.process_item(RecordBatch([good, bad, odd]))
    assert batch.records == [good]
    assert dropped == [bad] and failed == [odd]
    stats = crawler.stats.get_stats()
    assert stats["pipeline/drop/validate/missing_comment_id"] == 1
    assert stats["pipeline/errors/validate"] == 1
    assert stats["pipeline/drop_errors"] == 1  # the missing field; the exporter counts failures (not here)


def test_failed_records_count_as_data_lost(tmp_path):
    """The exporter turns every item_error (a record, or a whole batch) into lost rows: `scrapy crawl` exits 3."""
    from twisted.python.failure import Failure

    from crawler.exitcodes import DATA_LOST, exit_code
    from crawler.items import RecordBatch

    crawler = get_crawler(settings_dict={"OUTPUT_DIR": str(tmp_path)})
    exporter = ParquetExportPipeline.from_crawler(crawler)  # held: signal receivers are weak references
    failure = Failure(RuntimeError("a step broke"))
    crawler.signals.send_catch_log(signals.item_error, item=comment("1", "a", 1), response=None, failure=failure)
    crawler.signals.send_catch_log(signals.item_error, item=RecordBatch([comment("2", "b", 2), comment("3", "c", 3)]),
                                   response=None, failure=failure)
    stats = crawler.stats.get_stats()
    assert stats["pipeline/drop_errors"] == 3
    assert exit_code({**stats, "export/committed": True})[0] == DATA_LOST
    assert exporter.stats is crawler.stats


def test_a_second_run_labels_the_same_whatever_the_order_its_records_arrive_in(tmp_path):
    """Cross-run clusters (representatives committed by run 1) and ties in the representative's order (same
    published_at, no published_at): run 2's records in two arrival orders give the same rows and labels."""
    long_text = " ".join(f"token{i}" for i in range(40)) + " a reply copied across threads"
    run1_text = " ".join(f"word{i}" for i in range(40)) + " which is a long comment posted twice"  # demo_records'
    results = []
    for seed in range(2):
        out = tmp_path / f"o{seed}"
        run_records(out, demo_records("r1"), "r1")
        again = demo_records("r2") + [comment("6", long_text, 7, "r2"), comment("7", long_text, 7, "r2"),
                                      comment("8", long_text + " again", 7, "r2", host="http://b.example")]
        undated = comment("9", long_text, 0, "r2", host="http://c.example")
        undated.published_at = None
        again += [undated, comment("10", run1_text, 0, "r2", host="http://c.example")]
        random.Random(seed).shuffle(again)
        run_records(out, again, f"r2-{seed}")
        results.append({t: sorted((r[k], r["version"], r["duplicate_of"], r["duplicate_reason"], r["cluster_id"])
                                  for r in rows(out, t)) for t, k in (("articles", "article_id"),
                                                                      ("comments", "comment_id"))})
    assert results[0] == results[1]
    labelled = [r for r in results[0]["comments"] if r[2] is not None]
    first = comment_id("wordpress", "http://a.example", "2")  # run 1's representative of that text
    assert (comment_id("wordpress", "http://c.example", "10"), 1, first, "content", first) in labelled
    six, seven = comment_id("wordpress", "http://a.example", "6"), comment_id("wordpress", "http://a.example", "7")
    rep, other = min(six, seven), max(six, seven)  # same minute, same page: the smaller stable id wins
    assert (other, 1, rep, "content", rep) in labelled
    assert (comment_id("wordpress", "http://c.example", "9"), 1, rep, "content", rep) in labelled  # undated: last
    assert (comment_id("wordpress", "http://b.example", "8"), 1, rep, "near", rep) in labelled
