"""Every count a server states is capped: X-WP-TotalPages (absurd, huge, malformed), sitemap chains that list
themselves with a changing query, wide sitemap trees, sitemaps with too many URLs, "last page" numbers of
forums. One crawl for the WordPress page counts, one for the sitemaps; the rest on the pure functions."""
from __future__ import annotations

import pytest

from crawler.comments.base import MAX_LISTED_PAGES, page_range
from crawler.comments.classic_forum import fill_pages
from crawler.comments.wordpress import WordPressAdapter

from .conftest import run_crawl
from .server import WP_PAGE_COUNTS, FaultServer

MAX_PAGES = 4


@pytest.fixture(scope="module")
def wp_pages(tmp_path_factory):
    with FaultServer() as srv:
        urls = [f"{srv.base}/c/wp-pages/{k}" for k in range(1, len(WP_PAGE_COUNTS) + 1)]
        run = run_crawl(tmp_path_factory.mktemp("wp_pages"), urls=urls,
                        settings={"COMMENTS_MAX_PAGES_PER_THREAD": str(MAX_PAGES)}, timeout=120)
        hits = list(srv.hits)
    return run, hits


def _thread_of(run, k):
    threads = {t["article_id"]: t for t in run.rows("threads")}
    arts = {a["url"].rsplit("/", 1)[-1]: a["article_id"] for a in run.rows("articles") if "/c/wp-pages/" in a["url"]}
    return threads.get(arts.get(str(k)))


def test_absurd_page_counts_end_quickly_and_exit_0(wp_pages):
    run, hits = wp_pages
    assert run.returncode == 0, run.log[-3000:]
    assert len(run.rows("articles")) == len(WP_PAGE_COUNTS)


@pytest.mark.parametrize("k", range(1, len(WP_PAGE_COUNTS) + 1), ids=[c.strip() for c in WP_PAGE_COUNTS])
def test_stated_page_count_is_capped(wp_pages, k):
    run, hits = wp_pages
    api = [h for h in hits if h.path.startswith("/wp-json/wp/v2/comments") and f"post={9000 + k}" in h.path]
    assert 1 <= len(api) <= MAX_PAGES  # never more requests than the per-thread cap
    thread = _thread_of(run, k)
    assert thread is not None
    try:
        many = int(WP_PAGE_COUNTS[k - 1]) > MAX_PAGES
    except ValueError:
        many = False  # not a number: one page
    assert thread["comment_count_collected"] == 3 * len(api)
    if many:  # the server claims more than was fetched: incomplete, with what was collected
        assert thread["is_complete"] is False and len(api) == MAX_PAGES
    else:
        assert len(api) == 1


def test_caps_counted(wp_pages):
    run, _ = wp_pages
    # X-WP-Total 10**12 / 10**29 cannot be an int32 count: null, counted; the rows are kept
    assert run.stat("pipeline/repaired/export/out_of_range_comment_count_reported") >= 1
    assert run.stat("comments/page_cap_reached") >= 3  # 10^12, 10^29, 2000, 1000000
    assert run.stat("comments/page_count_capped") >= 2  # the ones beyond MAX_LISTED_PAGES


@pytest.mark.parametrize("stated,listed,cut", [
    ("1000000000000", MAX_LISTED_PAGES, 1000000000000 - 1 - MAX_LISTED_PAGES),
    ("99999999999999999999999999999", MAX_LISTED_PAGES, 99999999999999999999999999999 - 1 - MAX_LISTED_PAGES),
    ("5", 4, 0), ("1", 0, 0), ("0", 0, 0), ("-5", 0, 0), ("1e12", 0, 0), ("NaN", 0, 0), ("", 0, 0),
])
def test_wordpress_adapter_lists_at_most_the_cap(stated, listed, cut):
    body = b'[{"id": 1, "post": 2, "parent": 0, "content": {"rendered": "<p>x</p>"}}]'
    page = WordPressAdapter().parse_rest("https://x.example/wp-json/wp/v2/comments?post=2&page=1", body,
                                         {"X-WP-Total": stated, "X-WP-TotalPages": stated})
    assert len(page.next_urls) == listed and page.cut_pages == cut


@pytest.mark.parametrize("first,last,step,n,cut", [(2, 10**12, 1, MAX_LISTED_PAGES, 10**12 - 1 - MAX_LISTED_PAGES),
                                                   (20, 10**15, 20, MAX_LISTED_PAGES, 10**15 // 20 - MAX_LISTED_PAGES),
                                                   (2, 10, 1, 9, 0), (5, 4, 1, 0, 0), (0, 100, 0, 101, 0)])
def test_page_range(first, last, step, n, cut):
    numbers, c = page_range(first, last, step)
    assert len(numbers) == n and c == cut


def test_forum_last_page_number_is_capped():
    links = {2: "https://f.example/t/1/page-2", 10**12: f"https://f.example/t/1/page-{10**12}"}
    filled = fill_pages(links)
    assert len(filled) <= MAX_LISTED_PAGES + 1 and max(filled) <= MAX_LISTED_PAGES + 1


# -- sitemaps ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sitemaps(tmp_path_factory):
    with FaultServer() as srv:
        urls = [f"{srv.base}/c/sitemap-chain?x=0", f"{srv.base}/c/sitemap-many?n=120"]
        run = run_crawl(tmp_path_factory.mktemp("sitemaps"), urls=urls, timeout=120,
                        settings={"SITEMAP_MAX_DEPTH": "3", "SITEMAP_MAX_URLS": "50"})
        hits = list(srv.hits)
    return run, hits


@pytest.fixture(scope="module")
def wide_sitemaps(tmp_path_factory):
    with FaultServer() as srv:
        run = run_crawl(tmp_path_factory.mktemp("wide"), urls=[f"{srv.base}/c/sitemap-wide?fan=8&t=w"], timeout=120,
                        settings={"SITEMAP_MAX_COUNT": "40"})
        hits = list(srv.hits)
    return run, hits


def test_self_listing_sitemap_chain_ends_at_the_depth_cap(sitemaps):
    run, hits = sitemaps
    chain = [h for h in hits if h.path.startswith("/c/sitemap-chain")]
    assert len(chain) == 4  # x=0 and three hops
    assert run.stat("limits/drop/sitemap_depth") == 2  # the chain's next link and its urlset child at the cap
    assert run.stat("limits/drop/sitemap_depth") >= 1
    assert "index hops deep" in run.log


def test_wide_sitemap_tree_stops_at_the_count_cap(wide_sitemaps):
    run, hits = wide_sitemaps
    followed = [h for h in hits if h.path.startswith("/c/sitemap-wide")]
    assert len(followed) == 40 + 1  # children per run, plus the start sitemap
    # 8 children followed, then 32 of their 64; the 32 followed list 8 each, none followed: 32 + 256 cut
    assert run.stat("limits/drop/sitemap_count") == 32 + 32 * 8
    assert run.returncode == 0 and "limits/drop/sitemap_count=" in run.log


def test_sitemap_urls_capped_per_sitemap(sitemaps):
    run, hits = sitemaps
    assert run.stat("limits/drop/sitemap_urls") == 120 - 50
    assert len([h for h in hits if h.path.startswith("/a/many-")]) == 50


def test_sitemap_caps_exit_0_and_in_summary(sitemaps):
    run, _ = sitemaps
    assert run.returncode == 0, run.log[-3000:]
    assert "limits/drop/sitemap_depth=" in run.log and "limits/drop/sitemap_urls=" in run.log
