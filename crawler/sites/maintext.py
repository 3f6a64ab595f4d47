"""Main-text extraction: the article's own paragraphs, without navigation, footers or comments.

First a known content container (WordPress and common CMS class names, ``itemprop=articleBody``);
when none holds enough text, trafilatura on the whole page.
"""
from __future__ import annotations

import copy

import trafilatura
from parsel import Selector

from crawler.htmltext import element_text

CONTAINERS = (
    '[itemprop="articleBody"]', ".entry-content", ".article-body", ".article__body", ".post-content",
    ".post-body", ".story-body", "article .content",
)
NOISE = (".sharedaddy", ".share-buttons", ".related-posts", ".comments-area", "#comments", ".newsletter",
         ".ad", ".advert", "aside", "nav", "figure figcaption", ".wp-block-buttons")
MIN_CHARS = 200


def from_container(sel: Selector) -> str | None:
    for css in CONTAINERS:
        found = sel.css(css)
        if not found:
            continue
        root = copy.deepcopy(found[0].root)
        for noise in NOISE:
            for el in Selector(root=root).css(noise):
                el.root.drop_tree()
        text = element_text(root)
        if len(text) >= MIN_CHARS:
            return text
    return None


def from_trafilatura(raw_html: str, url: str) -> str | None:
    text = trafilatura.extract(raw_html, url=url, include_comments=False, include_tables=False,
                               favor_precision=True, deduplicate=False)
    return text.strip() if text and len(text.strip()) >= MIN_CHARS else None


def extract(sel: Selector, url: str) -> str | None:
    return from_container(sel) or from_trafilatura(sel.get(), url)
