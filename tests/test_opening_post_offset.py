"""``articles.published_at_offset_minutes`` on the rows a discussion makes of its own opening post: the
offset the forum writes the post's time in, 0 for a time written in UTC, null where the time states none
(a forum's printed local time, a Reddit/HN epoch). The pages are this repo's forum fixtures (own words)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from crawler.sites.discussion import opening_article, reddit_submission_article

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def page(platform: str) -> bytes:
    return (FIXTURES / platform / "two_pages_quotes" / "page1.html").read_bytes()


def local_day(row) -> str:
    """The day Parquet's two columns give: the UTC instant moved by the offset."""
    utc = row.published_at.astimezone(timezone.utc)
    return (utc + timedelta(minutes=row.published_at_offset_minutes or 0)).date().isoformat()


@pytest.mark.parametrize("platform", ["phpbb", "xenforo", "invision"])
def test_an_opening_post_time_written_in_utc_has_offset_zero(platform):
    row = opening_article(platform, "https://forum.example/topic/4417", page(platform), {})
    assert row.published_at == datetime(2026, 10, 12, 9, 0, tzinfo=timezone.utc)
    assert row.published_at_offset_minutes == 0


def test_an_opening_post_time_written_in_a_local_offset_keeps_it_and_its_local_day():
    body = page("xenforo").replace(b"2026-10-12T09:00:00+0000", b"2026-10-12T23:30:00-0500")
    row = opening_article("xenforo", "https://forum.example/topic/4417", body, {})
    assert row.published_at_raw == "2026-10-12T23:30:00-0500"
    assert row.published_at == datetime(2026, 10, 13, 4, 30, tzinfo=timezone.utc)  # the UTC day is the 13th
    assert row.published_at_offset_minutes == -300
    assert local_day(row) == "2026-10-12"  # the forum's day


@pytest.mark.parametrize("platform", ["vbulletin", "smf"])
def test_a_printed_forum_time_without_an_offset_leaves_it_null(platform):
    row = opening_article(platform, "https://forum.example/topic/4417", page(platform), {})
    assert row.published_at is not None and row.published_at_offset_minutes is None


def test_a_discourse_opening_post_in_utc_has_offset_zero():
    body = (FIXTURES / "discourse" / "seed" / "crawler.html").read_bytes()
    row = opening_article("discourse", "https://forum.example/t/xi-blockchain/1234", body, {})
    assert row.published_at_raw.endswith("Z") and row.published_at_offset_minutes == 0


def test_a_reddit_epoch_states_no_offset():
    sub = {"title": "Node on a few watts", "permalink": "/r/example/comments/abc/node/", "is_self": True,
           "selftext": "Runs fine.", "created_utc": 1760259600, "subreddit": "example"}
    row = reddit_submission_article(sub, "https://www.reddit.com")
    assert row.published_at is not None and row.published_at_offset_minutes is None
