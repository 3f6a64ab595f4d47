"""Site-specific article parsers by host. Hosts not listed use the generic parser."""
from __future__ import annotations

from collections.abc import Callable

from crawler.urls import site_of

from . import generic

ArticleParser = Callable[..., object]  # (url, body, headers) -> ArticleRecord | NotArticle

SITE_PARSERS: dict[str, ArticleParser] = {}


def parser_for(url: str) -> ArticleParser:
    host = site_of(url).split(":")[0]
    return SITE_PARSERS.get(host, generic.parse_article)
