"""The content guard's pure checks on real byte strings (the crawl-level behaviour is in test_content.py)."""
from __future__ import annotations

import gzip

import pytest

from crawler.middlewares.content_guard import binary_kind, html_truncated, json_problem, sniff_charset, soft_404

from .server import PDF, SOFT_404, article_html


@pytest.mark.parametrize("body,kind", [
    (PDF, "pdf"), (b"\x89PNG\r\n\x1a\n....", "png"), (gzip.compress(b"<html>", mtime=0), "gzip"),
    (b"<html><body>\x00\x00\x00</body></html>", "nul_bytes"), (b"\xff\xfe<\x00h\x00", None),  # UTF-16 BOM
    (article_html("Fine").encode(), None),
])
def test_binary_kind(body, kind):
    assert binary_kind(body) == kind


@pytest.mark.parametrize("body,problem", [
    (b'[{"id": 1}]', None), (b'[{"id": 1}, {"id": 2', "truncated_json"), (b'[{"id": 1, "x": "abc', "truncated_json"),
    (b'[{"id": 1}] trailing', "invalid_json"), (b"<html>error</html>", "invalid_json"),
])
def test_json_problem(body, problem):
    assert json_problem(body) == problem


def test_html_truncated():
    html = article_html("Whole").encode()
    assert not html_truncated(html) and html_truncated(html[: len(html) // 2])
    assert not html_truncated(b"<p>a fragment without html tags</p>")


@pytest.mark.parametrize("body,expected", [
    ("Zürich €".encode(), ("utf-8", "header_wrong")),  # header iso-8859-1, body utf-8
])
def test_sniff_latin1_header_utf8_body(body, expected):
    assert sniff_charset(body, "iso8859-1") == expected


def test_sniff_meta_declared_cp1251_without_header():
    body = b'<html><head><meta charset="windows-1251"></head><body>' + "биткоин".encode("cp1251")
    assert sniff_charset(body, None) == ("cp1251", "document")


def test_soft_404_only_without_article_markup():
    assert soft_404(SOFT_404.encode())
    assert not soft_404(article_html("Not found: the missing bitcoin of Mt. Gox").encode())
    assert not soft_404(article_html("Bitcoin hits 404k").encode())
