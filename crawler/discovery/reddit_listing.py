"""Subreddit listings (registry discovery kind ``subreddit``) → submissions, through the Reddit API.

A source names the listing as a person sees it (``https://www.reddit.com/r/CryptoCurrency/new``); the crawl
asks the API for it: ``{REDDIT_API_ORIGIN}/r/CryptoCurrency/new?limit=100&raw_json=1`` and then
``&after=t3_...`` while the listing says there is more (Reddit's ``data.after``), up to a cap of pages.
Pure functions; the spider does the requests.
"""
from __future__ import annotations

import html
import json
from urllib.parse import urlencode, urlsplit

DEFAULT_SORT = "new"
# links to Reddit itself (media, galleries, cross-posts): there is no outside page to fetch as the article
REDDIT_MEDIA_DOMAINS = {"i.redd.it", "v.redd.it", "reddit.com", "www.reddit.com", "old.reddit.com"}


def _json(body):
    if isinstance(body, (list, dict)):
        return body
    text = body.decode("utf-8", errors="replace") if isinstance(body, (bytes, bytearray)) else str(body)
    text = text.lstrip("\ufeff \t\r\n")
    if not text or text[0] not in "{[":
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def listing_submissions(body) -> tuple[list[dict], str | None] | None:
    """(t3 data of each submission, ``after`` cursor) of a Reddit listing; None when not a listing."""
    data = _json(body)
    if not (isinstance(data, dict) and data.get("kind") == "Listing" and isinstance(data.get("data"), dict)
            and isinstance(data["data"].get("children"), list)):
        return None
    # a t3 entry whose data is not an object is passed on empty: the caller counts it as having no id
    subs = [c["data"] if isinstance(c.get("data"), dict) else {} for c in data["data"]["children"]
            if isinstance(c, dict) and c.get("kind") == "t3"]
    after = data["data"].get("after")
    return subs, after if isinstance(after, str) and after else None


def _str(v) -> str:
    return v if isinstance(v, str) else ""


def submission_page_url(sub: dict) -> str | None:
    """The outside page a submission links to; None for self posts and Reddit-hosted media."""
    if not sub or sub.get("is_self"):
        return None
    url = _str(sub.get("url_overridden_by_dest")) or _str(sub.get("url"))
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:  # "http://[::1" and the like: no page to fetch
        return None
    domain = (_str(sub.get("domain")) or host).lower()
    if not url.startswith(("http://", "https://")) or domain.startswith("self.") or domain in REDDIT_MEDIA_DOMAINS \
            or sub.get("is_gallery"):
        return None
    return html.unescape(url)


def subreddit_api_url(listing_url: str, api_origin: str, limit: int = 100, after: str | None = None) -> str:
    """The API request for a subreddit listing page (``/r/NAME[/SORT]`` of the registry URL)."""
    parts = [p for p in urlsplit(listing_url).path.split("/") if p]
    name = parts[1] if len(parts) >= 2 and parts[0] == "r" else parts[-1]
    sort = parts[2] if len(parts) >= 3 else DEFAULT_SORT
    query = {"limit": max(1, min(100, int(limit))), "raw_json": 1}
    if after:
        query["after"] = after
    return f"{api_origin.rstrip('/')}/r/{name}/{sort}?{urlencode(query)}"


def parse_subreddit_listing(body) -> tuple[list[dict], str | None] | None:
    """(submissions, after) of a listing response; None when the body is not a t3 listing."""
    return listing_submissions(body)


def submission_links(sub: dict) -> tuple[str, str | None]:
    """(the submission's id, the page it links to or None for a self post / Reddit media)."""
    raw = sub.get("id")
    sid = str(raw) if isinstance(raw, (str, int)) and not isinstance(raw, bool) and raw != "" else \
        _str(sub.get("name")).removeprefix("t3_")
    return sid, submission_page_url(sub)
