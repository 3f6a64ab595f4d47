"""Reddit adapter: fixture cases (tests/fixtures/reddit/<case>/), credentials, article URL and a crawl of the
demo thread (more stubs, morechildren, continue-this-thread) end to end."""
from __future__ import annotations

import json
import logging

import pytest

from crawler.comments.base import ThreadRef
from crawler.comments.reddit import (OAUTH_ORIGIN, RedditAdapter, morechildren_urls, reddit_credentials,
                                     submission_article_url)
from crawler.demo_site.forum import REDDIT_LINK, entry_urls, forum_for
from tests.test_comments_realpages import crawl_thread, fetch, fixture_cases, run_fixture_case

CASES = fixture_cases("reddit")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fixture_case(case):
    run_fixture_case(case, lambda cfg: RedditAdapter())


def test_morechildren_batches_hold_at_most_100_ids():
    ids = [f"c{k}" for k in range(250)]
    urls = morechildren_urls("https://oauth.reddit.com", "abc", ids)
    assert [len(u.split("children=")[1].split(",")) for u in urls] == [100, 100, 50]
    assert all("link_id=t3_abc" in u and "api_type=json" in u for u in urls)


def test_submission_article_url():
    def thread(**sub):
        return json.dumps([{"kind": "Listing", "data": {"children": [{"kind": "t3", "data": sub}]}},
                           {"kind": "Listing", "data": {"children": []}}]).encode()

    assert submission_article_url(thread(is_self=False, url="https://news.example/a?x=1&amp;y=2",
                                         domain="news.example")) == "https://news.example/a?x=1&y=2"
    assert submission_article_url(thread(is_self=True, url="https://www.reddit.com/r/x/comments/1/a/",
                                         domain="self.x")) is None
    assert submission_article_url(thread(is_self=False, url="https://i.redd.it/pic.png", domain="i.redd.it")) is None
    assert submission_article_url(b"[]") is None


def test_credentials_from_settings_or_environment(monkeypatch, caplog):
    monkeypatch.delenv("REDDIT_CLIENT_ID", raising=False)
    monkeypatch.delenv("REDDIT_CLIENT_SECRET", raising=False)
    assert reddit_credentials({}) is None
    with caplog.at_level(logging.INFO, logger="crawler.comments.reddit"):
        adapter = RedditAdapter.from_settings({})
    assert not adapter.enabled
    assert any("disabled" in r.getMessage() and "REDDIT_CLIENT_ID" in r.getMessage() for r in caplog.records)
    assert all(r.levelno < logging.WARNING for r in caplog.records)  # a note, not an error
    live = ThreadRef("reddit", "reddit.com", "abc", "https://www.reddit.com/r/x/comments/abc/t/",
                     extra={"origin": "https://www.reddit.com"})
    assert adapter.first_requests(live) == []  # nothing asked of reddit.com without credentials
    demo = ThreadRef("reddit", "127.0.0.1:8000", "abc", "http://127.0.0.1:8000/r/x/comments/abc/t/",
                     extra={"origin": "http://127.0.0.1:8000"})
    assert adapter.first_requests(demo) == ["http://127.0.0.1:8000/comments/abc.json"]

    assert reddit_credentials({"REDDIT_CLIENT_ID": "id", "REDDIT_CLIENT_SECRET": "s"})["client_id"] == "id"
    monkeypatch.setenv("REDDIT_CLIENT_ID", "env-id")
    monkeypatch.setenv("REDDIT_CLIENT_SECRET", "env-secret")
    creds = reddit_credentials(None)
    assert creds["client_id"] == "env-id" and creds["client_secret"] == "env-secret"
    enabled = RedditAdapter.from_settings({})
    assert enabled.enabled and enabled.first_requests(live) == [f"{OAUTH_ORIGIN}/comments/abc.json"]


def test_listing_of_many_threads_is_not_a_thread():
    body = json.dumps({"kind": "Listing", "data": {"children": [
        {"kind": "t1", "data": {"id": "a", "parent_id": "t3_x", "link_id": "t3_x", "body": "hi"}}]}}).encode()
    adapter = RedditAdapter()
    assert adapter.detect("https://oauth.reddit.com/r/x/comments", body, {}) is None
    assert adapter.parse_page("https://oauth.reddit.com/r/x/comments", body, {},
                              ThreadRef("reddit", "reddit.com", "x", "")).error.startswith("not_a_thread")


# == the demo thread =====================================================================================
def test_demo_thread_is_collected_whole(demo):
    url = next(u for u in entry_urls(demo.base) if "/r/" in u)
    status, body, headers = fetch(url)
    adapter = RedditAdapter()
    ref = adapter.detect(url, body, headers)
    forum = forum_for(demo.site)
    assert ref.native_thread_id == REDDIT_LINK
    assert ref.article_url == f"{demo.base}{forum.reddit_article.path}" == submission_article_url(body)
    thread, rows, fetched, failed = crawl_thread(adapter, ref, url, headers)
    assert failed == []
    assert any("/api/morechildren.json" in u for u in fetched) and any("/_/" in u for u in fetched)
    comments = forum.reddit_comments
    assert len(rows) == len(comments) == thread.comment_count_reported and thread.is_complete
    by_cid = {r.comment_id: r for r in rows}
    for r in rows:
        c = next(c for c in comments if c.id == r.native_id)
        assert (by_cid[r.parent_id].native_id if r.parent_id else None) == c.parent
        assert r.is_deleted == (c.body in ("[deleted]", "[removed]"))
        assert r.score == c.score
    parents = {c.id: c.parent for c in comments}

    def depth(cid):
        return 0 if parents[cid] is None else depth(parents[cid]) + 1

    assert max(r.depth for r in rows) == max(depth(c) for c in parents)
    assert sum(r.edited_at is not None for r in rows) == sum(c.edited is not None for c in comments)
    assert any(r.quoted_text for r in rows)
