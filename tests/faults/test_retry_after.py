"""Retry-After (both forms) backs off only the host that asked; other hosts keep being crawled.

Timing assertions are lower bounds on timestamps the server recorded (the retry cannot arrive before the
asked time) and orderings within one run (another host was served inside the back-off window)."""
from __future__ import annotations

import pytest

from crawler.middlewares.retry_after import parse_retry_after

from .conftest import run_crawl
from .server import FaultServer

WAIT = 3


def _runs_between(hits, start: float, end: float) -> list:
    return [h for h in hits if start < h.t < end]


@pytest.fixture(scope="module")
def seconds_form(tmp_path_factory):
    with FaultServer() as srv:
        urls = [f"{srv.base}/t/429?secs={WAIT}"] + [f"{srv.other_base}/t/slow/{k}?delay=0.4" for k in range(8)]
        run = run_crawl(tmp_path_factory.mktemp("retry_after_seconds"), urls=urls,
                        settings={"CONCURRENT_REQUESTS_PER_DOMAIN": "1"})
        yield srv, run


@pytest.fixture(scope="module")
def date_form(tmp_path_factory):
    with FaultServer() as srv:
        urls = [f"{srv.other_base}/t/503-date?secs=2"] + [f"{srv.base}/t/slow/{k}?delay=0.4" for k in range(8)]
        run = run_crawl(tmp_path_factory.mktemp("retry_after_date"), urls=urls,
                        settings={"CONCURRENT_REQUESTS_PER_DOMAIN": "1"})
        yield srv, run


def test_retry_after_seconds_next_request_to_host_waits(seconds_form):
    srv, run = seconds_form
    assert run.returncode == 0, run.log[-2000:]
    first, retry = srv.hits_for("/t/429")
    assert retry.t - first.t >= WAIT  # lower bound: never earlier than asked
    later_same_host = [h for h in srv.hits if h.host == "127.0.0.1" and h.t > first.t]
    assert later_same_host and all(h.t - first.t >= WAIT for h in later_same_host)
    assert run.stat("retry/retry_after/seconds") == 1
    assert run.stat("retry/retry_after/delayed_requests") >= 1
    assert srv.base + f"/t/429?secs={WAIT}" in run.urls()


def test_retry_after_seconds_other_host_proceeds(seconds_form):
    srv, run = seconds_form
    first, retry = srv.hits_for("/t/429")
    other = [h for h in srv.hits if h.host == "localhost" and h.path.startswith("/t/slow/")]
    assert len(other) == 8
    assert _runs_between(other, first.t, retry.t), "no request to the other host during the back-off"
    assert len([u for u in run.urls() if "/t/slow/" in u]) == 8


def test_retry_after_http_date_waits_until_that_date(date_form):
    srv, run = date_form
    assert run.returncode == 0, run.log[-2000:]
    first, retry = srv.hits_for("/t/503-date")
    target = srv.retry_after_dates["/t/503-date?secs=2"]
    assert retry.t >= target  # the date the server asked for, as recorded by the server
    assert run.stat("retry/retry_after/http_date") == 1
    other = [h for h in srv.hits if h.host == "127.0.0.1" and h.path.startswith("/t/slow/")]
    assert _runs_between(other, first.t, retry.t), "the other host was held up too"
    assert srv.other_base + "/t/503-date?secs=2" in run.urls()


@pytest.mark.parametrize("value,expected", [
    ("120", (120.0, "seconds")),
    ("Wed, 25 Nov 2026 08:00:10 GMT", (10.0, "http_date")),
    ("Wed, 25 Nov 2026 07:00:00 GMT", (0.0, "http_date")),  # in the past: no wait
    ("soon", (None, "invalid")),
    ("-5", (None, "invalid")),
    (None, (None, "absent")),
])
def test_parse_retry_after_forms(value, expected):
    from datetime import datetime, timezone

    now = datetime(2026, 11, 25, 8, 0, 0, tzinfo=timezone.utc).timestamp()
    assert parse_retry_after(value, now=now) == expected
