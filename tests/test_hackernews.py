"""Hacker News: adapter fixture cases (Algolia tree, Firebase items), `scrapy crawl news` with an `hn_search`
source against a local server speaking the Algolia and Firebase protocols (a failing Algolia item read through
Firebase), and the demo crawl's discussion lookup joining Reddit and HN threads to a demo story."""
from __future__ import annotations

import json

import pytest

from crawler.comments.detect import json_shape
from crawler.comments.hackernews import HackerNewsAdapter
from crawler.demo_site.apis import DemoApis, origins, set_apis
from crawler.demo_site.discussion_data import demo_discussions
from crawler.demo_site.hn_api import HnApi
from crawler.demo_site.reddit_api import RedditApi
from crawler.demo_site.server import DemoServer
from crawler.demo_site.site import DemoSite
from tests.test_comments_realpages import fixture_cases, run_fixture_case

from .conftest import run_crawl

CASES = fixture_cases("hackernews")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fixture_case(case):
    run_fixture_case(case, lambda cfg: HackerNewsAdapter())


def test_shapes_are_recognised():
    case = CASES[0]
    assert json_shape((case / "item.json").read_bytes()) == ("hackernews", "algolia_item")
    assert json_shape(b'{"hits": [], "nbPages": 0, "page": 0}') == ("hackernews", "search")


@pytest.fixture(scope="module")
def hn_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hn")
    site = DemoSite(n_articles=5, comments_per_article=1)
    srv = DemoServer(site).start()
    disc = demo_discussions(site, srv.base)
    hn = HnApi(disc)
    set_apis(site, DemoApis(RedditApi(disc), hn))
    story = next(d for d in disc if d.platform == "hackernews" and d.url)
    word = story.title.split()[0]
    registry = {"version": 1, "sources": [{
        "name": "hn_crypto", "title": "Hacker News (crypto)", "domains": ["hn.algolia.com", "news.ycombinator.com"],
        "home": "https://news.ycombinator.com/",
        "discovery": [{"kind": "hn_search", "url": f"https://hn.algolia.com/api/v1/search_by_date?query={word}&tags=story"},
                      {"kind": "hn_search", "url": "https://hn.algolia.com/api/v1/search_by_date?query=explorers"}],
        "comments": "hackernews", "parser": "generic", "politeness": {"download_delay": 1.0, "concurrency": 2}}]}
    (tmp / "sources.json").write_text(json.dumps(registry))
    args = ["-a", "source=hn_crypto", "-a", f"registry={tmp / 'sources.json'}", "-s", "CONTACT=tests@example.org",
            "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0", "-s", "DISCUSSION_LOOKUP=none",
            "-s", "RETRY_TIMES=0", "-s", f"PRIVATE_NETWORK_ALLOW=127.0.0.1:{srv.port}"]
    for k, v in origins(srv.base).items():
        args += ["-s", f"{k}={v}"]
    try:
        result = run_crawl(tmp / "out", *args, spider="news")
    finally:
        srv.stop()
    assert result.returncode == 0, result.stderr[-4000:]
    return srv, disc, hn, result


def test_hn_search_stories_join_their_page_and_text_posts_are_their_own_row(hn_run):
    srv, disc, hn, result = hn_run
    articles = {a["article_id"]: a for a in result.table("articles").to_pylist()}
    threads = {t["native_thread_id"]: t for t in result.table("threads").to_pylist() if t["platform"] == "hackernews"}
    story = next(d for d in disc if d.platform == "hackernews" and d.url)
    ask = next(d for d in disc if d.platform == "hackernews" and not d.url)
    assert set(threads) == {story.id, ask.id}
    linked = articles[threads[story.id]["article_id"]]
    assert linked["title"] == story.title and linked["parser"].startswith("generic")  # the demo story, parsed
    own = articles[threads[ask.id]["article_id"]]
    assert own["parser"] == "hackernews-text@1" and own["section"] == "hackernews" and "weekend" in own["body_text"]
    assert result.stats["discovery/hn_search/stories"] == 2
    for sid, d in ((story.id, story), (ask.id, ask)):
        t = threads[sid]
        assert (t["title"], t["community"], t["score"]) == (d.title, "hackernews", d.score)
        assert t["created_at"].timestamp() == d.created and t["author_id"]
        assert t["discussion_url"] == f"{srv.base}/hn-web/item?id={sid}"
        assert t["is_complete"]


def _tree(result, thread):
    rows = [c for c in result.table("comments").to_pylist() if c["thread_id"] == thread["thread_id"]]
    by_id = {c["comment_id"]: c for c in rows}
    return {c["native_id"]: (by_id[c["parent_id"]]["native_id"] if c["parent_id"] else None) for c in rows}, \
        {c["native_id"] for c in rows if c["is_deleted"]}


def test_trees_equal_the_servers_data_through_algolia_and_through_the_firebase_fallback(hn_run):
    srv, disc, hn, result = hn_run
    threads = {t["native_thread_id"]: t for t in result.table("threads").to_pylist() if t["platform"] == "hackernews"}
    story = next(d for d in disc if d.platform == "hackernews" and d.url)
    ask = next(d for d in disc if d.platform == "hackernews" and not d.url)
    # Algolia lists no dead comments; deleted ones are kept as flagged rows
    tree, deleted = _tree(result, threads[story.id])
    assert tree == {c.id: c.parent for c in story.comments if not c.dead}
    assert deleted == {c.id for c in story.comments if c.deleted} and deleted
    # the Ask story's Algolia item fails: read through Firebase, dead comments included as flagged rows
    tree, deleted = _tree(result, threads[ask.id])
    assert tree == {c.id: c.parent for c in ask.comments}
    assert deleted == {c.id for c in ask.comments if c.dead or c.deleted} and deleted
    assert result.stats["comments/fallback_api/hackernews"] == 1
    assert any("/hn-firebase/v0/item/" in p for _, p in hn.log)


# -- the demo: a story discussed on Reddit and HN, found by lookup -------------------------------------------
def test_demo_story_discussed_on_reddit_and_hn_is_joined_by_lookup(demo_run):
    site = DemoSite()
    disc = demo_discussions(site, "http://127.0.0.1:48765")
    story = next(d for d in disc if d.platform == "hackernews" and d.url)
    articles = [a for a in demo_run.table("articles").to_pylist()
                if a["title"] == story.title and a["parser"].startswith("generic")]
    assert len(articles) == 1
    threads = [t for t in demo_run.table("threads").to_pylist() if t["article_id"] == articles[0]["article_id"]]
    assert {t["platform"] for t in threads} >= {"reddit", "hackernews"}
    reddit = next(t for t in threads if t["platform"] == "reddit")
    assert reddit["native_thread_id"] == next(d.id for d in disc if d.platform == "reddit" and d.title == story.title)
    assert all(t["is_complete"] and t["title"] == story.title for t in threads if t["platform"] in ("reddit", "hackernews"))
    stats = demo_run.stats
    assert stats["discussion/lookup/reddit/found"] >= 1 and stats["discussion/lookup/hackernews/found"] >= 1
    assert stats["reddit/auth/token_ok"] == 1 and stats.get("api/reddit/requests", 0) >= 1
