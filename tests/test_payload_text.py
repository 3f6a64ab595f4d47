"""One reader of "JSON value as text" (crawler/comments/payload.py ``text_value``) replaced three copies: the
adapters' ``text_of(d, key)``, Hacker News's ``_text_or_none(v)`` and the discussion records' ``_text(v)``. Each
old helper is kept here as it was and compared with what replaced it on every kind of JSON value."""
from __future__ import annotations

import json
import math

import pytest

from crawler.comments.payload import text_of, text_value
from crawler.sites import discussion


def old_text_of(d, key):
    v = d.get(key) if isinstance(d, dict) else None
    if isinstance(v, str):
        return v or None
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return str(v)
    return None


def old_text_or_none(v):
    if isinstance(v, str):
        return v or None
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return str(v)
    return None


def old_text(v):
    if isinstance(v, str):
        return v
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return str(v)
    return ""


VALUES = ["", " ", "a title", "0", "ünïcode ✓", 0, 1, -7, 2**70, 0.0, 1.5, -2.25e-9, 1e300, math.inf, True, False,
          None, [], ["x"], {}, {"a": 1}, b"bytes", ("tuple",)]
VALUES += list(json.loads('[1, 1.0, "1", null, true, [], {}, "", 12345678901234567890, -0.0]'))


@pytest.mark.parametrize("v", VALUES, ids=repr)
def test_text_value_equals_the_old_helpers(v):
    assert text_value(v) == old_text_or_none(v)
    assert discussion._text(v) == old_text(v)
    assert type(discussion._text(v)) is str
    for d in ({"k": v}, {"other": v}, [v], v, None):
        assert text_of(d, "k") == old_text_of(d, "k")


def test_hackernews_reads_text_through_the_shared_helper():
    from crawler.comments import hackernews

    assert not hasattr(hackernews, "_text_or_none")
    assert hackernews.text_value is text_value
