"""Reading response payloads, shared by the comment adapters: body text, JSON, header values, integers."""
from __future__ import annotations

import json


def decode_body(body: bytes | str) -> str:
    return body if isinstance(body, str) else body.decode("utf-8", errors="replace")


def json_or_none(text: str):
    """Parsed JSON when the text is a JSON object or array, else None (never raises)."""
    s = text.lstrip()
    if not s or s[0] not in "{[":
        return None
    try:
        return json.loads(s)
    except ValueError:
        return None


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
