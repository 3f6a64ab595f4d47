"""Disqus adapter: fixture cases (tests/fixtures/disqus/<case>/), embed-code detection, the optional API key,
and the demo article page (embedded data only) and demo listPosts API (with a key) end to end."""
from __future__ import annotations

import pytest

from crawler.comments.base import ThreadRef
from crawler.comments.disqus import DisqusAdapter, disqus_api_key, embed_config, strip_api_key
from crawler.demo_site.forum import DISQUS_EMBEDDED, DISQUS_PATH, forum_for
from tests.test_comments_realpages import crawl_thread, fetch, fixture_cases, run_fixture_case

CASES = fixture_cases("disqus")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fixture_case(case):
    run_fixture_case(case, lambda cfg: DisqusAdapter(api_key=cfg.get("api_key")))


def test_embed_code_variants():
    classic = ("<div id='disqus_thread'></div><script>var disqus_shortname = 'coinpaper';"
               "var disqus_identifier = '1234 https:\\/\\/coin.example\\/?p=1234';"
               "var disqus_url = 'https:\\/\\/coin.example\\/story\\/';</script>")
    cfg = embed_config(classic)
    assert (cfg["shortname"], cfg["identifier"], cfg["url"]) == (
        "coinpaper", "1234 https://coin.example/?p=1234", "https://coin.example/story/")
    modern = ("<div id=\"disqus_thread\"></div><script>var disqus_config = function () { this.page.url = "
              "'https://coin.example/a/'; this.page.identifier = 42; };(function(){var s=document.createElement"
              "('script');s.src='https://coinpaper.disqus.com/embed.js';})();</script>")
    cfg = embed_config(modern)
    assert (cfg["shortname"], cfg["identifier"], cfg["url"]) == ("coinpaper", "42", "https://coin.example/a/")
    page = embed_config("", "https://disqus.com/embed/comments/?base=default&f=coinpaper&t_i=abc&t_u=https%3A%2F%2Fx.example%2F")
    assert (page["shortname"], page["identifier"], page["url"]) == ("coinpaper", "abc", "https://x.example/")


def test_no_embed_no_thread():
    adapter = DisqusAdapter()
    assert adapter.detect("https://x.example/", b"<html><body><p>Disqus is a company.</p></body></html>", {}) is None
    # a comment-count script alone (no disqus_thread, no thread data) is not a thread
    assert adapter.detect("https://x.example/", b"<script src='//site.disqus.com/count.js'></script>", {}) is None


def test_first_requests_depend_on_the_key(monkeypatch):
    ref = ThreadRef("disqus", "coinpaper.disqus.com", "ident:42", "https://coin.example/a/",
                    extra={"shortname": "coinpaper", "identifier": "42", "link": "https://coin.example/a/"})
    assert DisqusAdapter().first_requests(ref) == [
        "https://disqus.com/embed/comments/?base=default&f=coinpaper&t_i=42&t_u=https%3A%2F%2Fcoin.example%2Fa%2F"
        "&s_o=default"]
    inline = ThreadRef(**{**ref.__dict__, "inline_body": b"<html/>"})
    assert DisqusAdapter().first_requests(inline) == []
    keyed = DisqusAdapter(api_key="K").first_requests(inline)
    assert keyed == ["https://disqus.com/api/3.0/threads/listPosts.json?api_key=K&forum=coinpaper&limit=100"
                     "&order=asc&thread%3Aident=42"]
    monkeypatch.setenv("DISQUS_API_KEY", "from-env")
    assert disqus_api_key({}) == "from-env" and disqus_api_key({"DISQUS_API_KEY": "s"}) == "s"
    assert strip_api_key(keyed[0]).startswith("https://disqus.com/api/3.0/threads/listPosts.json?forum=coinpaper")


def test_api_error_is_reported_not_raised():
    page = DisqusAdapter(api_key="bad").parse_page(
        "https://disqus.com/api/3.0/threads/listPosts.json?api_key=bad", b'{"code": 5, "response": "Invalid API key"}',
        {}, ThreadRef("disqus", "x.disqus.com", "1", "https://x.example/"))
    assert page.error.startswith("api_error 5") and page.comments == []


# == the demo article ====================================================================================
def _check_rows(forum, rows, n):
    posts = forum.disqus_posts[:n]
    by_cid = {r.comment_id: r for r in rows}
    real = {r.native_id: r for r in rows if r.native_id in {p.id for p in posts}}
    assert set(real) == {p.id for p in posts}
    for p in posts:
        r = real[p.id]
        assert (by_cid[r.parent_id].native_id if r.parent_id else None) == p.parent
        assert r.is_deleted == p.deleted and (r.body_text == "") == p.deleted


def test_demo_embedded_data_without_a_key(demo):
    url = f"{demo.base}{DISQUS_PATH}"
    status, body, headers = fetch(url)
    adapter = DisqusAdapter()
    ref = adapter.detect(url, body, headers)
    forum = forum_for(demo.site)
    assert ref is not None and ref.inline_body is not None and adapter.first_requests(ref) == []
    thread, rows, fetched, failed = crawl_thread(adapter, ref, url, headers)
    assert fetched == []
    _check_rows(forum, rows, DISQUS_EMBEDDED)
    assert thread.comment_count_reported == len(forum.disqus_posts) > thread.comment_count_collected
    assert not thread.is_complete  # honest: more posts exist than the page embeds


def test_demo_api_with_a_key(demo):
    url = f"{demo.base}{DISQUS_PATH}"
    status, body, headers = fetch(url)
    adapter = DisqusAdapter(api_key="demo-key", api_base=f"{demo.base}/api/3.0")
    ref = adapter.detect(url, body, headers)
    thread, rows, fetched, failed = crawl_thread(adapter, ref, url, headers)
    forum = forum_for(demo.site)
    assert failed == [] and len(fetched) > 1  # cursor paging
    _check_rows(forum, rows, len(forum.disqus_posts))
    assert thread.is_complete
    assert all("demo-key" not in r.source_url for r in rows)
