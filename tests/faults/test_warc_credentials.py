"""A WARC capture of an authenticated crawl holds no credential: every record of every file is read back (WARC
headers, HTTP headers, payloads, gzip-decoded where compressed) and searched for each secret the crawl used.

Crawls: (1) an OAuth client-credentials API on the fault server (token POST with HTTP Basic and a form body,
then bearer-token requests; the API answers with a session cookie and a redirect carrying the token in its
query), plus a cookie, a proxy credential header and an API key in a query string; (2) the demo crawl with a
Disqus API key (sent in every comments API URL), replayed afterwards to the same rows.
"""
from __future__ import annotations

import base64
import re
import gzip
import zlib
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from crawler.middlewares.warc_redact import (REDACTED, redact_header, redact_request_body, redact_response_body,
                                             redact_url)

from .conftest import run_crawl
from .server import FaultServer

CLIENT_ID, CLIENT_SECRET = "client-id-4471", "client-secret-Zq81hTT"
ACCESS, REFRESH, SESSION = "access-tok-9kX2bb", "refresh-tok-77Lm", "session-cookie-5541ab"
COOKIE, PROXY, API_KEY = "sid-cookie-3391qq", "proxy-pass-1k2k", "apikey-s3cr3t-88"
DISQUS_KEY = "disqus-key-private-5521"


def every_record_bytes(directory: Path) -> list[bytes]:
    """Each record of each WARC file as bytes: WARC headers, HTTP headers, payload (and its decoded form)."""
    out = []
    files = sorted(directory.glob("*.warc.gz*"))
    assert files, f"no WARC files in {directory}"
    for path in files:
        with open(path, "rb") as fh:
            for rec in ArchiveIterator(fh, no_record_parse=False):
                parts = [rec.rec_headers.to_str().encode()]
                if rec.http_headers is not None:
                    parts.append(rec.http_headers.to_str().encode())
                raw = rec.raw_stream.read()
                parts.append(raw)
                for dec in (lambda b: gzip.decompress(b), lambda b: zlib.decompress(b, -zlib.MAX_WBITS)):
                    try:
                        parts.append(dec(raw))
                    except Exception:  # noqa: BLE001 - not that encoding
                        pass
                out.append(b"\n".join(parts))
    return out


def secrets_found(records: list[bytes], secrets: list[str]) -> list[str]:
    return [s for s in secrets if any(s.encode() in r for r in records)]


@pytest.fixture(scope="module")
def api_capture(tmp_path_factory):
    with FaultServer(options={"access_token": ACCESS, "refresh_token": REFRESH, "session": SESSION}) as srv:
        tmp = tmp_path_factory.mktemp("warc-api")
        urls = [f"{srv.base}/api/story/one", f"{srv.base}/api/story/two?api_key={API_KEY}&page=1",
                f"{srv.base}/api/story/moved?access_token={ACCESS}"]
        headers = '{"Cookie": "sid=%s", "Proxy-Authorization": "Basic %s", "X-Api-Key": "%s"}' % (
            COOKIE, base64.b64encode(f"me:{PROXY}".encode()).decode(), API_KEY)
        run = run_crawl(tmp, urls=urls, args={"token_url": f"{srv.base}/oauth/token", "client_id": CLIENT_ID,
                                               "client_secret": CLIENT_SECRET, "headers": headers},
                        settings={"WARC_CAPTURE_DIR": str(tmp / "warc")})
        hits = list(srv.hits)
    return run, tmp / "warc", hits


def test_the_authenticated_crawl_really_used_the_credentials(api_capture):
    run, _, hits = api_capture
    assert run.returncode == 0, run.log[-3000:]
    sent = [h for h in hits if h.path.startswith("/api/story/")]
    assert sent and all(h.headers.get("authorization") == f"Bearer {ACCESS}" for h in sent)
    assert any(h.path == "/oauth/token" for h in hits)
    assert len(run.rows("articles")) == 3  # one, two, and the redirected final story


def test_no_credential_in_any_warc_record(api_capture):
    run, warc, _ = api_capture
    records = every_record_bytes(warc)
    assert len(records) >= 8  # warcinfo + request/response pairs
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    proxy_basic = base64.b64encode(f"me:{PROXY}".encode()).decode()
    leaked = secrets_found(records, [CLIENT_SECRET, ACCESS, REFRESH, SESSION, COOKIE, PROXY, API_KEY, basic,
                                     proxy_basic])
    assert leaked == []
    assert any(REDACTED.encode() in r for r in records)
    assert run.stat("warc/capture/redacted/token_response") == 1
    assert run.stat("warc/capture/redacted/request_body") == 1
    assert run.stat("warc/capture/redacted/request_header/authorization") >= 4


def test_what_is_not_secret_is_kept(api_capture):
    _, warc, _ = api_capture
    records = every_record_bytes(warc)
    assert any(b"Authenticated story one" in r for r in records)
    assert any(b"Bearer [redacted]" in r for r in records)  # the scheme word stays
    assert any(b"grant_type=client_credentials" in r for r in records)
    assert any(CLIENT_ID.encode() in r for r in records)  # a client id is not a secret
    assert any(b"page=1" in r for r in records)


@pytest.fixture(scope="module")
def demo_capture(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("warc-demo")
    run = run_crawl(tmp, spider="demo", args={"articles": "4", "comments": "3", "port": "0"},
                    settings={"WARC_CAPTURE_DIR": str(tmp / "warc"), "DISQUS_API_KEY": DISQUS_KEY,
                              "AUTHOR_SALT": "warc-salt",
                              # the capture looks discussions up on the demo's OAuth Reddit API (so the token
                              # exchange is in the WARC); the replay below looks nothing up (tests/test_warc.py
                              # replays lookups too)
                              "DISCUSSION_LOOKUP": "reddit"})
    return run, tmp


def test_demo_capture_with_an_api_key_holds_no_key_and_replays(demo_capture, tmp_path):
    run, tmp = demo_capture
    assert run.returncode == 0, run.log[-3000:]
    assert run.stat("comments/detected/disqus") >= 1
    records = every_record_bytes(tmp / "warc")
    assert secrets_found(records, [DISQUS_KEY]) == []
    # the demo's Reddit-style API is behind OAuth (client credentials, bearer tokens): none of it is recorded
    from crawler.demo_site.reddit_api import RedditApi

    assert run.stat("reddit/auth/token_ok", 0) >= 1
    basic = base64.b64encode(f"{RedditApi.client_id}:{RedditApi.client_secret}".encode()).decode()
    assert secrets_found(records, [RedditApi.client_secret, basic]) == []
    assert not any(re.search(rb"Bearer (?!\[redacted\])", r) for r in records)
    assert not any(re.search(rb'"access_token": *"(?!\[redacted\])', r) for r in records)
    replay = run_crawl(tmp_path, spider="warc", args={"path": str(tmp / "warc")},
                       settings={"AUTHOR_SALT": "warc-salt"})
    assert replay.returncode == 0, replay.log[-3000:]
    # the comment threads found from the pages themselves (the Disqus API with its redacted key among them) replay
    # to the same rows; threads found by discussion lookup (Reddit/HN search) are tests/test_warc.py's business
    own = ("disqus", "wordpress", "discourse", "smf")
    key = lambda rows: sorted(r["comment_id"] for r in rows if r["platform"] in own)  # noqa: E731
    assert key(replay.rows("comments")) == key(run.rows("comments"))
    assert any(r["platform"] == "disqus" for r in replay.rows("comments"))


# -- the redaction functions ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name,value,expected", [
    ("Authorization", "Bearer abc.def", "Bearer [redacted]"),
    ("authorization", "Basic dXNlcjpwYXNz", "Basic [redacted]"),
    ("Authorization", "opaque-token", "[redacted]"),
    ("Proxy-Authorization", "Basic eDp5", "Basic [redacted]"),
    ("Cookie", "a=1; b=2", "[redacted]"),
    ("Set-Cookie", "sid=1; HttpOnly", "[redacted]"),
    ("X-Api-Key", "k", "[redacted]"),
    ("Location", "https://x.example/cb?code=abc&state=s", "https://x.example/cb?code=%5Bredacted%5D&state=s"),
    ("Referer", "https://u:p@x.example/a", "https://[redacted]@x.example/a"),
    ("User-Agent", "bot/1.0", "bot/1.0"),
    ("Content-Type", "application/json", "application/json"),
])
def test_header_redaction(name, value, expected):
    assert redact_header(name, value) == expected


@pytest.mark.parametrize("body,ctype,secret", [
    (b"grant_type=password&username=u&password=hunter2", "application/x-www-form-urlencoded", b"hunter2"),
    (b"grant_type=refresh_token&refresh_token=rt-1", "application/x-www-form-urlencoded", b"rt-1"),
    (b"grant_type=authorization_code&code=c0de&client_secret=cs", "", b"c0de"),
    (b'{"client_secret": "cs-json", "client_id": "id"}', "application/json", b"cs-json"),
    (b'{"auth": {"password": "pw-nested"}}', "application/json", b"pw-nested"),
])
def test_token_request_bodies_redacted(body, ctype, secret):
    out = redact_request_body(body, ctype)
    assert secret not in out and REDACTED.encode() in out.replace(b"%5B", b"[").replace(b"%5D", b"]")


def test_token_response_redacted_other_json_kept():
    tok = b'{"access_token": "at-1", "refresh_token": "rt-2", "token_type": "bearer", "expires_in": 3600}'
    out = redact_response_body(tok, "application/json")
    assert b"at-1" not in out and b"rt-2" not in out and b"bearer" in out
    comments = b'[{"id": 1, "content": {"rendered": "a token of thanks"}}]'
    assert redact_response_body(comments, "application/json") is comments


@pytest.mark.parametrize("url,gone", [
    ("https://disqus.com/api/3.0/threads/listPosts.json?api_key=K1&thread=5", "K1"),
    ("https://oauth.reddit.com/x?access_token=T1", "T1"),
    ("https://user:pw@example.com/a", "pw"),
    ("https://s3.example/b/k?X-Amz-Signature=S1&X-Amz-Credential=C1", "S1"),
])
def test_url_redaction(url, gone):
    assert gone not in redact_url(url)
