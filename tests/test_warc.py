"""WARC capture (`-s WARC_CAPTURE_DIR=...`) and replay (`scrapy crawl warc`): real crawls, real WARC files
written with warcio and read back, real Parquet compared."""
from __future__ import annotations

import gzip
import socket
from io import BytesIO

import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.recordbuilder import RecordBuilder
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawler.comments.detect import platform_of_json
from crawler.demo_site.forum_shapes import SMF_GONE_TOPIC
from crawler.middlewares.warc_capture import OPEN_SUFFIX, ROLE_HEADER, RotatingWarcFile
from crawler.middlewares.warc_replay import WarcIndex, WarcRecordRef, sniff_kind

from .conftest import run_crawl

SALT = "test-salt-warc"
SKIP = ("run_id", "fetched_at", "valid_from", "crawl_date")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rows(result, table: str) -> list[str]:
    t = result.table(table)
    cols = [c for c in t.column_names if c not in SKIP]
    return sorted(map(repr, t.select(cols).to_pylist()))


def _records(paths):
    for path in paths:
        with open(path, "rb") as fh:
            for rec in ArchiveIterator(fh, check_digests="raise"):
                yield path, rec, rec.content_stream().read()


def _refetched(urls: list[str]) -> int:
    """Entry pages asked again on purpose (the errback of a thread whose first page is gone re-reads the page it
    was entered at: crawler/spiders/thread_entry.py) are served twice in the replay too."""
    return sum(1 for u in set(urls) if urls.count(u) > 1 and u.endswith(f"topic={SMF_GONE_TOPIC}.20"))


def _network_errors(stats: dict) -> list[str]:
    return [k for k in stats if k.startswith("downloader/exception_type_count/") and not k.endswith("IgnoreRequest")]


@pytest.fixture(scope="module")
def captured(tmp_path_factory):
    """A demo crawl with capture on, small WARC_MAX_SIZE so the files rotate."""
    tmp = tmp_path_factory.mktemp("warc-capture")
    port = _free_port()
    result = run_crawl(tmp / "live", "-a", f"port={port}", "-s", f"WARC_CAPTURE_DIR={tmp / 'warc'}",
                       "-s", "WARC_MAX_SIZE=30000", "-s", f"AUTHOR_SALT={SALT}")
    assert result.returncode == 0, result.stderr[-3000:]
    result.port = port
    return tmp, result


def _lookup_as_captured(live) -> list[str]:
    """Settings that make a replay look discussions up as the live demo crawl did (its API origins and client)."""
    from crawler.demo_site.apis import origins
    from crawler.demo_site.reddit_api import RedditApi

    args = ["-s", "DISCUSSION_LOOKUP=auto", "-s", f"REDDIT_CLIENT_ID={RedditApi.client_id}",
            "-s", f"REDDIT_CLIENT_SECRET={RedditApi.client_secret}"]
    for k, v in origins(f"http://127.0.0.1:{live.port}").items():
        args += ["-s", f"{k}={v}"]
    return args


def test_capture_writes_complete_rotating_warc_files_with_every_response(captured):
    tmp, live = captured
    files = sorted((tmp / "warc").iterdir())
    assert files and not [f for f in files if f.name.endswith(OPEN_SUFFIX)]  # every file closed and renamed
    assert len(files) >= 2 and all(f.name.endswith(".warc.gz") for f in files)  # rotated at WARC_MAX_SIZE
    assert live.stats["warc/capture/files"] == len(files)
    for f in files:  # gzip per record: each file is a series of gzip members, the first a warcinfo record
        with open(f, "rb") as fh:
            assert fh.read(2) == b"\x1f\x8b"
        first = next(iter(ArchiveIterator(open(f, "rb"))))
        assert first.rec_type == "warcinfo"
    responses, requests = {}, {}
    for _, rec, body in _records(files):  # check_digests="raise": every payload/block digest verified
        h = rec.rec_headers
        if rec.rec_type == "response":
            assert h.get_header("WARC-Target-URI") and h.get_header("WARC-Date")
            assert h.get_header("WARC-Payload-Digest", "").startswith("sha1:")
            assert h.protocol == "WARC/1.1"
            responses[h.get_header("WARC-Record-ID")] = (h.get_header("WARC-Target-URI"), h.get_header(ROLE_HEADER),
                                                        rec.http_headers.get_statuscode(), body)
        elif rec.rec_type == "request":
            requests[h.get_header("WARC-Concurrent-To")] = rec.http_headers.protocol  # "GET /path HTTP/1.x"
    assert set(requests) == set(responses)  # every response has its request record
    assert live.stats["warc/capture/records"] == len(responses) == live.stats["response_received_count"]
    urls = [u for u, _, _, _ in responses.values()]
    assert any(u.endswith("/robots.txt") for u in urls)
    comment_api = [(u, body) for u, role, status, body in responses.values() if role == "thread_page"
                   and status == "200"]
    json_pages = [body for u, body in comment_api if body.lstrip()[:1] in (b"[", b"{")]
    platforms = {platform_of_json(body) for body in json_pages}
    assert "wordpress" in platforms and None not in platforms  # comment API JSON, recognised by shape
    assert {role for _, role, _, _ in responses.values()} >= {"robots", "feed", "sitemap", "article", "thread_page"}


def test_replay_of_the_capture_gives_the_same_rows(captured, tmp_path):
    tmp, live = captured
    replay = run_crawl(tmp_path / "replay", "-a", f"path={tmp / 'warc'}/*.warc.gz", "-s", f"AUTHOR_SALT={SALT}",
                       *_lookup_as_captured(live), spider="warc")
    assert replay.returncode == 0, replay.stderr[-3000:]
    assert replay.stats["discussion/lookup/reddit/found"] >= 1  # the lookup's answers came from the WARC
    for table in ("articles", "threads", "comments"):
        assert live.table(table).num_rows > 0
        assert _rows(replay, table) == _rows(live, table), table
    stats = replay.stats
    assert stats.get("warc/replay/missing_record", 0) == 0
    assert stats["warc/replay/records"] == live.stats["warc/capture/records"]
    # the replay needs no OAuth token (answers come from the records): the captured token exchange stays unused
    token = live.stats.get("reddit/auth/token_ok", 0)
    # a thread entered at a later page fetches that page again as a follow-up of its first page: the URL has two
    # records and the replay, starting from the first page, needs it once
    urls = [rec.rec_headers.get_header("WARC-Target-URI") for _, rec, _ in _records(sorted((tmp / "warc").iterdir()))
            if rec.rec_type == "response"]
    assert stats["warc/replay/served"] + token == len(set(urls)) + _refetched(urls)
    assert stats["warc/replay/unused_records"] == token
    assert stats["robotstxt/rules/2xx"] == live.stats["robotstxt/rules/2xx"]  # robots.txt served from the WARC
    assert stats.get("robotstxt/forbidden", 0) == live.stats.get("robotstxt/forbidden", 0)
    assert stats["warc/replay/start/feed"] >= 1 and stats["warc/replay/start/sitemap"] >= 1
    assert _network_errors(stats) == []


def test_replay_without_comment_api_records_counts_them_and_stays_offline(captured, tmp_path):
    """Comment API records removed from the WARC: each request for one is counted, never fetched (the demo
    server is gone: an online attempt would be a connection error), and threads fall back to the page HTML."""
    tmp, live = captured
    out = tmp_path / "no-api.warc.gz"
    dropped = set()
    with open(out, "wb") as fh:
        writer = WARCWriter(fh, gzip=True, warc_version="1.1")
        for path in sorted((tmp / "warc").iterdir()):
            for rec in ArchiveIterator(open(path, "rb")):
                uri = rec.rec_headers.get_header("WARC-Target-URI") or ""
                if "/wp-json/wp/v2/comments" in uri and "page=1&" in uri:
                    dropped.add(uri)
                    continue
                writer.write_record(rec)
    assert dropped
    replay = run_crawl(tmp_path / "replay", "-a", f"path={out}", "-s", f"AUTHOR_SALT={SALT}", spider="warc")
    assert replay.returncode == 0, replay.stderr[-3000:]
    stats = replay.stats
    assert stats["warc/replay/missing_record"] == len(dropped)
    assert _network_errors(stats) == []
    assert stats["comments/fallback_html/wordpress"] >= 1
    assert _rows(replay, "articles") == _rows(live, "articles")


# -- pieces ------------------------------------------------------------------------------------------------
def test_rotating_file_is_renamed_only_when_complete(tmp_path):
    files = RotatingWarcFile(tmp_path, "t", max_size=10**9, info={"software": "test"})
    builder = RecordBuilder(warc_version="1.1")
    http = StatusAndHeaders("200 OK", [("Content-Type", "text/plain")], protocol="HTTP/1.1")
    files.write(builder.create_warc_record("http://127.0.0.1/a", "response", payload=BytesIO(b"hello"), length=5,
                                           http_headers=http))
    assert [p.name.endswith(".warc.gz.open") for p in tmp_path.iterdir()] == [True]
    files.close()
    (done,) = tmp_path.iterdir()
    assert done.name.endswith(".warc.gz")
    bodies = [r.content_stream().read() for r in ArchiveIterator(open(done, "rb")) if r.rec_type == "response"]
    assert bodies == [b"hello"]


@pytest.mark.parametrize("url,ctype,head,kind", [
    ("https://x.org/feed/", "application/rss+xml", b'<?xml version="1.0"?><rss version="2.0">', "feed"),
    ("https://x.org/atom", "text/xml", b"<feed xmlns='http://www.w3.org/2005/Atom'>", "feed"),
    ("https://x.org/s.xml", "application/xml", b'<?xml version="1.0"?><urlset xmlns="x">', "sitemap"),
    ("https://x.org/a/", "text/html", b"<!DOCTYPE html><html><head>", "article"),
    ("https://x.org/a/", "", b"\n <html lang=en>", "article"),
    ("https://x.org/wp-json/wp/v2/comments?post=1", "application/json", b'[{"id": 1}]', "json"),
    ("https://x.org/robots.txt", "text/plain", b"User-agent: *", "robots"),
    ("https://x.org/img.png", "image/png", b"\x89PNG", "other"),
])
def test_sniff_kind(url, ctype, head, kind):
    assert sniff_kind(url, 200, ctype, head) == kind


def test_index_prefers_a_full_response_over_a_304_and_matches_tracking_free_urls():
    index = WarcIndex()
    full = WarcRecordRef("https://x.org/a/?utm_source=rss", "f", 0, "2026-11-01T00:00:00Z", 200, "article")
    later_304 = WarcRecordRef("https://x.org/a/?utm_source=rss", "f", 10, "2026-11-02T00:00:00Z", 304, "other")
    index.add(full)
    index.add(later_304)
    assert index.lookup("https://x.org/a/?utm_source=rss") is full
    assert index.lookup("https://x.org/a/") is full  # the request without the tracking parameter
    assert index.lookup("https://x.org/b/") is None


def test_replay_decodes_gzip_and_chunked_bodies_as_recorded(tmp_path):
    """A foreign WARC (no role headers) with a gzip Content-Encoding page and a chunked one: both parsed."""
    html = ("<html><head><title>{t}</title><script type='application/ld+json'>{{\"@type\": \"NewsArticle\", "
            "\"headline\": \"{t}\", \"datePublished\": \"2026-11-01T10:00:00Z\", \"author\": {{\"name\": \"Ann Example\"}}}}"
            "</script></head><body><article><h1>{t}</h1><p>{p}</p><p>{p}</p></article></body></html>")
    para = "Miners switched machines back on after the price of power fell during the windy week. " * 3
    path = tmp_path / "foreign.warc.gz"
    with open(path, "wb") as fh:
        w = WARCWriter(fh, gzip=True, warc_version="1.0")
        for url, title, enc in (("https://news.example/one-story-here/", "First story about mining power", "gzip"),
                                ("https://news.example/two-story-here/", "Second story about mining power", "chunked")):
            body = html.format(t=title, p=para).encode()
            headers = [("Content-Type", "text/html; charset=utf-8")]
            if enc == "gzip":
                body = gzip.compress(body)
                headers.append(("Content-Encoding", "gzip"))
            else:
                body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
                headers.append(("Transfer-Encoding", "chunked"))
            http = StatusAndHeaders("200 OK", headers, protocol="HTTP/1.1")
            w.write_record(w.create_warc_record(url, "response", payload=BytesIO(body), length=len(body),
                                                http_headers=http))
    replay = run_crawl(tmp_path / "out", "-a", f"path={path}", spider="warc")
    assert replay.returncode == 0, replay.stderr[-3000:]
    rows = {r["title"]: r for r in replay.table("articles").to_pylist()}
    assert set(rows) == {"First story about mining power", "Second story about mining power"}
    assert all(r["body_text"].startswith("Miners switched machines") for r in rows.values())
    assert replay.stats["httpcompression/response_count"] == 1  # the project's decompression did the gzip
