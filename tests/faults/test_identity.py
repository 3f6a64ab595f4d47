"""Identity: an honest User-Agent with the CONTACT setting; a live crawl without a usable CONTACT
refuses to start (exit 7, nothing fetched); the offline crawl needs none."""
from __future__ import annotations

import pytest

from .conftest import run_crawl
from .server import FaultServer


@pytest.fixture(scope="module")
def srv():
    with FaultServer() as s:
        yield s


@pytest.mark.parametrize("contact", ["", "nobody"])
def test_live_crawl_without_contact_refuses(tmp_path, srv, contact):
    before = len(srv.hits)
    run = run_crawl(tmp_path, urls=[srv.base + "/a/live-no-contact"], args={"live": "1"},
                    settings={"CONTACT": contact})
    assert run.returncode == 7, run.log[-2000:]
    assert run.stat("run/refused") == "no_contact"
    assert run.stat("finish_reason") == "refused_no_contact"
    assert len(srv.hits) == before  # not even robots.txt was fetched
    assert "needs a contact address" in run.log
    assert run.rows("articles") == []


def test_live_crawl_with_contact_sends_it_in_user_agent(tmp_path, srv):
    run = run_crawl(tmp_path, urls=[srv.base + "/a/live-with-contact"], args={"live": "1"},
                    settings={"CONTACT": "ops@example.org"})
    assert run.returncode == 0, run.log[-2000:]
    hits = srv.hits_for("/a/live-with-contact")
    assert len(hits) == 1
    assert hits[0].headers["user-agent"] == "cryptonews-dataset-crawler/0.1 (+ops@example.org; research crawler)"
    assert all("ops@example.org" in h.headers["user-agent"] for h in srv.hits_for("/robots.txt"))
    assert run.stat("identity/contact_configured") == 1
    assert srv.base + "/a/live-with-contact" in run.urls()


def test_offline_crawl_needs_no_contact(tmp_path, srv):
    run = run_crawl(tmp_path, urls=[srv.base + "/a/offline"], args={"live": "0"}, settings={"CONTACT": ""})
    assert run.returncode == 0, run.log[-2000:]
    hits = srv.hits_for("/a/offline")
    assert len(hits) == 1 and "no contact configured" in hits[0].headers["user-agent"]
    assert run.stat("identity/contact_configured") == 0
