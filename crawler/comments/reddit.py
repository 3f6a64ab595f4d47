"""Reddit: thread JSON (``/comments/{link}.json`` = ``[t3 listing, t1 listing]`` with nested ``replies``),
``/api/morechildren`` responses (``json.data.things``, flat, each with ``parent_id``) and the
"continue this thread" permalinks.

Rules, in one place:

- **Native ids** are the base-36 ids without their ``t1_`` prefix; the thread id is the link id without
  ``t3_``. A ``t3_`` parent means top level. Ids are scoped to host ``reddit.com`` for every reddit.com
  host name (www., old., oauth.), so the same comment gets the same id whichever way it was fetched.
- **More stubs.** ``kind: "more"`` with child ids → ``/api/morechildren.json?api_type=json&link_id=t3_x&
  children=a,b,...`` follow-ups, at most 100 ids each (the API's limit); ids of every stub in one response
  are pooled, de-duplicated and cut into batches. A stub without children (``id: "_"``, ``count: 0``:
  "continue this thread") → the parent comment's permalink ``/comments/{link}/_/{parent}.json``, whose
  answer repeats that comment (kept once by ``build_thread``) and holds the deeper replies.
- **Deleted.** A body of ``[deleted]`` / ``[removed]`` → ``is_deleted=True``, empty text, no author; the row
  is kept so its replies stay in place. An author of ``[deleted]`` with a body still present is a
  live comment whose account is gone: kept with ``author_name=None``.
- **Text** from ``body_html`` (blockquotes → ``quoted_text``), whether or not it was HTML-escaped
  (``raw_json=1``); ``body`` markdown (``>`` lines → quote) when there is no HTML.
- **Score** from ``score``; ``edited`` (epoch seconds, or ``false``) → ``edited_at``; ``edited: true``
  (old threads: edited, time not kept) → ``edited`` without a time.
- **Reported count**: the submission's ``num_comments``. It counts removed comments the API no longer
  returns, so it does not decide completeness (``reported_count_is_exact = False``): a thread is complete when
  every ``more`` stub and "continue this thread" link was fetched.
- **Article link**: :func:`submission_article_url` gives the submission's ``url`` when it is a link post
  (not a self post, not Reddit-hosted media); the thread's comments join to that article.
- **Credentials.** Live Reddit only answers OAuth clients. :func:`reddit_credentials` reads
  ``REDDIT_CLIENT_ID`` / ``REDDIT_CLIENT_SECRET`` (settings first, then the environment). Without them
  :meth:`RedditAdapter.from_settings` logs once that live Reddit is disabled and ``first_requests`` asks
  nothing of reddit.com (JSON already in hand — demo site, WARC replay — is still parsed). With them,
  reddit.com requests go to ``REDDIT_API_ORIGIN`` (default ``https://oauth.reddit.com``); fetching the bearer
  token (client-credentials grant at ``REDDIT_TOKEN_URL``) and sending it belongs to the downloader
  (:mod:`crawler.middlewares.reddit_oauth`), not to this pure parser. Follow-ups of a response from the API
  origin (which may carry a path prefix) stay on it.
- **Thread metadata** (``CommentPage.thread``): the submission's title, subreddit (``community``), author,
  score, ``created_utc`` and the permalink on ``REDDIT_WEB_ORIGIN`` (``discussion_url``, the page a person opens).
- **Subreddit listings** (``/r/{sub}/new``, t3 listings) are read by :mod:`crawler.discovery.reddit_listing`
  (submissions and the ``after`` cursor; which submissions link an outside page).
"""
from __future__ import annotations

import html as htmllib
import logging
import os
import re
from urllib.parse import urlsplit

from crawler.dates import parse_date
from crawler.discovery.reddit_listing import submission_page_url
from crawler.htmltext import split_quotes
from crawler.urls import site_of

from .payload import decode_body as _decode, json_body, id_of, json_or_none as _json, list_of, obj_of, text_of, to_int as _int
from .base import CommentPage, RawComment, ThreadRef

logger = logging.getLogger(__name__)

PLATFORM = "reddit"
PARSER = "reddit@1"
MORE_BATCH = 100  # /api/morechildren accepts at most 100 ids per call
OAUTH_ORIGIN = "https://oauth.reddit.com"
TOKEN_URL = "https://www.reddit.com/api/v1/access_token"
WEB_ORIGIN = "https://www.reddit.com"
TOKEN_PATH = "/api/v1/access_token"
DELETED_BODIES = {"[deleted]", "[removed]"}
_COMMENTS_PATH = re.compile(r"/comments/([a-z0-9]+)(?:/([^/]*)(?:/([a-z0-9]+))?)?", re.I)


def reddit_credentials(settings=None) -> dict | None:
    """``{"client_id", "client_secret", "user_agent"}`` from settings (or the environment), else None."""
    def get(name: str) -> str:
        value = None
        if settings is not None:
            value = settings.get(name) if hasattr(settings, "get") else getattr(settings, name, None)
        return str(value or os.environ.get(name) or "").strip()

    cid, secret = get("REDDIT_CLIENT_ID"), get("REDDIT_CLIENT_SECRET")
    if not cid or not secret:
        return None
    return {"client_id": cid, "client_secret": secret, "user_agent": get("USER_AGENT") or None}


def is_reddit_host(url_or_host: str) -> bool:
    host = urlsplit(url_or_host).hostname if "//" in url_or_host else url_or_host.split(":")[0]
    host = (host or "").lower()
    return host == "reddit.com" or host.endswith(".reddit.com") or host == "redd.it"


class RedditAdapter:
    platform = PLATFORM
    parser = PARSER
    reported_count_is_exact = False  # num_comments includes comments the API can no longer return

    def __init__(self, credentials: dict | None = None, api_origin: str = OAUTH_ORIGIN,
                 web_origin: str = WEB_ORIGIN) -> None:
        self.credentials = credentials
        self.enabled = credentials is not None  # live reddit.com only; other hosts need no credentials
        self.api_origin = (api_origin or OAUTH_ORIGIN).rstrip("/")
        self.web_origin = (web_origin or WEB_ORIGIN).rstrip("/")
        self._warned = False

    @classmethod
    def from_settings(cls, settings=None) -> "RedditAdapter":
        creds = reddit_credentials(settings)
        if creds is None:
            logger.info("reddit: live reddit.com disabled (REDDIT_CLIENT_ID / REDDIT_CLIENT_SECRET not set); "
                        "Reddit JSON already in hand is still parsed")
        get = (lambda k: settings.get(k)) if settings is not None and hasattr(settings, "get") else (lambda k: None)
        api = get("REDDIT_API_ORIGIN") or OAUTH_ORIGIN
        token_url = get("REDDIT_TOKEN_URL") or TOKEN_URL
        return cls(creds, api_origin=api, web_origin=web_origin_of(token_url))

    def is_api(self, url: str) -> bool:
        return url.startswith(self.api_origin + "/")

    # -- detection ---------------------------------------------------------------------------------
    def detect(self, url: str, body: bytes, headers: dict) -> ThreadRef | None:
        text = _decode(body)
        data = _json(text)
        if data is not None:
            if json_kind(data) != "thread":
                return None
            sub = submission(data) or {}
            link = _strip(id_of(sub, "name") or id_of(sub) or _link_from_url(url) or "")
            if not link:
                return None
            permalink = _origin(url) + (text_of(sub, "permalink") or f"/comments/{link}/")
            return ThreadRef(PLATFORM, _host(url), link, submission_article_url(data) or permalink,
                             inline_body=body, reported_count=_int(sub.get("num_comments")),
                             extra={"origin": _origin(url), "permalink": permalink})
        link = _link_from_url(url)
        if not link or "reddit" not in text[:100_000].lower():
            return None
        return ThreadRef(PLATFORM, _host(url), link, url, extra={"origin": _origin(url)})

    def first_requests(self, ref: ThreadRef) -> list[str]:
        if ref.inline_body is not None:
            return []  # the detected response is the thread JSON itself
        origin = ref.extra.get("origin") or f"https://{ref.host}"
        if is_reddit_host(origin) or origin == self.api_origin:
            if not self.enabled:
                if not self._warned:
                    logger.info("reddit: thread %s skipped, live reddit.com needs OAuth credentials",
                                ref.native_thread_id)
                    self._warned = True
                return []
            origin = self.api_origin
        return [f"{origin}/comments/{ref.native_thread_id}.json"]

    # -- parsing -----------------------------------------------------------------------------------
    def parse_page(self, url: str, body: bytes, headers: dict, ref: ThreadRef) -> CommentPage:
        data = json_body(body)
        kind = json_kind(data)
        if kind not in ("thread", "morechildren"):
            return CommentPage(error="invalid_json" if data is None else f"not_a_thread: {kind}")
        if kind == "thread":
            sub = submission(data) or {}
            things = data[1]["data"].get("children") or []
            link = _strip(id_of(sub, "name") or id_of(sub) or "") or ref.native_thread_id
            page = CommentPage(reported_count=_int(sub.get("num_comments")), thread=self.thread_meta(sub, url))
        else:
            if data["json"].get("errors"):
                return CommentPage(error=f"api_errors: {data['json']['errors']}")
            things = list_of(data["json"]["data"], "things")
            link = ref.native_thread_id
            page = CommentPage()
        api_origin = self._api_origin(url)
        more_ids: list[str] = []
        continues: list[str] = []
        stack = list(reversed(things))
        order = 0
        while stack:  # iterative pre-order walk: no recursion limit on deep threads
            thing = stack.pop()
            if not isinstance(thing, dict):
                continue
            kind_, d = thing.get("kind"), obj_of(thing, "data")
            if kind_ == "t1":
                link = link or _strip(text_of(d, "link_id") or "")
                if not (id_of(d, "name") or id_of(d)):  # no id to key it (and its replies) by
                    page.malformed += 1
                    continue
                page.comments.append(t1_to_comment(d, url, order))
                order += 1
                stack.extend(reversed(list_of(obj_of(d, "replies").get("data"), "children")))
            elif kind_ == "more":
                children = [str(c) for c in list_of(d, "children") if isinstance(c, (str, int))]
                if children and d.get("id") != "_":
                    more_ids.extend(children)
                else:
                    parent = text_of(d, "parent_id") or ""
                    if parent.startswith("t1_"):
                        continues.append(f"{api_origin}/comments/{link}/_/{_strip(parent)}.json")
        seen: set[str] = set()
        pending = [i for i in more_ids if not (i in seen or seen.add(i))]
        page.next_urls = morechildren_urls(api_origin, link, pending) + list(dict.fromkeys(continues))
        return page

    def _api_origin(self, url: str) -> str:
        if self.is_api(url):
            return self.api_origin
        origin = _origin(url)
        return self.api_origin if self.enabled and is_reddit_host(origin) else origin

    def thread_meta(self, sub: dict, url: str) -> dict:
        """Thread columns from a submission (t3 data)."""
        permalink = text_of(sub, "permalink") or ""
        if permalink and self.is_api(url) or is_reddit_host(url):
            web = self.web_origin + permalink if permalink else None
        else:
            web = _origin(url) + permalink if permalink else None
        author = text_of(sub, "author")
        return {"title": htmllib.unescape(text_of(sub, "title") or "") or None, "community": text_of(sub, "subreddit"),
                "author_name": None if not author or author == "[deleted]" else author,
                "score": _int(sub.get("score")), "created_at": parse_date(sub.get("created_utc")),
                "discussion_url": web}

    @staticmethod
    def finalize(raw: list[RawComment]) -> list[RawComment]:
        return raw  # parents are native ids already


# -- pieces -------------------------------------------------------------------------------------------
def json_kind(data) -> str:
    """thread ([t3 listing, t1 listing]), morechildren (json.data.things), listing (comments of many
    threads, e.g. /r/x/comments or a user's comments), submissions (t3 listing), or unknown."""
    if isinstance(data, list) and len(data) == 2 and all(_is_listing(x) for x in data):
        first = data[0]["data"].get("children") or []
        if first and isinstance(first[0], dict) and first[0].get("kind") == "t3":
            return "thread"
    if isinstance(data, dict):
        inner = data.get("json")
        if isinstance(inner, dict) and isinstance((inner.get("data") or {}).get("things"), list):
            return "morechildren"
        if _is_listing(data):
            kinds = {c.get("kind") for c in data["data"].get("children") or [] if isinstance(c, dict)}
            if kinds <= {"t1", "more"} and kinds:
                return "listing"
            if "t3" in kinds:
                return "submissions"
            return "listing"
    return "unknown"


def _is_listing(x) -> bool:
    return isinstance(x, dict) and x.get("kind") == "Listing" and isinstance(x.get("data"), dict) \
        and isinstance(x["data"].get("children"), list)


def submission(data) -> dict | None:
    """The t3 (submission) data of a thread JSON."""
    if json_kind(data) != "thread":
        return None
    return obj_of(data[0]["data"]["children"][0], "data")


def submission_article_url(body) -> str | None:
    """The page a link post points at (the article its comments discuss); None for self posts and media."""
    data = body if isinstance(body, (list, dict)) else _json(_decode(body))
    return submission_page_url(submission(data) or {})


def t1_to_comment(d: dict, url: str, order: int) -> RawComment:
    body = text_of(d, "body")
    deleted = (body or "").strip() in DELETED_BODIES
    author = text_of(d, "author")
    text, quoted = ("", None) if deleted else comment_text(d)
    parent = text_of(d, "parent_id") or ""
    created = d.get("created_utc", d.get("created"))
    edited = d.get("edited")
    return RawComment(
        native_id=_strip(id_of(d, "name") or id_of(d) or ""),
        parent_native_id=_strip(parent) if parent.startswith("t1_") else None,
        author_name=None if deleted or not author or author == "[deleted]" else author,
        body_text=text, quoted_text=quoted, source_url=url,
        published_at=parse_date(created), published_at_raw=None if created is None else str(created),
        edited_at=parse_date(edited) if isinstance(edited, (int, float)) and not isinstance(edited, bool) else None,
        edited=edited is True or (isinstance(edited, (int, float)) and not isinstance(edited, bool) and edited > 0),
        score=_int(d.get("score")), is_deleted=deleted, order=order,
    )


def comment_text(d: dict) -> tuple[str, str | None]:
    html = text_of(d, "body_html")
    if html:
        if html.lstrip().startswith("&lt;"):  # without raw_json=1 Reddit escapes the HTML once more
            html = htmllib.unescape(html)
        return split_quotes(html)
    body = text_of(d, "body") or ""
    own, quoted = [], []
    for line in body.splitlines():
        s = line.lstrip()
        if s.startswith(">"):
            quoted.append(s.lstrip(">").strip())
        else:
            own.append(line)
    q = "\n".join(quoted).strip()
    return "\n".join(own).strip(), q or None


def web_origin_of(token_url: str) -> str:
    """The site a person opens, from the token endpoint: ``https://www.reddit.com/api/v1/access_token`` →
    ``https://www.reddit.com`` (a mirror's path prefix is kept)."""
    url = (token_url or TOKEN_URL).split("?", 1)[0]
    return url[:-len(TOKEN_PATH)] if url.endswith(TOKEN_PATH) else _origin(url)


def morechildren_urls(origin: str, link: str, ids: list[str], size: int = MORE_BATCH) -> list[str]:
    return [f"{origin}/api/morechildren.json?api_type=json&link_id=t3_{link}&children=" + ",".join(ids[k:k + size])
            for k in range(0, len(ids), size)]


def _strip(fullname: str) -> str:
    return fullname.split("_", 1)[1] if re.match(r"^t\d_", fullname or "") else (fullname or "")


def _link_from_url(url: str) -> str | None:
    m = _COMMENTS_PATH.search(urlsplit(url).path)
    return m.group(1) if m else None


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _host(url: str) -> str:
    return "reddit.com" if is_reddit_host(url) else site_of(url)
