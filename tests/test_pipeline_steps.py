"""Pure-function tests of each pipeline step (no Scrapy needed)."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from crawler.comments.base import RawComment, ThreadRef, build_thread
from crawler.exitcodes import DATA_LOST, NOT_COMMITTED, OK, exit_code
from crawler.htmltext import split_quotes
from crawler.items import ArticleRecord, CommentRecord
from crawler.urls import canonical
from pipelines.clean import clean_record, clean_text
from pipelines.dedup.exact import DocKey, exact_labels
from pipelines.language.step import detect_language
from pipelines.pseudonymise import pseudonymise
from pipelines.validate import implausible_dates, missing_fields, oversize_field

NOW = datetime(2026, 11, 25, tzinfo=timezone.utc)


def article(**kw) -> ArticleRecord:
    base = dict(article_id="a1", url="http://x/a", canonical_url="http://x/a/", site="x", title="T",
                body_text="body " * 50, run_id="r", fetched_at=NOW)
    base.update(kw)
    return ArticleRecord(**base)


# validate -------------------------------------------------------------------------------------------
def test_validate_finds_missing_and_oversize_fields():
    assert missing_fields(article()) == []
    assert missing_fields(article(title="  ")) == ["title"]
    assert oversize_field(article(body_text="x" * 101), max_body=100) == "body_text"
    deleted = CommentRecord(comment_id="c", thread_id="t", article_id="a", platform="wordpress", native_id="1",
                            run_id="r", fetched_at=NOW, is_deleted=True)
    assert missing_fields(deleted) == []
    deleted.is_deleted = False  # a comment with no text of its own (only a quote, an emote) is still a comment
    assert missing_fields(deleted) == []
    deleted.thread_id = ""
    assert missing_fields(deleted) == ["thread_id"]
    assert missing_fields(article(body_text="")) == ["body_text"]  # a news page without a body is not kept
    assert missing_fields(article(body_text="", body_optional=True)) == []  # a topic without text is


def test_validate_flags_implausible_dates():
    rec = article(published_at=datetime(1970, 1, 1, tzinfo=timezone.utc), modified_at=NOW + timedelta(days=30))
    assert implausible_dates(rec, NOW, 1995) == ["published_at", "modified_at"]
    assert implausible_dates(article(published_at=NOW - timedelta(days=3)), NOW, 1995) == []


# clean ----------------------------------------------------------------------------------------------
def test_clean_repairs_mojibake_and_whitespace():
    text, repaired = clean_text("The cafÃ© \u200bopens  at\tnine 🚀\n\n\n\nSecond")
    assert text == "The café opens at nine 🚀\n\nSecond" and repaired
    assert clean_text("plain text") == ("plain text", False)


def test_clean_strips_leftover_markup_and_counts_words():
    rec = article(body_text="<p>one two</p><p>three</p>", authors=[" Ana ", "Ana", ""])
    clean_record(rec)
    assert rec.body_text == "one two\n\nthree" and rec.word_count == 3 and rec.authors == ["Ana"]


# language -------------------------------------------------------------------------------------------
def test_language_short_text_is_undetermined():
    assert detect_language("+1") == ("und", None)
    assert detect_language("https://example.com/a-very-long-link-that-is-not-language") == ("und", None)


def test_language_is_deterministic_and_right():
    es = "Los mineros de la región dicen que la electricidad barata atrae nuevas empresas cada mes."
    results = {detect_language(es) for _ in range(5)}
    assert len(results) == 1 and results.pop()[0] == "es"
    assert detect_language("Miners in the region say cheap power keeps drawing new companies every month.")[0] == "en"


# pseudonymise ---------------------------------------------------------------------------------------
def test_pseudonyms_are_stable_salted_and_scoped():
    def pseudo(name, salt, host="http://a.example/x"):
        c = CommentRecord(platform="wordpress", source_url=host, author_name=name)
        pseudonymise(c, salt)
        return c

    a1, a2 = pseudo("alice", b"s1"), pseudo("alice", b"s1")
    assert a1.author_id == a2.author_id and a1.author_id != "alice" and a1.author_pseudonymised
    assert pseudo("alice", b"s2").author_id != a1.author_id
    assert pseudo("alice", b"s1", "http://b.example/x").author_id != a1.author_id
    raw = pseudo("alice", None)
    assert raw.author_id == "alice" and not raw.author_pseudonymised and raw.author_name is None


# exact dedup ----------------------------------------------------------------------------------------
def test_exact_labels_pick_the_same_representative_in_any_order():
    t = lambda d: datetime(2026, 11, d, tzinfo=timezone.utc)  # noqa: E731
    docs = [DocKey("b", "h1", t(3), "http://b/"), DocKey("a", "h1", t(2), "http://z/"),
            DocKey("c", "h1", None, "http://a/"), DocKey("d", "h2", t(1), "http://d/")]
    expected = exact_labels(docs)
    for seed in range(5):
        shuffled = docs[:]
        random.Random(seed).shuffle(shuffled)
        assert exact_labels(shuffled) == expected
    assert expected["a"] == (None, None, "a")
    assert expected["b"] == ("a", "content", "a") and expected["c"] == ("a", "content", "a")
    assert "d" not in expected


# urls -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("url", [
    "http://www.example.com/news/story?utm_source=x&utm_medium=rss",
    "http://example.com:80/news/story/?fbclid=abc#comments",
    "HTTP://EXAMPLE.com/news/story/amp/",
    "http://example.com/news/story?gclid=1&ref=home",
])
def test_canonical_removes_tracking_and_variants(url):
    assert canonical(url) == "http://example.com/news/story/"


def test_canonical_keeps_identifying_query():
    assert canonical("http://e.com/?p=12&utm_source=x") == "http://e.com/?p=12"


# comment tree ---------------------------------------------------------------------------------------
def raw(cid, parent=None, minute=0, **kw):
    return RawComment(cid, parent, "u", f"text {cid}", "http://s/x",
                      published_at=datetime(2026, 1, 1, 0, minute, tzinfo=timezone.utc), **kw)


def test_build_thread_orders_depth_first_oldest_first():
    ref = ThreadRef("wordpress", "s", "1", "http://s/x")
    comments = [raw("3", "1", 3), raw("1", None, 1), raw("2", None, 2), raw("4", "3", 4), raw("5", "1", 5)]
    thread, rows = build_thread(ref, "A", comments, parser="p@1", source="api", thread_url="u",
                                complete=True, reported=5)
    assert [r.native_id for r in rows] == ["1", "3", "4", "5", "2"]
    assert [r.depth for r in rows] == [0, 1, 2, 1, 0]
    assert thread.comment_count_collected == 5 and thread.is_complete


def test_build_thread_keeps_orphans_under_a_deleted_placeholder_and_breaks_cycles():
    ref = ThreadRef("wordpress", "s", "1", "http://s/x")
    comments = [raw("2", "9", 2), raw("5", "6", 5), raw("6", "5", 6)]
    thread, rows = build_thread(ref, "A", comments, parser="p@1", source="api", thread_url="u",
                                complete=True, reported=3)
    by_native = {r.native_id: r for r in rows}
    assert by_native["9"].is_deleted and by_native["9"].body_text == ""
    assert by_native["2"].parent_id == by_native["9"].comment_id
    assert len(rows) == 4 and thread.comment_count_collected == 3  # the placeholder is not counted
    assert {by_native["5"].depth, by_native["6"].depth} == {0, 1}


def test_incomplete_thread_is_flagged():
    ref = ThreadRef("wordpress", "s", "1", "http://s/x")
    thread, _ = build_thread(ref, "A", [raw("1")], parser="p@1", source="api", thread_url="u",
                             complete=True, reported=4)
    assert not thread.is_complete


# html text ------------------------------------------------------------------------------------------
def test_split_quotes_separates_quoted_words():
    own, quoted = split_quotes("<p>intro</p><blockquote><p>they said</p></blockquote>and then<p>mine</p>")
    assert quoted == "they said" and own == "intro\n\nand then\n\nmine"


# exit codes -----------------------------------------------------------------------------------------
def test_exit_codes():
    assert exit_code({"export/committed": True})[0] == OK
    assert exit_code({"export/committed": True, "pipeline/drop_errors": 2})[0] == DATA_LOST
    assert exit_code({"export/committed": True, "spider_exceptions/KeyError": 1})[0] == DATA_LOST
    assert exit_code({"export/failed/commit": 1, "pipeline/drop_errors": 2})[0] == NOT_COMMITTED
    assert exit_code({})[0] == NOT_COMMITTED  # a commit that never reported success (it raised) is no success


def test_fast_detector_matches_langdetect():
    from langdetect import detector_factory
    from langdetect.detector import Detector

    from crawler.demo_site.content import SPANISH
    from crawler.demo_site.site import DemoSite
    from pipelines.language.langdetect_fast import make_detector

    site = DemoSite(n_articles=6, comments_per_article=4)
    texts = [" ".join(a.paragraphs) for a in site.articles] + [" ".join(SPANISH.paragraphs)]
    texts += [c.html for a in site.articles for c in a.comments if len(c.html) > 60]
    texts += [  # the n-gram buffer's corners: capital words, runs of spaces, no trailing space, other scripts
        "BITCOIN ETF APPROVED by the SEC today,   analysts at JPMorgan say ETH could follow soon.",
        "  leading spaces and trailing spaces   ",
        "Криптовалютный рынок снова вырос после заявления регулятора о новых правилах.",
        "比特币价格今天再次上涨，交易所的交易量也在增加，分析师认为这一趋势将持续。",
        "سعر البيتكوين ارتفع مرة أخرى اليوم بعد إعلان البنك المركزي عن قواعد جديدة",
        "Ceny kryptowalut wzrosły po ogłoszeniu nowych przepisów przez regulatora rynku.",
        "x" * 3 + " https://example.org/a/very/long/path?with=query " + "Mixed CASE Words HERE and there",
    ]
    for text in texts:
        detector_factory.init_factory()
        factory = detector_factory._factory
        factory.seed = 0
        ref = Detector(factory)
        ref.append(text)
        expected = ref.get_probabilities()
        got = make_detector(text, seed=0).get_probabilities()
        assert [x.lang for x in got] == [x.lang for x in expected]
        assert all(abs(a.prob - b.prob) < 1e-6 for a, b in zip(got, expected))
    # many texts at once: each gets exactly the answer it gets alone, whatever its neighbours
    from pipelines.language.langdetect_fast import detect_batch

    alone = [[(x.lang, x.prob) for x in make_detector(t, seed=0).get_probabilities()] for t in texts]
    together = [[(x.lang, x.prob) for x in r] for r in detect_batch(texts + ["1234 5678"], seed=0)]
    assert together[:-1] == alone and together[-1] == []  # no letters, no features: no answer, not a guess
    assert [[(x.lang, x.prob) for x in r] for r in detect_batch(texts[::-1], seed=0)] == alone[::-1]


def test_fast_text_preparation_matches_langdetect():
    from langdetect import detector_factory
    from langdetect.detector import Detector

    from pipelines.language.langdetect_fast import make_detector

    detector_factory.init_factory()
    samples = ["  many   spaces\tand\ttabs  ", "mail me at someone@example.org or see https://example.org/x",
               "Ελληνικά κείμενα with a few Latin words", "Tiếng Việt có dấu", "ＦＵＬＬＷＩＤＴＨ text", "[brackets]_`^",
               "x" * 12000, "Ceny kryptowalut wzrosły", "日本語のテキストと English words mixed together"]
    for text in samples:
        ref = Detector(detector_factory._factory)
        ref.append(text)
        ref.cleaning_text()
        fast = make_detector(text)
        fast.cleaning_text()
        assert fast.text == ref.text
        assert fast._extract_ngrams() == ref._extract_ngrams()


@pytest.mark.parametrize("raw, expected", [
    ("2026-11-06T15:14:15+01:00", "2026-11-06T14:14:15+00:00"),
    ("Mon, 02 Nov 2026 08:00:00 +0000", "2026-11-02T08:00:00+00:00"),
    ("November 06, 2026, 03:14:15 PM", "2026-11-06T15:14:15+00:00"),  # RFC 822 parsing would drop the PM
    ("March 3, 2011 at 4:12 pm", "2011-03-03T16:12:00+00:00"),
    ("1762416000", "2025-11-06T08:00:00+00:00"),
])
def test_dates_are_read_without_guessing(raw, expected):
    from crawler.dates import parse_date

    assert parse_date(raw).isoformat() == expected


@pytest.mark.parametrize("raw", ["", "soon", "garbage 12 pm", "31/31/2026"])
def test_unreadable_dates_are_none(raw):
    from crawler.dates import parse_date

    assert parse_date(raw) is None
