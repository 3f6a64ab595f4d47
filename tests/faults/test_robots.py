"""robots.txt outcomes per RFC 9309, one fault server (one authority) per case, all in one crawl:
2xx → rules obeyed; 4xx → allow all; 5xx, connection reset, timeout → disallow all; redirects followed
up to 5 hops, more → treated as unavailable (allow all)."""
from __future__ import annotations

from contextlib import ExitStack

import pytest

from .conftest import run_crawl
from .server import FaultServer

MODES = ["rules", "404", "500", "429", "reset", "hang", "redirect:3", "redirect:7"]


@pytest.fixture(scope="module")
def robots(tmp_path_factory):
    with ExitStack() as stack:
        servers = {m: stack.enter_context(FaultServer(robots=m)) for m in MODES}
        urls = [u for s in servers.values() for u in (f"{s.base}/a/public", f"{s.base}/private/secret")]
        run = run_crawl(tmp_path_factory.mktemp("robots"), urls=urls,
                        settings={"ROBOTSTXT_TIMEOUT": "1", "ROBOTSTXT_RETRY_TIMES": "1",
                                  "RETRY_AFTER_DEFAULT_WAIT": "0"})
        yield servers, run


def pages(srv):
    return [h for h in srv.hits if not h.path.startswith("/robots")]


def test_robots_run_exit_0(robots):
    servers, run = robots
    assert run.returncode == 0, run.log[-3000:]


def test_robots_200_rules_obeyed(robots):
    servers, run = robots
    srv = servers["rules"]
    assert [h.path for h in pages(srv)] == ["/a/public"]  # /private/ never requested
    assert len(srv.hits_for("/robots.txt")) == 1  # fetched once, shared by both requests
    assert srv.base + "/a/public" in run.urls() and srv.base + "/private/secret" not in run.urls()
    assert run.stat("robotstxt/forbidden/rule") == 2  # this server and the redirect:3 one


def test_robots_404_allows_all(robots):
    servers, run = robots
    srv = servers["404"]
    assert {h.path for h in pages(srv)} == {"/a/public", "/private/secret"}
    assert {srv.base + "/a/public", srv.base + "/private/secret"} <= run.urls()
    assert run.stat("robotstxt/allow_all/4xx") == 1


def test_robots_500_disallows_host(robots):
    servers, run = robots
    srv = servers["500"]
    assert pages(srv) == []
    assert len(srv.hits_for("/robots.txt")) == 2  # ROBOTSTXT_RETRY_TIMES=1
    assert run.stat("robotstxt/disallow_all/5xx") == 2  # this one and the 429 one
    assert not any(u.startswith(srv.base) for u in run.urls())


def test_robots_429_treated_as_server_error(robots):
    servers, run = robots
    srv = servers["429"]
    assert pages(srv) == [] and len(srv.hits_for("/robots.txt")) == 2
    assert not any(u.startswith(srv.base) for u in run.urls())


def test_robots_unreachable_reset_disallows_host(robots):
    servers, run = robots
    srv = servers["reset"]
    assert pages(srv) == [] and len(srv.hits_for("/robots.txt")) >= 1
    assert not any(u.startswith(srv.base) for u in run.urls())


def test_robots_timeout_disallows_host(robots):
    servers, run = robots
    srv = servers["hang"]
    assert pages(srv) == [] and len(srv.hits_for("/robots.txt")) >= 1
    assert not any(u.startswith(srv.base) for u in run.urls())
    assert run.stat("robotstxt/disallow_all/unreachable") == 2  # reset + timeout
    assert run.stat("robotstxt/forbidden/disallow_all") == 8  # 2 pages x (500, 429, reset, timeout)
    assert run.stat("robotstxt/forbidden") == 10  # + 2 rule matches


def test_robots_redirects_followed_up_to_five_hops(robots):
    servers, run = robots
    srv = servers["redirect:3"]
    assert [h.path for h in pages(srv)] == ["/a/public"]  # rules found after 3 hops and obeyed
    assert [h.path for h in srv.hits if h.path.startswith("/robots-hop/")] == [f"/robots-hop/{k}" for k in (1, 2, 3)]


def test_robots_too_many_redirects_is_unavailable(robots):
    servers, run = robots
    srv = servers["redirect:7"]
    assert len([h for h in srv.hits if h.path.startswith("/robots")]) == 6  # robots.txt + 5 hops, then gives up
    assert {h.path for h in pages(srv)} == {"/a/public", "/private/secret"}
    assert run.stat("robotstxt/allow_all/redirects") == 1


@pytest.fixture(scope="module")
def robots_refetch(tmp_path_factory):
    """Host X answers robots.txt with 500 once, then with rules; host Y's slow sitemap sends the crawler
    back to X after ROBOTSTXT_ERROR_TTL has passed."""
    with FaultServer(robots="flaky") as x, FaultServer(robots="rules") as y:
        later = f"{x.base}/a/later"
        run = run_crawl(tmp_path_factory.mktemp("robots_refetch"),
                        urls=[f"{x.base}/a/early", f"{y.base}/t/slow-sitemap?delay=2.5&to={later}"],
                        settings={"ROBOTSTXT_ERROR_TTL": "1", "ROBOTSTXT_RETRY_TIMES": "0"})
        yield x, run


def test_robots_error_expires_and_is_fetched_again(robots_refetch):
    x, run = robots_refetch
    assert run.returncode == 0, run.log[-2000:]
    assert len(x.hits_for("/robots.txt")) == 2
    assert run.stat("robotstxt/refetch") == 1 and run.stat("robotstxt/disallow_all/5xx") == 1
    assert [h.path for h in pages(x)] == ["/a/later"]  # /a/early fell in the disallow window
    assert x.base + "/a/later" in run.urls() and x.base + "/a/early" not in run.urls()
