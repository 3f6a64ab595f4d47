"""Generic article parser on hand-written fixtures: one directory per case under tests/fixtures/generic/.

Each case has ``input.html`` and ``expected.json``. Keys in expected.json:

* ``url`` (required): the URL the page is parsed as;
* ``not_article``: the expected NotArticle reason, or null for an article;
* for articles: ``title``, ``authors``, ``published_at`` (ISO, UTC), ``published_at_raw`` (the date string
  exactly as the page writes it), ``published_at_offset_minutes``, ``published_day`` (the day the page
  published on, in the site's own time: the day of ``published_at`` (UTC, as stored) moved by
  ``published_at_offset_minutes``, the two columns Parquet keeps), ``section``, ``tags``, ``canonical_url``,
  ``body_first_words`` / ``body_last_words`` (the body starts / ends with them), ``body_includes`` /
  ``body_excludes`` (substrings), ``body_counts`` ({substring: times it occurs}), ``is_paywalled``; a key that
  is absent is not checked;
* for listings: ``listing_links`` (exact list from :func:`crawler.sites.listing.listing_links`).
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from crawler.items import ArticleRecord
from crawler.sites.generic import PARSER, NotArticle, parse_article
from crawler.sites.listing import listing_links

CASES_DIR = Path(__file__).parent / "fixtures" / "generic"
CASES = sorted(p.name for p in CASES_DIR.iterdir() if (p / "input.html").exists()) if CASES_DIR.exists() else []
DAY_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
REQUIRED_CASES = {"jsonld_article", "opengraph_only", "dom_only", "jsonld_graph", "jsonld_malformed", "challenge",
                  "js_shell", "listing", "paywall_teaser"}


def load(case: str) -> tuple[bytes, dict]:
    d = CASES_DIR / case
    return (d / "input.html").read_bytes(), json.loads((d / "expected.json").read_text(encoding="utf-8"))


def published_day(published_at: datetime | None, offset_minutes: int | None) -> str | None:
    """The site's local day from what Parquet keeps: the UTC instant moved by the stated offset."""
    if published_at is None:
        return None
    utc = published_at.astimezone(timezone.utc)
    return (utc + timedelta(minutes=offset_minutes or 0)).date().isoformat()


def test_all_required_cases_present():
    assert REQUIRED_CASES <= set(CASES)


@pytest.mark.parametrize("case", CASES)
def test_case(case):
    body, exp = load(case)
    result = parse_article(exp["url"], body, {})
    if exp.get("not_article"):
        assert isinstance(result, NotArticle), f"{case}: expected {exp['not_article']}, got an article"
        assert result.reason == exp["not_article"]
        assert result.url == exp["url"]
        if "listing_links" in exp:
            assert listing_links(exp["url"], body) == exp["listing_links"]
        return
    assert isinstance(result, ArticleRecord), f"{case}: not an article: {getattr(result, 'reason', result)}"
    assert result.parser == PARSER
    assert result.article_id and result.site
    for key in ("title", "authors", "section", "tags", "canonical_url", "is_paywalled"):
        if key in exp:
            assert getattr(result, key) == exp[key], key
    if "published_at" in exp:
        want = datetime.fromisoformat(exp["published_at"]) if exp["published_at"] else None
        assert result.published_at == want
    if "published_at_raw" in exp:
        assert result.published_at_raw == exp["published_at_raw"]
    if "published_at_offset_minutes" in exp:
        assert result.published_at_offset_minutes == exp["published_at_offset_minutes"]
    if "published_day" in exp:
        assert published_day(result.published_at, result.published_at_offset_minutes) == exp["published_day"]
    text = result.body_text
    if "body_first_words" in exp:
        assert text.startswith(exp["body_first_words"]), text[:120]
    if "body_last_words" in exp:
        assert text.endswith(exp["body_last_words"]), text[-120:]
    for s in exp.get("body_includes", []):
        assert s in text
    for s in exp.get("body_excludes", []):
        assert s not in text
    for s, n in exp.get("body_counts", {}).items():
        assert text.count(s) == n, (s, text.count(s))



@pytest.mark.parametrize("words", ["ORIGINALLY published", "Originally PUBLISHED", "originally posted"])
def test_originally_published_is_read_in_any_case(words):
    """The date_originally_published case with its words in another case or verb: the same earlier day."""
    body, exp = load("date_originally_published")
    assert b"originally published" in body
    result = parse_article(exp["url"], body.replace(b"originally published", words.encode()), {})
    assert isinstance(result, ArticleRecord)
    assert result.published_at == datetime.fromisoformat(exp["published_at"])
    assert result.published_at_raw == exp["published_at_raw"]


def test_local_day_of_a_utc_stamp_survives_the_parquet_round_trip(tmp_path):
    """date_utc_stamp_local_day through the real exporter: the row read back with pyarrow keeps the instant
    in UTC and the site's offset, and from the two the local day (the URL's day) is had again."""
    from tests.test_dedup_pipeline import rows, run_records

    body, exp = load("date_utc_stamp_local_day")
    rec = parse_article(exp["url"], body, {})
    assert isinstance(rec, ArticleRecord)
    rec.fetched_at = rec.valid_from = datetime(2026, 2, 3, 12, 0, tzinfo=timezone.utc)
    rec.run_id, rec.word_count = "r1", len(rec.body_text.split())
    run_records(tmp_path, [rec], "r1")
    [row] = rows(tmp_path, "articles")
    assert row["published_at"] == datetime(2026, 2, 3, 3, 10, tzinfo=timezone.utc)
    assert row["published_at_offset_minutes"] == -300
    assert published_day(row["published_at"], row["published_at_offset_minutes"]) == "2026-02-02"
    import pyarrow.parquet as pq
    [path] = (tmp_path / "articles").rglob("*.parquet")
    assert str(pq.read_schema(path).field("published_at_offset_minutes").type) == "int16"


def test_published_at_raw_is_what_the_schema_says_it_is():
    """docs/schema.md's word on published_at_raw / published_at, held against every fixture article: the raw
    string is verbatim in the page or its URL, or an ISO day (a heuristic's find); a day-only date is midnight
    UTC in published_at."""
    from pipelines.schema import TABLES

    docs = {c.name: c.doc for c in TABLES["articles"]}
    assert "verbatim" in docs["published_at_raw"] and "htmldate" in docs["published_at_raw"]
    assert "URL" in docs["published_at_raw"] and "midnight UTC" in docs["published_at"]
    seen = 0
    for case in CASES:
        body, exp = load(case)
        rec = parse_article(exp["url"], body, {})
        if not isinstance(rec, ArticleRecord) or not rec.published_at_raw:
            continue
        seen += 1
        raw = rec.published_at_raw
        assert raw in body.decode("utf-8") or raw in exp["url"] or DAY_ONLY.fullmatch(raw), (case, raw)
        if rec.published_at_offset_minutes is None:  # no time of day stated: the day at midnight UTC
            assert rec.published_at.utcoffset() == timedelta(0), case
            assert rec.published_at.time().isoformat() == "00:00:00", (case, rec.published_at)
    assert seen >= 20


def test_string_and_bytes_give_the_same_record():
    body, exp = load("jsonld_article")
    a, b = parse_article(exp["url"], body, {}), parse_article(exp["url"], body.decode("utf-8"), {})
    assert a == b


def test_empty_and_garbage_input_are_not_articles():
    for body in (b"", b"   ", b"<html></html>", b"\x00\xff\xfe not html at all"):
        assert isinstance(parse_article("https://example.org/a-b-c", body, {}), NotArticle)


def test_jsonld_body_with_markup_becomes_text():
    body, exp = load("jsonld_article")
    html = body.decode("utf-8").replace(
        '"isAccessibleForFree": true',
        '"isAccessibleForFree": true, "articleBody": "<p>First paragraph of the stored body, long enough to count '
        'as the article text when it is compared with the page.</p><p>Second paragraph &amp; more words here to '
        'pass the minimum length that the parser asks of a body before it believes it at all, and then some.</p>'
        '<p>Third paragraph closing the piece with one more sentence so that it stays comparable in length to '
        'the visible text of the page, which is four long paragraphs of about forty words each, so this one '
        'needs a few more words than that to be safely longer.</p><p>Fourth and last paragraph: the structured '
        'copy of the text is often cleaner than the page, which is why it wins when it is long enough.</p>"')
    result = parse_article(exp["url"], html, {})
    assert isinstance(result, ArticleRecord)
    assert "<p>" not in result.body_text and "&amp;" not in result.body_text
    assert result.body_text.startswith("First paragraph of the stored body")


def test_title_prefers_h1_over_og_title_with_site_suffix():
    page = ('<html><head><meta property="og:title" content="{og}"></head><body><h1>Miners sell reserves</h1>'
            "</body></html>")
    from crawler.sites.generic import ArticlePage

    assert ArticlePage("https://x.example/a", page.format(og="Miners sell reserves | Hash Daily")).title() == \
        "Miners sell reserves"
    # a subtitle after a colon is part of the headline, not a site name
    assert ArticlePage("https://x.example/a", page.format(og="Miners sell reserves: what next")).title() == \
        "Miners sell reserves: what next"


def test_locked_content_tier_teaser_is_flagged_and_a_bare_wall_rejected():
    body, exp = load("opengraph_only")
    teaser = body.decode("utf-8").replace(
        '<meta name="author"', '<meta property="article:content_tier" content="locked">\n<meta name="author"')
    # keep only the first paragraph of the body: a teaser
    start = teaser.index('<div class="entry-content">') + len('<div class="entry-content">')
    end = teaser.index("</div></div>", start)
    first_p_end = teaser.index("</p>", start) + 4
    teaser = teaser[:first_p_end] + teaser[end:]
    result = parse_article(exp["url"], teaser, {})
    # (one short paragraph: less story text than any article body needs)
    assert isinstance(result, NotArticle) and result.reason == "paywall"
    # two paragraphs of the story: a teaser row, flagged
    locked = body.decode("utf-8").replace(
        '<meta name="author"', '<meta property="article:content_tier" content="locked">\n<meta name="author"')
    second_p_end = locked.index("</p>", first_p_end) + 4
    two = locked[:second_p_end] + locked[locked.index("</div></div>", second_p_end):]
    record = parse_article(exp["url"], two, {})
    assert isinstance(record, ArticleRecord) and record.is_paywalled is True
    assert record.body_text.startswith(exp["body_first_words"]) and record.body_text.count("\n\n") == 1
    # a locked page that serves the whole (long) text is an article, not flagged
    extra = "".join(f"<p>Further paragraph {i} of the full story, long enough to read as prose and to make the "
                    f"served text clearly longer than any teaser would be.</p>" for i in range(12))
    full = body.decode("utf-8").replace(
        '<meta name="author"', '<meta property="article:content_tier" content="locked">\n<meta name="author"'
    ).replace('<div class="entry-content">', '<div class="entry-content">' + extra)
    record = parse_article(exp["url"], full, {})
    assert isinstance(record, ArticleRecord) and record.is_paywalled is False
    assert parse_article(exp["url"], body, {}).is_paywalled is False  # (a free page)


def test_article_about_bot_checks_is_not_a_challenge():
    paragraphs = "".join(
        f"<p>Point {i}: readers are often asked to verify you are human, or see a page that says checking your "
        f"browser before accessing the site; this piece explains why such a captcha shows up and what it "
        f"protects.</p>" for i in range(10))
    page = (f"<html><head><title>Access denied: why readers see bot checks</title></head><body><article>"
            f"<h1>Access denied: why readers see bot checks</h1>{paragraphs}</article></body></html>")
    result = parse_article("https://x.example/why-readers-see-bot-checks", page, {})
    assert isinstance(result, ArticleRecord)


DEEP_PARAGRAPH = ("The harbour committee met on Tuesday evening, argued about the price of new mooring lines, and in "
                  "the end agreed to repair the old ones before the winter storms arrive. ")


def test_hundred_thousand_nested_divs_parse_without_recursion_error():
    """A hostile page: 100k nested <div>s around the text. The parse returns (an article or a reason)."""
    depth = 100_000
    page = ("<html><head><title>Harbour committee</title></head><body><h1>Harbour committee</h1>"
            f"<p>{DEEP_PARAGRAPH * 2}</p>" + "<div>" * depth + f"<p>{DEEP_PARAGRAPH}</p>" + "</div>" * depth
            + "</body></html>")
    result = parse_article("https://example.org/news/harbour-committee-meets", page.encode(), {})
    assert isinstance(result, (ArticleRecord, NotArticle))
    if isinstance(result, ArticleRecord):
        assert "mooring lines" in result.body_text


def test_text_walks_do_not_recurse_on_deep_trees():
    """A tree deeper than libxml2 builds from markup (it stops at 2048 levels) and than Python's recursion
    limit, made directly with lxml: the walks use explicit stacks."""
    import lxml.html
    from lxml import etree

    from crawler.htmltext import element_text
    from crawler.sites import maintext

    root = lxml.html.fromstring("<div></div>")  # an HTML element (text_content), children via SubElement
    node = root
    for _ in range(5_000):
        node = etree.SubElement(node, "div")
    p = etree.SubElement(node, "p")
    p.text = DEEP_PARAGRAPH
    assert "mooring lines" in element_text(root)
    assert any("mooring lines" in b.text for b in maintext.blocks_of([root]))


def test_days_shown_reads_the_usual_ways_pages_print_a_date():
    from crawler.dates import days_shown

    text = ("Posted September 4, 2025 · updated 4th of Sep 2025; archived 2025/11/03. "
            "Event on 09/10/2025 and 31.12.2024, Sept. 3 2024. Copyright 2025.")
    assert days_shown(text) == {"2025-09-04", "2025-11-03", "2025-09-10", "2025-10-09", "2024-12-31", "2024-09-03"}
    assert days_shown("") == set() and days_shown("No date here, only 2025 and May.") == set()


def test_tree_is_lxml_html_elements_and_left_as_parsed():
    """The shared tree's elements are lxml.html elements (htmldate and trafilatura copy such a tree before
    pruning it), so running the whole parser twice on one parsed body gives the same record."""
    import lxml.html

    from crawler.parsed_html import parsed_html

    body, exp = load("date_only_copyright_year")
    _, sel = parsed_html(body)
    assert isinstance(sel.root, lxml.html.HtmlElement)
    assert all(isinstance(el, lxml.html.HtmlElement) for el in sel.root.iter() if isinstance(el.tag, str))
    first = parse_article(exp["url"], body, {})
    assert parse_article(exp["url"], body, {}) == first
    assert parsed_html(body)[1] is sel  # the same parse was reused


@pytest.mark.parametrize("path", ["/2023/\u017fep/03/", "/2023/feb/30/", "/2023/13/03/"])
def test_a_url_with_no_real_date_is_no_date_and_no_crash(path):
    """date_url_month_name's page under a URL whose date is no day (a long s that case-folds to "s", Feb 30,
    month 13): still an article, and its date is not read from the URL."""
    body, exp = load("date_url_month_name")
    url = exp["url"].replace("/2023/october/03/", path)
    assert url != exp["url"]
    result = parse_article(url, body, {})
    assert isinstance(result, ArticleRecord)
    assert result.published_at_raw != path.strip("/")
