"""The revisit planner on a real crawl state (SQLite): what it asks for, what a 304/404 means, what it remembers.
Two runs: the first records a page and its thread, its delta is applied as a commit would; the second plans
from that state. Scrapy requests and responses are real objects; no spider is involved."""
from __future__ import annotations

import json

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse, Request

from crawler.comments.base import ThreadRef
from crawler.items import ArticleRecord, CommentRecord, ThreadRecord
from crawler.state.revisits import TOMBSTONE_PARSER, KnownThread, RevisitPlanner
from crawler.state.run_context import RunContext

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
PAGE = "http://127.0.0.1:8000/news/a-story"
API = "http://127.0.0.1:8000/wp-json/wp/v2/comments?post=7"


class Stats:
    def __init__(self):
        self.values = Counter()

    def inc_value(self, key, n=1):
        self.values[key] += n


@dataclass
class Collected:  # what a spider gathers for a thread (the attributes the planner reads)
    ref: ThreadRef
    article_id: str
    page_url: str
    thread_url: str
    source: str = "api"
    first_requests: list[str] = field(default_factory=list)


def planner(tmp_path: Path, clock: datetime) -> RevisitPlanner:
    ctx = RunContext(tmp_path / "out", f"run-{clock:%H%M%S}").open()
    return RevisitPlanner(ctx, Stats(), clock)


def first_run(tmp_path: Path) -> None:
    p = planner(tmp_path, T0)
    req = p.request(PAGE, callback=print, meta={"discovered_by": "feed"})
    assert req.headers.get("If-None-Match") is None and "revisit" not in req.meta
    article = ArticleRecord(article_id="a1", url=PAGE, canonical_url=PAGE, site="127.0.0.1", title="A story",
                            body_text="text", published_at=T0 - timedelta(hours=2))
    response = HtmlResponse(PAGE, body=b"<html></html>", headers={"ETag": '"v1"'}, request=Request(PAGE))
    p.record_page(response, article)
    col = Collected(ThreadRef("wordpress", "127.0.0.1", "7", PAGE), "a1", PAGE, API, first_requests=[API])
    thread = ThreadRecord(thread_id="t1", platform="wordpress", article_id="a1", url=API, native_thread_id="7",
                          comment_count_collected=2, is_complete=True)
    rows = [CommentRecord(comment_id=f"c{i}", thread_id="t1", article_id="a1", platform="wordpress",
                          native_id=str(i), body_text="hi") for i in (1, 2)]
    p.record_thread(col, thread, rows)
    assert p.release_tombstones() == []  # nothing known yet: no tombstones
    assert p.delta.pages[PAGE]["etag"] == '"v1"' and p.delta.pages[PAGE]["comment_count"] == 2
    p.ctx.state.apply(p.delta, p.ctx.run_id)
    # a commit also writes the run's manifest: the state then matches the dataset (crawler/state/consistency.py)
    (p.ctx.output / "_manifests").mkdir(parents=True, exist_ok=True)
    (p.ctx.output / "_manifests" / f"{p.ctx.run_id}.json").write_text(json.dumps({"run_id": p.ctx.run_id}))
    p.ctx.close()


def test_known_pages_are_asked_for_conditionally_once_and_only_when_due(tmp_path):
    first_run(tmp_path)
    early = planner(tmp_path, T0 + timedelta(minutes=10))
    assert early.request(PAGE, print, {}) is None and early.stats.values["state/skip/not_due"] == 1
    assert list(early.due_requests({"article": print, "discussion": print})) == []
    early.ctx.close()

    later = planner(tmp_path, T0 + timedelta(days=2))
    due = list(later.due_requests({"article": print, "discussion": repr}))
    assert [r.url for r in due] == [PAGE] and due[0].callback is print
    assert due[0].headers["If-None-Match"] == b'"v1"' and due[0].meta["revisit"] is True
    assert 304 in due[0].meta["handle_httpstatus_list"] and due[0].meta["discovered_by"] == "revisit"
    assert later.request(PAGE, print, {}) is None  # the feed names it again: one request
    assert later.request(PAGE, print, {}, force=True) is None
    assert later.stats.values["state/revisit/requested"] == 1
    assert later.known_comment_count(PAGE) == 2 and later.thread_known("t1") and not later.thread_known("t9")
    later.ctx.close()


def test_a_304_keeps_the_page_and_hands_back_its_api_threads(tmp_path):
    first_run(tmp_path)
    p = planner(tmp_path, T0 + timedelta(days=2))
    threads = p.not_modified(PAGE)
    assert threads == [KnownThread("wordpress", "127.0.0.1", "7", PAGE, "a1", PAGE, [API])]
    assert p.stats.values["state/not_modified"] == 1
    assert p.delta.pages[PAGE]["visits"] == 1 and p.delta.pages[PAGE]["gone"] == 0
    p.ctx.close()


def test_a_404_on_a_written_page_is_a_tombstone_and_on_an_unknown_page_nothing(tmp_path):
    first_run(tmp_path)
    p = planner(tmp_path, T0 + timedelta(days=2))
    tomb = p.gone(PAGE, 404)
    assert tomb.is_tombstone and tomb.article_id == "a1" and tomb.canonical_url == PAGE
    assert tomb.parser == TOMBSTONE_PARSER and tomb.body_text == ""
    assert p.delta.pages[PAGE]["gone"] == 1 and p.delta.pages[PAGE]["next_visit"] is None
    assert p.gone("http://127.0.0.1:8000/never-seen", 410) is None
    assert p.stats.values["state/tombstone/articles"] == 1
    assert p.stats.values["httperror/response_ignored_status_count/410"] == 1
    p.ctx.close()


def test_a_complete_revisit_of_a_thread_tombstones_vanished_comments(tmp_path):
    first_run(tmp_path)
    p = planner(tmp_path, T0 + timedelta(days=2))
    col = Collected(ThreadRef("wordpress", "127.0.0.1", "7", PAGE), "a1", PAGE, API, first_requests=[API])
    thread = ThreadRecord(thread_id="t1", platform="wordpress", article_id="a1", url=API, native_thread_id="7",
                          comment_count_collected=1, is_complete=True)
    kept = [CommentRecord(comment_id="c1", thread_id="t1", article_id="a1", platform="wordpress", native_id="1")]
    p.record_thread(col, thread, kept)
    assert p.stats.values["state/tombstone/comments"] == 0  # held until every thread of the run is seen
    tombs = p.release_tombstones()
    assert [(t.comment_id, t.is_tombstone, t.is_deleted) for t in tombs] == [("c2", True, True)]
    assert p.stats.values["state/tombstone/comments"] == 1
    assert p.delta.pages[PAGE]["comment_count"] == 1  # the count changed: the schedule moves
    p.ctx.close()


def test_without_a_crawl_state_every_page_is_new(tmp_path):
    ctx = RunContext(tmp_path / "out", "r", state_enabled=False).open()
    p = RevisitPlanner(ctx, Stats(), T0)
    assert p.request(PAGE, print, {}).url == PAGE and list(p.due_requests({"article": print})) == []
    assert p.gone(PAGE, 404) is None and not p.thread_known("t1") and p.known_comment_count(PAGE) is None
    ctx.close()


def _second_thread_run(tmp_path: Path) -> None:
    """After first_run: a second page whose thread t2 holds comment 3 (native id 3, comment id c3)."""
    p = planner(tmp_path, T0 + timedelta(hours=1))
    page2, api2 = PAGE + "-2", API.replace("post=7", "post=8")
    col = Collected(ThreadRef("wordpress", "127.0.0.1", "8", page2), "a2", page2, api2, first_requests=[api2])
    thread = ThreadRecord(thread_id="t2", platform="wordpress", article_id="a2", url=api2, native_thread_id="8",
                          comment_count_collected=1, is_complete=True)
    p.record_thread(col, thread, [CommentRecord(comment_id="c3", thread_id="t2", article_id="a2",
                                                platform="wordpress", native_id="3", body_text="yo")])
    p.ctx.state.apply(p.delta, p.ctx.run_id)
    (p.ctx.output / "_manifests" / f"{p.ctx.run_id}.json").write_text(json.dumps({"run_id": p.ctx.run_id}))
    p.ctx.close()


@pytest.mark.parametrize("order", ["left_first", "arrived_first"])
def test_a_comment_that_moved_to_another_thread_gets_no_tombstone_whichever_thread_comes_first(tmp_path, order):
    """Comment ids are per platform and host, not per thread: comment 2 left t1 and is live in t2 now (comment 3
    left t2 and is live nowhere). Whichever thread's answer comes first, the run's output is the same: no
    tombstone for the moved comment, one for the deleted one; the moved one is no longer a member of t1."""
    first_run(tmp_path)
    _second_thread_run(tmp_path)
    p = planner(tmp_path, T0 + timedelta(days=2, minutes=1))  # (its run id: the clock's time of day)
    page2, api2 = PAGE + "-2", API.replace("post=7", "post=8")
    col1 = Collected(ThreadRef("wordpress", "127.0.0.1", "7", PAGE), "a1", PAGE, API, first_requests=[API])
    col2 = Collected(ThreadRef("wordpress", "127.0.0.1", "8", page2), "a2", page2, api2, first_requests=[api2])
    t1 = ThreadRecord(thread_id="t1", platform="wordpress", article_id="a1", url=API, native_thread_id="7",
                      comment_count_collected=1, is_complete=True)
    t2 = ThreadRecord(thread_id="t2", platform="wordpress", article_id="a2", url=api2, native_thread_id="8",
                      comment_count_collected=1, is_complete=True)
    left = (col1, t1, [CommentRecord(comment_id="c1", thread_id="t1", article_id="a1", platform="wordpress",
                                     native_id="1")])
    arrived = (col2, t2, [CommentRecord(comment_id="c2", thread_id="t2", article_id="a2", platform="wordpress",
                                        native_id="2", body_text="moved here")])
    for args in ([left, arrived] if order == "left_first" else [arrived, left]):
        p.record_thread(*args)
    tombs = p.release_tombstones()
    assert [(t.comment_id, t.thread_id) for t in tombs] == [("c3", "t2")]
    assert p.stats.values["state/tombstone/comments_moved"] == 1 and p.stats.values["state/tombstone/comments"] == 1
    p.ctx.state.apply(p.delta, p.ctx.run_id)
    assert p.ctx.state.thread_comments("t1") == {"1": "c1"}
    assert p.ctx.state.thread_comments("t2") == {"2": "c2"}
    p.ctx.close()
