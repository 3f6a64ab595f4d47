"""Extraction health: pure summaries and verdicts on synthetic data, history read from real manifest files,
and one real `scrapy crawl demo` whose seeded history makes it exit 5."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from datetime import datetime, timezone

from crawler.items import ArticleRecord, ThreadRecord
from pipelines.health import (HealthTracker, Thresholds, collapses, load_history, site_collapses)

from .conftest import REPO

NOW = datetime(2026, 11, 25, tzinfo=timezone.utc)


def healthy(**over) -> dict:
    s = {"pages": 40, "title_share": 1.0, "body_share": 0.98, "date_share": 0.95, "median_body_chars": 3000.0,
         "threads": 30, "comments_per_thread": 12.0}
    s.update(over)
    return s


HISTORY = {"news.example": [healthy(), healthy(body_share=1.0, median_body_chars=3400.0), healthy()]}


def test_tracker_summarises_articles_and_threads_per_site():
    t = HealthTracker()
    t.observe(ThreadRecord(article_id="a0", url="https://disqus.example/t/0", comment_count_collected=3))  # early
    for i, body in enumerate(["x" * 100, "y" * 300, "", "z" * 200]):
        t.observe(ArticleRecord(article_id=f"a{i}", site="news.example", title="T" if i != 1 else "",
                                body_text=body, published_at=NOW if i < 2 else None))
    t.observe(ArticleRecord(article_id="gone", site="news.example", is_tombstone=True))
    t.observe(ThreadRecord(article_id="a0", url="https://disqus.example/t/1", comment_count_collected=6))
    t.observe(ThreadRecord(article_id="a1", url="https://disqus.example/t/2", comment_count_collected=0))
    t.observe({"table": "threads", "article_id": "unknown", "url": "https://other.example/x",
               "comment_count_collected": 4})
    s = t.summary()
    assert s["news.example"] == {"pages": 4, "title_share": 0.75, "body_share": 0.75, "date_share": 0.5,
                                 "median_body_chars": 150.0, "threads": 3, "comments_per_thread": 3.0}
    assert s["other.example"]["threads"] == 1 and s["other.example"]["pages"] == 0
    assert "disqus.example" not in s and t.summary() == s  # summary() can be called twice


def test_no_history_gives_no_verdict():
    broken = healthy(body_share=0.0, title_share=0.0, median_body_chars=0.0, comments_per_thread=0.0)
    assert collapses({"news.example": broken}, {}) == []
    assert collapses({"news.example": broken}, {"news.example": HISTORY["news.example"][:1]}) == []  # 1 < 2


def test_genuine_body_collapse_is_reported():
    now = healthy(body_share=0.2, median_body_chars=40.0)
    msgs = collapses({"news.example": now}, HISTORY)
    assert len(msgs) == 2
    assert "body present on 20% of 40 pages" in msgs[0] and "history median 98%" in msgs[0]
    assert "median body 40 chars" in msgs[1]


def test_title_date_and_comment_collapses_are_reported():
    now = healthy(title_share=0.1, date_share=0.3, comments_per_thread=0.0)
    msgs = collapses({"news.example": now}, HISTORY)
    assert [m.split(": ")[1].split(" ")[0] for m in msgs] == ["title", "published_at", "0"]
    no_threads = healthy(threads=0, comments_per_thread=0.0)
    assert any("0 comments per thread" in m for m in collapses({"news.example": no_threads}, HISTORY))


def test_small_wobble_is_not_a_collapse():
    now = healthy(title_share=0.93, body_share=0.85, date_share=0.6, median_body_chars=1500.0,
                  comments_per_thread=2.0)
    assert collapses({"news.example": now}, HISTORY) == []


def test_sites_that_were_never_healthy_or_too_small_are_not_judged():
    weak_history = [healthy(date_share=0.4), healthy(date_share=0.5)]
    assert site_collapses("s", healthy(date_share=0.0), weak_history) == []  # dates never > 90 %
    assert site_collapses("s", healthy(pages=2, body_share=0.0), HISTORY["news.example"]) == []
    tiny_history = [healthy(pages=1), healthy(pages=2)]
    assert site_collapses("s", healthy(body_share=0.0), tiny_history) == []
    strict = Thresholds(min_history=4)
    assert site_collapses("s", healthy(body_share=0.0), HISTORY["news.example"], strict) == []


def test_load_history_reads_manifests_oldest_first(tmp_path):
    mdir = tmp_path / "_manifests"
    mdir.mkdir()
    for run, started, share in [("b", "2026-11-22T00:00:00+00:00", 0.5), ("a", "2026-11-21T00:00:00+00:00", 0.4),
                                ("c", "2026-11-23T00:00:00+00:00", 0.6)]:
        (mdir / f"{run}.json").write_text(json.dumps(
            {"run_id": run, "started_at": started, "health": {"s": healthy(body_share=share)}}))
    (mdir / "old.json").write_text(json.dumps({"run_id": "old", "started_at": "2026-01-01T00:00:00+00:00"}))
    (mdir / "compact-x.json").write_text(json.dumps({"partitions": []}))
    (mdir / "broken.json").write_text("{not json")
    assert [h["body_share"] for h in load_history(tmp_path)["s"]] == [0.4, 0.5, 0.6]
    assert [h["body_share"] for h in load_history(tmp_path, limit=2)["s"]] == [0.5, 0.6]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_real_crawl_against_a_seeded_history_exits_5(tmp_path):
    """The demo site is healthy, but a history of far longer bodies makes this run a body-length collapse."""
    from crawler.settings import ITEM_PIPELINES

    port = _free_port()
    site = f"127.0.0.1:{port}"
    mdir = tmp_path / "_manifests"
    mdir.mkdir()
    for i in range(2):
        (mdir / f"r{i}.json").write_text(json.dumps({"run_id": f"r{i}", "started_at": f"2026-11-2{i}T00:00:00+00:00",
                                                     "health": {site: healthy(median_body_chars=1e6)}}))
    pipes = dict(ITEM_PIPELINES, **{"pipelines.health.HealthPipeline": 50})
    cmd = [sys.executable, "-m", "scrapy", "crawl", "demo", "-s", f"OUTPUT_DIR={tmp_path}", "-s", "LOG_LEVEL=INFO",
           "-s", f"ITEM_PIPELINES={json.dumps(pipes)}", "-a", "articles=4", "-a", "comments=3", "-a", f"port={port}"]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert proc.returncode == 5, proc.stderr[-3000:]
    assert f"health collapse: {site}: median body" in proc.stderr
    assert "'health/collapses': 1" in proc.stderr
