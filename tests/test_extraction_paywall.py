"""Paywalled pages in a crawl: a page that says it is not free and serves the opening of its story (a teaser)
is an article row whose ``is_paywalled`` is true, its body the teaser without the paywall's own messages, and
it is counted (``articles/paywalled``); a not-free page that serves nothing of the story is no row
(``articles/not_article/paywall``); a free page's row says ``is_paywalled`` false.

`scrapy crawl news` against a local fixture site (tests/fixtures/generic/paywall_site/, served on 127.0.0.1
by tests/fixtures/sources/fixture_site.py) whose feed lists the three; the rows are read back with pyarrow
and DuckDB.
"""
from __future__ import annotations

from pathlib import Path

from tests.conftest import crawl_fixture_site

FIXTURES = Path(__file__).parent / "fixtures"
SITE = FIXTURES / "generic" / "paywall_site"
DOMAIN = "lumenledger.example"
ORIGINS = [f"https://{DOMAIN}", "https://premiumcoin.example", "https://custodyweekly.example"]


def test_teaser_row_flagged_and_counted_bare_wall_rejected(tmp_path):
    result = crawl_fixture_site(tmp_path, SITE, "lumenledger", "Lumen Ledger", DOMAIN, ORIGINS)
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
