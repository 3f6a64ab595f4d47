"""End to end: `scrapy crawl demo` against the built-in site, Parquet read back with pyarrow, DuckDB,
pandas and polars, and the crawl's stats."""
from __future__ import annotations

from collections import Counter

import duckdb
import pyarrow.dataset as ds
import pytest

from crawler.demo_site.content import SPANISH
from crawler.demo_site.forum_shapes import SMF_GONE_TOPIC
from crawler.demo_site.forum_content import FOOTER_SITES
from crawler.demo_site.site import DemoSite
from pipelines.schema import SCHEMA_VERSION, TABLES

from .conftest import run_crawl


@pytest.fixture(scope="module")
def tables(demo_run):
    return {t: demo_run.table(t).to_pylist() for t in TABLES}


@pytest.fixture(scope="module")
def con(demo_run):
    con = duckdb.connect()
    for t in TABLES:
        con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{demo_run.output}/{t}/**/*.parquet', "
                    "hive_partitioning=1)")
    return con


def test_every_table_is_non_empty_and_readable_by_all_readers(demo_run, con):
    import pandas as pd
    import polars as pl

    for t in TABLES:
        n_arrow = ds.dataset(demo_run.output / t, partitioning="hive").count_rows()
        n_duck = con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        n_pandas = len(pd.read_parquet(demo_run.output / t))
        n_polars = pl.scan_parquet(str(demo_run.output / t / "**" / "*.parquet")).select(pl.len()).collect().item()
        assert n_arrow > 0 and n_arrow == n_duck == n_pandas == n_polars, t


def test_files_carry_the_explicit_schema(demo_run):
    for t, cols in TABLES.items():
        schema = ds.dataset(demo_run.output / t, partitioning="hive").schema
        assert [f.name for f in schema][: len(cols)] == [c.name for c in cols]
        assert schema.metadata[b"schema_version"] == str(SCHEMA_VERSION).encode()


def wp(rows):
    return [r for r in rows if r["platform"] == "wordpress"]


def test_site_is_fully_collected(tables):
    site = DemoSite()
    titles = Counter(a["title"] for a in tables["articles"])
    for art in site.articles:  # every story of the original site once ...
        assert titles[art.title] == 2 if art is site.partner_article else titles[art.title] == 1, art.title
    assert len(wp(tables["comments"])) == sum(len(a.comments) for a in site.articles)
    assert {t["platform"] for t in tables["threads"]} == {"wordpress", "discourse", "disqus", "reddit", "smf",
                                                        "hackernews"}


def test_discourse_topic_rss_is_read_for_new_posts(demo_run):
    assert demo_run.stats["discovery/topic_rss/posts"] >= 1
    assert "discovery/topic_rss/new_posts" not in demo_run.stats  # first visit: nothing known to compare with
    # the RSS names the same topic as the forum's entry URL: it is crawled once, not twice (topics 4021 and 4022,
    # plus the three repost topics of forum_shapes, one of them entered without its opening post)
    assert demo_run.stats["discussion/opening_post/discourse"] == 2 + 3


def test_every_platform_yields_a_complete_thread(tables):
    by_platform = Counter(t["platform"] for t in tables["threads"] if t["is_complete"])
    assert all(by_platform[p] >= 1 for p in ("wordpress", "discourse", "disqus", "reddit", "smf")), by_platform
    for t in tables["threads"]:
        n = sum(c["thread_id"] == t["thread_id"] and not c["is_deleted"] and not c["is_placeholder"]
                for c in tables["comments"])
        assert n <= t["comment_count_collected"], t


def test_founding_case_discourse_repost(tables):
    """A forum topic reposting a news story: one article row recognised as a repost of the original, the
    sister-site footer gone, replies threaded under it."""
    site = DemoSite()
    original = next(a for a in tables["articles"] if a["title"] == site.articles[3].title and a["parser"].startswith("generic"))
    # the demo has other discourse reposts (of an off-site story, entered from a post anchor or a later page):
    # pick the one naming this original, whatever order the crawl wrote the rows in
    reposts = [a for a in tables["articles"] if a["parser"].startswith("discourse")
               and a["syndicated_from"] == original["url"].split("?")[0]]
    assert len(reposts) == 1
    repost = reposts[0]
    assert repost["duplicate_of"] == original["article_id"] and repost["duplicate_reason"] in ("near", "content")
    for name, _ in FOOTER_SITES:
        assert name not in repost["body_text"]
    replies = [c for c in tables["comments"] if c["article_id"] == repost["article_id"]]
    thread = next(t for t in tables["threads"] if t["article_id"] == repost["article_id"])
    assert len(replies) >= thread["comment_count_reported"] == thread["comment_count_collected"] > 20
    assert max(c["depth"] for c in replies) >= 2 and any(c["quoted_text"] for c in replies)
    assert any(c["is_deleted"] for c in replies) and any(c["edited_at"] for c in replies)


def test_comments_join_to_articles_and_threads(con):
    assert con.execute("SELECT count(*) FROM comments c ANTI JOIN articles a USING (article_id)").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM comments c ANTI JOIN threads t USING (thread_id)").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM threads t ANTI JOIN articles a USING (article_id)").fetchone()[0] == 0


def test_parent_links_and_depth_agree_with_the_tree(tables):
    by_id = {c["comment_id"]: c for c in tables["comments"]}
    for c in tables["comments"]:
        if c["parent_id"] is None:
            assert c["depth"] == 0
            continue
        parent = by_id[c["parent_id"]]
        assert parent["thread_id"] == c["thread_id"]
        assert c["depth"] == parent["depth"] + 1
        assert parent["position"] < c["position"]  # a reply is displayed after its parent
    for thread in {c["thread_id"] for c in tables["comments"]}:
        positions = sorted(c["position"] for c in tables["comments"] if c["thread_id"] == thread)
        assert positions == list(range(len(positions)))
    assert max(c["depth"] for c in tables["comments"]) >= 5  # the deep reply chain survived


def test_native_parent_links_match_the_site(tables):
    site = DemoSite()
    truth = {str(c.native_id): (str(c.parent) if c.parent else None) for a in site.articles for c in a.comments}
    by_id = {c["comment_id"]: c for c in tables["comments"]}
    for c in wp(tables["comments"]):
        parent_native = by_id[c["parent_id"]]["native_id"] if c["parent_id"] else None
        assert truth[c["native_id"]] == parent_native


def test_threads_report_counts(tables, demo_run):
    for t in tables["threads"]:
        if t["comment_count_reported"] is not None:  # SMF topic pages state no count
            assert t["comment_count_collected"] == t["comment_count_reported"], t
        # the one exception: the SMF topic whose first page is gone (forum_shapes "smf_gone")
        assert t["is_complete"] == (not t["url"].endswith(f"/smf/index.php?topic={SMF_GONE_TOPIC}.0")), t
    assert demo_run.stats["comments/incomplete_thread"] == 1
    assert demo_run.stats["comments/pages"] > len(tables["threads"])  # REST paging was followed
    assert demo_run.stats["comments/fallback_html/wordpress"] == 1  # REST refused on one story
    assert {t["source"] for t in wp(tables["threads"])} == {"api", "html"}


def test_tracking_links_make_no_duplicate_rows(tables):
    canon = [a["canonical_url"] for a in tables["articles"]]
    assert len(canon) == len(set(canon))
    assert not any("utm_" in u or "fbclid" in u for u in canon)


def test_republished_copy_is_kept_and_labelled(tables):
    site = DemoSite()
    copies = [a for a in tables["articles"] if a["title"] == site.partner_article.title]
    assert len(copies) == 2
    original = next(a for a in copies if a["site"].startswith("127.0.0.1"))
    copy = next(a for a in copies if a["site"].startswith("localhost"))
    assert original["duplicate_of"] is None
    assert copy["duplicate_of"] == original["article_id"]
    assert copy["duplicate_reason"] == "content"
    assert copy["cluster_id"] == original["cluster_id"] == original["article_id"]
    assert "Chain Wire Partners" not in copy["body_text"]  # the partner's footer is not body text
    assert sum(a["duplicate_of"] == original["article_id"] for a in tables["articles"]) == 1


def test_pages_that_are_not_articles_leave_no_rows_but_are_counted(tables, demo_run):
    urls = " ".join(a["url"] for a in tables["articles"])
    assert "verify-you-are-human" not in urls and "insider-memo" not in urls and "story-that-was-removed" not in urls
    s = demo_run.stats
    assert s["articles/not_article/challenge"] == 1
    assert s["robotstxt/forbidden"] >= 1
    assert s["httperror/response_ignored_status_count/404"] == 1
    assert "challenge=1" in demo_run.stderr and "http_404=1" in demo_run.stderr


def test_languages(tables):
    spanish = next(a for a in tables["articles"] if a["title"] == SPANISH.title)
    assert spanish["language"] == "es" and spanish["language_score"] > 0.9
    es_comments = [c for c in tables["comments"] if c["article_id"] == spanish["article_id"]]
    assert es_comments and all(c["language"] == "es" for c in es_comments)
    # every article is English, but a row made for a topic whose opening post is gone has no text to judge
    assert all(a["language"] == "en" for a in tables["articles"] if a is not spanish and a["body_text"])
    assert {a["language"] for a in tables["articles"] if not a["body_text"]} == {"und"}
    short = [c for c in tables["comments"] if len(c["body_text"]) < 15]
    assert short and all(c["language"] == "und" and c["language_score"] is None for c in short)


def test_mojibake_repaired_and_emoji_kept(tables):
    texts = [c["body_text"] for c in tables["comments"]]
    assert not any("Ã" in t for t in texts)
    cafe = [t for t in texts if "café" in t]
    assert len(cafe) == 1 and "🚀" in cafe[0]


def test_deleted_and_quoting_comments(tables):
    deleted = [c for c in wp(tables["comments"]) if c["is_deleted"]]
    assert len(deleted) == 1 and deleted[0]["body_text"] == "" and deleted[0]["author_id"] is None
    assert any(c["parent_id"] == deleted[0]["comment_id"] for c in tables["comments"])  # its reply kept
    quoting = [c for c in wp(tables["comments"]) if c["quoted_text"]]
    assert len(quoting) == 1
    by_id = {c["comment_id"]: c for c in tables["comments"]}
    assert quoting[0]["quoted_text"] == by_id[quoting[0]["parent_id"]]["body_text"]
    assert quoting[0]["quoted_text"] not in quoting[0]["body_text"]


def test_authors_are_pseudonymised(tables):
    ids = [c["author_id"] for c in tables["comments"] if c["author_id"]]
    assert ids and all(len(i) == 32 for i in ids)
    assert not any(c["author_id"].startswith("reader") for c in tables["comments"] if c["author_id"])
    assert all(c["author_pseudonymised"] for c in tables["comments"])


def test_run_metadata(tables, demo_run):
    run_ids = {r["run_id"] for t in tables.values() for r in t}
    assert run_ids == {demo_run.stats["run/id"]}
    from crawler.comments.wordpress import PARSER as WP_PARSER
    from crawler.sites.generic import PARSER as GENERIC_PARSER

    assert {a["parser"] for a in tables["articles"] if a["site"].startswith("localhost")} == {GENERIC_PARSER}
    assert {a["parser"] for a in tables["articles"]} == {GENERIC_PARSER, "discourse-opening-post@1", "smf-opening-post@1",
                                                       "smf-topic@1"}
    assert {c["parser"] for c in wp(tables["comments"])} == {WP_PARSER}
    assert {c["parser"] for c in tables["comments"]} == {WP_PARSER, "discourse@1", "disqus@1", "reddit@1", "smf@1",
                                                      "hackernews@1"}


def test_no_staging_left_and_manifest_written(demo_run):
    assert not (demo_run.output / "_staging").exists()
    assert len(list((demo_run.output / "_manifests").glob("*.json"))) == 1


def test_thread_collected_below_reported_is_counted(tmp_path):
    """Without a Disqus API key only the embedded posts are read: the thread says so and the stats count it."""
    result = run_crawl(tmp_path / "keyless", "-a", "articles=3", "-a", "comments=2", "-a", "port=0",
                       "-s", "DISQUS_API_KEY=")
    assert result.returncode == 0, result.stderr[-2000:]
    disqus = [t for t in result.table("threads").to_pylist() if t["platform"] == "disqus"]
    assert len(disqus) == 1 and not disqus[0]["is_complete"]
    assert disqus[0]["comment_count_collected"] < disqus[0]["comment_count_reported"]
    # the Disqus thread, and the demo's SMF topic whose first page is gone (always incomplete)
    assert result.stats["comments/incomplete_thread"] == 2
    assert "comments/incomplete_thread=2" in result.stderr


def test_output_dir_setting_and_raw_author_names(tmp_path):
    out = tmp_path / "elsewhere"
    result = run_crawl(out, "-a", "articles=3", "-a", "comments=2", "-s", "AUTHOR_PSEUDONYMISE=False")
    assert result.returncode == 0, result.stderr[-2000:]
    comments = result.table("comments").to_pylist()
    assert comments and any(c["author_id"] and c["author_id"].startswith("reader") for c in comments)
    assert not any(c["author_pseudonymised"] for c in comments)
    assert str(out) in result.stderr
