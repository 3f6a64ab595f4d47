"""Generic parser on real pages from ../shared/realpages/ (read in place; skipped when absent).

Expectations are computed from the pages themselves (og:title, h1, JSON-LD, ground-truth files), never typed
in from their text. Pages are found through the folder's MANIFEST.tsv (file name, original URL).
"""
from __future__ import annotations

import csv
import gzip
import json
import re
import sys
from collections import Counter
from pathlib import Path
from urllib.parse import urljoin

import pytest
from parsel import Selector

from crawler.htmltext import normalise_whitespace
from crawler.items import ArticleRecord
from crawler.sites.generic import NotArticle, parse_article
from crawler.sites.listing import listing_links
from crawler.urls import canonical, site_of

REALPAGES = Path(__file__).resolve().parents[1].parent / "shared" / "realpages"
CRYPTO = REALPAGES / "crypto"
AEB = REALPAGES / "aeb-dev"

NOT_ARTICLES = {
    "theblock__cloudflare-challenge-page.html": "challenge",
    "news.bitcoin.com__ripple-tokenization-boom-csr-shell.html": "client_shell",
    "beincrypto__homepage-2025-04.html": "listing",
    "cryptonews__news-listing.html": "listing",
    "bitcointalk__board-74-legal.html": "listing",
}
ARTICLES = (
    "coindesk__2025-04-07-bitcoin-pops-and-drops-tariff.html",
    "decrypt__313854-tariffs-ray-dalio.html",
    "cryptonews__report-bitcoin-price-volatility-mining.html",
    "elliptic.co__blog-crypto-regulation-2025.html",
)
MIN_LISTING_LINKS = 10
WORD = re.compile(r"\w+")


def manifest() -> dict[str, str]:
    """file name → original URL (first word of the column; some carry a note)."""
    path = CRYPTO / "MANIFEST.tsv"
    if not path.exists():
        return {}
    with path.open(encoding="utf-8") as fh:
        return {row["file"]: row["original_url"].split()[0] for row in csv.DictReader(fh, delimiter="\t")}


def page(name: str) -> tuple[str, bytes]:
    urls = manifest()
    path = CRYPTO / name
    if name not in urls or not path.exists():
        pytest.skip(f"real page {name} not available")
    return urls[name], path.read_bytes()


def ground_truth(name: str) -> dict | None:
    path = CRYPTO / (name[: -len(".html")] + ".groundtruth.json")
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _squash(s: str | None) -> str:
    return re.sub(r"\s+", " ", s or "").strip()


# -- not articles ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,reason", sorted(NOT_ARTICLES.items()))
def test_not_article_reason(name, reason):
    url, body = page(name)
    result = parse_article(url, body, {})
    assert isinstance(result, NotArticle), f"{name} parsed as an article: {getattr(result, 'title', '')!r}"
    assert result.reason == reason


@pytest.mark.parametrize("name", sorted(n for n, r in NOT_ARTICLES.items() if r == "listing"))
def test_listing_links(name):
    url, body = page(name)
    links = listing_links(url, body)
    assert len(links) >= MIN_LISTING_LINKS
    assert len(links) == len(set(links))
    assert all(site_of(u) == site_of(url) for u in links)
    assert canonical(url) not in links
    # every link is an href of the page
    hrefs = {canonical(urljoin(url, h)) for h in Selector(text=body.decode("utf-8", "replace")).css("a::attr(href)").getall()}
    assert set(links) <= hrefs


# -- articles ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ARTICLES)
def test_article_fields(name):
    url, body = page(name)
    result = parse_article(url, body, {})
    assert isinstance(result, ArticleRecord), f"{name}: {getattr(result, 'reason', result)}"
    sel = Selector(text=body.decode("utf-8", "replace"))
    candidates = {_squash(sel.css('meta[property="og:title"]::attr(content)').get()),
                  _squash(" ".join(sel.css("h1 ::text").getall()))}
    for block in sel.css('script[type="application/ld+json"]::text').getall():
        candidates.update(_squash(h) for h in re.findall(r'"headline"\s*:\s*"((?:[^"\\]|\\.)*)"', block))
    assert _squash(result.title) in candidates
    assert result.authors, "no author"
    truth = ground_truth(name)
    if truth and "publish_date" in (truth.get("ground_truth") or {}):
        expected = truth["ground_truth"]["publish_date"]
        if expected:  # (where the truth has none, a date the page shows may still be found)
            assert result.published_at is not None and result.published_at.date().isoformat() == expected[:10]
    else:
        assert result.published_at is not None
    assert len(result.body_text) >= 500
    # the body is the page's own text: nearly all its words are words the page shows
    visible = Counter(WORD.findall(" ".join(sel.xpath("//body//text()[not(ancestor::script or ancestor::style)]").getall())))
    words = Counter(WORD.findall(result.body_text))
    assert sum((words & visible).values()) >= 0.9 * sum(words.values())
    first = [p for p in result.body_text.split("\n\n") if p.strip()][0]
    assert _squash(result.title) != _squash(first)


def test_elliptic_body_matches_ground_truth():
    name = "elliptic.co__blog-crypto-regulation-2025.html"
    url, body = page(name)
    truth = ground_truth(name)
    if not truth:
        pytest.skip("no ground truth")
    gt = truth["ground_truth"]
    result = parse_article(url, body, {})
    assert isinstance(result, ArticleRecord)
    text = normalise_whitespace(result.body_text)
    for snippet in gt.get("with", []):
        assert _squash(snippet) in _squash(text)
    for snippet in gt.get("without", []):
        assert snippet not in text
    assert result.title == gt["title"]


# -- article-extraction-benchmark slice ------------------------------------------------------------------------
def _aeb_pages():
    truth_file = AEB / "ground-truth.json"
    if not truth_file.exists():
        return []
    truth = json.loads(truth_file.read_text(encoding="utf-8"))
    out = []
    for pid, gt in sorted(truth.items()):
        path = AEB / "html" / f"{pid}.html.gz"
        if not path.exists():
            path = AEB / "html" / f"{pid}.html"
        if path.exists():
            raw = path.read_bytes()
            out.append((gt.get("url") or "https://example.invalid/", gzip.decompress(raw) if path.suffix == ".gz" else raw, gt))
    return out


def test_aeb_pages_are_articles_and_score_well():
    pages = _aeb_pages()
    if not pages:
        pytest.skip("aeb-dev pages not available")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import extraction_quality as eq  # the benchmark's scoring, so the test and the figures agree

    counts = []
    for url, raw, gt in pages:
        result = parse_article(url, raw, {})
        if isinstance(result, NotArticle):
            assert result.reason in ("paywall",), f"{url}: {result.reason}"
            text = None
        else:
            text = result.body_text
        counts.append(eq.match(gt.get("articleBody", ""), text))
    assert eq.summarise(counts)["f1"] >= 0.95
