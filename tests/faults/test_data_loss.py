"""Faults that lose data must be counted and make `scrapy crawl` exit 3 (crawler/exitcodes.py):
an absurdly large field (dropped by validation) and more items from one response than allowed."""
from __future__ import annotations

import pytest

from .conftest import run_crawl
from .server import FaultServer

CAP = 5


@pytest.fixture(scope="module")
def data_loss(tmp_path_factory):
    with FaultServer() as srv:
        run = run_crawl(tmp_path_factory.mktemp("data_loss"), urls=[srv.base + "/c/huge-title",
                                                                     srv.base + "/c/many-comments"],
                        settings={"LIMITS_MAX_ITEMS_PER_RESPONSE": str(CAP)})
        yield srv, run


def test_data_loss_exit_code_3(data_loss):
    srv, run = data_loss
    assert run.returncode == 3, run.log[-3000:]
    assert run.stat("pipeline/drop_errors") == 1 + (21 - CAP)


def test_absurd_field_size_dropped(data_loss):
    srv, run = data_loss
    assert run.stat("pipeline/drop/validate/oversize_title") == 1
    assert srv.base + "/c/huge-title" not in run.urls()


def test_items_per_response_cap(data_loss):
    srv, run = data_loss
    # the comment page yields 1 thread + 20 comments; the cap keeps the first CAP items
    assert run.stat("limits/drop/items_per_response") == 21 - CAP
    assert len(run.rows("threads")) == 1 and len(run.rows("comments")) == CAP - 1
    thread = run.rows("threads")[0]  # cut by the cap: says so, with the count it really has
    assert thread["is_complete"] is False and thread["comment_count_collected"] == CAP - 1
    assert run.stat("limits/items_per_response/threads_cut") == 1
    assert srv.base + "/c/many-comments" in run.urls()
