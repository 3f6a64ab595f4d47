"""Transport faults: resets, slow-loris, hangs, redirect loops and chains, credentials on cross-host
redirects, oversized bodies, absurd Retry-After. One real crawl against the fault server; each test
checks its own fault in the Parquet rows, the stats, the server's request log and the exit code."""
from __future__ import annotations

import json

import pytest

from .conftest import run_crawl
from .server import FaultServer

SECRET = "Bearer s3cret-token"
PATHS = ["/t/reset", "/t/reset-once", "/t/trickle", "/t/hang", "/t/loop-a", "/t/chain/8?c=long",
         "/t/chain/3?c=short", "/t/cross-auth", "/t/same-auth", "/t/bigbody?mb=3", "/t/bigbody-chunked?mb=3",
         "/t/429-huge", "/t/429-bare"]


@pytest.fixture(scope="module")
def transport(tmp_path_factory):
    with FaultServer() as srv:
        run = run_crawl(
            tmp_path_factory.mktemp("transport"), urls=[srv.base + p for p in PATHS],
            args={"headers": json.dumps({"Authorization": SECRET, "Cookie": "session=abc123"})},
            settings={"DOWNLOAD_TIMEOUT": "2", "RETRY_TIMES": "1", "DOWNLOAD_MAXSIZE": str(1024 * 1024),
                      "RETRY_AFTER_MAX_WAIT": "1", "RETRY_AFTER_DEFAULT_WAIT": "1", "REDIRECT_MAX_TIMES": "5"})
        yield srv, run


def test_run_finishes_with_exit_0(transport):
    srv, run = transport
    assert run.returncode == 0, run.log[-3000:]
    assert run.stat("finish_reason") == "finished"


def test_connection_reset_is_retried_then_given_up(transport):
    srv, run = transport
    # first try + RETRY_TIMES=1; Twisted's connection pool itself retries an idempotent request once
    # when a persistent connection dies before the response, so each try may reach the server twice
    assert 2 <= len(srv.hits_for("/t/reset")) <= 4
    assert run.stat("retry/max_reached") >= 1
    assert run.stat("retry/reason_count/scrapy.exceptions.DownloadFailedError") >= 1, run.stats_with("retry/")
    assert not any(u.endswith("/t/reset") for u in run.urls())


def test_connection_reset_once_recovers(transport):
    srv, run = transport
    assert len(srv.hits_for("/t/reset-once")) == 2  # the reset, then the page
    assert srv.base + "/t/reset-once" in run.urls()


def test_slow_loris_trickle_is_cut_by_download_timeout(transport):
    srv, run = transport
    assert len(srv.hits_for("/t/trickle")) == 2  # timed out, retried once, timed out again
    assert ("trickle", "client_left") in srv.events and ("trickle", "limit") not in srv.events
    assert run.stat("limits/timeout") >= 2
    assert not any("/t/trickle" in u for u in run.urls())


def test_hanging_server_times_out(transport):
    srv, run = transport
    assert len(srv.hits_for("/t/hang")) == 2
    assert ("hang", "limit") not in srv.events and srv.events.count(("hang", "client_left")) == 2
    assert run.stat("limits/timeout") >= 4  # trickle 2 + hang 2


def test_redirect_loop_stops_at_first_repeat(transport):
    srv, run = transport
    assert run.stat("limits/drop/redirect_loop") == 1
    assert len(srv.hits_for("/t/loop-a")) == 1 and len(srv.hits_for("/t/loop-b")) == 1


def test_redirect_chain_longer_than_max_is_dropped(transport):
    srv, run = transport
    assert run.stat("limits/drop/max_redirects") == 1
    long_hits = [h for h in srv.hits if h.path.startswith("/t/chain/") and "c=long" in h.path]
    assert len(long_hits) == 6  # the start URL + REDIRECT_MAX_TIMES=5 hops, then dropped
    assert srv.base + "/t/chain/0?c=short" in run.urls()
    assert not any("c=long" in u for u in run.urls())


def test_cross_host_redirect_strips_authorization_and_cookie(transport):
    srv, run = transport
    landed = srv.hits_for("/t/echo", host="localhost")
    assert len(landed) == 1
    assert "authorization" not in landed[0].headers and "cookie" not in landed[0].headers
    assert srv.hits_for("/t/cross-auth")[0].headers["authorization"] == SECRET  # it was sent to the origin
    assert run.stat("limits/redirect/stripped_authorization") >= 1
    assert run.stat("limits/redirect/stripped_cookie") >= 1
    assert srv.other_base + "/t/echo" in run.urls()


def test_same_host_redirect_keeps_authorization(transport):
    srv, run = transport
    landed = srv.hits_for("/t/echo-same")
    assert len(landed) == 1 and landed[0].headers.get("authorization") == SECRET


def test_oversized_body_dropped_not_retried(transport):
    srv, run = transport
    assert len(srv.hits_for("/t/bigbody")) == 1  # Content-Length over DOWNLOAD_MAXSIZE: no retry
    assert len(srv.hits_for("/t/bigbody-chunked")) == 1  # streamed past the limit: no retry
    assert run.stat("limits/drop/maxsize") == 2
    assert not any("bigbody" in u for u in run.urls())


def test_absurd_retry_after_is_capped(transport):
    srv, run = transport
    assert run.stat("retry/retry_after/capped") == 1
    assert run.stat("retry/retry_after/seconds") == 1
    hits = srv.hits_for("/t/429-huge")
    assert len(hits) == 2
    assert hits[1].t - hits[0].t >= 1.0  # waited at least the cap (RETRY_AFTER_MAX_WAIT=1), not a day
    assert srv.base + "/t/429-huge" in run.urls()


def test_429_without_retry_after_backs_off_default(transport):
    srv, run = transport
    assert run.stat("retry/retry_after/default") == 1
    hits = srv.hits_for("/t/429-bare")
    assert len(hits) == 2 and hits[1].t - hits[0].t >= 1.0  # RETRY_AFTER_DEFAULT_WAIT=1
    assert srv.base + "/t/429-bare" in run.urls()
