"""A forum topic reached as an article (a news source's feed lists it) is not an article row of the generic
parser (``not_article/forum``): the spider hands it to the comment adapters, which make its opening post the
article row and the replies its comments, as for a discussion source.

`scrapy crawl news` against a local fixture site (tests/fixtures/generic/forum_handoff_site/, served on
127.0.0.1 by tests/fixtures/sources/fixture_site.py) whose feed lists one article and one phpBB topic.
"""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from tests.conftest import run_crawl

FIXTURES = Path(__file__).parent / "fixtures"
SITE = FIXTURES / "generic" / "forum_handoff_site"
DOMAIN = "harbourcoins.example"


def _fixture_site():
    spec = importlib.util.spec_from_file_location("handoff_fixture_site", FIXTURES / "sources" / "fixture_site.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _registry(tmp: Path) -> Path:
    path = tmp / "sources.json"
    path.write_text(json.dumps({"version": 1, "sources": [{
        "name": "harbourcoins", "title": "Harbour Coins", "domains": [DOMAIN], "home": f"https://{DOMAIN}/",
        "discovery": [{"kind": "feed", "url": f"https://{DOMAIN}/feed/"}], "comments": "none", "parser": "generic",
        "politeness": {"download_delay": 1.0, "concurrency": 1}}]}))
    return path


def test_forum_topic_in_a_news_feed_goes_to_the_comment_adapters(tmp_path):
    with _fixture_site().FixtureSite(SITE, [f"https://{DOMAIN}"]) as site:
        result = run_crawl(tmp_path / "out", "-a", "source=harbourcoins", "-a", f"base_override={DOMAIN}={site.base}",
                           "-a", f"registry={_registry(tmp_path)}", "-s", "CONTACT=tests@example.org",
                           "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", spider="news")
    assert result.returncode == 0, result.stderr[-3000:]
    stats = result.stats
    assert stats["articles/not_article/forum/to_discussion"] == 1
    assert stats["comments/detected/phpbb"] == 1
    assert stats.get("articles/not_article/forum", 0) == 0  # handed over, not dropped
    articles = {r["title"]: r for r in result.table("articles").to_pylist()}
    assert set(articles) == {"Exchange adds a proof-of-reserves page", "Moving coins off an exchange before the holidays?"}
    assert articles["Exchange adds a proof-of-reserves page"]["authors"] == ["Ilse Brandvold"]
    topic = articles["Moving coins off an exchange before the holidays?"]
    assert topic["body_text"].startswith("Thinking of moving most of my coins")
    comments = result.table("comments").to_pylist()
    assert len(comments) == 3 and all(c["article_id"] == topic["article_id"] for c in comments)
    assert any(c["body_text"].startswith("Send a small amount first") for c in comments)
