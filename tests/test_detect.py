"""detect.py: which platform a page or a JSON response belongs to (JSON judged by shape, never by host)."""
from __future__ import annotations

import gzip
import inspect
import json
import logging
import re

import pytest

from crawler.comments.detect import detect_platform, json_shape, platform_of_json
from crawler.demo_site.forum import entry_urls
from tests.test_comments_realpages import FIXTURES, fetch


def test_json_is_judged_by_shape_only():
    assert list(inspect.signature(platform_of_json).parameters) == ["body"]
    assert list(inspect.signature(json_shape).parameters) == ["body"]


@pytest.mark.parametrize("platform", ["discourse", "reddit", "disqus"])
def test_fixture_json_inputs_are_recognised(platform):
    files = [p for p in (FIXTURES / platform).glob("*/*.json") if p.name != "expected.json"]
    assert files
    for path in files:
        assert platform_of_json(path.read_bytes()) == platform, path


def test_shapes_and_kinds():
    assert json_shape(b'{"post_stream": {"posts": [], "stream": []}, "id": 1, "posts_count": 1}') == ("discourse", "topic")
    assert json_shape(b'{"post_stream": {"posts": []}, "id": 1}') == ("discourse", "posts")
    assert json_shape(b'{"topic_list": {"topics": []}, "users": []}') == ("discourse", "topic_list")
    assert json_shape(b'{"latest_posts": []}') == ("discourse", "latest_posts")
    thread = [{"kind": "Listing", "data": {"children": [{"kind": "t3", "data": {"id": "a"}}]}},
              {"kind": "Listing", "data": {"children": []}}]
    assert json_shape(json.dumps(thread)) == ("reddit", "thread")
    assert json_shape(b'{"json": {"errors": [], "data": {"things": []}}}') == ("reddit", "morechildren")
    assert json_shape(b'{"kind": "Listing", "data": {"children": [{"kind": "t1", "data": {}}]}}') == ("reddit", "listing")
    assert json_shape(b'{"cursor": {"hasNext": false}, "code": 0, "response": []}') == ("disqus", "posts")
    assert json_shape(b'{"cursor": {}, "code": 0, "response": [{"id": "1", "message": "<p>x</p>", '
                      b'"createdAt": "2020-01-01T00:00:00", "parent": null}]}') == ("disqus", "posts")
    assert json_shape(b'{"code": 0, "response": {"thread": {"id": "1"}, "posts": []}}') == ("disqus", "thread_data")
    wp = [{"id": 5, "post": 9, "parent": 0, "content": {"rendered": "<p>x</p>"}, "author_name": "a"}]
    assert json_shape(json.dumps(wp)) == ("wordpress", "comments")
    for other in (b'{"hello": 1}', b"[1, 2]", b"<html></html>", b"", b"{broken", b"[]"):
        assert platform_of_json(other) is None, other


def test_real_json_files_are_recognised(realpages):
    files = sorted((realpages / "comments").glob("*.json"))
    if not files:
        pytest.skip("no JSON files")
    for path in files:
        platform = path.name.split("__", 1)[0]
        data = json.loads(path.read_bytes())
        if isinstance(data, dict) and "interactions" in data:  # a recorded session: judge each response
            for inter in data["interactions"]:
                body = inter["response"]["body"]["string"]
                if "/access_token" not in inter["request"]["uri"]:
                    assert platform_of_json(body) == platform, path.name
            continue
        assert platform_of_json(path.read_bytes()) == platform, path.name


def test_real_pages_detected(realpages):
    cases = {
        "comments/discourse__ionicforum-t177814-crawler-fullpage.html": ["discourse"],
        "comments/discourse__ionicforum-t177814-noscript-body.html": ["discourse"],
        "crypto/bitcointalk__topic-14-break-on-supply-increase.html": ["smf"],
        "crypto/bitcointalk__board-74-legal.html": [],
        "crypto/theblock__cloudflare-challenge-page.html": [],
    }
    for rel, want in cases.items():
        path = realpages / rel
        if not path.exists():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        m = re.search(r'data-path="([^"]+)"', text)
        url = "https://forum.example" + (m.group(1) if m else "/index.php?topic=14.0" if "topic-14" in rel else "/x")
        assert [r.platform for r in detect_platform(url, path.read_bytes(), {})] == want, rel


def test_disqus_embeds_on_real_news_pages(realpages):
    """A Disqus thread is found exactly on the pages whose markup carries the embed (shortname + thread
    container), with the shortname the page declares."""
    pages = sorted((realpages / "aeb-dev" / "html").glob("*.html.gz"))
    if not pages:
        pytest.skip("no benchmark pages")
    seen = 0
    for path in pages:
        raw = gzip.open(path).read()
        text = raw.decode("utf-8", errors="replace")
        m = re.search(r"disqus_shortname\s*=\s*['\"]([A-Za-z0-9_-]+)['\"]", text)
        has_embed = bool(m) and "disqus_thread" in text
        refs = [r for r in detect_platform("https://news.example/story/", raw, {}) if r.platform == "disqus"]
        assert bool(refs) == has_embed, path.name
        if refs:
            seen += 1
            assert refs[0].host == f"{m.group(1).lower()}.disqus.com"
            assert "\\/" not in refs[0].native_thread_id  # JavaScript escapes undone
    assert seen, "expected at least one real Disqus embed among the benchmark pages"


def test_demo_pages_detected(demo, caplog):
    want = {"/forum/t/": "discourse", "/opinion/": "disqus", "/r/": "reddit", "/smf/": "smf"}
    with caplog.at_level(logging.ERROR):
        for url in entry_urls(demo.base):
            status, body, headers = fetch(url)
            platform = next(v for k, v in want.items() if k in url)
            assert [r.platform for r in detect_platform(url, body, headers)] == [platform], url
        art = demo.site.articles[0]
        status, body, headers = fetch(demo.base + art.path)
        assert [r.platform for r in detect_platform(demo.base + art.path, body, headers)] == ["wordpress"]
        status, body, headers = fetch(demo.base + "/")
        assert detect_platform(demo.base + "/", body, headers) == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]  # no adapter broke on JSON or HTML
