"""A forum topic reached as an article (a news source's feed lists it) is not an article row of the generic
parser (``not_article/forum``): the spider hands it to the comment adapters, which make its opening post the
article row and the replies its comments, as for a discussion source.

`scrapy crawl news` against a local fixture site (tests/fixtures/generic/forum_handoff_site/, served on
127.0.0.1 by tests/fixtures/sources/fixture_site.py) whose feed lists one article and one phpBB topic.
"""
from __future__ import annotations

from pathlib import Path

from tests.conftest import crawl_fixture_site

FIXTURES = Path(__file__).parent / "fixtures"
SITE = FIXTURES / "generic" / "forum_handoff_site"
DOMAIN = "harbourcoins.example"


def test_forum_topic_in_a_news_feed_goes_to_the_comment_adapters(tmp_path):
    result = crawl_fixture_site(tmp_path, SITE, "harbourcoins", "Harbour Coins", DOMAIN)
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
