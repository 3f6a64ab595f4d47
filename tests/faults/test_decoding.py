"""Per-byte tolerant decoding: a UTF-8 page with one invalid byte (8 kinds of bad byte × 4 ways of declaring
the charset) keeps every other character right; only the bad byte becomes U+FFFD. One real crawl of the 32
pages, then checks on the decision function for other charsets."""
from __future__ import annotations

import pytest

from crawler.middlewares.content_guard import json_problem, mostly_utf8, sniff_charset

from .conftest import run_crawl
from .server import ACCENTED, BAD_BYTES, LOREM, FaultServer

DECLARED = ("header", "meta", "none", "latin1")
CASES = [(v, d) for v in BAD_BYTES for d in DECLARED]


@pytest.fixture(scope="module")
def decoded(tmp_path_factory):
    with FaultServer() as srv:
        urls = [f"{srv.base}/c/bad-byte/{v}/{d}" for v, d in CASES]
        run = run_crawl(tmp_path_factory.mktemp("decoding"), urls=urls)
    return {r["url"].split("/c/bad-byte/", 1)[1]: r for r in run.rows("articles")}, run


@pytest.mark.parametrize("variant,declared", CASES, ids=[f"{v}-{d}" for v, d in CASES])
def test_one_invalid_byte_does_not_turn_the_page_into_mojibake(decoded, variant, declared):
    rows, run = decoded
    row = rows.get(f"{variant}/{declared}")
    assert row is not None, f"no row for {variant}/{declared}"
    text = row["body_text"]
    assert ACCENTED in text  # every other character decoded as UTF-8
    assert "Ã" not in text and "â€" not in text
    assert text.count("\ufffd") <= len(BAD_BYTES[variant])  # only the bad byte(s) replaced
    assert "before" in text and "after" in text


def test_decoding_run_exit_0_and_counted(decoded):
    rows, run = decoded
    assert run.returncode == 0, run.log[-2000:]
    assert len(rows) == len(CASES)
    assert run.stat("content/charset/replaced_pages") >= len(CASES) - 4  # the cp1252 word mixes in valid ASCII
    assert not run.stat("content/charset/transcoded/cp1252")


# -- the decision function --------------------------------------------------------------------------------
GOOD_UTF8 = ("<html><head><title>t</title></head><body><p>" + ACCENTED + " " + LOREM + "</p></body></html>").encode()


@pytest.mark.parametrize("bad", list(BAD_BYTES.values()), ids=list(BAD_BYTES))
@pytest.mark.parametrize("header", [None, "utf-8", "iso8859-1", "cp1252"])
def test_sniff_keeps_utf8_with_a_bad_byte(bad, header):
    body = GOOD_UTF8.replace(b"<p>", b"<p>" + bad, 1)
    assert sniff_charset(body, header)[0] == "utf-8"


def test_a_real_cp1252_page_is_still_cp1252():
    body = ("<html><body><p>" + "Señor café “quoted” — naïve " * 20 + "</p></body></html>").encode("cp1252")
    assert not mostly_utf8(body)
    assert sniff_charset(body, None)[0] == "cp1252"
    assert sniff_charset(body, "utf-8")[0] == "cp1252"


@pytest.mark.parametrize("enc,text", [("shift_jis", "ビットコインの価格が上昇した。" * 30),
                                      ("gb18030", "比特币价格今天上涨了。" * 30),
                                      ("cp1251", "Биткоин вырос сегодня. " * 30),
                                      ("euc-kr", "비트코인 가격이 올랐다. " * 30)])
def test_declared_multibyte_charset_with_a_bad_byte_is_kept(enc, text):
    half = len(text) // 2  # the bad byte between two characters (inside one, a double-byte text loses step)
    body = ("<html><body><p>" + text[:half]).encode(enc) + b"\xff" + (text[half:] + "</p></body></html>").encode(enc)
    got, _ = sniff_charset(body, enc.replace("-", "_") if enc != "euc-kr" else "euc_kr")
    assert got.replace("-", "_") in (enc.replace("-", "_"), "euc_kr", "gb18030", "shift_jis", "cp1251")
    decoded = body.decode(got, errors="replace")
    assert decoded.count("\ufffd") <= 2


@pytest.mark.parametrize("bad", [b"\xff", b"\xe2\x80", b"\x80"])
def test_json_with_a_bad_byte_in_a_string_is_not_dropped(bad):
    body = b'[{"id": 1, "post": 2, "parent": 0, "content": {"rendered": "<p>ok ' + bad + b' fine</p>"}}]'
    assert json_problem(body) is None
    assert json_problem(b'[{"id": 1, "post"') == "truncated_json"
