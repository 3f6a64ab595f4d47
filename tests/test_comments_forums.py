"""phpBB, XenForo, vBulletin and Invision adapters on their fixture topics (tests/fixtures/<platform>/<case>/, written by
tests/fixtures/forums/make_forum_fixtures.py): rows, parents, depth, quotes; the opening post as article
material; a later page and a post anchor entered directly say which topic and page they are."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from crawler.comments.invision import InvisionAdapter
from crawler.comments.phpbb import PhpbbAdapter
from crawler.comments.vbulletin import VbulletinAdapter
from crawler.comments.xenforo import XenforoAdapter
from crawler.sites.discussion import opening_article
from tests.test_comments_realpages import fixture_cases, run_fixture_case

ADAPTERS = {"phpbb": PhpbbAdapter, "xenforo": XenforoAdapter, "vbulletin": VbulletinAdapter,
            "invision": InvisionAdapter}
CASES = [(p, c) for p in ADAPTERS for c in fixture_cases(p)]
_spec = importlib.util.spec_from_file_location(
    "make_forum_fixtures", Path(__file__).parent / "fixtures" / "forums" / "make_forum_fixtures.py")
M = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(M)


@pytest.mark.parametrize("platform,case", CASES, ids=[f"{p}-{c.name}" for p, c in CASES])
def test_fixture_case(platform, case):
    run_fixture_case(case, lambda cfg: ADAPTERS[platform]())


@pytest.mark.parametrize("platform", sorted(ADAPTERS))
def test_opening_post_is_the_article_and_later_pages_know_their_topic(platform):
    base, url1, url2, render = M.CASES[platform]
    case = Path(__file__).parent / "fixtures" / platform / "two_pages_quotes"
    page1, page2 = (case / "page1.html").read_bytes(), (case / "page2.html").read_bytes()
    assert page1.decode() == render(1, base)  # the committed files are the generator's
    art = opening_article(platform, url1, page1, {})
    assert art.title == M.TITLE and art.url == url1 and art.parser == f"{platform}-opening-post@1"
    assert art.syndicated_from == M.STORY  # the "Source:" line; the line itself is not body text
    assert art.body_text.startswith("The new firmware adds passphrase entry") and art.body_text.endswith("vendor site.")
    # page 2 entered directly: same topic, the first page's URL, no opening post of its own
    adapter = ADAPTERS[platform]()
    ref = adapter.detect(url2, page2, {})
    assert ref.native_thread_id == "4417" and ref.article_url == url1 and ref.extra["page"] == 2
    assert ref.extra["title"] == M.TITLE and not ref.extra["has_opening_post"]
    assert opening_article(platform, url2, page2, {}) is None
    # a post anchor (how feeds and "last post" links point at posts) lands on page 2: the page says so
    anchor = {"phpbb": f"{base}/viewtopic.php?p=105#p105", "xenforo": f"{base}/posts/105/",
              "vbulletin": f"{base}/showthread.php?p=105#post105",
              "invision": f"{base}/topic/4417-firmware-24-for-hardware-wallets/?do=findComment&comment=105"}[platform]
    ref = adapter.detect(anchor, page2, {})
    assert ref.native_thread_id == "4417" and ref.extra["page"] == 2 and ref.article_url == url1
    rows = adapter.parse_page(anchor, page2, {}, ref).comments
    assert [c.native_id for c in rows] == ["105", "106"]
