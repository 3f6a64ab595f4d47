"""HTML fragment → plain text, shared by article and comment parsers.

Block elements become paragraph breaks, ``<br>`` a line break; scripts, styles and forms vanish.
Quoted blocks (``blockquote``, Discourse ``aside.quote``, forum ``div.quote``) can be split out so
a comment's own words and the words it quotes land in different fields.
"""
from __future__ import annotations

import html as htmllib
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


# Fragments made only of these tags (no attributes with '<' or '>'), the entities below and ordinary characters
# are read without building a tree; anything else goes through lxml. tests/test_htmltext.py checks both ways
# give the same text.
_SIMPLE_TAG = re.compile(r"<(/?)(p|br|a|em|strong|b|i|u|s|span|code|small|sub|sup|abbr|del|ins|mark)"
                         r"(?:\s[^<>\"']*(?:(?:\"[^<>\"]*\"|'[^<>']*')[^<>\"']*)*)?/?>", re.I)
_SIMPLE_ENTITY = re.compile(r"&(?:amp|lt|gt|quot|apos|nbsp|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});")
_NOT_SIMPLE = re.compile(r"[<&\x00-\x08\x0b-\x1f\x7f\r]")
_NOT_SIMPLE_SOURCE = re.compile(r"</br|<!|<\?|[\x00-\x08\x0b-\x1f\x7f\r]", re.I)
_CHAR_REF = re.compile(r"&#([xX]?)([0-9a-fA-F]+);")


def simple_text(html: str) -> str | None:
    """Text of a fragment with only inline tags, ``<p>`` and ``<br>`` (the usual comment), or None."""
    if _NOT_SIMPLE_SOURCE.search(html):
        return None
    parts: list[str] = []
    open_tags: list[str] = []
    pos = 0
    for m in _SIMPLE_TAG.finditer(html):
        parts.append(html[pos:m.start()])
        pos = m.end()
        tag = m.group(2).lower()
        if tag == "br":
            parts.append("\n")
        elif m.group(1):  # a closing tag must close the innermost open element
            if not open_tags or open_tags.pop() != tag:
                return None
            parts.append("\n\n" if tag == "p" else "")
        elif m.group(0).endswith("/>"):
            return None  # self-closing non-void element: parsers disagree
        elif tag == "p":  # paragraphs only at the top level; an open one is closed by the next
            if open_tags == ["p"]:
                open_tags.pop()
            elif open_tags:
                return None
            open_tags.append("p")
            parts.append("\n\n")
        else:
            open_tags.append(tag)
    if any(t != "p" for t in open_tags):
        return None
    parts.append(html[pos:])
    text = "".join(parts)
    if _NOT_SIMPLE.search(_SIMPLE_ENTITY.sub("", text)):
        return None  # other markup, comments, bare '<' or '&', control characters: lxml decides
    if "&#" in text and not _char_refs_plain(text):
        return None
    return normalise_whitespace(htmllib.unescape(text))


def _char_refs_plain(text: str) -> bool:
    """Numeric references to ordinary characters only (libxml2 and Python differ on the odd ones)."""
    for m in _CHAR_REF.finditer(text):
        cp = int(m.group(2), 16 if m.group(1) else 10)
        if cp < 0x20 and cp not in (9, 10) or 0x7f <= cp < 0xa0 or 0xd800 <= cp < 0xe000 or cp > 0x10FFFF:
            return False
    return True


def parse_fragment(html: str) -> etree._Element:
    return lxml.html.fragment_fromstring(html or "<div></div>", create_parent="div")


def element_text(el: etree._Element) -> str:
    """Text of an element with paragraph structure kept (blank line between blocks)."""
    parts: list[str] = []

    def walk(top) -> None:  # an explicit stack, not recursion: any nesting depth is fine
        stack: list = [(top, False)]
        while stack:
            node, closing = stack.pop()
            tag = node.tag if isinstance(node.tag, str) else ""
            if closing:
                if tag in BLOCK_TAGS:
                    parts.append("\n\n")
                if node.tail:
                    parts.append(node.tail)
                continue
            if tag in DROP_TAGS:
                if node.tail:
                    parts.append(node.tail)
                continue
            if tag in BLOCK_TAGS:
                parts.append("\n\n")
            if tag == "br":
                parts.append("\n")
            if node.text and tag:
                parts.append(node.text)
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(node))

    tail, el.tail = el.tail, None  # the text after an element is not part of it
    try:
        walk(el)
    finally:
        el.tail = tail
    return normalise_whitespace("".join(parts))


def normalise_whitespace(text: str) -> str:
    if "\n" not in text:  # one line (most blocks): the same result without the split and the blank-line pass
        return _SPACES.sub(" ", text).strip()
    lines = [_SPACES.sub(" ", ln).strip() for ln in text.split("\n")]
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()


def html_to_text(html: str) -> str:
    text = simple_text(html or "")
    return text if text is not None else element_text(parse_fragment(html))


def split_quotes(html: str) -> tuple[str, str | None]:
    """(own text, quoted text or None) of an HTML fragment."""
    text = simple_text(html or "")
    if text is not None:  # no quote markup can be in a simple fragment
        return text, None
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
