"""XML parsing for feeds and sitemaps without external entities, DTD loading or network access."""
from __future__ import annotations

from lxml import etree

_PARSER_OPTS = dict(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=True)


def parse_xml(body: bytes) -> etree._Element | None:
    """Root element, or None when the body is not XML at all. Entities are never expanded."""
    if not body or not body.strip():
        return None
    try:
        root = etree.fromstring(body.strip(), parser=etree.XMLParser(**_PARSER_OPTS))
    except etree.XMLSyntaxError:
        return None
    return root


def local(tag) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""
