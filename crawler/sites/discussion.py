"""Article rows for discussions that are themselves the entry point: a forum topic whose first post
reposts a news story (Discourse, SMF), or a Reddit link post whose comments discuss a linked page.

``opening_article(platform, url, body, headers)`` turns a topic's opening post into an ArticleRecord
(recognised as a repost: ``syndicated_from`` keeps the source link); ``linked_article_url`` gives the
page a link post points at, which the comments join to. Forum users are private persons: the opening
post's author is not written into ``authors``.
"""
from __future__ import annotations

import html as htmllib

from crawler import ids
from crawler.comments import discourse, reddit, smf
from crawler.dates import parse_date
from crawler.htmltext import html_to_text
from crawler.items import ArticleRecord
from crawler.urls import canonical, site_of

OPENING_POST = {"discourse": discourse.opening_post, "smf": smf.opening_post}
MIN_BODY_CHARS = 1


def opening_article(platform: str, url: str, body: bytes, headers: dict) -> ArticleRecord | None:
    reader = OPENING_POST.get(platform)
    if reader is None:
        return None
    op = reader(url, body, headers) if platform == "smf" else reader(url, body)
    if not op or not op.get("title") or len(op.get("body_text") or "") < MIN_BODY_CHARS:
        return None
    canon = canonical(op.get("url") or url)
    return ArticleRecord(
        article_id=ids.article_id(canon), url=op.get("url") or url, canonical_url=canon, site=site_of(canon),
        title=op["title"], body_text=op["body_text"], published_at=op.get("created_at"),
        published_at_raw=op.get("created_at_raw"), syndicated_from=op.get("syndicated_from"),
        section=platform, parser=f"{platform}-opening-post@1",
    )


def linked_article_url(platform: str, body: bytes) -> str | None:
    if platform == "reddit":
        return reddit.submission_article_url(body)
    return None


# -- article rows made from a submission / story (discussions found through the APIs) -----------------------
SUBMISSION_PARSERS = ("reddit-self-post", "reddit-submission", "hackernews-text", "hackernews-link")


def reddit_submission_article(sub: dict, web_origin: str) -> ArticleRecord | None:
    """The article row of a Reddit submission (t3 data): a self post's own text (``section`` = subreddit,
    ``url`` = its permalink), or — for a link post whose page is not an article — the title and the link
    with no body (``reddit-submission@1``)."""
    title = htmllib.unescape(str(sub.get("title") or "")).strip()
    permalink = sub.get("permalink") or ""
    if not title or not permalink:
        return None
    created = sub.get("created_utc")
    if sub.get("is_self") or reddit.submission_page_url(sub) is None and not _external(sub):
        url, body, parser = web_origin.rstrip("/") + permalink, _self_text(sub), "reddit-self-post@1"
    else:
        url = htmllib.unescape(sub.get("url_overridden_by_dest") or sub.get("url") or "")
        body, parser = "", "reddit-submission@1"
    canon = canonical(url)
    return ArticleRecord(article_id=ids.article_id(canon), url=url, canonical_url=canon, site=site_of(canon),
                         title=title, body_text=body, published_at=parse_date(created),
                         published_at_raw=None if created is None else str(created),
                         section=sub.get("subreddit") or None, parser=parser)


def _external(sub: dict) -> bool:
    """A link post to Reddit-hosted media (image, video, gallery): the link is kept as the row's URL."""
    url = sub.get("url_overridden_by_dest") or sub.get("url") or ""
    return not sub.get("is_self") and url.startswith(("http://", "https://")) and "/comments/" not in url


def _self_text(sub: dict) -> str:
    html = sub.get("selftext_html")
    if html:
        if html.lstrip().startswith("&lt;"):
            html = htmllib.unescape(html)
        return html_to_text(html)
    return str(sub.get("selftext") or "").strip()


def hn_story_article(hit: dict, hn) -> ArticleRecord | None:
    """The article row of a Hacker News story (an Algolia hit or item): an Ask/Show HN text is its own row
    (``url`` = the HN item page, ``section`` = hackernews, ``hackernews-text@1``); a story with a link gives the
    title and link with no body (``hackernews-link@1``), used when the linked page is not an article."""
    sid = str(hit.get("objectID") or hit.get("id") or "")
    title = htmllib.unescape(str(hit.get("title") or "")).strip()
    if not sid or not title:
        return None
    link = hit.get("url") if isinstance(hit.get("url"), str) and hit["url"].startswith(("http://", "https://")) else None
    created = hit.get("created_at_i", hit.get("created_at"))
    if link:
        url, body, parser = link, "", "hackernews-link@1"
    else:
        text = hit.get("story_text") or hit.get("text") or ""
        url, body, parser = hn.discussion_page(sid, hn.algolia_url), html_to_text(text) if text else "", \
            "hackernews-text@1"
    canon = canonical(url)
    return ArticleRecord(article_id=ids.article_id(canon), url=url, canonical_url=canon, site=site_of(canon),
                         title=title, body_text=body, published_at=parse_date(created),
                         published_at_raw=None if created is None else str(created), section="hackernews",
                         parser=parser)
