"""SMF adapter: fixture cases (tests/fixtures/smf/<case>/), dates, and the demo topic (two pages) end to end."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from crawler.comments.smf import SmfAdapter, opening_post, smf_date, topic_and_start
from crawler.demo_site.forum import SMF_PER_PAGE, SMF_TOPIC, entry_urls, forum_for
from tests.test_comments_realpages import crawl_thread, fetch, fixture_cases, run_fixture_case

CASES = fixture_cases("smf")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fixture_case(case):
    run_fixture_case(case, lambda cfg: SmfAdapter())


def test_topic_and_start_forms():
    assert topic_and_start("https://f.example/index.php?topic=14.0") == ("14", 0)
    assert topic_and_start("https://f.example/index.php?topic=14.40") == ("14", 40)
    assert topic_and_start("https://f.example/index.php?topic=14.0;start=60") == ("14", 60)
    assert topic_and_start("https://f.example/index.php?topic=14.msg53#msg53") == ("14", 0)  # the URL alone
    # the page's own smf_start wins over the URL: a post anchor lands on whichever page holds the post
    page3 = "<script>var smf_topic = 14;\n\tsmf_start = 40;</script>"
    assert topic_and_start("https://f.example/index.php?topic=14.msg53#msg53", page3) == ("14", 40)
    assert topic_and_start("https://f.example/index.php?topic=14.0", page3) == ("14", 40)
    assert topic_and_start("https://f.example/index.php?board=3.0") == (None, 0)
    assert topic_and_start("https://f.example/x", "smf_topic = 9;\n smf_start = 20;") == ("9", 20)


def test_dates():
    utc = timezone.utc
    assert smf_date("December 12, 2009, 02:11:37 PM") == datetime(2009, 12, 12, 14, 11, 37, tzinfo=utc)
    assert smf_date("« Reply #3 on: March 01, 2011, 09:05 AM »") == datetime(2011, 3, 1, 9, 5, tzinfo=utc)
    now = datetime(2025, 1, 2, 12, 0, tzinfo=utc)
    assert smf_date("Today at 08:00:00 AM", now) == datetime(2025, 1, 2, 8, 0, tzinfo=utc)
    assert smf_date("Yesterday at 11:30:00 PM", now) == datetime(2025, 1, 1, 23, 30, tzinfo=utc)
    assert smf_date("Today at 08:00:00 AM") is None  # no Date header: no guess
    assert smf_date("sometime") is None


# == the demo topic ======================================================================================
def test_demo_topic_two_pages(demo):
    url = next(u for u in entry_urls(demo.base) if "/smf/" in u)
    status, body, headers = fetch(url)
    adapter = SmfAdapter()
    ref = adapter.detect(url, body, headers)
    assert ref.native_thread_id == str(SMF_TOPIC)
    thread, rows, fetched, failed = crawl_thread(adapter, ref, url, headers)
    posts = forum_for(demo.site).smf_posts
    assert fetched == [f"{demo.base}/smf/index.php?topic={SMF_TOPIC}.{SMF_PER_PAGE}"] and failed == []
    assert [r.native_id for r in sorted(rows, key=lambda r: int(r.native_id))] == [str(p.msg) for p in posts[1:]]
    by_cid = {r.comment_id: r for r in rows}
    msgs = {str(p.msg) for p in posts}
    for r, p in ((r, next(p for p in posts if str(p.msg) == r.native_id)) for r in rows):
        assert p.signature == "" or p.signature not in r.body_text
        assert r.published_at == p.created.replace(second=p.created.second, microsecond=0)
        parent = by_cid[r.parent_id].native_id if r.parent_id else None
        if parent is not None:  # a parent is always an earlier post of this topic, never the opening post
            assert parent in msgs and int(parent) < int(r.native_id) and parent != str(posts[0].msg)
    assert any(r.parent_id for r in rows) and max(r.depth for r in rows) >= 2
    assert sum(r.edited_at is not None for r in rows) == sum(p.edited is not None for p in posts)
    op = opening_post(url, body, headers)
    # the opening post cites a policy brief ("Background reading: ..."): a cited link is not a repost's source
    assert op["native_id"] == str(posts[0].msg) and op["syndicated_from"] is None
    assert op["body_text"].startswith("Opening a topic for the council vote.")
    assert "4815162342" not in {r.native_id for r in rows}  # the hidden decoy of another topic
