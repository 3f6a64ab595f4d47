"""Pages that must never become article rows: anti-bot challenges, client-rendered shells, listings.

``classify(sel, url)`` returns a reason (a short slug used in stats as
``articles/not_article/<reason>``) or None when the page may be an article.
"""
from __future__ import annotations

import re

from parsel import Selector

CHALLENGE_MARKERS = (
    "cf-browser-verification", "challenge-platform", "cf_chl_opt", "cf-challenge", "__cf_chl",
    "ddos-guard", "_incapsula_resource", "px-captcha", "perimeterx", "sucuri website firewall",
    "checking your browser before accessing", "enable javascript and cookies to continue",
    "attention required! | cloudflare", "sorry, you have been blocked", "verify you are human",
)
CHALLENGE_TITLES = re.compile(r"^(just a moment|attention required|access denied|security check|"
                              r"ddos-guard|please wait|one more step)\b", re.I)
SEL_TITLE = "title::text"
SEL_ARTICLE_TYPE = 'meta[property="og:type"]::attr(content)'
SEL_LD = 'script[type="application/ld+json"]::text'
SEL_PARAGRAPHS = "p"
SEL_LINKS = "a[href]"


def is_challenge(sel: Selector, raw_lower: str) -> bool:
    title = (sel.css(SEL_TITLE).get() or "").strip()
    if CHALLENGE_TITLES.match(title):
        return True
    hits = sum(1 for m in CHALLENGE_MARKERS if m in raw_lower)
    return hits >= 2 or (hits == 1 and len(sel.css(SEL_PARAGRAPHS)) < 5)


def is_client_shell(sel: Selector) -> bool:
    """A page whose content is rendered by JavaScript: almost no text outside scripts."""
    text_len = sum(len(t.strip()) for t in sel.xpath("//body//text()[not(ancestor::script or ancestor::style "
                                                      "or ancestor::noscript)]").getall())
    scripts = len(sel.css("script"))
    return text_len < 400 and scripts >= 3


def is_listing(sel: Selector) -> bool:
    """Many links, few paragraphs and nothing that declares an article."""
    if (sel.css(SEL_ARTICLE_TYPE).get() or "").lower() == "article":
        return False
    ld = " ".join(sel.css(SEL_LD).getall())
    if re.search(r'"@type"\s*:\s*"(News|Blog|Report)?Article"', ld) or '"NewsArticle"' in ld:
        return False
    paragraphs = [p for p in sel.css(SEL_PARAGRAPHS) if len(" ".join(p.css("::text").getall())) > 150]
    return len(paragraphs) < 3 and len(sel.css(SEL_LINKS)) > 30


def classify(sel: Selector, raw: str) -> str | None:
    lower = raw[:200_000].lower()
    if is_challenge(sel, lower):
        return "challenge"
    if is_client_shell(sel):
        return "client_shell"
    if is_listing(sel):
        return "listing"
    return None
