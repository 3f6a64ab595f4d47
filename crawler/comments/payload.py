"""Reading response payloads, shared by the comment adapters: body text, JSON, header values, integers."""
from __future__ import annotations

import json

from crawler.parsed_json import parsed_json


def decode_body(body: bytes | str) -> str:
    return body if isinstance(body, str) else body.decode("utf-8", errors="replace")


def json_or_none(text: str):
    """Parsed JSON when the text is a JSON object or array, else None (never raises)."""
    s = text.lstrip()
    if not s or s[0] not in "{[":
        return None
    try:
        return json.loads(s)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser's stack
        return None


def json_body(body):
    """``json_or_none(decode_body(body))``, parsed once per response: a body the content guard has just parsed
    gives the guard's value (crawler/parsed_json.py). Callers must not modify it."""
    if isinstance(body, bytes) and body[:64].lstrip(b" \t\r\n")[:1] in (b"{", b"["):
        try:
            return parsed_json(body)
        except (ValueError, RecursionError):
            return None
    return json_or_none(decode_body(body))


def header_value(headers: dict, name: str) -> str | None:
    """A header from a plain or Scrapy-style (bytes, list-valued) mapping, case-insensitively."""
    for k, v in (headers or {}).items():
        k = k.decode() if isinstance(k, bytes) else k
        if k.lower() == name.lower():
            v = v[0] if isinstance(v, list) else v
            return v.decode() if isinstance(v, bytes) else v
    return None


def to_int(v) -> int | None:
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


# Typed reads of JSON fields: a server may send any JSON type anywhere (a number for a title, an integer for a
# list of children, a list where an object belongs). Adapters read fields through these, so an odd value is
# absent rather than an exception that loses the rest of the page.
def text_value(v) -> str | None:
    """A JSON value as text: a string (None when empty), a number's decimal text, else None (a bool, null, a list
    or object where text belongs). The one reader of "JSON value as text" for adapters and discussion records."""
    if isinstance(v, str):
        return v or None
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return str(v)
    return None


def text_of(d, key: str) -> str | None:
    """``d[key]`` as text (:func:`text_value`); None when ``d`` is not an object or has no such key."""
    return text_value(d.get(key)) if isinstance(d, dict) else None


def list_of(d, key: str) -> list:
    """``d[key]`` when it is a list, else []."""
    v = d.get(key) if isinstance(d, dict) else None
    return v if isinstance(v, list) else []


def obj_of(d, key: str) -> dict:
    """``d[key]`` when it is an object, else {}."""
    v = d.get(key) if isinstance(d, dict) else None
    return v if isinstance(v, dict) else {}


def id_of(d, key: str = "id") -> str | None:
    """An id field as text (a string or an integer; not a bool, float, list or object); None when absent."""
    v = d.get(key) if isinstance(d, dict) else None
    if isinstance(v, str):
        return v or None
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)
    return None
