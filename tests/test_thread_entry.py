"""Threads entered the way real crawls enter them, end to end through `scrapy crawl demo` (the shared demo_run;
the shapes are crawler/demo_site/forum_shapes.py): the founding example reposted in each realistic shape
(crawler page, topic JSON, an answer without the opening post, an embed topic), SMF topics entered through a
post anchor, at a later page, and at a later page of a topic whose first page is gone. Every comment joins an
article row; nothing is dropped."""
from __future__ import annotations

import pytest

from crawler.demo_site import forum_content as F
from crawler.demo_site import forum_shapes as S
from crawler.demo_site.forum import forum_for
from crawler.demo_site.site import DemoSite
from crawler.demo_site.forum_shapes import seed_body_text

FORUM = forum_for(DemoSite())
TOPICS = {t.id: t for t in FORUM.extra_topics}


@pytest.fixture(scope="module")
def tables(demo_run):
    return {name: demo_run.table(name).to_pylist() for name in ("articles", "threads", "comments")}


def thread_of(tables, platform, native):
    t = next(t for t in tables["threads"] if t["platform"] == platform and t["native_thread_id"] == str(native))
    art = [a for a in tables["articles"] if a["article_id"] == t["article_id"]]
    rows = [c for c in tables["comments"] if c["thread_id"] == t["thread_id"]]
    return t, art, rows


def native_tree(rows):
    by = {c["comment_id"]: c for c in rows}
    return {c["native_id"]: (by[c["parent_id"]]["native_id"] if c["parent_id"] else None, c["depth"]) for c in rows}


@pytest.mark.parametrize("topic_id", [S.REPOST_HTML_ID, S.REPOST_JSON_ID, S.REPOST_LATER_ID],
                         ids=["crawler_page", "topic_json", "posts_without_the_opening_post"])
def test_founding_example_in_each_entry_shape(tables, topic_id):
    thread, arts, rows = thread_of(tables, "discourse", topic_id)
    assert len(arts) == 1  # one article row, whatever the entry
    art = arts[0]
    assert art["title"] == F.SEED_TITLE and art["parser"] == "discourse-opening-post@1"
    assert art["body_text"] == seed_body_text()  # the bullet summary, then the body; no onebox, no footer
    assert art["syndicated_from"] == F.SEED_STORY_URL  # featured link / top onebox, not the cited NEO link
    assert art["url"].endswith(f"/forum/t/{S.SEED_SLUG}/{topic_id}")
    posts = TOPICS[topic_id].posts
    by_number = {p.number: p for p in posts}
    want = {}
    for p in posts[1:]:
        parent = None if p.reply_to in (None, 1) else str(by_number[p.reply_to].id)
        want[str(p.id)] = (parent, 0 if parent is None else want[parent][1] + 1)
    assert native_tree(rows) == want and len(rows) == 5  # five replies, right parents and depths
    assert all(c["article_id"] == art["article_id"] for c in rows)
    assert thread["is_complete"] and thread["comment_count_collected"] == thread["comment_count_reported"] == 5
    for name in F.SEED_FOOTER:  # no footer anywhere
        assert name not in art["body_text"] and not any(name in c["body_text"] for c in rows)


def test_the_answer_without_the_opening_post_was_completed_from_the_topic(demo_run):
    assert demo_run.stats["discussion/opening_page/requested/discourse"] == 1


def test_embed_topic_joins_the_original_entry(tables):
    thread, arts, rows = thread_of(tables, "discourse", S.EMBED_ID)
    story = TOPICS[S.EMBED_ID].article
    assert len(arts) == 1 and arts[0]["parser"].startswith("generic") and arts[0]["title"] == story.title
    assert arts[0]["url"].endswith(story.path)  # the demo story itself, fetched as the article
    assert not any("companion discussion" in a["body_text"] for a in tables["articles"])
    assert sorted(c["native_id"] for c in rows) == sorted(str(p.id) for p in TOPICS[S.EMBED_ID].posts[1:])


@pytest.mark.parametrize("topic", [8, 9], ids=["post_anchor", "later_page"])
def test_smf_topic_entered_away_from_its_first_page(tables, topic):
    thread, arts, rows = thread_of(tables, "smf", topic)
    title, posts = FORUM.smf_topics[topic]
    assert len(arts) == 1 and arts[0]["title"] == title and arts[0]["parser"] == "smf-opening-post@1"
    assert arts[0]["url"].endswith(f"/smf/index.php?topic={topic}.0")
    assert arts[0]["body_text"] == posts[0].html  # the opening post (plain text in the demo)
    assert sorted(c["native_id"] for c in rows) == sorted(str(p.msg) for p in posts[1:])  # nothing dropped
    quoting = next(c for c in rows if c["native_id"] == str(posts[21].msg))
    assert {c["comment_id"]: c for c in rows}[quoting["parent_id"]]["native_id"] == str(posts[3].msg)
    assert thread["is_complete"]


def test_smf_topic_whose_first_page_is_gone_joins_a_topic_row(tables, demo_run):
    thread, arts, rows = thread_of(tables, "smf", S.SMF_GONE_TOPIC)
    title, posts = FORUM.smf_topics[S.SMF_GONE_TOPIC]
    assert len(arts) == 1
    art = arts[0]
    assert (art["title"], art["body_text"], art["parser"]) == (title, "", "smf-topic@1")
    assert art["url"].endswith(f"/smf/index.php?topic={S.SMF_GONE_TOPIC}.0")  # the topic's first-page URL
    read = [c for c in rows if not c["is_placeholder"]]
    assert sorted(c["native_id"] for c in read) == sorted(str(p.msg) for p in posts[20:])  # all of page 2
    placeholder = [c for c in rows if c["is_placeholder"]]  # the quoted post lived on the lost first page
    assert [c["native_id"] for c in placeholder] == [str(posts[3].msg)] and not placeholder[0]["is_deleted"]
    assert not thread["is_complete"]
    assert demo_run.stats["discussion/opening_page/failed/smf"] == 1
    assert demo_run.stats["discussion/topic_article/smf"] == 1
