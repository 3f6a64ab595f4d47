"""WordPress adapter on fixture cases (tests/fixtures/wordpress/<case>/input.html + expected.json) and on the
theme unit-test WXR export from ../shared (skipped when absent; facts computed from the file itself)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import etree

from crawler.comments.base import ThreadRef, build_thread
from crawler.comments.wordpress import WordPressAdapter

CASES = sorted((Path(__file__).parent / "fixtures" / "wordpress").glob("*/expected.json"))


@pytest.mark.parametrize("expected_path", CASES, ids=[p.parent.name for p in CASES])
def test_fixture_case(expected_path):
    expected = json.loads(expected_path.read_text())
    body = (expected_path.parent / "input.html").read_bytes()
    adapter = WordPressAdapter()
    ref = adapter.detect(expected["url"], body, {})
    assert ref is not None and ref.native_thread_id == expected["post_id"]
    assert ref.reported_count == expected["reported_count"]
    page = adapter.parse_html(expected["url"], body)
    _, rows = build_thread(ref, "A", page.comments, parser=adapter.parser, source="html",
                           thread_url=expected["url"], complete=True, reported=page.reported_count)
    by_cid = {r.comment_id: r for r in rows}
    got = [{"native_id": r.native_id, "parent": by_cid[r.parent_id].native_id if r.parent_id else None,
            "depth": r.depth, "position": r.position, "author": r.author_name,
            "published_at": r.published_at.isoformat() if r.published_at else None,
            "body_text": r.body_text, "quoted_text": r.quoted_text} for r in rows]
    assert got == expected["rows"]


def test_wxr_export_tree(realpages):
    path = realpages / "comments" / "wordpress__theme-unit-test-data.wxr.xml"
    if not path.exists():
        pytest.skip("WXR sample absent")
    body = path.read_bytes()
    tree = etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True))
    ns = {"wp": tree.nsmap["wp"]}  # the export format's version is in its namespace
    truth: dict[str, dict[str, str | None]] = {}  # post id -> {comment id: parent id}
    for item in tree.iter("item"):
        post = item.findtext("wp:post_id", namespaces=ns)
        for c in item.findall("wp:comment", ns):
            parent = c.findtext("wp:comment_parent", namespaces=ns).strip()
            truth.setdefault(post, {})[c.findtext("wp:comment_id", namespaces=ns).strip()] = None if parent == "0" else parent

    def depth(comments, cid):
        d = 0
        while comments[cid] is not None:
            cid, d = comments[cid], d + 1
        return d

    parsed = WordPressAdapter.parse_wxr(body, str(path))
    assert set(parsed) == set(truth)
    deepest = 0
    for post, comments in truth.items():
        thread, rows = build_thread(ThreadRef("wordpress", "wxr", post, str(path)), "A", parsed[post],
                                    parser="wordpress@1", source="html", thread_url=str(path), complete=True,
                                    reported=None)
        assert len(rows) == len(comments), post
        by_cid = {r.comment_id: r for r in rows}
        for r in rows:
            assert (by_cid[r.parent_id].native_id if r.parent_id else None) == comments[r.native_id]
            assert r.depth == depth(comments, r.native_id)
        deepest = max(deepest, max(r.depth for r in rows))
    assert deepest == max(depth(c, k) for c in truth.values() for k in c)


def test_comment_pages_without_rest_api_and_pingbacks():
    """A theme that pages its comments (comment-navigation) on a blog without the REST API: every comment page
    is followed; pingbacks and trackbacks make no rows but count towards the "N thoughts" total."""
    case = Path(__file__).parent / "fixtures" / "wordpress_pages" / "comment_pages_pingbacks"
    url = "https://blog.example/2026/10/miners-difficulty/"
    page2_url = url + "comment-page-2/"
    adapter = WordPressAdapter()
    first = (case / "page1.html").read_bytes()
    ref = adapter.detect(url, first, {})
    assert ref.native_thread_id == "812" and adapter.first_requests(ref) == []  # no REST API: the pages it is
    p1 = adapter.parse_page(url, first, {}, ref)
    assert p1.next_urls == [page2_url] and p1.not_comments == 1 and p1.reported_count == 7
    p2 = adapter.parse_page(page2_url, (case / "page2.html").read_bytes(), {}, ref)
    assert p2.next_urls == [url + "comment-page-1/"] and p2.not_comments == 1
    thread, rows = build_thread(ref, "A", p1.comments + p2.comments, parser=adapter.parser, source="html",
                                thread_url=url, complete=True, reported=7,
                                not_comments=p1.not_comments + p2.not_comments)
    by_cid = {r.comment_id: r for r in rows}
    assert [(r.native_id, by_cid[r.parent_id].native_id if r.parent_id else None, r.depth) for r in rows] == [
        ("501", None, 0), ("502", "501", 1), ("504", None, 0), ("505", None, 0), ("506", "505", 1)]
    assert all(r.author_name and r.body_text for r in rows)  # no empty anonymous rows for the pingbacks
    assert rows[3].body_text.startswith("Block times") and rows[3].source_url == page2_url
    assert thread.is_complete and thread.comment_count_collected == 5
