"""The seed case at the adapter level, in every shape (tests/fixtures/discourse/seed/, written by its
make_seed.py): a topic reposting a news story (bullet summary, then the body), five replies about NEO, a footer
of sister-site links. One source-link rule (featured link, source line, top onebox, embed line; never a cited
link); oneboxes and the footer out of the body. The spider-level shapes (later-page entry, joins in the
dataset) are in tests/test_thread_entry.py."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from crawler.comments.discourse import DiscourseAdapter, opening_post
from crawler.comments.repost import repost_source
from crawler.sites.discussion import linked_article_url, opening_article
from tests.test_comments_realpages import build, tree_of

SEED = Path(__file__).resolve().parent / "fixtures" / "discourse" / "seed"
_spec = importlib.util.spec_from_file_location("make_seed", SEED / "make_seed.py")
S = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(S)
BODY = (SEED / "body.txt").read_text().rstrip("\n")
TOPIC_URL = f"{S.FORUM}/t/{S.SLUG}/{S.TOPIC_ID}"
# native id → (parent native id, depth): 3 answers 2, 4 answers post 1 (top level), 5 answers 3, 6 answers 4
TREE = {"91002": (None, 0), "91003": ("91002", 1), "91004": (None, 0), "91005": ("91003", 2), "91006": ("91004", 1)}


def assert_seed_article(art, url):
    assert art is not None and art.title == S.TITLE and art.url == url
    assert art.body_text == BODY  # exactly: bullet summary, then the body; no onebox, no source line
    assert art.body_text.startswith(S.BULLETS[0]) and art.body_text.endswith("pilot schemes.")
    assert art.syndicated_from == S.STORY  # never the link cited in the text
    for name in S.FOOTER:
        assert name not in art.body_text
    assert "abacus-news.example" not in art.body_text


def assert_seed_replies(rows):
    assert tree_of(rows) == TREE
    assert [r.native_id for r in rows] == ["91002", "91003", "91005", "91004", "91006"]  # thread order
    assert all(r.body_text and not r.is_deleted and r.is_placeholder is False for r in rows)
    for r in rows:
        for name in S.FOOTER:
            assert name not in r.body_text


@pytest.mark.parametrize("shape", ["featured", "onebox", "sourceline"])
def test_json_entry(shape):
    url = f"{TOPIC_URL}.json"
    body = (SEED / shape / "topic.json").read_bytes()
    assert_seed_article(opening_article("discourse", url, body, {}), TOPIC_URL)
    adapter = DiscourseAdapter()
    ref = adapter.detect(url, body, {})
    assert adapter.first_requests(ref) == []  # the topic JSON holds every reply
    page = adapter.parse_page(url, body, {}, ref)
    thread, rows = build(adapter, ref, page.comments, page.reported_count)
    assert_seed_replies(rows)
    assert thread.is_complete and thread.comment_count_reported == 5


def test_html_entry_reads_the_featured_link_and_drops_the_page_footer():
    body = (SEED / "crawler.html").read_bytes()
    assert_seed_article(opening_article("discourse", TOPIC_URL, body, {}), TOPIC_URL)
    adapter = DiscourseAdapter()
    ref = adapter.detect(TOPIC_URL, body, {})
    assert adapter.first_requests(ref) == [f"{TOPIC_URL}.json"]  # real ids and parents come from the JSON
    json_body = (SEED / "featured" / "topic.json").read_bytes()
    page = adapter.parse_page(f"{TOPIC_URL}.json", json_body, {}, ref)
    assert_seed_replies(build(adapter, ref, page.comments, page.reported_count)[1])


def test_embed_topic_joins_the_original_entry():
    url = f"{S.FORUM}/t/{S.SLUG}/8124.json"
    body = (SEED / "embed" / "topic.json").read_bytes()
    op = opening_post(url, body)
    assert op["embed_url"] == S.STORY and op["syndicated_from"] == S.STORY
    assert opening_article("discourse", url, body, {}) is None  # the companion line is not an article
    assert linked_article_url("discourse", body, url) == S.STORY  # the comments belong to the story
    adapter = DiscourseAdapter()
    ref = adapter.detect(url, body, {})
    page = adapter.parse_page(url, body, {}, ref)
    assert_seed_replies(build(adapter, ref, page.comments, page.reported_count)[1])


def test_a_response_without_post_one_has_no_opening_post():
    body = (SEED / "later" / "posts.json").read_bytes()
    url = f"{S.FORUM}/t/{S.TOPIC_ID}/posts.json?post_ids[]=91002"
    assert opening_post(url, body) is None and opening_article("discourse", url, body, {}) is None


def test_source_rule_order_and_cited_links():
    forum = "pub-forum.example"
    url = TOPIC_URL
    cited = f'<p>Background: the <a href="{S.CITED}">governance page</a> explains the vote.</p>'
    assert repost_source(cited, url, forum) is None  # a cited link is never the source
    line = f'<p>Originally published by Abacus: <a href="{S.STORY}">read it</a></p>'
    assert repost_source(cited + line, url, forum) == S.STORY
    assert repost_source(cited + line, url, forum, featured_link="https://other.example/x") == "https://other.example/x"
    box = S.onebox()
    assert repost_source(box + cited, url, forum) == S.STORY
    assert repost_source(cited + box, url, forum) is None  # a onebox further down is a cited link
    assert repost_source(f'<p>Source: <a href="{S.FORUM}/t/other/9">older topic</a></p>', url, forum) is None


def test_fixtures_are_current():
    """make_seed.py writes what is committed (edit the generator, not the files)."""
    data = json.loads((SEED / "featured" / "topic.json").read_text())
    assert data["featured_link"] == S.STORY and len(data["post_stream"]["posts"]) == 6
    assert (SEED / "crawler.html").read_text() == S.crawler_html()
