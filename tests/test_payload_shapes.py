"""Servers send JSON of unexpected shapes (a title as a number, ``children`` as an integer, an id missing, a list
where an object belongs). No parser of API payloads may raise on them: a raise in a callback loses the rest of
the page (and, for a thread, every comment collected for it). Each JSON fixture page of the comment adapters,
and a Reddit listing / an HN search answer, is parsed again with every value in it replaced, one at a time, by
values of other types; every parse must return (an error reason is fine, an exception is not)."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from crawler.comments.base import CommentPage, ThreadRef
from crawler.comments.detect import default_adapters
from crawler.comments.hackernews import HackerNewsAdapter
from crawler.discovery.hn_search import parse_search
from crawler.discovery.reddit_listing import listing_submissions, submission_links
from crawler.sites.discussion import hn_story_article, reddit_submission_article
from pipelines.column_fit import misfits

FIXTURES = Path(__file__).parent / "fixtures"
ODD_VALUES = [None, 7, -1, 1.5, True, "", "x", [], ["x"], [1], {}, {"a": 1}]
PER_SHAPE = 2  # paths tried per field shape (the path with list positions as "*"): every kind of field, bounded
MAX_SHAPES = 120  # breadth-first: the first levels (where every kind of field appears) are all tried


def paths(node, prefix=()):
    """Every path to a value in a JSON document, breadth-first (the top-level fields first)."""
    queue = [(node, prefix)]
    while queue:
        cur, at = queue.pop(0)
        items = cur.items() if isinstance(cur, dict) else enumerate(cur) if isinstance(cur, list) else ()
        for k, v in items:
            yield at + (k,)
            queue.append((v, at + (k,)))


def replaced(doc, path, value):
    out = copy.deepcopy(doc)
    node = out
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value
    return out


def mutations(doc):
    tried: dict[tuple, int] = {}
    for path in paths(doc):
        shape = tuple("*" if isinstance(k, int) else k for k in path)
        if tried.get(shape, 0) >= PER_SHAPE:
            continue
        if shape not in tried and len(tried) >= MAX_SHAPES:
            continue
        tried[shape] = tried.get(shape, 0) + 1
        for value in ODD_VALUES:
            yield path, replaced(doc, path, value)


def json_pages():
    """(platform, case, page entry, ref) of every fixture page that is JSON."""
    out = []
    for exp in sorted(FIXTURES.glob("*/*/expected.json")):
        meta = json.loads(exp.read_text(encoding="utf-8"))
        for page in meta.get("pages", []):
            f = exp.parent / page["file"]
            if f.suffix == ".json" and f.name != "expected.json":
                out.append((exp.parent.parent.name, exp.parent, page, meta))
    return out


ADAPTERS = {a.platform: a for a in default_adapters()}


def _has_ref(case) -> bool:
    """The case names its thread, or its page is detected from the JSON itself (not from an HTML page)."""
    platform, case_dir, page, meta = case
    if meta.get("ref"):
        return True
    adapter = ADAPTERS.get(platform) or HackerNewsAdapter()
    return adapter.detect(page["url"], (case_dir / page["file"]).read_bytes(), page.get("headers") or {}) is not None


PAGES = [p for p in json_pages() if (p[0] in ADAPTERS or p[0] in ("disqus", "hackernews")) and _has_ref(p)]


def adapter_for_case(platform: str):
    return ADAPTERS.get(platform) or HackerNewsAdapter()


@pytest.mark.parametrize("platform,case,page,meta", PAGES, ids=[f"{p[0]}/{p[1].name}/{p[2]['file']}" for p in PAGES])
def test_adapter_pages_never_raise_on_odd_values(platform, case, page, meta):
    adapter = adapter_for_case(platform)
    doc = json.loads((case / page["file"]).read_bytes())
    headers = page.get("headers") or {}
    ref = ThreadRef(**meta["ref"]) if meta.get("ref") else None
    if ref is None:  # a case whose first page is detected (PAGES keeps only those detected from the JSON)
        ref = adapter.detect(page["url"], (case / page["file"]).read_bytes(), headers)
    tried = 0
    for path, bad in mutations(doc):
        body = json.dumps(bad).encode()
        try:
            adapter.detect(page["url"], body, headers)
            got = adapter.parse_page(page["url"], body, headers, ref)
        except Exception as exc:  # noqa: BLE001
            pytest.fail(f"{platform} parse_page raised {type(exc).__name__}: {exc} with {path} = {bad!r:.80}"[:400])
        assert isinstance(got, CommentPage)
        for c in got.comments:  # what it returns is typed as the rows need it
            assert isinstance(c.native_id, str) and c.native_id and c.native_id != "None", (path, c.native_id)
            assert c.author_name is None or isinstance(c.author_name, str), (path, c.author_name)
            assert isinstance(c.body_text, str), (path, c.body_text)
        tried += 1
    assert tried > len(ODD_VALUES)  # the payload was really walked


REDDIT_LISTING = {"kind": "Listing", "data": {"after": "t3_b2", "children": [
    {"kind": "t3", "data": {"id": "b1", "name": "t3_b1", "title": "A node client release", "is_self": False,
                            "url": "https://news.example.org/a/node-release", "domain": "news.example.org",
                            "permalink": "/r/example/comments/b1/a_node_client_release/", "num_comments": 4,
                            "created_utc": 1700000000, "subreddit": "example"}},
    {"kind": "t3", "data": {"id": "b2", "title": "Ask: how do fees work", "is_self": True, "selftext": "Why?",
                            "permalink": "/r/example/comments/b2/ask/", "num_comments": 0,
                            "created_utc": 1700000100, "subreddit": "example"}}]}}

HN_SEARCH = {"page": 0, "nbPages": 1, "hits": [
    {"objectID": "901", "title": "Fee market paper", "url": "https://news.example.org/a/fees", "num_comments": 3,
     "created_at_i": 1700000000, "author": "someone"},
    {"objectID": "902", "title": "Ask HN: wallets?", "story_text": "<p>Which one?</p>", "num_comments": 1,
     "created_at_i": 1700000200}]}


WP_REST_PAGE = [
    {"id": 501, "post": 77, "parent": 0, "author_name": "first reader", "date_gmt": "2026-11-20T10:00:00",
     "status": "approved", "type": "comment", "content": {"rendered": "<p>Fees look lower this week.</p>"}},
    {"id": 502, "post": 77, "parent": 501, "author_name": "second reader", "date_gmt": "2026-11-20T11:00:00",
     "status": "approved", "type": "comment", "content": {"rendered": "<blockquote>lower</blockquote><p>Not here.</p>"}}]


def test_wordpress_rest_never_raises_on_odd_values():
    from crawler.comments.wordpress import WordPressAdapter
    adapter = WordPressAdapter()
    url = "https://blog.example.org/wp-json/wp/v2/comments?post=77&per_page=100&page=1"
    ref = ThreadRef("wordpress", "blog.example.org", "77", "https://blog.example.org/a/fees")
    headers = {"X-WP-Total": "2", "X-WP-TotalPages": "1"}
    for path, bad in mutations(WP_REST_PAGE):
        got = adapter.parse_page(url, json.dumps(bad).encode(), headers, ref)
        assert len(got.comments) + got.malformed + got.not_comments <= 2, path
        for c in got.comments:
            assert isinstance(c.native_id, str) and c.native_id and isinstance(c.body_text, str), (path, c)
            assert c.author_name is None or isinstance(c.author_name, str), (path, c.author_name)


def test_an_entry_without_id_is_counted_not_collapsed():
    from crawler.comments.wordpress import WordPressAdapter
    page = [dict(WP_REST_PAGE[0]), dict(WP_REST_PAGE[1]), "not an object"]
    del page[1]["id"]
    got = WordPressAdapter().parse_page("https://blog.example.org/wp-json/wp/v2/comments?post=77", json.dumps(page).encode(),
                                        {}, ThreadRef("wordpress", "blog.example.org", "77", "https://blog.example.org/a"))
    assert [c.native_id for c in got.comments] == ["501"] and got.malformed == 2
    hn = HackerNewsAdapter()
    item = {"id": 1, "type": "story", "title": 42, "children": [
        {"type": "comment", "text": "no id", "author": "a", "children": []},
        {"id": 3, "type": "comment", "text": 7, "author": ["x"], "children": 9}]}
    got = hn.parse_page("https://hn.algolia.com/api/v1/items/1", json.dumps(item).encode(), {},
                        ThreadRef("hackernews", "news.ycombinator.com", "1", "https://news.example.org/a"))
    assert [c.native_id for c in got.comments] == ["3"] and got.malformed == 1
    assert got.thread["title"] == "42" and got.comments[0].body_text == "7" and got.comments[0].author_name is None


def test_reddit_listing_never_raises_on_odd_values():
    for path, bad in mutations(REDDIT_LISTING):
        parsed = listing_submissions(json.dumps(bad).encode())
        if parsed is None:
            continue
        subs, after = parsed
        assert after is None or isinstance(after, str)
        for sub in subs:
            assert isinstance(sub, dict), path
            sid, link = submission_links(sub)
            assert isinstance(sid, str) and (link is None or isinstance(link, str)), (path, sid, link)
            row = reddit_submission_article(sub, "https://www.reddit.com")
            if row is not None:
                assert isinstance(row.title, str) and isinstance(row.url, str), path
                assert not misfits("articles", row_columns(row)), (path, misfits("articles", row_columns(row)))


def test_hn_search_never_raises_on_odd_values():
    hn = HackerNewsAdapter()
    for path, bad in mutations(HN_SEARCH):
        parsed = parse_search(json.dumps(bad).encode())
        if parsed is None:
            continue
        for hit in parsed[0]:
            row = hn_story_article(hit, hn)
            if row is not None:
                assert isinstance(row.title, str) and isinstance(row.url, str), path
                assert not misfits("articles", row_columns(row)), (path, misfits("articles", row_columns(row)))


def row_columns(rec):
    from crawler.items import record_columns
    return record_columns(rec)


def test_the_odd_values_break_the_unguarded_code():
    """The mutations are strong enough to matter: the payload walk reaches fields whose odd values raised before
    the guards (a number where the HN comment text belongs, an integer ``children``)."""
    item = {"id": 1, "type": "story", "title": "t", "children": [{"id": 2, "type": "comment", "text": "hi",
                                                                 "author": "a", "children": []}]}
    seen = {p for p, _ in mutations(item)}
    assert ("children", 0, "text") in seen and ("children",) in seen and ("title",) in seen
