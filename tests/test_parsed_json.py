"""One JSON parse per response (crawler/parsed_json.py): the content guard's check and the WordPress REST adapter
share the value of the very same body; another body, even with equal bytes, is parsed on its own."""
from __future__ import annotations

import json

import pytest
from scrapy.http import Request, TextResponse

from crawler.comments.wordpress import WordPressAdapter
from crawler.middlewares.content_guard import ContentGuardMiddleware, json_problem
from crawler.parsed_json import KEEP, parsed_json

COMMENTS = [{"id": 11, "post": 5, "parent": 0, "author_name": "Ana", "date_gmt": "2024-03-01T10:00:00",
             "content": {"rendered": "<p>First take on the halving.</p>"}, "type": "comment", "status": "approved"},
            {"id": 12, "post": 5, "parent": 11, "author_name": "Bo", "date_gmt": "2024-03-01T11:00:00",
             "content": {"rendered": "<p>Fees will tell.</p>"}, "type": "comment", "status": "approved"}]


def body_of(value) -> bytes:
    return json.dumps(value).encode()


def test_value_equals_json_loads_and_is_shared_for_the_same_body():
    body = body_of(COMMENTS)
    first = parsed_json(body)
    assert first == json.loads(body)
    assert parsed_json(body) is first
    twin = bytes(bytearray(body))  # equal bytes, another object: parsed again
    assert twin is not body and parsed_json(twin) == first and parsed_json(twin) is not first


def test_only_the_last_few_bodies_are_kept():
    bodies = [body_of({"n": i}) for i in range(KEEP + 2)]
    values = [parsed_json(b) for b in bodies]
    assert parsed_json(bodies[-1]) is values[-1]
    assert parsed_json(bodies[0]) is not values[0]


DEEP = b"[" * 100_000  # nested deeper than the parser's stack: json.loads raises RecursionError, not ValueError


@pytest.mark.parametrize("body", [b"", b"[1, 2", b"{'a': 1}", b"\xff\xfe[1]", "[1] x", DEEP, DEEP.decode()],
                         ids=lambda b: repr(b[:12]))
def test_bad_json_raises_like_json_loads(body):
    with pytest.raises(ValueError):
        parsed_json(body)


def test_the_guard_and_the_rest_adapter_read_one_parse(monkeypatch):
    loads, calls = json.loads, []
    monkeypatch.setattr(json, "loads", lambda *a, **k: calls.append(1) or loads(*a, **k))  # counts, still parses
    url = "http://127.0.0.1:1/wp-json/wp/v2/comments?post=5&per_page=100&page=1"
    body = body_of(COMMENTS)
    response = TextResponse(url, body=body, headers={"Content-Type": "application/json; charset=UTF-8",
                                                     "X-WP-Total": "2", "X-WP-TotalPages": "1"})

    class Stats:
        def inc_value(self, *a, **k):
            pass

    guard = ContentGuardMiddleware(Stats(), True, True)
    out = guard.process_response(Request(url), response)
    assert out is response  # nothing to repair: the very same body goes on to the adapter
    shared = parsed_json(body)
    page = WordPressAdapter().parse_rest(url, out.body, out.headers)
    assert [c.native_id for c in page.comments] == ["11", "12"]
    assert page.comments[1].parent_native_id == "11"
    assert parsed_json(out.body) is shared
    assert len(calls) == 1  # the guard's parse; the adapter did not need one of its own


def test_a_bom_body_is_still_valid_for_the_guard():
    assert json_problem(b"\xef\xbb\xbf" + body_of(COMMENTS)) is None
    assert json_problem(b"[1, 2") == "truncated_json"


BODIES = [b'{"a": [1, 2]}', b'  \r\n\t[1, {"b": null}]  ', b"\x0c[1]", b"\xc2\xa0[1]", b"\xef\xbb\xbf[1]", b"[1, 2",
          b"null", b"3", b"", b"   ", b" " * 70 + b"[1]", b"<html>[1]</html>", b'["\xff bad byte"]', '{"s": 1}',
          '\u00a0{"s": 1}', bytearray(b"[1]"), DEEP, b"\xef\xbb\xbf" + DEEP, DEEP.decode()]


@pytest.mark.parametrize("body", BODIES, ids=lambda b: repr(b[:20]) + f"/{len(b)}")
def test_json_body_equals_the_old_reading(body):
    from crawler.comments.payload import decode_body, json_body, json_or_none

    assert json_body(body) == json_or_none(decode_body(body))


@pytest.mark.parametrize("body", [DEEP, b"\xef\xbb\xbf" + DEEP, b'{"a": ' + DEEP])
def test_a_too_deeply_nested_body_is_the_guards_counted_invalid_json_drop(body):
    from scrapy.exceptions import IgnoreRequest

    assert json_problem(body) == "invalid_json"
    url = "http://127.0.0.1:1/wp-json/wp/v2/comments?post=5&per_page=100&page=1"
    response = TextResponse(url, body=body, headers={"Content-Type": "application/json; charset=UTF-8"})

    class Stats:
        def __init__(self):
            self.counts = {}

        def inc_value(self, key, count=1, **k):
            self.counts[key] = self.counts.get(key, 0) + count

    stats = Stats()
    with pytest.raises(IgnoreRequest, match="invalid_json"):
        ContentGuardMiddleware(stats, True, True).process_response(Request(url), response)
    assert stats.counts == {"content/drop/invalid_json": 1}
