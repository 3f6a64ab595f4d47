"""Article rows for discussions that are themselves the entry point: a forum topic whose first post
reposts a news story (Discourse, SMF, phpBB, XenForo, vBulletin, Invision), a Reddit submission, or a topic whose
comments belong to another page (a Reddit link post, a Discourse embed topic).

- ``opening_article(platform, url, body, headers)`` turns a topic's opening post (or a Reddit self/media
  post) into an ArticleRecord (a repost keeps its source in ``syndicated_from``). A topic or submission
  without text still makes a row (``body_text`` empty, ``body_optional``): its comments join to it.
- ``linked_article_url(platform, body, url)`` gives the page the comments belong to instead: a link post's
  target, an embed topic's original entry.
- ``topic_article(platform, url, title)`` is the row made from what a page says about its topic when the
  opening post cannot be had (gone, refused, not captured): title, the topic's first-page URL, no body,
  parser ``<platform>-topic@1``.

Forum users are private persons: the opening post's author is not written into ``authors``.
"""
from __future__ import annotations

import html as htmllib

from crawler import ids
from crawler.comments import discourse, invision, phpbb, reddit, smf, vbulletin, xenforo
from crawler.comments.payload import decode_body, json_or_none, text_value
from crawler.dates import parse_date, stated_offset_minutes
from crawler.discovery.reddit_listing import submission_page_url
from crawler.htmltext import html_to_text
from crawler.items import ArticleRecord
from crawler.urls import canonical, site_of

OPENING_POST = {"discourse": discourse.opening_post, "smf": smf.opening_post, "phpbb": phpbb.opening_post,
                "xenforo": xenforo.opening_post, "vbulletin": vbulletin.opening_post,
                "invision": invision.opening_post}
WITH_HEADERS = {"smf", "phpbb", "xenforo", "vbulletin", "invision"}  # readers that take the response headers (Date)


def register_opening_post(platform: str, reader, with_headers: bool = True) -> None:
    """Forum adapters add their opening-post reader here (``reader(url, body[, headers]) -> dict | None``)."""
    OPENING_POST[platform] = reader
    if with_headers:
        WITH_HEADERS.add(platform)


def opening_post(platform: str, url: str, body: bytes, headers: dict | None = None) -> dict | None:
    reader = OPENING_POST.get(platform)
    if reader is None:
        return None
    return reader(url, body, headers or {}) if platform in WITH_HEADERS else reader(url, body)


def opening_article(platform: str, url: str, body: bytes, headers: dict) -> ArticleRecord | None:
    if platform == "reddit":
        return submission_article(url, body)
    op = opening_post(platform, url, body, headers)
    if not op or not op.get("title") or op.get("embed_url"):
        return None  # not the opening page, or an embed topic (its comments belong to the original entry)
    canon = canonical(op.get("url") or url)
    return ArticleRecord(
        article_id=ids.article_id(canon), url=op.get("url") or url, canonical_url=canon, site=site_of(canon),
        title=op["title"], body_text=op.get("body_text") or "", published_at=op.get("created_at"),
        published_at_raw=op.get("created_at_raw"), published_at_offset_minutes=_offset(op),
        syndicated_from=op.get("syndicated_from"),
        section=platform, parser=f"{platform}-opening-post@1", body_optional=True,
    )


def _offset(op: dict) -> int | None:
    """The UTC offset the opening post's time is written in ("…+02:00" → 120, "…Z" → 0), when it has a
    time and its string states one (:func:`crawler.dates.stated_offset_minutes`)."""
    return stated_offset_minutes(op.get("created_at_raw")) if op.get("created_at") is not None else None


def submission_article(url: str, body: bytes) -> ArticleRecord | None:
    """A Reddit self post, or a link post to Reddit-hosted media (no outside article): the submission is the
    article (title, self text, possibly empty). Link posts to outside pages return None (see
    :func:`linked_article_url`)."""
    data = json_or_none(decode_body(body))
    sub = reddit.submission(data)
    if not sub or reddit.submission_article_url(data) or not sub.get("title"):
        return None
    origin = "/".join(url.split("/")[:3])
    link = f"{origin}{sub.get('permalink')}" if sub.get("permalink") else url.removesuffix(".json")
    canon = canonical(link)
    created = sub.get("created_utc")
    return ArticleRecord(
        article_id=ids.article_id(canon), url=link, canonical_url=canon, site=site_of(canon),
        title=sub["title"], body_text=sub.get("selftext") or "", published_at=parse_date(created),
        published_at_raw=None if created is None else str(created), section="reddit",
        parser="reddit-submission@1", body_optional=True,
    )


def linked_article_url(platform: str, body: bytes, url: str = "") -> str | None:
    if platform == "reddit":
        return reddit.submission_article_url(body)
    if platform == "discourse":
        op = discourse.opening_post(url, body)
        return (op or {}).get("embed_url")
    return None


def topic_article(platform: str, url: str, title: str | None) -> ArticleRecord:
    """The row a thread joins to when its opening post cannot be had (see the module docs)."""
    canon = canonical(url)
    return ArticleRecord(
        article_id=ids.article_id(canon), url=url, canonical_url=canon, site=site_of(canon),
        title=(title or "").strip() or url, body_text="", section=platform, parser=f"{platform}-topic@1",
        body_optional=True,
    )


# -- article rows made from a submission / story (discussions found through the APIs) -----------------------
def reddit_submission_article(sub: dict, web_origin: str) -> ArticleRecord | None:
    """The article row of a Reddit submission (t3 data): a self post's own text (``section`` = subreddit,
    ``url`` = its permalink), or — for a link post whose page is not an article — the title and the link
    with no body (``reddit-submission@1``)."""
    title = htmllib.unescape(_text(sub.get("title"))).strip()
    permalink = _text(sub.get("permalink"))
    if not title or not permalink.startswith("/"):
        return None
    created = sub.get("created_utc")
    if sub.get("is_self") or submission_page_url(sub) is None and not _external(sub):
        url, body, parser = web_origin.rstrip("/") + permalink, _self_text(sub), "reddit-self-post@1"
    else:
        url = htmllib.unescape(_text(sub.get("url_overridden_by_dest")) or _text(sub.get("url")))
        body, parser = "", "reddit-submission@1"
    canon = canonical(url)
    return ArticleRecord(article_id=ids.article_id(canon), url=url, canonical_url=canon, site=site_of(canon),
                         title=title, body_text=body, published_at=parse_date(created),
                         published_at_raw=None if created is None else str(created),
                         section=_text(sub.get("subreddit")) or None, parser=parser, body_optional=True)


def _external(sub: dict) -> bool:
    """A link post to Reddit-hosted media (image, video, gallery): the link is kept as the row's URL."""
    url = _text(sub.get("url_overridden_by_dest")) or _text(sub.get("url"))
    return not sub.get("is_self") and url.startswith(("http://", "https://")) and "/comments/" not in url


def _self_text(sub: dict) -> str:
    html = _text(sub.get("selftext_html"))
    if html:
        if html.lstrip().startswith("&lt;"):
            html = htmllib.unescape(html)
        return html_to_text(html)
    return _text(sub.get("selftext")).strip()


def _text(v) -> str:
    """A JSON field as text (crawler/comments/payload.py ``text_value``), "" where there is none."""
    return text_value(v) or ""


def hn_story_article(hit: dict, hn) -> ArticleRecord | None:
    """The article row of a Hacker News story (an Algolia hit or item): an Ask/Show HN text is its own row
    (``url`` = the HN item page, ``section`` = hackernews, ``hackernews-text@1``); a story with a link gives the
    title and link with no body (``hackernews-link@1``), used when the linked page is not an article."""
    sid = _text(hit.get("objectID")) or _text(hit.get("id"))
    title = htmllib.unescape(_text(hit.get("title"))).strip()
    if not sid or not title:
        return None
    link = hit.get("url") if isinstance(hit.get("url"), str) and hit["url"].startswith(("http://", "https://")) else None
    created = hit.get("created_at_i", hit.get("created_at"))
    if link:
        url, body, parser = link, "", "hackernews-link@1"
    else:
        text = _text(hit.get("story_text")) or _text(hit.get("text"))
        url, body, parser = hn.discussion_page(sid, hn.algolia_url), html_to_text(text) if text else "", \
            "hackernews-text@1"
    canon = canonical(url)
    return ArticleRecord(article_id=ids.article_id(canon), url=url, canonical_url=canon, site=site_of(canon),
                         title=title, body_text=body, published_at=parse_date(created),
                         published_at_raw=None if created is None else str(created), section="hackernews",
                         parser=parser, body_optional=True)
