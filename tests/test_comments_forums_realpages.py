"""phpBB, XenForo, vBulletin and Invision adapters on the real forum pages of ../shared/realpages/wcxb-dev (read in place,
skipped when absent). Which pages belong to a platform, and how many posts each holds, is counted here by one
general markup rule per platform on the raw HTML, independently of the adapters; the adapter must find every
one of those posts (the opening post as article material, the rest as comments) and nothing else.

Figures are reported per platform (a page group), never per site."""
from __future__ import annotations

import csv
import gzip
import json
import re
from collections import Counter

import pytest

from crawler.comments.detect import default_adapters, forum_topic_platform
from crawler.comments.invision import InvisionAdapter
from crawler.comments.phpbb import PhpbbAdapter
from crawler.comments.vbulletin import VbulletinAdapter
from crawler.comments.xenforo import XenforoAdapter
from tests.test_comments_realpages import assert_preorder, build

# One general rule per platform: distinct post ids of the platform's post element, on the raw page.
POST_RULES = {
    "phpbb": re.compile(r"<div id=\"p(\d+)\" class=\"post\b"),
    "xenforo": re.compile(r"id=\"js-post-(\d+)\"|<li id=\"post-(\d+)\" class=\"[^\"]*\bmessage\b"),
    "vbulletin": re.compile(r"id=\"post_message_(\d+)\""),
    "invision": re.compile(r"<article[^>]{0,200}? id=\"elComment_(\d+)\"|<article id=\"elComment_(\d+)\""),
}
ADAPTERS = {"phpbb": PhpbbAdapter, "xenforo": XenforoAdapter, "vbulletin": VbulletinAdapter,
            "invision": InvisionAdapter}


def forum_pages(realpages):
    root = realpages / "wcxb-dev"
    manifest = root / "MANIFEST.tsv"
    if not manifest.is_file():
        pytest.skip("wcxb-dev forum pages absent")
    out = []
    with manifest.open() as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            if row["page_type"] != "forum":
                continue
            html = gzip.open(root / "html" / f"{row['file_id']}.html.gz").read()
            url = json.loads((root / "ground-truth" / f"{row['file_id']}.json").read_text()).get("url") or ""
            out.append((row["file_id"], url, html, counted(html)))
    return out


def counted(html: bytes) -> dict[str, set[str]]:
    text = html.decode("utf-8", errors="replace")
    return {p: {next(g for g in m.groups() if g) for m in rule.finditer(text)} for p, rule in POST_RULES.items()}


_PAGES: list = []


@pytest.fixture
def pages(realpages):
    if not _PAGES:
        _PAGES.extend(forum_pages(realpages))
    return _PAGES


@pytest.mark.parametrize("platform", sorted(POST_RULES))
def test_every_post_on_the_page_is_found(pages, platform):
    adapter = ADAPTERS[platform]()
    figures = Counter()
    for fid, url, html, posts in pages:
        want = posts[platform]
        if not want:
            continue
        figures["pages"] += 1
        figures["posts"] += len(want)
        ref = adapter.detect(url, html, {})
        assert ref is not None, (platform, fid)
        page = adapter.parse_page(url, html, {}, ref)
        op = ADAPTERS[platform]().opening_post(url, html, {})  # a fresh adapter: no page remembered
        got = {c.native_id for c in page.comments} | ({op["native_id"]} if op else set())
        assert got == want, (platform, fid, len(got), len(want))
        assert len(page.comments) == len(want) - (1 if op else 0)
        thread, rows = build(adapter, ref, page.comments)
        assert_preorder(rows)
        assert all(r.parent_id is None or r.parent_id in {x.comment_id for x in rows} for r in rows)
        assert not any(r.is_placeholder for r in rows)  # a quoted post is always one of this topic's posts
        figures["dated"] += sum(1 for c in page.comments if c.published_at)
        figures["authored"] += sum(1 for c in page.comments if c.author_name)
        figures["with_text"] += sum(1 for c in page.comments if c.body_text or c.quoted_text)
        figures["replies"] += sum(1 for c in page.comments if c.parent_native_id)
        if op:
            figures["opening"] += 1
            assert op["title"] and op["body_text"], (platform, fid)
    print(platform, dict(figures))
    if not figures["pages"]:
        pytest.skip(f"no {platform} pages present")
    comments = figures["posts"] - figures["opening"]
    # quality floors on the whole group (pages differ; a missing date or author is allowed, not common)
    assert figures["dated"] >= 0.9 * comments and figures["authored"] >= 0.9 * comments
    assert figures["with_text"] >= 0.95 * comments


def test_forum_platform_is_judged_by_markup(pages):
    """Every page one of the rules counts posts on is recognised as a forum topic of that platform by the
    importable detect function; default_adapters() carries every forum adapter."""
    platforms = {a.platform for a in default_adapters()}
    assert {"phpbb", "xenforo", "vbulletin", "invision", "smf", "discourse"} <= platforms
    seen = Counter()
    for fid, url, html, posts in pages:
        found = [p for p, ids in posts.items() if ids]
        if len(found) == 1:
            got = forum_topic_platform(url, html, {})
            assert got == found[0], (fid, got, found)
            seen[got] += 1
    print(dict(seen))
