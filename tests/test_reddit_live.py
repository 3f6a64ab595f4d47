"""Reddit, live and polite, against a local server speaking Reddit's protocol (crawler/demo_site/reddit_api.py):
app-only OAuth (token endpoint, bearer, renewal on expiry and on 401, a refused endpoint), X-Ratelimit-* at a
low budget, 429 + Retry-After, morechildren one at a time, and `scrapy crawl news -a source=<subreddit>`
writing articles, threads (with metadata) and comments whose trees equal the server's data.

Everything runs on 127.0.0.1; budgets and token lifetimes are seconds so the crawls stay short."""
from __future__ import annotations

import base64
import json
import math
import urllib.error
import urllib.request
from collections import Counter

import pytest

from crawler.demo_site.apis import DemoApis, origins, set_apis
from crawler.demo_site.discussion_data import CHART_PATH, EPOCH, DComment, Discussion
from crawler.demo_site.hn_api import HnApi
from crawler.demo_site.reddit_api import RedditApi
from crawler.demo_site.server import DemoServer
from crawler.demo_site.site import MISSING_PATH, DemoSite

from .conftest import run_crawl

SUB = "testcoins"
CONTACT = "tests@example.org"
BUDGET, WINDOW = 4, 1.0


def _c(i, parent, where="thread", **kw) -> DComment:
    return DComment(id=i, parent=parent, author=f"user_{i}", body=f"Comment {i} about fees and custody.",
                    created=EPOCH + 60 * len(i) + sum(map(ord, i)), score=3, where=where, **kw)


def big_tree() -> list[DComment]:
    """A chain six deep (one deleted, one removed), a continue-thread stub under its end with two deeper
    replies, and 104 top-level comments behind `more` stubs (two morechildren batches), one with a reply."""
    out = [_c("a0", None)]
    for k in range(1, 6):
        out.append(_c(f"a{k}", f"a{k - 1}", deleted=k == 2, removed=k == 4))
    out += [_c("a6", "a5", where="continue"), _c("a7", "a6", where="continue"), _c("a8", "a0")]
    out += [_c(f"m{k}", None, where="more") for k in range(104)]
    out.append(_c("m3r", "m3", where="more"))
    return out


def discussions(base: str, site: DemoSite) -> list[Discussion]:
    a0, a1 = site.articles[0], site.articles[1]
    mk = lambda i, title, url, comments, **kw: Discussion(i, "reddit", title, url, "poster_" + i, EPOCH + len(i), 40,  # noqa: E731
                                                         community=SUB, comments=comments, **kw)
    return [
        mk("big1", "Big thread on the outage story", f"{base}{a0.path}", big_tree()),
        mk("chart2", "Weekend hashrate chart", f"{base}{CHART_PATH}", [_c("c0", None), _c("c1", "c0")]),
        mk("dead3", "Story that was taken down", f"{base}{MISSING_PATH}", [_c("d0", None)]),
        mk("self4", "How do you read exchange flows?", None, [_c("s0", None), _c("s1", "s0"), _c("s2", None)],
           selftext="I track wallet labels in a spreadsheet. What do you use?"),
        mk("link5", "Second story", f"{base}{a1.path}", [_c("l0", None)]),
    ]


def registry(tmp_path):
    data = {"version": 1, "sources": [{
        "name": "r_testcoins", "title": "r/testcoins", "domains": ["www.reddit.com"],
        "home": f"https://www.reddit.com/r/{SUB}/", "discovery": [{"kind": "subreddit",
                                                                  "url": f"https://www.reddit.com/r/{SUB}/new"}],
        "comments": "reddit", "parser": "generic", "politeness": {"download_delay": 1.0, "concurrency": 2},
        "max_pages": 5}]}
    path = tmp_path / "sources.json"
    path.write_text(json.dumps(data))
    return path


class Served:
    def __init__(self, **api):
        self.site = DemoSite(n_articles=3, comments_per_article=1)
        self.server = DemoServer(self.site).start()
        self.discussions = discussions(self.server.base, self.site)
        self.reddit = RedditApi(self.discussions, **api)
        set_apis(self.site, DemoApis(self.reddit, HnApi(self.discussions)))

    def crawl(self, tmp_path, *extra, secret=None):
        args = ["-a", "source=r_testcoins", "-a", f"registry={registry(tmp_path)}", "-s", f"CONTACT={CONTACT}",
                "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4",
                "-s", "REDDIT_LISTING_LIMIT=2", "-s", "DISCUSSION_LOOKUP=none", "-s", "AUTHOR_SALT=test-salt",
                "-s", f"REDDIT_CLIENT_ID={self.reddit.client_id}",
                "-s", f"REDDIT_CLIENT_SECRET={secret or self.reddit.client_secret}", "-s", "RETRY_AFTER_MAX_WAIT=5",
                "-s", f"PRIVATE_NETWORK_ALLOW=127.0.0.1:{self.server.port}"]  # our local server only
        for k, v in origins(self.server.base).items():
            args += ["-s", f"{k}={v}"]
        return run_crawl(tmp_path / "out", *args, *extra, spider="news")

    def api_hits(self):
        return [h for h in self.reddit.log if h.path.startswith("/reddit-api")]

    def close(self):
        self.server.stop()


@pytest.fixture(scope="module")
def main_run(tmp_path_factory):
    """Low budget (4 per 1 s window), tokens that stop working after 1.5 s though they announce an hour (the
    401 path), one injected 429 with Retry-After: 1, morechildren answers that take 0.15 s."""
    srv = Served(budget=BUDGET, window=WINDOW, token_valid_for=1.5, inject_429={"/comments/self4": 1},
                 slow_more=0.15)
    try:
        result = srv.crawl(tmp_path_factory.mktemp("reddit_main"))
    finally:
        srv.close()
    assert result.returncode == 0, result.stderr[-4000:]
    return srv, result


# -- the protocol, from the server's side ---------------------------------------------------------------------
def _http(url, data=None, headers=None):
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_token_endpoint_needs_basic_auth_and_the_grant_type_and_the_api_a_valid_bearer():
    srv = Served()
    try:
        o = origins(srv.server.base)
        good = "Basic " + base64.b64encode(b"demo-client:demo-secret").decode()
        bad = "Basic " + base64.b64encode(b"demo-client:wrong").decode()
        form = b"grant_type=client_credentials"
        assert _http(o["REDDIT_TOKEN_URL"], form)[0] == 401
        assert _http(o["REDDIT_TOKEN_URL"], form, {"Authorization": bad})[0] == 401
        assert _http(o["REDDIT_TOKEN_URL"], b"grant_type=password", {"Authorization": good}) == \
            (200, {"error": "unsupported_grant_type"})
        status, body = _http(o["REDDIT_TOKEN_URL"], form, {"Authorization": good})
        assert status == 200 and body["token_type"] == "bearer" and body["expires_in"] > 0
        listing = f"{o['REDDIT_API_ORIGIN']}/r/{SUB}/new?limit=2"
        assert _http(listing)[0] == 401
        assert _http(listing, headers={"Authorization": "bearer not-a-token"})[0] == 401
        status, page = _http(listing, headers={"Authorization": f"bearer {body['access_token']}"})
        assert status == 200 and len(page["data"]["children"]) == 2 and page["data"]["after"]
    finally:
        srv.close()


# -- the crawl ------------------------------------------------------------------------------------------------
def test_every_api_request_carries_a_bearer_and_the_user_agent_with_contact(main_run):
    srv, result = main_run
    hits = srv.api_hits()
    assert hits and all(h.token for h in hits)
    assert all(CONTACT in h.user_agent for h in srv.reddit.log)  # token requests too
    token_calls = [h for h in srv.reddit.log if h.path.endswith("access_token")]
    assert all(h.method == "POST" and h.status == 200 for h in token_calls)


def test_a_token_that_stops_working_mid_crawl_is_renewed_once_and_nothing_is_lost(main_run):
    srv, result = main_run
    refused = [h for h in srv.api_hits() if h.status == 401]
    assert refused, "the token never expired during the crawl: the test proves nothing"
    assert result.stats["reddit/auth/renewed/401"] >= 1
    assert result.stats.get("reddit/auth/401_after_renewal", 0) == 0
    for h in refused:  # each refused call was answered later, with another token
        assert any(o.path == h.path and o.status == 200 and o.token != h.token and o.t > h.t for o in srv.api_hits())
    assert len({h.token for h in srv.reddit.log if h.path.endswith("access_token")}) >= 2


def test_rate_limit_headers_at_a_low_budget_are_obeyed(main_run):
    srv, result = main_run
    assert srv.reddit.violations == 0
    counted = [h for h in srv.api_hits() if h.status != 401]  # the server counts authorised calls
    per_window = Counter(math.floor((h.t - srv.reddit.started) / WINDOW) for h in counted)
    assert max(per_window.values()) <= BUDGET, per_window
    assert len(counted) > 2 * BUDGET  # enough calls that the budget had to be waited for
    assert result.stats["api/reddit/waits"] >= 1 and result.stats["api/reddit/header_budget"] >= len(counted) - 2


def test_a_429_with_retry_after_waits_before_the_next_call(main_run):
    srv, result = main_run
    first = next(h for h in srv.api_hits() if h.status == 429)
    again = next(h for h in srv.api_hits() if h.path == first.path and h.t > first.t and h.status == 200)
    assert again.t - first.t >= 1.0
    assert result.stats["retry/retry_after/seconds"] == 1


def test_morechildren_one_at_a_time_at_most_100_ids(main_run):
    srv, result = main_run
    more = [h for h in srv.api_hits() if "morechildren" in h.path and h.status == 200]
    assert len(more) == 2  # 104 ids: 100 + 4
    assert max(h.concurrent_more for h in more) == 1


def test_subreddit_listing_is_followed_through_after(main_run):
    srv, result = main_run
    assert result.stats["discovery/subreddit/pages"] == 3  # 5 submissions, 2 a page
    assert result.stats["discovery/subreddit/submissions"] == 5


def _rows(result, table):
    rows = result.table(table).to_pylist()
    return [r for r in rows if r["platform"] == "reddit"] if table == "threads" else rows


def test_comment_trees_equal_the_servers_data(main_run):
    srv, result = main_run
    threads = {t["native_thread_id"]: t for t in _rows(result, "threads")}
    comments = _rows(result, "comments")
    by_id = {c["comment_id"]: c for c in comments}
    assert set(threads) == {d.id for d in srv.discussions}
    for d in srv.discussions:
        t = threads[d.id]
        rows = [c for c in comments if c["thread_id"] == t["thread_id"]]
        got = {c["native_id"]: (by_id[c["parent_id"]]["native_id"] if c["parent_id"] else None) for c in rows}
        assert got == {c.id: c.parent for c in d.comments}, d.id
        deleted = {c["native_id"] for c in rows if c["is_deleted"]}
        assert deleted == {c.id for c in d.comments if c.deleted or c.removed}, d.id
        for c in rows:
            assert c["article_id"] == t["article_id"]
            if not c["is_deleted"]:
                assert c["body_text"] == next(x.body for x in d.comments if x.id == c["native_id"])
        assert t["is_complete"] and t["comment_count_collected"] == t["comment_count_reported"] == len(d.comments)
    assert result.stats["comments/page_failed"] == 0 if "comments/page_failed" in result.stats else True


def test_threads_carry_the_new_metadata(main_run):
    srv, result = main_run
    for t in _rows(result, "threads"):
        d = next(x for x in srv.discussions if x.id == t["native_thread_id"])
        assert t["platform"] == "reddit" and t["title"] == d.title and t["community"] == SUB
        assert t["score"] == d.score and t["created_at"].timestamp() == d.created
        assert t["author_id"] and len(t["author_id"]) == 32 and d.author not in t["author_id"]  # pseudonymised
        assert t["discussion_url"] == f"{srv.server.base}/reddit-www/r/{SUB}/comments/{d.id}/" + \
            t["discussion_url"].rsplit("/", 2)[-2] + "/"


def test_link_posts_join_their_page_or_a_row_made_from_the_submission(main_run):
    srv, result = main_run
    articles = {a["article_id"]: a for a in _rows(result, "articles")}
    threads = {t["native_thread_id"]: t for t in _rows(result, "threads")}
    a0, a1 = srv.site.articles[0], srv.site.articles[1]
    assert articles[threads["big1"]["article_id"]]["title"] == a0.title  # the linked article, parsed
    assert articles[threads["big1"]["article_id"]]["parser"].startswith("generic")
    assert articles[threads["link5"]["article_id"]]["title"] == a1.title
    for sid, path in (("chart2", CHART_PATH), ("dead3", MISSING_PATH)):  # an image, a dead link
        row = articles[threads[sid]["article_id"]]
        assert row["parser"] == "reddit-submission@1" and row["body_text"] == ""
        assert row["title"] == next(d.title for d in srv.discussions if d.id == sid)
        assert row["url"] == srv.server.base + path and row["section"] == SUB
    own = articles[threads["self4"]["article_id"]]
    assert own["parser"] == "reddit-self-post@1" and own["section"] == SUB and "spreadsheet" in own["body_text"]
    # every comment's article exists
    assert {c["article_id"] for c in _rows(result, "comments")} <= set(articles)
    assert result.stats["discussion/join/submission_row"] == 2


def test_a_refused_token_endpoint_ends_reddit_collection_without_a_crash(tmp_path):
    srv = Served()
    try:
        result = srv.crawl(tmp_path, secret="not-the-secret")
    finally:
        srv.close()
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stats["reddit/auth/refused"] == "HTTP 401"
    assert "refused the client credentials" in result.stderr
    assert srv.api_hits() == []  # nothing asked of the API without a token
    assert len([h for h in srv.reddit.log if h.path.endswith("access_token")]) == 1  # asked once, not per request
    assert "spider_exceptions" not in json.dumps(result.stats)


def test_a_token_is_renewed_before_its_announced_expiry(tmp_path):
    """Tokens announce 2 s; with a margin of 1 s the client renews before any call is refused."""
    srv = Served(budget=3, window=WINDOW, token_ttl=2.0)
    try:
        result = srv.crawl(tmp_path, "-s", "REDDIT_TOKEN_RENEW_MARGIN=1")
    finally:
        srv.close()
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stats.get("reddit/auth/renewed/expiry", 0) >= 1, {k: v for k, v in result.stats.items() if "/auth/" in k}
    assert [h for h in srv.api_hits() if h.status == 401] == []
    assert srv.reddit.violations == 0
    assert len(_rows(result, "threads")) == 5
    assert len([c for c in _rows(result, "comments") if c["platform"] == "reddit"]) == \
        sum(len(d.comments) for d in srv.discussions)


def test_a_token_answer_that_is_no_oauth_answer_is_asked_again(tmp_path):
    """A 200 HTML page where the token JSON belongs (a proxy's or captive portal's) is a transient failure: the
    token is asked for again (it ended Reddit collection for the whole run before)."""
    srv = Served(garbled_tokens=1)
    try:
        result = srv.crawl(tmp_path)
    finally:
        srv.close()
    assert result.returncode == 0, result.stderr[-3000:]
    assert "reddit/auth/refused" not in result.stats
    assert result.stats["reddit/auth/token_retries"] == 1 and result.stats["reddit/auth/token_ok"] >= 1
    assert len([h for h in srv.reddit.log if h.path.endswith("access_token")]) == 2
    assert len(_rows(result, "threads")) == 5


def test_an_early_answer_overtaken_by_a_later_one_does_not_raise_what_is_left(tmp_path):
    """Answers arrive out of order: the server holds back the answer to its 2nd API call (computed with 1 of 3
    left) while the 3rd (0 left) overtakes it. The late, stale answer must not raise the client's budget back
    (it did: the client spent one call over the window; CI caught it once as a flaky test)."""
    hold = 1.2  # inside the 2 s window, so the old client's extra call landed in the same window
    srv = Served(budget=3, window=2.0, hold_answers={2: hold})
    try:
        result = srv.crawl(tmp_path)
    finally:
        srv.close()
    assert result.returncode == 0, result.stderr[-3000:]
    counted = [h for h in srv.api_hits() if h.status != 401]
    # the case really happened: the server sent its answer to the 3rd call before the held answer to the 2nd
    # (an order the server records, not a wall-clock window a stalled machine could miss)
    sent = srv.reddit.answered
    assert len(counted) >= 4 and sent.index(3) < sent.index(2), sent
    assert srv.reddit.violations == 0, [(round(h.t - counted[0].t, 2), h.status, h.path) for h in counted]
    assert len(_rows(result, "threads")) == 5
    assert len([c for c in _rows(result, "comments") if c["platform"] == "reddit"]) == \
        sum(len(d.comments) for d in srv.discussions)
