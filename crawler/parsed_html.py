"""One parse per response: the article parser and comment-platform detection read the same page.

``parsed_html(body)`` returns the body decoded as UTF-8 (undecodable bytes replaced) and a parsel Selector
of it. The last few bodies are remembered by identity (the very same object, held here so its id cannot be
reused), so the second caller on a response gets the tree the first one built. Callers must not modify
the tree.

The tree is built as parsel builds it (same cleaning of the text, same libxml2 HTML parser options), with
one difference: every element is an ``lxml.html.HtmlElement`` picked by libxml2's C-level default lookup.
lxml.html's own parser asks a Python method for the class of every element it hands out (to make form
fields ``InputElement`` and so on), which costs about a tenth of the whole article extraction; nothing here
uses the form-field classes.
"""
from __future__ import annotations

import lxml.html
from lxml import etree
from parsel import Selector

KEEP = 4
_recent: list[tuple[bytes | str, str, Selector]] = []
_LOOKUP = etree.ElementDefaultClassLookup(element=lxml.html.HtmlElement, comment=lxml.html.HtmlComment,
                                          pi=lxml.html.HtmlProcessingInstruction, entity=lxml.html.HtmlEntity)


def html_root(text: str) -> etree._Element:
    """The lxml tree of an HTML page (parsel's cleaning: surrounding whitespace and NUL characters
    dropped; an empty page is ``<html/>``)."""
    data = text.strip().replace("\x00", "").encode("utf-8") or b"<html/>"
    parser = etree.HTMLParser(recover=True, encoding="utf-8", huge_tree=True)
    parser.set_element_class_lookup(_LOOKUP)
    root = etree.fromstring(data, parser=parser)
    if root is None:
        root = etree.fromstring(b"<html/>", parser=parser)
    return root


def parsed_html(body: bytes | str) -> tuple[str, Selector]:
    for known, text, sel in _recent:
        if known is body:
            return text, sel
    text = body if isinstance(body, str) else body.decode("utf-8", errors="replace")
    sel = Selector(root=html_root(text), type="html")  # a JSON body is not an article: never parse it as JSON
    _recent.insert(0, (body, text, sel))
    del _recent[KEEP:]
    return text, sel
