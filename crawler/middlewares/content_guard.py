"""Bad content caught before any parser sees it: every drop has a reason and a counter.

:class:`ContentGuardMiddleware` (downloader middleware, after decompression) looks at 2xx responses:

* empty 200 (no bytes, or only whitespace)           → drop ``content/drop/empty``
* binary served as text (NUL bytes or a known magic   → drop ``content/drop/binary``
  number: PDF, PNG, GIF, JPEG, ZIP, gzip, ...)
* JSON that does not parse: cut off at the end         → drop ``content/drop/truncated_json``
  anything else                                        → drop ``content/drop/invalid_json``
* HTML that opens ``<html`` but never closes it        → drop ``content/drop/truncated_html``
  (``CONTENT_DROP_TRUNCATED_HTML = False`` only counts ``content/flag/truncated_html``)
* soft-404: status 200 whose title/heading says "not found" → drop ``content/drop/soft_404``
* wrong or missing charset: the body is transcoded to UTF-8 and the Content-Type says so
  (``content/charset/transcoded/<from>``), so parsers that decode bytes as UTF-8 get the right text.
  Decoding is per-byte tolerant: bytes that do not decode in the declared/detected charset become U+FFFD
  (``content/charset/replaced_pages``, ``content/charset/replaced_bytes``); a few invalid bytes never switch
  the whole page to another charset.

A dropped response raises ``IgnoreRequest`` (the request's errback, if any, sees it; comment pages
are then marked incomplete by the spider). Requests with ``meta["content_guard"] = False`` and
robots.txt fetches are not checked. Anti-bot challenge pages served with 200 are left to the article
parser (``crawler/sites/notarticle.py`` → ``articles/not_article/challenge``).
"""
from __future__ import annotations

import codecs
import json
import logging
import re

from scrapy.exceptions import IgnoreRequest, NotConfigured

from crawler.parsed_json import parsed_json

logger = logging.getLogger(__name__)

MAGIC_NUMBERS: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "pdf"), (b"\x89PNG\r\n\x1a\n", "png"), (b"GIF87a", "gif"), (b"GIF89a", "gif"),
    (b"\xff\xd8\xff", "jpeg"), (b"PK\x03\x04", "zip"), (b"\x1f\x8b", "gzip"), (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"), (b"7z\xbc\xaf\x27\x1c", "7z"), (b"Rar!\x1a\x07", "rar"),
    (b"\x00\x00\x01\x00", "ico"), (b"RIFF", "riff"), (b"OggS", "ogg"), (b"ID3", "mp3"),
    (b"\x7fELF", "elf"), (b"MZ", "exe"), (b"wOFF", "woff"), (b"wOF2", "woff2"),
)
TEXT_TYPES = re.compile(rb"^\s*(text/|application/(json|[\w.+-]*\+json|xml|[\w.+-]*\+xml|xhtml|javascript))", re.I)
CHARSET_PARAM = re.compile(rb"charset\s*=\s*[\"']?([\w.:-]+)", re.I)
META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([\w.:-]+)", re.I)
XML_DECL_ENCODING = re.compile(rb"^\s*<\?xml[^>]*encoding\s*=\s*[\"']([\w.:-]+)", re.I)
SOFT_404 = re.compile(r"^\s*(404\b|error 404|page not found|not found\b|nothing found|page (does not|doesn'?t) exist|"
                      r"oops[!.,]? (that|this) page|sorry[,!.]? (we|this page))", re.I)
TITLE = re.compile(rb"<title[^>]*>(.*?)</title", re.I | re.S)
H1 = re.compile(rb"<h1[^>]*>(.*?)</h1", re.I | re.S)
TAG = re.compile(r"<[^>]+>")
BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
SINGLE_BYTE_FALLBACK = "cp1252"


# -- pure checks (also usable from tests or replay) ---------------------------------------------------------
def binary_kind(body: bytes) -> str | None:
    """The kind of binary file this body is, or None when it looks like text."""
    head = body[:4096]
    for bom, _ in BOMS:
        if head.startswith(bom):
            return None  # UTF-16 text has NUL bytes; a BOM says it is text
    stripped = head.lstrip()
    for magic, kind in MAGIC_NUMBERS:
        if head.startswith(magic) or (len(magic) >= 4 and stripped.startswith(magic)):
            return kind
    if b"\x00" in head:
        return "nul_bytes"
    return None


def declared_charset(content_type: bytes | None) -> str | None:
    m = CHARSET_PARAM.search(content_type or b"")
    return _codec_name(m.group(1).decode("ascii", "ignore")) if m else None


def _codec_name(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _decodes(body: bytes, encoding: str) -> bool:
    try:
        body.decode(encoding)
        return True
    except (UnicodeDecodeError, LookupError):
        return False


UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
                           rb"|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}"
                           rb"|\xf4[\x80-\x8f][\x80-\xbf]{2}")
NON_ASCII = re.compile(rb"[\x80-\xff]")
SNIFF_BYTES = 2_000_000  # bytes looked at to judge an encoding (the whole body is decoded, byte-tolerantly)
BAD_SHARE = 0.01  # a declared charset is kept (bad bytes replaced) while at most this share of characters is bad


def utf8_evidence(body: bytes) -> tuple[int, int]:
    """(valid multi-byte UTF-8 sequences, non-ASCII bytes outside any valid sequence) in the first SNIFF_BYTES."""
    head = body[:SNIFF_BYTES]
    valid = UTF8_SEQUENCE.findall(head)
    non_ascii = len(NON_ASCII.findall(head))
    return len(valid), non_ascii - sum(len(v) for v in valid)


def mostly_utf8(body: bytes) -> bool:
    """UTF-8 text with a few invalid bytes (a stray byte, a pasted cp1252 snippet): at least as many valid
    multi-byte sequences as stray bytes. A real single-byte page has almost no valid sequences."""
    valid, invalid = utf8_evidence(body)
    return valid > 0 and invalid <= valid


def bad_characters(body: bytes, encoding: str) -> int:
    """Characters that do not decode in ``encoding`` (each replaced by U+FFFD when decoded tolerantly)."""
    try:
        return body[:SNIFF_BYTES].decode(encoding, errors="replace").count("\ufffd") - \
            body[:SNIFF_BYTES].count("\ufffd".encode(encoding, errors="ignore") or b"\x00\x00\x00\x00")
    except LookupError:
        return len(body)


def tolerably(body: bytes, encoding: str) -> bool:
    """The body is text in ``encoding`` with at most a few undecodable bytes."""
    bad = bad_characters(body, encoding)
    return bad <= max(4, BAD_SHARE * min(len(body), SNIFF_BYTES) / 4)


def sniff_charset(body: bytes, header_charset: str | None) -> tuple[str, str]:
    """(encoding to use, why). Order: BOM; header charset if the bytes decode with it (and a single-byte
    header charset is not hiding valid multi-byte UTF-8); in-document declaration; UTF-8; cp1252.

    Per-byte tolerant: a declared or detected encoding is kept when only a few bytes do not decode (they become
    U+FFFD when transcoded); one invalid byte never turns a UTF-8 page into cp1252 mojibake."""
    for bom, enc in BOMS:
        if body.startswith(bom):
            return enc, "bom"
    head = body[:4096]
    doc = None
    m = META_CHARSET.search(head) or XML_DECL_ENCODING.search(head)
    if m:
        doc = _codec_name(m.group(1).decode("ascii", "ignore"))
    utf8_ok = _decodes(body, "utf-8") or mostly_utf8(body)
    has_non_ascii = not body[:200_000].isascii()
    if header_charset:
        if header_charset == "utf-8" and utf8_ok:
            return "utf-8", "header"
        single_byte = header_charset in ("latin-1", "iso8859-1", "cp1252", "ascii", "iso8859-15")
        if single_byte and has_non_ascii and utf8_ok:
            return "utf-8", "header_wrong"  # valid multi-byte UTF-8 is almost never real latin-1 text
        if header_charset != "utf-8" and not _decodes(body, header_charset) and utf8_ok and has_non_ascii:
            return "utf-8", "header_wrong"  # the bytes are UTF-8 and not what the header says
        if header_charset not in ("utf-8",) and tolerably(body, header_charset):
            return header_charset, "header"
    if doc and tolerably(body, doc) and not (doc != "utf-8" and has_non_ascii and utf8_ok) \
            and (doc != "utf-8" or utf8_ok):
        return doc, "document" if not header_charset else "header_wrong"
    if utf8_ok:
        return "utf-8", "guess" if not header_charset else "header_wrong"
    return SINGLE_BYTE_FALLBACK, "guess" if not header_charset else "header_wrong"


def json_problem(body: bytes) -> str | None:
    """None when the body is valid JSON, else 'truncated_json' (ends early) or 'invalid_json'."""
    try:  # byte-tolerant: a stray invalid byte inside a string is the charset repair's business, not a drop
        if body.startswith(codecs.BOM_UTF8):
            json.loads(body.decode("utf-8-sig", errors="replace"))
        else:  # the same text as utf-8-sig; the parsed value is kept for the parser of this response
            parsed_json(body)
        return None
    except RecursionError:  # nested deeper than the parser's stack ("[" * 100000): not JSON we can read
        return "invalid_json"
    except ValueError as e:
        text_len = len(body.decode("utf-8-sig", errors="replace").rstrip())
        pos = getattr(e, "pos", 0) or 0
        msg = str(getattr(e, "msg", ""))
        ended_early = msg.startswith("Unterminated string") or (pos >= text_len - 1 and not msg.startswith("Extra data"))
        return "truncated_json" if ended_early else "invalid_json"


def html_truncated(body: bytes) -> bool:
    """An HTML document that opens <html> but whose end tag never arrived."""
    head = body[:4096].lower()
    return b"<html" in head and b"</html" not in body[-65536:].lower()


ARTICLE_MARKERS = re.compile(rb'og:type"\s+content="article"|"@type"\s*:\s*"(News|Blog)?(Article|Posting)"', re.I)


def soft_404(body: bytes) -> bool:
    """A 200 page whose title or first heading says "not found" and that declares no article."""
    if ARTICLE_MARKERS.search(body[:200_000]):
        return False  # e.g. a story headlined "Not found: the missing bitcoin"
    for rx in (TITLE, H1):
        m = rx.search(body[:65536])
        if m:
            text = TAG.sub(" ", m.group(1).decode("utf-8", "replace")).strip()
            if SOFT_404.match(text):
                return True
    return False


# -- middleware -------------------------------------------------------------------------------------------
class ContentGuardMiddleware:
    def __init__(self, stats, drop_truncated_html: bool, check_soft_404: bool):
        self.stats = stats
        self.drop_truncated_html = drop_truncated_html
        self.check_soft_404 = check_soft_404

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        if not s.getbool("CONTENT_GUARD_ENABLED", True):
            raise NotConfigured
        return cls(crawler.stats, s.getbool("CONTENT_DROP_TRUNCATED_HTML", True), s.getbool("CONTENT_SOFT_404", True))

    def _drop(self, request, response, reason: str, detail: str = ""):
        self.stats.inc_value(f"content/drop/{reason}")
        logger.warning("Dropped %s (%s)%s", response.url, reason, f": {detail}" if detail else "")
        raise IgnoreRequest(f"content: {reason}")

    def process_response(self, request, response, spider=None):
        if (request.meta.get("content_guard") is False or request.meta.get("dont_obey_robotstxt")
                or not (200 <= response.status < 300) or request.method == "HEAD"):
            return response
        body = response.body
        ctype = response.headers.get(b"Content-Type") or b""
        if response.status != 204 and not body.strip():
            self._drop(request, response, "empty")
        if not ctype or TEXT_TYPES.match(ctype):
            kind = binary_kind(body)
            if kind:
                self._drop(request, response, "binary", f"{kind} served as {ctype.decode('latin-1') or 'no type'}")
        else:
            return response  # declared binary (image, PDF...): not our business here
        is_json = b"json" in ctype.lower() or "/wp-json/" in response.url
        is_html = b"html" in ctype.lower() or (not ctype and body.lstrip()[:15].lower().startswith((b"<!doctype", b"<html")))
        if is_json:
            problem = json_problem(body)
            if problem:
                self._drop(request, response, problem)
        if is_html:
            if html_truncated(body):
                if self.drop_truncated_html:
                    self._drop(request, response, "truncated_html")
                self.stats.inc_value("content/flag/truncated_html")
            if self.check_soft_404 and soft_404(body):
                self._drop(request, response, "soft_404")
        return self._fix_charset(response, ctype, is_json, is_html)

    def _fix_charset(self, response, ctype: bytes, is_json: bool, is_html: bool):
        if not (is_json or is_html):
            return response  # XML declares its own encoding (lxml reads it); other text is left alone
        header = declared_charset(ctype)
        if is_json and not header:
            header = "utf-8"  # RFC 8259: JSON exchanged between systems is UTF-8
            missing = False
        else:
            missing = header is None
        encoding, why = sniff_charset(response.body, header)
        if encoding == "utf-8" and header == "utf-8" and not response.body.startswith(codecs.BOM_UTF8) \
                and _decodes(response.body, "utf-8"):
            return response  # declared right: nothing to do
        if missing:
            self.stats.inc_value("content/charset/missing")
        elif encoding != header:
            self.stats.inc_value("content/charset/wrong")
            logger.info("%s declares charset %s but is %s (%s)", response.url, header, encoding, why)
        return self._transcode(response, ctype, encoding)

    def _transcode(self, response, ctype: bytes, encoding: str):
        text = response.body.decode(encoding, errors="replace")
        bad = bad_characters(response.body, encoding)
        if bad > 0:  # undecodable bytes become U+FFFD, the rest of the page keeps its encoding
            self.stats.inc_value("content/charset/replaced_pages")
            self.stats.inc_value("content/charset/replaced_bytes", bad)
            logger.info("%s: %d undecodable byte(s) in %s replaced by U+FFFD", response.url, bad, encoding)
        if text.startswith("\ufeff"):
            text = text[1:]
        body = text.encode("utf-8")
        base = CHARSET_PARAM.sub(b"", ctype).strip().rstrip(b";").strip() or b"text/html"
        headers = response.headers.copy()
        headers[b"Content-Type"] = base + b"; charset=utf-8"
        self.stats.inc_value(f"content/charset/transcoded/{encoding}")
        kwargs = {"body": body, "headers": headers}
        if hasattr(response, "encoding"):
            kwargs["encoding"] = "utf-8"
        return response.replace(**kwargs)
