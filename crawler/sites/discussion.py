"""Article rows for discussions that are themselves the entry point: a forum topic whose first post
reposts a news story (Discourse, SMF), or a Reddit link post whose comments discuss a linked page.

``opening_article(platform, url, body, headers)`` turns a topic's opening post into an ArticleRecord
(recognised as a repost: ``syndicated_from`` keeps the source link); ``linked_article_url`` gives the
page a link post points at, which the comments join to. Forum users are private persons: the opening
post's author is not written into ``authors``.
"""
from __future__ import annotations

from crawler import ids
from crawler.comments import discourse, reddit, smf
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
