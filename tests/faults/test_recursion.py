"""Hostile nesting: pages with 100 000 nested elements (divs, inline tags, lists, tables, unclosed divs,
blockquotes) are recorded like any page — the story's own text extracted, no RecursionError — and the run
exits 0, so a scheduled run does not exit 3 again and again. Run twice into the same dataset."""
from __future__ import annotations

import pytest

from crawler.sites.generic import parse_article

from .conftest import run_crawl
from .server import LOREM, NESTINGS, FaultServer, article_html

DEPTH = 100_000


@pytest.fixture(scope="module")
def nested(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("nested")
    with FaultServer() as srv:
        urls = [f"{srv.base}/c/nested/{k}/{DEPTH}" for k in NESTINGS]
        first = run_crawl(tmp / "first", urls=urls, output=tmp / "dataset", timeout=240)
        second = run_crawl(tmp / "second", urls=urls, output=tmp / "dataset", timeout=240)
    return first, second


def test_first_run_records_every_nested_page_and_exits_0(nested):
    first, _ = nested
    assert first.returncode == 0, first.log[-3000:]
    assert "RecursionError" not in first.log
    rows = {r["url"].split("/c/nested/", 1)[1].split("/")[0]: r for r in first.rows("articles")}
    assert set(rows) == set(NESTINGS)


@pytest.mark.parametrize("kind", list(NESTINGS))
def test_the_story_text_is_extracted(nested, kind):
    first, _ = nested
    row = next(r for r in first.rows("articles") if f"/c/nested/{kind}/" in r["url"])
    assert row["title"] == f"Nested {kind} {DEPTH}"
    assert LOREM.strip()[:60] in row["body_text"]


def test_the_next_run_exits_0_too(nested):
    _, second = nested
    assert second.returncode == 0, second.log[-3000:]
    assert "RecursionError" not in second.log


@pytest.mark.parametrize("kind", list(NESTINGS))
def test_parser_directly(kind):
    open_, close = NESTINGS[kind]
    deep = open_ * DEPTH + "<p>Deep text.</p>" + close * DEPTH
    rec = parse_article("http://127.0.0.1:1/c/deep", article_html(f"Deep {kind}", body_extra=deep).encode(), {})
    assert getattr(rec, "title", None) == f"Deep {kind}"
