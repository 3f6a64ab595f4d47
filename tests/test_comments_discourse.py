"""Discourse adapter: fixture cases (tests/fixtures/discourse/<case>/), the pieces (URLs, finalize, opening
post, RSS) and a crawl of the demo forum end to end."""
from __future__ import annotations

import json

import pytest

from crawler.comments.base import RawComment, ThreadRef
from crawler.comments.discourse import (PN, DiscourseAdapter, batch_urls, opening_post, topic_path,
                                        topic_rss_posts)
from crawler.demo_site.forum import DISCOURSE_SLUG, DISCOURSE_TOPIC_ID, REFUSED_SLUG, REFUSED_TOPIC_ID, forum_for
from tests.test_comments_realpages import crawl_thread, fetch, fixture_cases, run_fixture_case

CASES = fixture_cases("discourse")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fixture_case(case):
    run_fixture_case(case, lambda cfg: DiscourseAdapter())


def test_every_fixture_kind_is_present():
    names = {c.name for c in CASES}
    assert {"paging_cross_batch", "deep_nesting", "deleted_hidden", "quotes_edits", "empty_topic"} <= names


def test_topic_paths():
    assert topic_path("https://f.example/t/some-slug/57.json")["kind"] == "topic_json"
    assert topic_path("https://f.example/forum/t/57/posts.json") == {
        "prefix": "/forum", "slug": None, "id": "57", "pn": None, "kind": "posts_json"}
    p = topic_path("https://f.example/t/some-slug/57/12")
    assert (p["slug"], p["id"], p["pn"], p["kind"]) == ("some-slug", "57", "12", "html")
    assert topic_path("https://f.example/t/some-slug/57.rss")["kind"] == "rss"
    assert topic_path("https://f.example/latest.json") is None


def test_batches_hold_at_most_twenty_ids_in_stream_order():
    ids = [str(i) for i in range(100, 147)]
    urls = batch_urls("https://f.example/forum", "9", ids)
    assert len(urls) == 3
    got = [u.split("?", 1)[1].split("&") for u in urls]
    assert [len(g) for g in got] == [20, 20, 7]
    assert [x.split("=")[1] for g in got for x in g] == ids
    assert all(u.startswith("https://f.example/forum/t/9/posts.json?post_ids[]=") for u in urls)


def test_finalize_maps_post_numbers_across_batches():
    def c(nid, parent, order):
        return RawComment(native_id=nid, parent_native_id=parent, author_name="a", body_text="x", source_url="u",
                          order=order)

    raw = [c("11", None, 2), c("15", f"{PN}2", 5), c("19", f"{PN}9", 7), c("12", f"{PN}1", 3)]
    DiscourseAdapter.finalize(raw)
    assert [r.parent_native_id for r in raw] == [None, "11", f"{PN}9", None]  # 9 never arrived: kept by number


def test_opening_post_of_a_companion_topic(realpages):
    path = realpages / "comments" / "discourse__critfall-t-2144-posts.json"
    if not path.exists():
        pytest.skip("file absent")
    data = json.loads(path.read_bytes())
    first = next(p for p in data["post_stream"]["posts"] if p["post_number"] == 1)
    op = opening_post("https://discuss.criticalfallibilism.com/t/2144/posts.json", path.read_bytes())
    link = next(lc["url"] for lc in first["link_counts"] if not lc["internal"])
    assert op["syndicated_from"] == link
    assert op["native_id"] == str(first["id"])
    assert op["created_at"] is not None and op["author"]
    comments = DiscourseAdapter().parse_page("https://x/t/2144/posts.json", path.read_bytes(), {},
                                             ThreadRef("discourse", "x", "2144", "https://x/t/2144")).comments
    assert str(first["id"]) not in {c.native_id for c in comments}


def test_opening_post_absent_from_a_later_batch():
    body = json.dumps({"post_stream": {"posts": [{"id": 5, "post_number": 7, "cooked": "<p>x</p>"}]}, "id": 3})
    assert opening_post("https://f.example/t/3/posts.json", body.encode()) is None


# == the demo forum =======================================================================================
def test_demo_topic_is_collected_whole(demo):
    forum = forum_for(demo.site)
    posts = forum.topic.posts
    url = f"{demo.base}/forum/t/{DISCOURSE_SLUG}/{DISCOURSE_TOPIC_ID}"
    status, body, headers = fetch(url)
    assert status == 200
    adapter = DiscourseAdapter()
    ref = adapter.detect(url, body, headers)
    assert ref is not None and ref.native_thread_id == str(DISCOURSE_TOPIC_ID)
    thread, rows, fetched, failed = crawl_thread(adapter, ref, url, headers)
    assert failed == []
    n_batches = -(-(len(posts) - 20) // 20)
    assert len(fetched) == 1 + n_batches  # topic JSON + posts.json batches, each once
    assert len(rows) == len(posts) - 1 == thread.comment_count_collected == thread.comment_count_reported
    assert thread.is_complete
    assert not any(r.native_id.startswith(PN) for r in rows)  # every reply number resolved across batches
    by_number = {p.number: p for p in posts}
    by_cid = {r.comment_id: r for r in rows}
    for r in rows:
        post = next(p for p in posts if str(p.id) == r.native_id)
        want_parent = None if post.reply_to in (None, 1) else str(by_number[post.reply_to].id)
        assert (by_cid[r.parent_id].native_id if r.parent_id else None) == want_parent
        assert r.is_deleted == post.user_deleted  # a hidden (flagged) post is not a deleted one
        assert r.is_placeholder is False
        assert r.score == (None if post.user_deleted else post.likes)  # no likes: 0, not null
        assert (r.edited_at is not None) == (post.edited is not None)
    depth = {}
    for p in posts[1:]:
        depth[p.number] = 0 if p.reply_to in (None, 1) else depth[p.reply_to] + 1
    assert max(r.depth for r in rows) == max(depth.values())
    assert sum(1 for r in rows if r.quoted_text) == sum(1 for p in posts if p.html and "aside class=\"quote" in p.html)


def test_demo_topic_opening_post_is_the_reposted_article(demo):
    forum = forum_for(demo.site)
    art = forum.topic.article
    for suffix in (".json", ""):
        url = f"{demo.base}/forum/t/{DISCOURSE_SLUG}/{DISCOURSE_TOPIC_ID}{suffix}"
        op = opening_post(url, fetch(url)[1])
        assert op["syndicated_from"] == f"{demo.base}{art.path}"
        assert art.paragraphs[0] in op["body_text"] and art.paragraphs[-1] in op["body_text"]
        assert "More from our network" not in op["body_text"]  # the sister-site footer is boilerplate
        assert op["title"] == forum.topic.title


def test_demo_rss_lists_the_latest_posts_and_leads_to_the_topic(demo):
    url = f"{demo.base}/forum/t/{DISCOURSE_SLUG}/{DISCOURSE_TOPIC_ID}.rss"
    status, body, _ = fetch(url)
    items = topic_rss_posts(body)
    numbers = sorted((p.number for p in forum_for(demo.site).topic.posts), reverse=True)[:25]
    assert [i["post_number"] for i in items] == numbers
    ref = DiscourseAdapter().detect(url, body, {})
    assert DiscourseAdapter().first_requests(ref) == [f"{demo.base}/forum/t/{DISCOURSE_SLUG}/{DISCOURSE_TOPIC_ID}.json"]


def test_demo_refused_json_falls_back_to_the_crawler_page(demo):
    url = f"{demo.base}/forum/t/{REFUSED_SLUG}/{REFUSED_TOPIC_ID}"
    status, body, headers = fetch(url)
    adapter = DiscourseAdapter()
    ref = adapter.detect(url, body, headers)
    thread, rows, fetched, failed = crawl_thread(adapter, ref, url, headers)
    assert failed == [f"{url}.json"]
    posts = forum_for(demo.site).refused.posts
    assert [r.native_id for r in rows] == [f"{PN}{p.number}" for p in posts[1:]]
    assert all(r.depth == 0 for r in rows)  # the crawler view carries no reply links
