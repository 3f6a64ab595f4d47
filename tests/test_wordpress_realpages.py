"""WordPress comment markup and REST output from real sites (../shared/realpages, skipped when absent).

Expected facts are computed from each file's own structure (nesting of li elements, the theme's
``depth-N`` classes, the "N thoughts" heading), never typed in.
"""
from __future__ import annotations

import json
import re

import lxml.html
import pytest

from crawler.comments.base import ThreadRef, build_thread
from crawler.comments.wordpress import WordPressAdapter


def comment_list_files(realpages):
    files = sorted((realpages / "comments").glob("wordpress__*.comment-list.md"))
    if not files:
        pytest.skip("no WordPress comment-list pages present")
    return files


def truth_from_markup(text: str) -> dict[str, tuple[str | None, int]]:
    """native id -> (parent native id, depth) read straight from the li nesting and depth-N classes."""
    root = lxml.html.fromstring(text)
    out = {}
    for li in root.iter("li"):
        m = re.fullmatch(r"comment-(\d+)", li.get("id", ""))
        if not m:
            continue
        parent = next((a for a in li.iterancestors("li") if re.fullmatch(r"comment-\d+", a.get("id", ""))), None)
        depth = int(re.search(r"\bdepth-(\d+)\b", li.get("class", "")).group(1)) - 1
        out[m.group(1)] = (parent.get("id").split("-")[1] if parent is not None else None, depth)
    return out


def test_comment_list_markup_parses_into_the_same_tree(realpages):
    adapter = WordPressAdapter()
    for path in comment_list_files(realpages):
        text = path.read_text(encoding="utf-8")
        truth = truth_from_markup(text)
        page = adapter.parse_html("http://blog.example/post/", text.encode("utf-8"))
        ref = ThreadRef("wordpress", "blog.example", "1", "http://blog.example/post/")
        thread, rows = build_thread(ref, "A", page.comments, parser="wordpress@1", source="html",
                                    thread_url=ref.article_url, complete=True, reported=page.reported_count)
        heading = re.search(r"(\d+) thoughts? on", text)
        assert len(rows) == len(truth), path.name
        if heading:  # the page's own count (here outside the comment markup, so the parser cannot see it)
            assert int(heading.group(1)) == len(rows) == thread.comment_count_collected, path.name
        by_cid = {r.comment_id: r for r in rows}
        for r in rows:
            parent_native = by_cid[r.parent_id].native_id if r.parent_id else None
            assert (parent_native, r.depth) == truth[r.native_id], (path.name, r.native_id)
            assert r.body_text, (path.name, r.native_id)
            assert r.published_at is not None
        assert max(r.depth for r in rows) == max(d for _, d in truth.values())


def test_rest_collection_from_wordpress_core(realpages):
    path = realpages / "comments" / "wordpress__wpdevelop-qunit-CommentsCollection.json"
    if not path.exists():
        pytest.skip("REST sample absent")
    body = path.read_bytes()
    items = json.loads(body)
    page = WordPressAdapter().parse_rest("http://example.org/wp-json/wp/v2/comments?post=4", body, {})
    assert [c.native_id for c in page.comments] == [str(i["id"]) for i in items]
    for c, item in zip(page.comments, items):
        assert c.parent_native_id == (str(item["parent"]) if item["parent"] else None)
        assert c.author_name == item["author_name"]
        assert c.published_at is not None and c.published_at.isoformat().startswith(item["date_gmt"])
        assert c.body_text and "<" not in c.body_text
