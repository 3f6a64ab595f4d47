"""A Reddit-style API behind an app-only OAuth token endpoint, speaking Reddit's protocol and JSON shapes.

Mounted on the demo server under two path prefixes (so one local server stands for both hosts):

- ``/reddit-www/api/v1/access_token`` (stands for ``https://www.reddit.com/api/v1/access_token``):
  ``POST`` with HTTP Basic ``client_id:client_secret`` and form body ``grant_type=client_credentials`` →
  ``{"access_token", "token_type": "bearer", "expires_in", "scope"}``. Wrong or missing Basic credentials →
  401 ``{"message": "Unauthorized", "error": 401}``; another grant type → 200 ``{"error":
  "unsupported_grant_type"}`` (as Reddit answers); ``GET`` → 405.
- ``/reddit-api`` (stands for ``https://oauth.reddit.com``): every call needs ``Authorization: bearer <token>``
  with a token this endpoint issued and that has not expired, else 401 with ``WWW-Authenticate``.
  ``/r/{sub}/new`` (listing of t3, ``limit``, ``after``), ``/comments/{id}`` (``[t3 listing, t1 listing]``
  with ``more`` and continue-this-thread stubs), ``/comments/{id}/_/{comment}`` (the permalink of a comment:
  its whole subtree), ``/api/morechildren`` (``json.data.things``, at most 100 ids), ``/api/info?url=``
  (link posts whose URL is exactly that). A ``.json`` suffix is accepted everywhere.

Rate limit: fixed windows of ``window`` seconds with ``budget`` requests each, the first starting with the first
API request (so a test knows where the windows fall); every API answer carries
``X-Ratelimit-Used``, ``X-Ratelimit-Remaining`` and ``X-Ratelimit-Reset`` (whole seconds until the window
ends, rounded up). A request beyond the budget gets 429 (and is recorded as a violation). ``inject_429``
makes the first API request whose path contains a given string answer 429 with ``Retry-After``. ``hold_answers``
holds back the answer to the N-th API request (counted from 1, as the server counted it) for some seconds after
its rate headers were computed: a later request's answer overtakes it, as on a loaded server
(:attr:`RedditApi.answered` lists the N of each counted request in the order its answer was sent).

Every request is logged (:attr:`RedditApi.log`) with its arrival time, so tests can check the client's
behaviour from the server's side (rate, concurrency of morechildren, tokens used).
"""
from __future__ import annotations

import base64
import json
import math
import secrets
import threading
import time
from dataclasses import dataclass, field
from html import escape
from urllib.parse import parse_qs

from .discussion_data import Discussion, DComment

JSON = "application/json; charset=UTF-8"
TOKEN_PATH = "/reddit-www/api/v1/access_token"
API_PREFIX = "/reddit-api"
MORE_LIMIT = 100


@dataclass
class ApiHit:
    t: float
    method: str
    path: str
    status: int
    token: str | None = None
    concurrent_more: int = 0  # morechildren requests being served at once (this one included)
    user_agent: str = ""


@dataclass
class RedditApi:
    discussions: list[Discussion] = field(default_factory=list)
    client_id: str = "demo-client"
    client_secret: str = "demo-secret"
    token_ttl: float = 3600.0  # expires_in announced with each token
    token_valid_for: float | None = None  # how long a token really works (None = token_ttl): shorter makes 401s
    budget: int = 100
    window: float = 60.0
    inject_429: dict = field(default_factory=dict)  # path substring -> Retry-After seconds (once each)
    garbled_tokens: int = 0  # the first N token answers are a 200 HTML page (a proxy's or captive portal's)
    slow_more: float = 0.0  # seconds each morechildren answer takes (shows one-at-a-time from the server side)
    hold_answers: dict = field(default_factory=dict)  # N-th rate-counted API request -> seconds its answer waits
    log: list[ApiHit] = field(default_factory=list)
    answered: list[int] = field(default_factory=list)  # rate-counted API requests (their N) in the order answers left
    violations: int = 0
    tokens: dict = field(default_factory=dict)  # token -> expiry (time.time())

    def __post_init__(self):
        self._lock = threading.Lock()
        self._tls = threading.local()
        self.started = time.time()  # where the rate windows start: reset by the first API request
        self._window_start: float | None = None
        self._used = 0
        self._counted = 0  # API requests counted against the budget, all windows
        self._more_now = 0

    # -- entry ------------------------------------------------------------------------------------------
    def handle(self, req) -> tuple | None:
        if req.path == TOKEN_PATH:
            return self._token(req)
        if req.path == API_PREFIX or req.path.startswith(API_PREFIX + "/"):
            self._tls.hold, self._tls.nth = 0.0, None
            answer = self._api(req, req.path[len(API_PREFIX):] or "/")
            if self._tls.hold:  # computed (and logged) now, sent later: later answers overtake it
                time.sleep(self._tls.hold)
            if self._tls.nth is not None:
                with self._lock:
                    self.answered.append(self._tls.nth)
            return answer
        return None

    def _record(self, req, status: int, token: str | None = None, more: int = 0) -> None:
        with self._lock:
            self.log.append(ApiHit(time.time(), req.method, req.path, status, token, more,
                                   req.headers.get("User-Agent") or ""))

    # -- OAuth ------------------------------------------------------------------------------------------
    def _token(self, req):
        if req.method != "POST":
            self._record(req, 405)
            return 405, json.dumps({"message": "Method Not Allowed", "error": 405}), JSON, {}
        want = "Basic " + base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if req.headers.get("Authorization") != want:
            self._record(req, 401)
            return 401, json.dumps({"message": "Unauthorized", "error": 401}), JSON, {}
        with self._lock:
            garbled, self.garbled_tokens = self.garbled_tokens > 0, max(0, self.garbled_tokens - 1)
        if garbled:
            self._record(req, 200)
            return 200, "<html><body>Connecting to the network, please wait</body></html>", "text/html", {}
        form = parse_qs((req.body or b"").decode("utf-8", "replace"))
        if form.get("grant_type") != ["client_credentials"]:
            self._record(req, 200)
            return 200, json.dumps({"error": "unsupported_grant_type"}), JSON, {}
        token = secrets.token_urlsafe(18)
        with self._lock:
            self.tokens[token] = time.time() + (self.token_ttl if self.token_valid_for is None else self.token_valid_for)
        self._record(req, 200, token)
        return 200, json.dumps({"access_token": token, "token_type": "bearer", "expires_in": self.token_ttl,
                                "scope": "*"}), JSON, {}

    def expire_tokens(self) -> None:
        """Make every issued token expire now (a test's way of forcing a renewal mid-crawl)."""
        with self._lock:
            for t in self.tokens:
                self.tokens[t] = 0.0

    # -- API --------------------------------------------------------------------------------------------
    def _rate_headers(self, now: float) -> tuple[bool, dict, int]:
        with self._lock:
            if self._window_start is None:
                self._window_start = self.started = now
            if now >= self._window_start + self.window:
                self._window_start += self.window * math.floor((now - self._window_start) / self.window)
                self._used = 0
            self._used += 1
            self._counted += 1
            over = self._used > self.budget
            if over:
                self.violations += 1
            reset = max(0, math.ceil(self._window_start + self.window - now))
            return over, {"X-Ratelimit-Used": str(min(self._used, self.budget)),
                          "X-Ratelimit-Remaining": f"{max(0, self.budget - self._used):.1f}",
                          "X-Ratelimit-Reset": str(reset)}, self._counted

    def _api(self, req, path: str):
        auth = req.headers.get("Authorization") or ""
        token = auth[7:] if auth.lower().startswith("bearer ") else None
        now = time.time()
        if token is None or self.tokens.get(token, 0.0) <= now:
            self._record(req, 401, token)
            return 401, json.dumps({"message": "Unauthorized", "error": 401}), JSON, {
                "WWW-Authenticate": 'Bearer realm="reddit", error="invalid_token"'}
        over, headers, nth = self._rate_headers(now)
        self._tls.hold, self._tls.nth = self.hold_answers.get(nth, 0.0), nth
        if over:
            self._record(req, 429, token)
            return 429, json.dumps({"message": "Too Many Requests", "error": 429}), JSON, {**headers,
                                                                                          "Retry-After": headers["X-Ratelimit-Reset"]}
        for needle, secs in list(self.inject_429.items()):
            if needle in path:
                del self.inject_429[needle]
                self._record(req, 429, token)
                return 429, json.dumps({"message": "Too Many Requests", "error": 429}), JSON, {
                    **headers, "Retry-After": str(secs)}
        path = path.removesuffix(".json").rstrip("/") or "/"
        q = {k: v[0] for k, v in req.query.items()}
        if path == "/api/morechildren":
            with self._lock:
                self._more_now += 1
                concurrent = self._more_now
            try:
                if self.slow_more:
                    time.sleep(self.slow_more)
                status, body = self._morechildren(q)
            finally:
                with self._lock:
                    self._more_now -= 1
            self._record(req, status, token, concurrent)
            return status, body, JSON, headers
        status, body = self._route(path, q)
        self._record(req, status, token)
        return status, body, JSON, headers

    def _route(self, path: str, q: dict) -> tuple[int, str]:
        parts = path.strip("/").split("/")
        if len(parts) == 3 and parts[0] == "r" and parts[2] == "new":
            return self._listing_new(parts[1], q)
        if parts[0] == "comments" and len(parts) >= 2:
            d = self._by_id(parts[1])
            if d is None:
                return 404, json.dumps({"message": "Not Found", "error": 404})
            if len(parts) == 4 and parts[2] == "_":
                return self._permalink(d, parts[3])
            return 200, json.dumps([_listing([t3(d)]), _listing(self._children(d, None, 0, top=True))])
        if path == "/api/info":
            url = q.get("url", "")
            hits = [t3(d) for d in self._reddit() if d.url and d.url == url]
            return 200, json.dumps(_listing(hits))
        return 404, json.dumps({"message": "Not Found", "error": 404})

    def _reddit(self) -> list[Discussion]:
        return [d for d in self.discussions if d.platform == "reddit"]

    def _by_id(self, link: str) -> Discussion | None:
        return next((d for d in self._reddit() if d.id == link), None)

    def _listing_new(self, sub: str, q: dict) -> tuple[int, str]:
        posts = sorted((d for d in self._reddit() if d.community.lower() == sub.lower()),
                       key=lambda d: -d.created)
        try:
            limit = max(1, min(100, int(q.get("limit", "25"))))
        except ValueError:
            limit = 25
        after = q.get("after")
        start = 0
        if after:
            names = [f"t3_{d.id}" for d in posts]
            start = names.index(after) + 1 if after in names else len(posts)
        page = posts[start:start + limit]
        more = start + limit < len(posts)
        return 200, json.dumps(_listing([t3(d) for d in page], after=f"t3_{page[-1].id}" if page and more else None))

    def _children(self, d: Discussion, parent: str | None, depth: int, top: bool = False) -> list:
        """Children of ``parent`` as the thread JSON shows them."""
        out, later, cont = [], [], False
        for c in d.kids(parent):
            if c.where == "thread":
                kids = self._children(d, c.id, depth + 1)
                out.append(t1(d, c, depth, _listing(kids) if kids else ""))
            elif c.where == "continue":
                cont = True
            else:
                later.append(c.id)
        if later:
            out.append(more_stub(d, parent, later, depth))
        if cont:
            out.append(more_stub(d, parent, [], depth))
        return out

    def _subtree(self, d: Discussion, parent: str, depth: int) -> list:
        out = []
        for c in d.kids(parent):
            kids = self._subtree(d, c.id, depth + 1)
            out.append(t1(d, c, depth, _listing(kids) if kids else ""))
        return out

    def _permalink(self, d: Discussion, cid: str) -> tuple[int, str]:
        by = {c.id: c for c in d.comments}
        if cid not in by:
            return 404, json.dumps({"message": "Not Found", "error": 404})
        depth = _depth(by, by[cid])
        kids = self._subtree(d, cid, depth + 1)
        return 200, json.dumps([_listing([t3(d)]), _listing([t1(d, by[cid], depth, _listing(kids) if kids else "")])])

    def _morechildren(self, q: dict) -> tuple[int, str]:
        link = q.get("link_id", "")
        ids = [i for i in q.get("children", "").split(",") if i]
        d = self._by_id(link.removeprefix("t3_"))
        if d is None or not ids or len(ids) > MORE_LIMIT or q.get("api_type") != "json":
            return 200, json.dumps({"json": {"errors": [["BAD_REQUEST", "bad link_id or children", "children"]]}})
        by = {c.id: c for c in d.comments}
        things = []

        def add(c: DComment) -> None:  # the asked comment, then its descendants, flat
            things.append(t1(d, c, _depth(by, c), ""))
            for k in d.kids(c.id):
                add(k)

        for i in ids:
            if i in by:
                add(by[i])
        return 200, json.dumps({"json": {"errors": [], "data": {"things": things}}})


def _depth(by: dict, c: DComment) -> int:
    n, p = 0, c.parent
    while p:
        n, p = n + 1, by[p].parent
    return n


def _listing(children: list, after: str | None = None) -> dict:
    return {"kind": "Listing", "data": {"after": after, "before": None, "dist": len(children), "modhash": "",
                                        "geo_filter": "", "children": children}}


def t3(d: Discussion) -> dict:
    is_self = d.url is None
    permalink = f"/r/{d.community}/comments/{d.id}/{_slug(d.title)}/"
    url = d.url or f"https://www.reddit.com{permalink}"
    host = (url.split("//", 1)[1].split("/", 1)[0].split(":")[0]) if not is_self else f"self.{d.community}"
    data = {"id": d.id, "name": f"t3_{d.id}", "subreddit": d.community, "subreddit_name_prefixed": f"r/{d.community}",
            "title": d.title, "author": d.author, "score": d.score, "ups": d.score, "created_utc": float(d.created),
            "num_comments": sum(1 for _ in d.comments), "permalink": permalink, "url": url, "domain": host,
            "is_self": is_self, "selftext": d.selftext, "over_18": False, "stickied": False,
            "selftext_html": escape(f'<div class="md"><p>{escape(d.selftext)}</p></div>') if d.selftext else None}
    if not is_self:
        data["url_overridden_by_dest"] = url
    if d.url and d.url.endswith(".png"):
        data["post_hint"] = "image"
    return {"kind": "t3", "data": data}


def t1(d: Discussion, c: DComment, depth: int, replies) -> dict:
    body = "[deleted]" if c.deleted else "[removed]" if c.removed else c.body
    author = "[deleted]" if c.deleted or c.removed else c.author
    html = escape(f'<div class="md"><p>{escape(body)}</p>\n</div>')
    return {"kind": "t1", "data": {
        "id": c.id, "name": f"t1_{c.id}", "parent_id": f"t1_{c.parent}" if c.parent else f"t3_{d.id}",
        "link_id": f"t3_{d.id}", "author": author, "body": body, "body_html": html, "score": c.score,
        "created_utc": float(c.created), "edited": False, "depth": depth, "subreddit": d.community,
        "replies": replies, "permalink": f"/r/{d.community}/comments/{d.id}/{_slug(d.title)}/{c.id}/",
        "collapsed": False, "stickied": False, "score_hidden": False}}


def more_stub(d: Discussion, parent: str | None, ids: list[str], depth: int) -> dict:
    pid = f"t1_{parent}" if parent else f"t3_{d.id}"
    if not ids:  # "continue this thread"
        return {"kind": "more", "data": {"count": 0, "name": "t1__", "id": "_", "parent_id": pid, "depth": depth,
                                         "children": []}}
    return {"kind": "more", "data": {"count": len(ids), "name": f"t1_{ids[0]}", "id": ids[0], "parent_id": pid,
                                     "depth": depth, "children": ids}}


def _slug(title: str) -> str:
    out = "".join(ch.lower() if ch.isalnum() else "_" for ch in title)
    return "_".join(p for p in out.split("_") if p)[:50] or "post"
