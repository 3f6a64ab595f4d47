"""Subreddit listings (registry discovery kind ``subreddit``) → submissions, through the Reddit API.

A source names the listing as a person sees it (``https://www.reddit.com/r/CryptoCurrency/new``); the crawl
asks the API for it: ``{REDDIT_API_ORIGIN}/r/CryptoCurrency/new?limit=100&raw_json=1`` and then
``&after=t3_...`` while the listing says there is more (Reddit's ``data.after``), up to a cap of pages.
Pure functions; the spider does the requests.
"""
from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from crawler.comments.reddit import listing_submissions, submission_page_url

DEFAULT_SORT = "new"


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
    sid = str(sub.get("id") or (sub.get("name") or "").removeprefix("t3_"))
    return sid, submission_page_url(sub)
