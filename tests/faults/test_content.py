"""Content faults: wrong/missing charset, truncated HTML/JSON, empty 200, challenge page, soft-404,
invalid dates, binary served as HTML, compression bombs (gzip, deflate, brotli), valid compressed pages,
an XXE feed, a sitemap index loop and a 10 MB comment JSON. One crawl with the project's spider code and
pipelines; each test asserts its fault in the Parquet rows read back, the stats and the server's log."""
from __future__ import annotations

import pytest

from crawler.discovery.xmlsafe import parse_xml

from .conftest import run_crawl
from .server import FaultServer, xxe_feed

BIG_COMMENTS = 1000  # x 10 kB text = ~10 MB of JSON in one response
PATHS = ["/c/wrong-charset", "/c/wrong-charset-utf8", "/c/missing-charset", "/c/truncated-html", "/c/truncated-json", "/c/empty",
         "/c/challenge", "/c/soft404", "/c/bad-dates", "/c/binary", "/c/bomb-gzip", "/c/bomb-deflate",
         "/c/bomb-br", "/c/encoded-gzip", "/c/encoded-br", "/c/feed-xxe", "/c/sitemap-index.xml",
         "/c/comments-10mb"]


@pytest.fixture(scope="module")
def content(tmp_path_factory):
    with FaultServer(options={"big_comments": BIG_COMMENTS}) as srv:
        run = run_crawl(tmp_path_factory.mktemp("content"), urls=[srv.base + p for p in PATHS],
                        settings={"LIMITS_MAX_DECOMPRESSED_SIZE": str(8 * 1024 * 1024)})
        yield srv, run


def article(run, srv, path):
    rows = [r for r in run.rows("articles") if r["url"] == srv.base + path]
    return rows[0] if rows else None


def test_content_run_exit_0(content):
    srv, run = content
    assert run.returncode == 0, run.log[-3000:]


def test_wrong_charset_header_is_repaired(content):
    srv, run = content
    row = article(run, srv, "/c/wrong-charset")
    assert row is not None and row["title"] == "Café in Zürich accepts € and ₿"
    assert "Zürich nimmt" in row["body_text"] and "Ã" not in row["body_text"]
    assert run.stat("content/charset/wrong") == 2  # this page and /c/wrong-charset-utf8


def test_wrong_charset_declared_utf8_body_cp1252(content):
    srv, run = content
    row = article(run, srv, "/c/wrong-charset-utf8")
    assert row is not None and "Señor Nakamoto" in row["title"] and "café" in row["title"]
    assert "\ufffd" not in row["body_text"] and "señor" in row["body_text"]
    assert run.stat("content/charset/transcoded/cp1252") == 2  # this page and /c/missing-charset


def test_missing_charset_is_sniffed(content):
    srv, run = content
    row = article(run, srv, "/c/missing-charset")
    assert row is not None and row["title"] == "Naïve façade: crypto café reopens"
    assert "façade of the café" in row["body_text"] and "money—allegedly" in row["body_text"] and "\ufffd" not in row["body_text"]
    assert run.stat("content/charset/missing") >= 1
    assert run.stat("content/charset/transcoded/cp1252") == 2


def test_truncated_html_dropped(content):
    srv, run = content
    assert article(run, srv, "/c/truncated-html") is None
    assert run.stat("content/drop/truncated_html") == 1


def test_truncated_json_comments_dropped_thread_incomplete(content):
    srv, run = content
    art = article(run, srv, "/c/truncated-json")
    assert art is not None  # the article itself is fine
    assert run.stat("content/drop/truncated_json") == 1
    threads = [t for t in run.rows("threads") if t["article_id"] == art["article_id"]]
    assert len(threads) == 1 and threads[0]["is_complete"] is False
    assert threads[0]["comment_count_reported"] == 3 and threads[0]["comment_count_collected"] == 0


def test_empty_200_dropped(content):
    srv, run = content
    assert len(srv.hits_for("/c/empty")) == 1
    assert article(run, srv, "/c/empty") is None
    assert run.stat("content/drop/empty") == 1


def test_challenge_page_with_200_is_not_an_article(content):
    srv, run = content
    assert article(run, srv, "/c/challenge") is None
    assert run.stat("articles/not_article/challenge") == 1


def test_soft_404_dropped(content):
    srv, run = content
    assert article(run, srv, "/c/soft404") is None
    assert run.stat("content/drop/soft_404") == 1


def test_invalid_dates_become_null_raw_kept(content):
    srv, run = content
    row = article(run, srv, "/c/bad-dates")
    assert row is not None
    assert row["published_at"] is None and row["published_at_raw"] == "2999-01-01T00:00:00Z"
    assert row["modified_at"] is None
    assert run.stat("pipeline/repaired/validate/implausible_published_at") == 1
    assert run.stat("pipeline/repaired/validate/implausible_modified_at") == 1


def test_binary_served_as_html_dropped(content):
    srv, run = content
    assert article(run, srv, "/c/binary") is None
    assert run.stat("content/drop/binary") == 1


def test_compression_bombs_dropped(content):
    srv, run = content
    for kind in ("gzip", "deflate", "br"):
        assert len(srv.hits_for(f"/c/bomb-{kind}")) == 1, kind  # not retried
        assert article(run, srv, f"/c/bomb-{kind}") is None
    assert run.stat("limits/drop/decompressed_maxsize") == 3


def test_gzip_and_brotli_pages_decoded(content):
    srv, run = content
    for kind in ("gzip", "br"):
        row = article(run, srv, f"/c/encoded-{kind}")
        assert row is not None and row["title"] == f"Compressed story ({kind})"


def test_xxe_feed_entities_not_resolved_no_network(content):
    srv, run = content
    assert not [h for h in srv.hits if h.path.startswith("/c/evil")]  # external DTD/entity never fetched
    hostname = open("/etc/hostname").read().strip()
    fetched = [h.path for h in srv.hits]
    assert not any(hostname and hostname in p for p in fetched)
    assert "/c/feed-article" in fetched
    assert run.stat("discovery/feed/entries") == 2
    assert all("EVIL" not in r["body_text"] and "EVIL" not in r["title"] for r in run.rows("articles"))


def test_xxe_parser_function_directly(fault_server):
    root = parse_xml(xxe_feed(fault_server.base))
    text = "".join(root.itertext())
    hostname = open("/etc/hostname").read().strip()
    assert root is not None and "Fine" in text
    assert (not hostname or hostname not in text) and "lollollol" not in text
    assert not [h for h in fault_server.hits if h.path.startswith("/c/evil")]


def test_sitemap_index_loop_terminates(content):
    srv, run = content
    for name in ("sitemap-index.xml", "sitemap-a.xml", "sitemap-urls.xml"):
        assert len(srv.hits_for(f"/c/{name}")) == 1, name
    assert run.stat("dupefilter/filtered") >= 1
    assert article(run, srv, "/c/from-sitemap") is not None


def test_ten_megabyte_comment_json(content):
    srv, run = content
    art = article(run, srv, "/c/comments-10mb")
    assert art is not None
    comments = [c for c in run.rows("comments") if c["article_id"] == art["article_id"]]
    assert len(comments) == BIG_COMMENTS
    assert len({c["comment_id"] for c in comments}) == BIG_COMMENTS
    threads = [t for t in run.rows("threads") if t["article_id"] == art["article_id"]]
    assert threads[0]["is_complete"] is True and threads[0]["comment_count_collected"] == BIG_COMMENTS
