"""`scrapy crawl warc` on a WARC that holds discussions only, captured by "another tool" (no role headers, no
article pages): Reddit thread JSON and its follow-ups, Discourse topic JSON and posts batches, SMF topic pages,
phpBB / XenForo / vBulletin topic pages. The replay starts from every discussion it recognises by shape, one
entry per thread, and its rows equal the platform data in the records. Follow-ups the WARC cannot answer are
counted and their threads marked incomplete, never lost: every comment joins an article row."""
from __future__ import annotations

import json
from collections import defaultdict
from io import BytesIO
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawler.comments.discourse import DiscourseAdapter
from crawler.comments.reddit import RedditAdapter
from crawler.demo_site import forum_shapes as S
from crawler.demo_site.forum import (DISCOURSE_SLUG, DISCOURSE_TOPIC_ID, REDDIT_LINK, REDDIT_SLUG, SMF_TOPIC,
                                     forum_for)
from crawler.demo_site.forum_content import REDDIT_SUBREDDIT
from tests.conftest import run_crawl
from tests.test_comments_realpages import crawl_thread, fetch

FIXTURES = Path(__file__).resolve().parent / "fixtures"
FORUM_CASES = ("phpbb", "xenforo", "vbulletin")


def _record(writer, url: str, status: int, body: bytes, ctype: str) -> None:
    http = StatusAndHeaders(f"{status} OK", [("Content-Type", ctype)], protocol="HTTP/1.1")
    writer.write_record(writer.create_warc_record(url, "response", payload=BytesIO(body), length=len(body),
                                                  http_headers=http))


def _thread_urls(adapter, url: str) -> list[str]:
    status, body, headers = fetch(url)
    ref = adapter.detect(url, body, headers)
    _, _, fetched, failed = crawl_thread(adapter, ref, url, headers)
    assert not failed
    return [url] + fetched


@pytest.fixture(scope="module")
def replay(demo, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("warc-discussions")
    base = demo.base
    urls = _thread_urls(RedditAdapter(), f"{base}/r/{REDDIT_SUBREDDIT}/comments/{REDDIT_LINK}/{REDDIT_SLUG}.json")
    discourse = _thread_urls(DiscourseAdapter(), f"{base}/forum/t/{DISCOURSE_SLUG}/{DISCOURSE_TOPIC_ID}.json")
    dropped = discourse[-1]  # the last posts batch is not in the WARC: an unanswerable follow-up
    urls += discourse[:-1]
    shapes = dict(S.entry_shapes(base, forum_for(demo.site)))
    urls.append(shapes["repost_later"])  # replies without post 1; the topic JSON is not in the WARC
    urls += [f"{base}/smf/index.php?topic={SMF_TOPIC}.0", f"{base}/smf/index.php?topic={SMF_TOPIC}.20",
             f"{base}/smf/index.php?topic=9.20"]  # topic 9: its first page was never captured
    path = tmp / "discussions.warc.gz"
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True, warc_version="1.1")
        for url in urls:
            status, body, headers = fetch(url)
            assert status == 200, url
            _record(writer, url, status, body, headers.get("Content-Type", "application/octet-stream"))
        for platform in FORUM_CASES:  # the own-words forum fixtures, under the URLs they were written for
            case = FIXTURES / platform / "two_pages_quotes"
            for page in json.loads((case / "expected.json").read_text())["pages"]:
                _record(writer, page["url"], 200, (case / page["file"]).read_bytes(), "text/html; charset=utf-8")
    result = run_crawl(tmp / "out", "-a", f"path={path}", spider="warc")
    assert result.returncode == 0, result.stderr[-3000:]
    tables = {t: result.table(t).to_pylist() for t in ("articles", "threads", "comments")}
    return result, tables, dropped


def _by_thread(tables):
    threads = {(t["platform"], t["native_thread_id"]): t for t in tables["threads"]}
    comments = defaultdict(set)
    tid = {t["thread_id"]: k for k, t in threads.items()}
    for c in tables["comments"]:
        if not c["is_placeholder"]:
            comments[tid[c["thread_id"]]].add(c["native_id"])
    return threads, comments


def test_every_thread_is_replayed_from_its_records(replay, demo):
    result, tables, dropped = replay
    forum = forum_for(demo.site)
    threads, comments = _by_thread(tables)
    assert set(threads) == {("reddit", REDDIT_LINK), ("discourse", str(DISCOURSE_TOPIC_ID)),
                            ("discourse", str(S.REPOST_LATER_ID)), ("smf", str(SMF_TOPIC)), ("smf", "9"),
                            *((p, "4417") for p in FORUM_CASES)}
    assert comments[("reddit", REDDIT_LINK)] == {c.id for c in forum.reddit_comments}
    missing_ids = {x.split("=")[1] for x in dropped.split("?", 1)[1].split("&")}
    assert comments[("discourse", str(DISCOURSE_TOPIC_ID))] == \
        {str(p.id) for p in forum.topic.posts[1:]} - missing_ids
    later = next(t for t in forum.extra_topics if t.id == S.REPOST_LATER_ID)
    assert comments[("discourse", str(S.REPOST_LATER_ID))] == {str(p.id) for p in later.posts[1:]}
    assert comments[("smf", str(SMF_TOPIC))] == {str(p.msg) for p in forum.smf_posts[1:]}
    assert comments[("smf", "9")] == {str(p.msg) for p in forum.smf_topics[9][1][20:]}
    for platform in FORUM_CASES:
        rows = json.loads((FIXTURES / platform / "two_pages_quotes" / "expected.json").read_text())["expect"]["rows"]
        assert comments[(platform, "4417")] == {r["native_id"] for r in rows}
    complete = {k for k, t in threads.items() if t["is_complete"]}
    # incomplete: the topic with a batch missing, and the two threads whose opening page was never captured
    assert set(threads) - complete == {("discourse", str(DISCOURSE_TOPIC_ID)), ("discourse", str(S.REPOST_LATER_ID)),
                                       ("smf", "9")}


def test_every_comment_joins_an_article_row(replay):
    result, tables, _ = replay
    article_ids = {a["article_id"] for a in tables["articles"]}
    assert all(c["article_id"] in article_ids for c in tables["comments"])
    assert all(t["article_id"] in article_ids for t in tables["threads"])
    parsers = {a["parser"] for a in tables["articles"]}
    # opening posts; rows made from what a page says (opening page not captured); the Reddit link post's
    # article page is not in the WARC either: its row comes from the submission
    assert parsers == {"discourse-opening-post@1", "smf-opening-post@1", "phpbb-opening-post@1",
                       "xenforo-opening-post@1", "vbulletin-opening-post@1", "discourse-topic@1", "smf-topic@1",
                       "reddit-topic@1"}
    assert all(a["title"] for a in tables["articles"])


def test_starts_and_unanswerable_follow_ups_are_counted(replay):
    result, tables, _ = replay
    s = result.stats
    assert s["warc/replay/start/discussion"] == 8  # one entry per thread, never a follow-up record
    assert "warc/replay/start/article" not in s  # no article pages in this WARC
    # the dropped batch, the two opening pages never captured, the Reddit link post's article page
    assert s["warc/replay/missing_record"] == 4
    assert s["discussion/opening_page/failed/discourse"] == s["discussion/opening_page/failed/smf"] == 1
    assert s["discussion/linked_article_missing/reddit"] == 1
    assert s["comments/incomplete_thread"] == 3
    assert s["warc/replay/unused_records"] == 0
