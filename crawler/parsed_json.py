"""One JSON parse per response: the content guard's validity check and the comment adapter read the same value.

``parsed_json(body)`` returns ``json.loads`` of the body decoded as UTF-8 (undecodable bytes replaced) and raises
``ValueError`` as ``json.loads`` does (also for a body nested deeper than the parser's stack, where
``json.loads`` raises ``RecursionError``). The last few bodies that parsed are remembered by identity (the very same
object, held here so its id cannot be reused), so the second caller on a response gets the value the first one
built instead of parsing a 100-comment REST page again. Callers must not modify the value.
"""
from __future__ import annotations

import json

KEEP = 4
_recent: list[tuple[bytes | str, object]] = []


def parsed_json(body: bytes | str):
    for known, value in _recent:
        if known is body:
            return value
    try:
        value = json.loads(body if isinstance(body, str) else body.decode("utf-8", errors="replace"))
    except RecursionError as e:  # e.g. "[" * 100000: a ValueError like any other unreadable body
        raise ValueError(f"JSON nested too deeply: {e}") from None
    _recent.insert(0, (body, value))
    del _recent[KEEP:]
    return value
