"""One parse per response: the article parser and comment-platform detection read the same page.

``parsed_html(body)`` returns the body decoded as UTF-8 (undecodable bytes replaced) and a parsel Selector
of it. The last few bodies are remembered by identity (the very same object, held here so its id cannot be
reused), so the second caller on a response gets the tree the first one built. Callers must not modify
the tree.
"""
from __future__ import annotations

from parsel import Selector

KEEP = 4
_recent: list[tuple[bytes | str, str, Selector]] = []


def parsed_html(body: bytes | str) -> tuple[str, Selector]:
    for known, text, sel in _recent:
        if known is body:
            return text, sel
    text = body if isinstance(body, str) else body.decode("utf-8", errors="replace")
    sel = Selector(text=text, type="html")  # a JSON body is not an article: never parse it as JSON
    _recent.insert(0, (body, text, sel))
    del _recent[KEEP:]
    return text, sel
