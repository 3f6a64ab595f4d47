"""HTML fragment → plain text, shared by article and comment parsers.

Block elements become paragraph breaks, ``<br>`` a line break; scripts, styles and forms vanish.
Quoted blocks (``blockquote``, Discourse ``aside.quote``, forum ``div.quote``) can be split out so
a comment's own words and the words it quotes land in different fields.
"""
from __future__ import annotations

import re

import lxml.html
from lxml import etree

DROP_TAGS = ("script", "style", "noscript", "template", "form", "button", "svg", "iframe")
QUOTE_XPATH = ("//blockquote | //aside[contains(concat(' ', normalize-space(@class), ' '), ' quote ')]"
               " | //div[contains(concat(' ', normalize-space(@class), ' '), ' quote ')]")
BLOCK_TAGS = {"p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "tr",
              "table", "section", "article", "aside", "header", "footer", "figure", "figcaption", "dd", "dt"}
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANKS = re.compile(r"\n\s*\n+")


def parse_fragment(html: str) -> etree._Element:
    return lxml.html.fragment_fromstring(html or "<div></div>", create_parent="div")


def element_text(el: etree._Element) -> str:
    """Text of an element with paragraph structure kept (blank line between blocks)."""
    parts: list[str] = []

    def walk(node) -> None:
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag in DROP_TAGS:
            if node.tail:
                parts.append(node.tail)
            return
        block = tag in BLOCK_TAGS
        if block:
            parts.append("\n\n")
        if tag == "br":
            parts.append("\n")
        if node.text and tag:
            parts.append(node.text)
        for child in node:
            walk(child)
        if block:
            parts.append("\n\n")
        if node.tail:
            parts.append(node.tail)

    tail, el.tail = el.tail, None  # the text after an element is not part of it
    try:
        walk(el)
    finally:
        el.tail = tail
    return normalise_whitespace("".join(parts))


def normalise_whitespace(text: str) -> str:
    lines = [_SPACES.sub(" ", ln).strip() for ln in text.split("\n")]
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()


def html_to_text(html: str) -> str:
    return element_text(parse_fragment(html))


def split_quotes(html: str) -> tuple[str, str | None]:
    """(own text, quoted text or None) of an HTML fragment."""
    root = parse_fragment(html)
    quotes = root.xpath(QUOTE_XPATH)
    quoted: list[str] = []
    for q in quotes:
        if any(anc in quotes for anc in q.iterancestors()):
            continue  # nested quote: already inside an outer one
        quoted.append(element_text(q))
    for q in quotes:
        if q.getparent() is not None:
            q.drop_tree()  # keeps the text that follows the quote
    quoted_text = "\n\n".join(t for t in quoted if t) or None
    return element_text(root), quoted_text
