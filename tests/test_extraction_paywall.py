"""Paywalled pages in a crawl: a page that says it is not free and serves the opening of its story (a teaser)
is an article row whose ``is_paywalled`` is true, its body the teaser without the paywall's own messages, and
it is counted (``articles/paywalled``); a not-free page that serves nothing of the story is no row
(``articles/not_article/paywall``); a free page's row says ``is_paywalled`` false.

`scrapy crawl news` against a local fixture site (tests/fixtures/generic/paywall_site/, served on 127.0.0.1
by tests/fixtures/sources/fixture_site.py) whose feed lists the three; the rows are read back with pyarrow
and DuckDB.
"""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from tests.conftest import run_crawl

FIXTURES = Path(__file__).parent / "fixtures"
SITE = FIXTURES / "generic" / "paywall_site"
DOMAIN = "lumenledger.example"
ORIGINS = [f"https://{DOMAIN}", "https://premiumcoin.example", "https://custodyweekly.example"]


def _fixture_site():
    spec = importlib.util.spec_from_file_location("paywall_fixture_site", FIXTURES / "sources" / "fixture_site.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _registry(tmp: Path) -> Path:
    path = tmp / "sources.json"
    path.write_text(json.dumps({"version": 1, "sources": [{
        "name": "lumenledger", "title": "Lumen Ledger", "domains": [DOMAIN], "home": f"https://{DOMAIN}/",
        "discovery": [{"kind": "feed", "url": f"https://{DOMAIN}/feed/"}], "comments": "none", "parser": "generic",
        "politeness": {"download_delay": 1.0, "concurrency": 1}}]}))
    return path


def test_teaser_row_flagged_and_counted_bare_wall_rejected(tmp_path):
    with _fixture_site().FixtureSite(SITE, ORIGINS) as site:
        result = run_crawl(tmp_path / "out", "-a", "source=lumenledger", "-a", f"base_override={DOMAIN}={site.base}",
                           "-a", f"registry={_registry(tmp_path)}", "-s", "CONTACT=tests@example.org",
                           "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", spider="news")
    assert result.returncode == 0, result.stderr[-3000:]
    stats = result.stats
    assert stats["articles/parsed"] == 2
    assert stats["articles/paywalled"] == 1
    assert stats["articles/not_article/paywall"] == 1
    assert "paywalled=1" in result.stderr  # the run's summary line says how many rows are teasers
    rows = {r["title"]: r for r in result.table("articles").to_pylist()}
    assert set(rows) == {"Validators vote on a fee change", "Inside the fund that bought the dip"}
    teaser, free = rows["Inside the fund that bought the dip"], rows["Validators vote on a fee change"]
    assert teaser["is_paywalled"] is True and free["is_paywalled"] is False
    assert teaser["body_text"].startswith("When prices fell by a fifth in a single week")
    assert teaser["body_text"].endswith("three of the last four slumps.")
    assert "Subscribe" not in teaser["body_text"] and "subscriber" not in teaser["body_text"]
    assert teaser["authors"] == ["Erin Blake"]

    import duckdb

    glob = str(result.output / "articles" / "**" / "*.parquet")
    got = duckdb.sql(f"SELECT title FROM read_parquet('{glob}', hive_partitioning = true) "
                     "WHERE is_paywalled ORDER BY title").fetchall()
    assert got == [("Inside the fund that bought the dip",)]
