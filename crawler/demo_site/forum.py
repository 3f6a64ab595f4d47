"""Discussion platforms on the demo site (host ``127.0.0.1`` only), so every comment adapter can be crawled
offline end to end. Text is this project's own (see :mod:`forum_content`); the markup and JSON follow the
shapes of the real platforms.

What is served (``entry_urls(base)`` lists where a crawl starts):

- **Discourse** under ``/forum/`` ("Ledger Commons"):
  ``/forum/t/news-repost-neo-council/4021`` (crawler HTML, 20 posts a page, ``?page=N``),
  ``.json`` (topic JSON: posts 1-20 loaded, ``post_stream.stream`` lists all 46 ids),
  ``/forum/t/4021/posts.json?post_ids[]=..`` (the rest, as asked), ``.rss`` (latest 25 posts).
  Post 1 reposts a demo news article (link to the original, then a footer of sister-site links that is
  boilerplate); 45 replies with nested chains (one seven deep, crossing the loaded/unloaded boundary),
  replies to post 1 (top level), a quote (``aside.quote``) without a reply link, a quote with one,
  a post deleted by its author that has replies, a hidden (flagged) post, an edited post (version 2).
  A second topic, ``/forum/t/json-refused-topic/4022``, answers 403 to ``.json``: only its crawler
  HTML can be read.
- **Disqus**: ``/opinion/disqus-demo/`` — an article page with the embed code (shortname
  ``blockledger-demo``, ``this.page.identifier``) and a ``disqus-threadData`` script holding the first 10
  of 14 posts (nested, a deleted one, a quote); ``/api/3.0/threads/listPosts.json`` answers any non-empty
  ``api_key`` with all 14, 5 per page via ``cursor`` (point ``DisqusAdapter(api_base=base + "/api/3.0")``
  at it).
- **Reddit**: ``/r/cryptodemo/comments/1dmx7q/neo_council_vote_news.json`` — a link post to a demo
  article, with a top-level ``more`` stub (12 ids), a "continue this thread" stub under a five-deep
  chain (``/comments/1dmx7q/_/{id}.json``), ``[deleted]`` and ``[removed]`` comments that have replies, an
  edited comment; ``/api/morechildren.json`` answers the stub (and includes a nested ``more`` stub that
  needs a second call).
- **SMF**: ``/smf/index.php?topic=7.0`` and ``?topic=7.20`` (also ``topic=7.0;start=20``) — 28 posts on
  two pages (the first is the opening post), quotes with and without links to earlier posts (one across
  pages, one of the opening post, one nested), signatures, an edited post, and one hidden decoy post
  whose permalink points into another topic.
- **Entry shapes** (:mod:`forum_shapes`, ``entry_shapes(base, forum)``): repost topics of the founding example
  entered at their crawler page, topic JSON and a ``/posts.json`` answer without post 1; an embed topic; SMF
  topics entered through a post anchor, at a later page, and at a later page of a topic whose first page is
  gone.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from html import escape

from . import forum_content as F
from . import forum_shapes as shapes
from .content import BASE_TIME, DemoArticle

JSON = "application/json; charset=utf-8"
HTML = "text/html; charset=utf-8"

DISCOURSE_TOPIC_ID = 4021
DISCOURSE_SLUG = "news-repost-neo-council"
REFUSED_TOPIC_ID = 4022
REFUSED_SLUG = "json-refused-topic"
DISCOURSE_CHUNK = 20  # posts per topic JSON and per crawler HTML page
DISQUS_PATH = "/opinion/disqus-demo/"
DISQUS_THREAD_ID = "9100201"
DISQUS_EMBEDDED = 10  # posts in the page's threadData (the rest only via the API)
DISQUS_API_PAGE = 5
REDDIT_LINK = "1dmx7q"
REDDIT_SLUG = "neo_council_vote_news"
SMF_TOPIC = 7
SMF_PER_PAGE = 20


def entry_urls(base: str) -> list[str]:
    """Where a crawl of the demo's discussion platforms starts (one URL per thread, by platform):
    Discourse topic page, Discourse topic RSS, the JSON-refused Discourse topic page, the Disqus article
    page, the Reddit thread JSON, the first SMF topic page."""
    return [
        f"{base}/forum/t/{DISCOURSE_SLUG}/{DISCOURSE_TOPIC_ID}",
        f"{base}/forum/t/{DISCOURSE_SLUG}/{DISCOURSE_TOPIC_ID}.rss",
        f"{base}/forum/t/{REFUSED_SLUG}/{REFUSED_TOPIC_ID}",
        f"{base}{DISQUS_PATH}",
        f"{base}/r/{F.REDDIT_SUBREDDIT}/comments/{REDDIT_LINK}/{REDDIT_SLUG}.json",
        f"{base}/smf/index.php?topic={SMF_TOPIC}.0",
    ]


# == model ===============================================================================================
@dataclass
class FPost:  # one Discourse post
    number: int
    id: int
    user: str
    html: str | None  # cooked HTML; None for the opening post (rendered with the request's base)
    created: datetime
    reply_to: int | None = None
    user_deleted: bool = False
    hidden: bool = False
    edited: datetime | None = None
    likes: int = 0


@dataclass
class FTopic:
    id: int
    slug: str
    title: str
    posts: list[FPost]
    article: DemoArticle | None = None
    json_refused: bool = False
    featured_link: str | None = None
    page_footer: list[str] | None = None  # sister-site links at the foot of the page (crawler view)
    opening: str | None = None  # post 1 rendered by forum_shapes ("seed" repost, "embed" companion line)


@dataclass
class RComment:  # one Reddit comment
    id: str
    parent: str | None
    author: str
    body: str
    created: float
    score: int
    where: str = "thread"  # thread | more | more2 | continue: which response first carries it
    edited: float | None = None


@dataclass
class DPost:  # one Disqus post
    id: str
    parent: str | None
    author: str
    html: str
    created: datetime
    likes: int = 0
    dislikes: int = 0
    deleted: bool = False
    edited: bool = False


@dataclass
class SPost:  # one SMF post
    msg: int
    author: str
    html: str
    created: datetime
    edited: datetime | None = None
    signature: str = ""


@dataclass
class DemoForum:
    topic: FTopic
    refused: FTopic
    disqus_article: DemoArticle | None
    disqus_posts: list[DPost]
    reddit_article: DemoArticle | None
    reddit_comments: list[RComment]
    smf_posts: list[SPost]
    extra_topics: list[FTopic]  # forum_shapes' Discourse topics
    smf_topics: dict  # topic id → (title, posts), topic 7 included


_CACHE: dict[int, tuple[object, DemoForum]] = {}


def forum_for(site) -> DemoForum:
    hit = _CACHE.get(id(site))
    if hit is not None and hit[0] is site:
        return hit[1]
    forum = build_forum(site)
    _CACHE[id(site)] = (site, forum)
    return forum


def _pick(site, want: int) -> DemoArticle | None:
    """The English story with post id 100 + want (stable when other stories are deleted), else the nearest."""
    arts = [a for a in getattr(site, "articles", []) if a.lang == "en"] or list(getattr(site, "articles", []))
    if not arts:
        return None
    return min(arts, key=lambda a: (abs(a.post_id - (100 + want)), a.post_id))


def _neo_article(site) -> DemoArticle | None:
    for a in getattr(site, "articles", []):
        if a.title.startswith("NEO "):
            return a
    return _pick(site, 0)


def _line(k: int, extra: int | None = None) -> str:
    text = F.REPLY_OPENERS[k % len(F.REPLY_OPENERS)] + F.CHATTER[k % len(F.CHATTER)]
    if extra is not None:
        text += " " + F.CHATTER[extra % len(F.CHATTER)]
    return text


# reply_to_post_number of posts 2..46 (None = top level; 1 = a reply to the opening post, also top level)
_REPLY_PLAN = {
    2: None, 3: 2, 4: None, 5: None, 6: 1, 7: 5, 8: 7, 9: 8, 10: None, 11: 4, 12: None, 13: 12, 14: None,
    15: 2, 16: 13, 17: None, 18: 17, 19: 17, 20: None, 21: 20, 22: 21, 23: 22, 24: 23, 25: 24, 26: 25,
    27: None, 28: 26, 29: None, 30: 3, 31: None, 32: 31, 33: 31, 34: None, 35: 11, 36: 35, 37: None,
    38: 12, 39: 38, 40: None, 41: 5, 42: 41, 43: None, 44: 3, 45: 44, 46: None,
}
_QUOTES = {12: 5, 33: 31}  # post → the post it quotes (12 quotes without replying; 33 replies and quotes)
_DELETED_POST, _HIDDEN_POST, _EDITED_POST = 17, 29, 9


def build_forum(site) -> DemoForum:
    art = _neo_article(site)
    start = (art.published if art else BASE_TIME) + timedelta(hours=3)
    posts: list[FPost] = [FPost(1, 61200, "newsdesk_bot", None, start)]
    for n in range(2, 47):
        created = start + timedelta(minutes=23 * n + (n * 7) % 11)
        user = F.FORUM_USERS[(n * 5) % len(F.FORUM_USERS)]
        text = _line(n * 7, n * 3 if n % 4 == 0 else None)
        html = f"<p>{escape(text)}</p>"
        if n in _QUOTES:
            q = _QUOTES[n]
            quoted = F.CHATTER[(q * 7) % len(F.CHATTER)]
            qu = F.FORUM_USERS[(q * 5) % len(F.FORUM_USERS)]
            html = (f'<aside class="quote no-group" data-username="{qu}" data-post="{q}" data-topic="{DISCOURSE_TOPIC_ID}">'
                    f'<div class="title"><div class="quote-controls"></div> {qu}:</div><blockquote><p>{escape(quoted)}</p>'
                    f"</blockquote></aside>\n" + html)
        p = FPost(n, 61200 + n * 3 + (n % 2), user, html, created, _REPLY_PLAN[n], likes=(n * 3) % 7)
        if n == _DELETED_POST:
            p.user_deleted = True
            p.html = f"<p>{F.DELETED_BY_AUTHOR}</p>"
            p.likes = 0
        elif n == _HIDDEN_POST:
            p.hidden = True
        elif n == _EDITED_POST:
            p.edited = created + timedelta(hours=2, minutes=5)
            p.html += f"<p>{escape(F.EDIT_SUFFIX)}</p>"
        posts.append(p)
    title = f"[News] {art.title}" if art else "[News] NEO council vote"
    topic = FTopic(DISCOURSE_TOPIC_ID, DISCOURSE_SLUG, title, posts, art)

    r_start = start + timedelta(days=1)
    rposts = [FPost(1, 61900, "policywonk", "<p>" + escape(
        "Starting a thread for the consultation on node operator licensing. Where do people land?") + "</p>", r_start)]
    for n in range(2, 7):
        rposts.append(FPost(n, 61900 + n * 2, F.FORUM_USERS[(n * 3) % len(F.FORUM_USERS)],
                            f"<p>{escape(_line(n * 5 + 1))}</p>", r_start + timedelta(minutes=40 * n),
                            reply_to=2 if n == 4 else None))
    refused = FTopic(REFUSED_TOPIC_ID, REFUSED_SLUG, "Node operator licensing consultation", rposts, None, True)

    smf = _smf_posts(start)
    smf_topics = {SMF_TOPIC: (F.SMF_TITLE, smf), **shapes.smf_entry_topics(SPost, start, _line)}
    return DemoForum(topic, refused, _pick(site, 5), _disqus_posts(start), _pick(site, 6),
                     _reddit_comments(start), smf, shapes.build_topics(FTopic, FPost, start, _pick(site, 2)),
                     smf_topics)


def _disqus_posts(start: datetime) -> list[DPost]:
    t0 = start + timedelta(hours=30)
    spec = [  # (id, parent, deleted, quote-of)
        ("5510001", None, False, None), ("5510002", "5510001", False, None), ("5510003", None, False, None),
        ("5510004", "5510002", False, None), ("5510005", None, True, None), ("5510006", "5510005", False, None),
        ("5510007", "5510003", False, "5510003"), ("5510008", None, False, None), ("5510009", "5510004", False, None),
        ("5510010", None, False, None), ("5510011", "5510010", False, None), ("5510012", "5510009", False, None),
        ("5510013", None, False, None), ("5510014", "5510001", False, None),
    ]
    out = []
    for k, (pid, parent, deleted, quote) in enumerate(spec):
        html = f"<p>{escape(_line(k * 5 + 2))}</p>"
        if quote:
            src = spec.index(next(s for s in spec if s[0] == quote))
            html = f"<blockquote><p>{escape(_line(src * 5 + 2))}</p></blockquote>" + html
        out.append(DPost(pid, parent, "" if deleted else F.FORUM_USERS[(k * 7) % len(F.FORUM_USERS)].replace("_", " ").title(),
                         "" if deleted else html, t0 + timedelta(minutes=17 * k), likes=k % 4, dislikes=1 if k % 5 == 4 else 0,
                         deleted=deleted, edited=k == 7))
    return out


def _reddit_comments(start: datetime) -> list[RComment]:
    t0 = (start + timedelta(hours=6)).timestamp()
    rows = [  # id, parent, where
        ("kq1a001", None, "thread"), ("kq1a002", "kq1a001", "thread"), ("kq1a003", None, "thread"),
        ("kq1a004", "kq1a003", "thread"), ("kq1a005", "kq1a004", "thread"), ("kq1a006", "kq1a005", "thread"),
        ("kq1a007", "kq1a006", "thread"), ("kq1a008", "kq1a007", "continue"), ("kq1a009", "kq1a008", "continue"),
        ("kq1a010", None, "thread"), ("kq1a011", "kq1a010", "thread"), ("kq1a012", "kq1a010", "thread"),
        ("kq1a013", None, "thread"), ("kq1a014", "kq1a013", "thread"), ("kq1a015", None, "thread"),
    ] + [(f"kq1b{n:03d}", None, "more") for n in range(1, 13)] + [
        ("kq1c001", "kq1b003", "more"), ("kq1c002", "kq1c001", "more"), ("kq1c003", "kq1b005", "more2"),
        ("kq1c004", "kq1b005", "more2"), ("kq1c005", "kq1c004", "more2"), ("kq1c006", "kq1b009", "more"),
    ]
    out = []
    for k, (cid, parent, where) in enumerate(rows):
        out.append(RComment(cid, parent, F.FORUM_USERS[(k * 3 + 1) % len(F.FORUM_USERS)], _line(k * 3 + 4),
                            t0 + 600 * k + (k * 37) % 300, score=(k * 5) % 23 - 2, where=where))
    by = {c.id: c for c in out}
    by["kq1a010"].body, by["kq1a010"].author = "[deleted]", "[deleted]"  # deleted, replies remain
    by["kq1b007"].body, by["kq1b007"].author = "[removed]", "[deleted]"  # removed by moderators
    by["kq1a013"].edited = by["kq1a013"].created + 3600
    by["kq1a014"].body = "> " + by["kq1a013"].body.split(". ")[0] + "\n\n" + by["kq1a014"].body  # a quote
    return out


def _smf_posts(start: datetime) -> list[SPost]:
    t0 = start + timedelta(days=2, hours=1)
    out = []
    for k in range(28):
        msg = 1201 + k * 3 + (k % 3)
        text = escape(_line(k * 11 + 3, k * 2 if k % 5 == 0 else None))
        out.append(SPost(msg, F.FORUM_USERS[(k * 9 + 2) % len(F.FORUM_USERS)], text,
                         t0 + timedelta(minutes=31 * k + (k * 13) % 7),
                         signature=F.SMF_SIGNATURES[k % len(F.SMF_SIGNATURES)]))
    out[0].html = escape("Opening a topic for the council vote. Post your notes on what changes for node operators "
                         "and link sources where you can. Background reading: ") + \
        '<a href="https://policy-brief.example/neo-council-vote" class="bbc_link">policy brief</a>.'

    def quote(src: SPost, linked: bool, inner: str | None = None) -> str:
        head = (f'<a href="/smf/index.php?topic={SMF_TOPIC}.msg{src.msg}#msg{src.msg}">Quote from: {escape(src.author)} on '
                f'{_smf_date(src.created)}</a>' if linked else "Quote")
        body = (inner or "") + src.html
        return f'<div class="quoteheader">{head}</div><div class="quote">{body}</div>'

    out[3].html = quote(out[2], True) + "<br />" + out[3].html  # quotes the previous post → parent
    out[6].html = quote(out[0], True) + "<br />" + out[6].html  # quotes the opening post → top level
    out[9].html = quote(out[5], False) + "<br />" + out[9].html  # quote without a link → no parent
    nested = quote(out[1], True)  # 13th post quotes the 4th, whose quote box holds the 2nd's words: the outer
    out[12].html = (f'<div class="quoteheader"><a href="/smf/index.php?topic={SMF_TOPIC}.msg{out[3].msg}#msg{out[3].msg}">'
                    f'Quote from: {escape(out[3].author)} on {_smf_date(out[3].created)}</a></div>'  # quote is the parent
                    f'<div class="quote">{nested}{out[3].html}</div><br />' + out[12].html)
    out[23].html = quote(out[4], True) + "<br />" + out[23].html  # across pages
    out[15].edited = out[15].created + timedelta(minutes=45)
    return out


# == routes ==============================================================================================
def forum_route(site, host: str, path: str, query: dict, base: str):
    """The one EXTRA_ROUTES entry for every platform above (127.0.0.1 only)."""
    if host == "localhost":
        return None
    if path.startswith("/forum/"):
        return _discourse_route(forum_for(site), path, query, base)
    if path.startswith(f"/r/{F.REDDIT_SUBREDDIT}/comments/") or path.startswith("/comments/") \
            or path == "/api/morechildren.json":
        return _reddit_route(forum_for(site), path, query, base)
    if path == DISQUS_PATH:
        return 200, disqus_article_page(forum_for(site), base), HTML, {}
    if path == "/api/3.0/threads/listPosts.json":
        return _disqus_api(forum_for(site), query, base)
    if path in ("/smf/index.php", "/smf/"):
        return _smf_route(forum_for(site), query, base)
    return None


# -- Discourse ---------------------------------------------------------------------------------------
def _iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def _opening_html(topic: FTopic, base: str) -> str:
    art = topic.article
    if art is None:
        return "<p>News repost.</p>"
    paras = "".join(f"<p>{escape(p)}</p>" for p in art.paragraphs)
    port = base.rsplit(":", 1)[-1]
    footer = " · ".join(
        f'<a href="{url or f"http://localhost:{port}/"}">{escape(name)}</a>' for name, url in F.FOOTER_SITES)
    return (f"<p><strong>{escape(art.title)}</strong></p>{paras}"
            f'<p>Originally published by Block Ledger Daily: <a href="{base}{art.path}">{base}{art.path}</a></p>'
            f"<hr><p><small>More from our network: {footer}</small></p>")


def _cooked(topic: FTopic, p: FPost, base: str) -> str:
    if p.html is not None:
        return p.html
    return shapes.opening_cooked(topic, base) or _opening_html(topic, base)


def _post_json(topic: FTopic, p: FPost, base: str) -> dict:
    cooked = _cooked(topic, p, base)
    if p.hidden:
        cooked = ""
    updated = p.edited or p.created
    d = {
        "id": p.id, "name": p.user.replace("_", " ").title(), "username": p.user,
        "avatar_template": f"/forum/letter_avatar/{p.user}/{{size}}.png", "created_at": _iso(p.created),
        "cooked": cooked, "post_number": p.number, "post_type": 1, "updated_at": _iso(updated),
        "reply_count": sum(1 for q in topic.posts if q.reply_to == p.number), "reply_to_post_number": p.reply_to,
        "quote_count": 1 if p.number in _QUOTES else 0, "incoming_link_count": 0, "reads": 40 - p.number % 9,
        "score": round(p.likes * 5.2 + 0.2, 1), "yours": False, "topic_id": topic.id, "topic_slug": topic.slug,
        "display_username": p.user, "version": 2 if p.edited else 1, "can_edit": False, "can_delete": False,
        "read": True, "user_title": None, "actions_summary": [{"id": 2, "count": p.likes}] if p.likes else [],
        "moderator": False, "admin": False, "staff": False, "user_id": 500 + (p.id % 97), "hidden": p.hidden,
        "trust_level": 1, "deleted_at": None, "user_deleted": p.user_deleted, "edit_reason": None,
        "wiki": False, "post_url": f"/forum/t/{topic.slug}/{topic.id}/{p.number}",
    }
    if p.hidden:
        d["cooked_hidden"] = True
    if p.reply_to:
        parent = next(q for q in topic.posts if q.number == p.reply_to)
        d["reply_to_user"] = {"username": parent.user, "avatar_template": parent.user}
    return d


def discourse_topic_json(topic: FTopic, base: str) -> str:
    first = topic.posts[:DISCOURSE_CHUNK]
    data = {
        "post_stream": {"posts": [_post_json(topic, p, base) for p in first], "stream": [p.id for p in topic.posts]},
        "timeline_lookup": [[1, 0]], "tags": ["neo", "governance"], "id": topic.id, "title": topic.title,
        "fancy_title": escape(topic.title), "posts_count": len(topic.posts), "created_at": _iso(topic.posts[0].created),
        "views": 812, "reply_count": sum(1 for p in topic.posts if p.reply_to), "like_count": sum(p.likes for p in topic.posts),
        "last_posted_at": _iso(topic.posts[-1].created), "visible": True, "closed": False, "archived": False,
        "archetype": "regular", "slug": topic.slug, "category_id": 5, "word_count": 4200, "deleted_at": None,
        "highest_post_number": topic.posts[-1].number, "chunk_size": DISCOURSE_CHUNK,
        "details": {"created_by": {"id": 500, "username": topic.posts[0].user}, "participants": []},
        "featured_link": topic.featured_link,
    }
    return json.dumps(data, ensure_ascii=False)


def discourse_posts_json(topic: FTopic, ids: list[int], base: str) -> str:
    want = set(ids)
    posts = [_post_json(topic, p, base) for p in topic.posts if p.id in want]
    return json.dumps({"post_stream": {"posts": posts}, "id": topic.id}, ensure_ascii=False)


def discourse_crawler_html(topic: FTopic, base: str, page: int) -> str | None:
    chunk = topic.posts[(page - 1) * DISCOURSE_CHUNK: page * DISCOURSE_CHUNK]
    if not chunk:
        return None
    url = f"{base}/forum/t/{topic.slug}/{topic.id}"
    items = []
    for p in chunk:
        cooked = _cooked(topic, p, base)
        if p.hidden:
            cooked = "<p>This post was flagged by the community and is temporarily hidden.</p>"
        items.append(
            f'<div id="post_{p.number}" itemscope itemtype="http://schema.org/DiscussionForumPosting" '
            f'class="topic-body crawler-post"><div class="crawler-post-meta"><span class="creator" itemprop="author" '
            f'itemscope itemtype="http://schema.org/Person"><a itemprop="url" href="{base}/forum/u/{p.user}">'
            f'<span itemprop="name">{p.user}</span></a></span><link itemprop="mainEntityOfPage" href="{url}">'
            f'<span class="crawler-post-infos"><time itemprop="datePublished" datetime="{_iso(p.created)}" '
            f'class="post-time">{p.created:%B %d, %Y, %H:%M}</time><meta itemprop="dateModified" '
            f'content="{_iso(p.edited or p.created)}"><span itemprop="position">{p.number}</span></span></div>'
            f'<div class="post" itemprop="text">{cooked}</div>'
            f'<div itemprop="interactionStatistic" itemscope itemtype="http://schema.org/InteractionCounter">'
            f'<meta itemprop="interactionType" content="http://schema.org/LikeAction"/>'
            f'<meta itemprop="userInteractionCount" content="{p.likes}" /></div></div>')
    nav = ""
    if page * DISCOURSE_CHUNK < len(topic.posts):
        nav = (f'<div role="navigation" itemscope itemtype="http://schema.org/SiteNavigationElement" '
               f'class="topic-body crawler-post"><span itemprop="name"><b><a rel="next" itemprop="url" '
               f'href="/forum/t/{topic.slug}/{topic.id}?page={page + 1}">next page →</a></b></span></div>')
    rel_next = f'<link rel="next" href="/forum/t/{topic.slug}/{topic.id}?page={page + 1}">' if nav else ""
    featured = (f'<a class="topic-featured-link" rel="nofollow ugc" href="{topic.featured_link}">'
                f'{escape(topic.featured_link.split("/")[2])}</a>' if topic.featured_link else "")
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{escape(topic.title)} - '
            f'{F.FORUM_NAME}</title><meta name="generator" content="Discourse 3.2.0 - https://github.com/discourse/discourse">'
            f'<link rel="canonical" href="{url}{"?page=" + str(page) if page > 1 else ""}">{rel_next}'
            f'<link rel="alternate" type="application/rss+xml" href="{url}.rss"></head><body>'
            f'<header class="d-header"><a href="/forum/">{F.FORUM_NAME}</a></header><div id="main-outlet" class="wrap">'
            f'<div id="topic-title"><h1><a href="{url}">{escape(topic.title)}</a></h1>{featured}</div>'
            + "".join(items) + nav +
            '</div><footer class="noscript-footer-nav"><a href="/forum/">Home</a> <a href="/forum/categories">'
            "Categories</a> <a href=\"/forum/guidelines\">Guidelines</a></footer>"
            + (f'<div class="sister-sites">{shapes.seed_footer_html()}</div>' if topic.page_footer else "")
            + "</body></html>\n")


def discourse_rss(topic: FTopic, base: str) -> str:
    url = f"{base}/forum/t/{topic.slug}/{topic.id}"
    items = []
    for p in sorted(topic.posts, key=lambda x: -x.number)[:25]:
        cooked = _cooked(topic, p, base)
        items.append(f"<item><title>{escape(topic.title)}</title><dc:creator><![CDATA[{p.user}]]></dc:creator>"
                     f"<description><![CDATA[{cooked}]]></description><link>{url}/{p.number}</link>"
                     f"<pubDate>{format_datetime(p.created)}</pubDate>"
                     f"<guid isPermaLink=\"false\">127.0.0.1-post-{topic.id}-{p.number}</guid></item>")
    return ('<?xml version="1.0" encoding="UTF-8" ?>\n<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" '
            f'xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>{escape(topic.title)}</title><link>{url}</link>'
            f"<description>Posts in {escape(topic.title)}</description>" + "".join(items) + "</channel></rss>\n")


def _discourse_route(forum: DemoForum, path: str, query: dict, base: str):
    for topic in (forum.topic, forum.refused, *forum.extra_topics):
        tid = str(topic.id)
        json_paths = (f"/forum/t/{topic.slug}/{tid}.json", f"/forum/t/{tid}.json")
        if path in json_paths:
            if topic.json_refused:
                return 403, json.dumps({"errors": ["You are not permitted to view the requested resource."],
                                        "error_type": "invalid_access"}), JSON, {}
            return 200, discourse_topic_json(topic, base), JSON, {}
        if path == f"/forum/t/{tid}/posts.json":
            if topic.json_refused:
                return 403, json.dumps({"errors": ["You are not permitted to view the requested resource."]}), JSON, {}
            ids = [int(x) for x in query.get("post_ids[]", []) if x.isdigit()]
            if not ids:
                return 400, json.dumps({"errors": ["param is missing or the value is empty: post_ids"]}), JSON, {}
            return 200, discourse_posts_json(topic, ids, base), JSON, {}
        if path in (f"/forum/t/{topic.slug}/{tid}.rss",):
            return 200, discourse_rss(topic, base), "application/rss+xml; charset=utf-8", {}
        if path.rstrip("/") in (f"/forum/t/{topic.slug}/{tid}", f"/forum/t/{tid}"):
            try:
                page = int((query.get("page") or ["1"])[0])
            except ValueError:
                page = 1
            body = discourse_crawler_html(topic, base, max(1, page))
            if body is None:
                return 404, "<html><body><h1>Page not found</h1></body></html>", HTML, {}
            return 200, body, HTML, {}
    return 404, json.dumps({"errors": ["The requested URL or resource could not be found."]}), JSON, {}


# -- Disqus ------------------------------------------------------------------------------------------
def _disqus_post_json(p: DPost, thread: str) -> dict:
    return {
        "id": p.id, "parent": int(p.parent) if p.parent else None, "thread": thread, "forum": F.DISQUS_SHORTNAME,
        "author": {"name": p.author or "Guest", "username": p.author.lower().replace(" ", "_") or None,
                   "isAnonymous": p.deleted, "profileUrl": ""},
        "message": p.html, "raw_message": "", "createdAt": p.created.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"),
        "likes": p.likes, "dislikes": p.dislikes, "points": p.likes - p.dislikes, "isEdited": p.edited,
        "isDeleted": p.deleted, "isSpam": False, "isApproved": True, "isFlagged": False, "isHighlighted": False,
        "numReports": 0, "media": [],
    }


def _disqus_thread(forum: DemoForum, base: str) -> dict:
    art = forum.disqus_article
    return {"id": DISQUS_THREAD_ID, "forum": F.DISQUS_SHORTNAME, "identifiers": [f"blockledger-{art.post_id if art else 0}"],
            "link": f"{base}{DISQUS_PATH}", "title": f"Opinion: {art.title}" if art else "Opinion",
            "posts": len(forum.disqus_posts), "isClosed": False, "likes": 3}


def disqus_article_page(forum: DemoForum, base: str) -> str:
    art = forum.disqus_article
    thread = _disqus_thread(forum, base)
    shown = forum.disqus_posts[:DISQUS_EMBEDDED]
    data = {"cursor": {"hasNext": len(forum.disqus_posts) > DISQUS_EMBEDDED, "next": f"{DISQUS_EMBEDDED}:0:0",
                       "hasPrev": False, "prev": None, "total": len(forum.disqus_posts)},
            "code": 0, "response": {"thread": thread, "posts": [_disqus_post_json(p, DISQUS_THREAD_ID) for p in shown],
                                    "order": "asc", "lastModified": 1}}
    title = f"Opinion: {art.title}" if art else "Opinion"
    paras = "".join(f"<p>{escape(p)}</p>" for p in (art.paragraphs if art else []))
    script = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f'<link rel="canonical" href="{thread["link"]}"></head><body><main><article class="opinion">'
            f'<h1>{escape(title)}</h1>{paras}</article>'
            f'<div id="disqus_thread"></div><script>\nvar disqus_config = function () {{\n'
            f'  this.page.url = "{thread["link"]}";\n  this.page.identifier = "{thread["identifiers"][0]}";\n}};\n'
            f"(function() {{ var d = document, s = d.createElement('script');\n"
            f"s.src = 'https://{F.DISQUS_SHORTNAME}.disqus.com/embed.js';\n"
            f"s.setAttribute('data-timestamp', +new Date()); (d.head || d.body).appendChild(s); }})();\n</script>"
            f'<script type="text/json" id="disqus-threadData">{script}</script>'
            f"</main></body></html>\n")


def _disqus_api(forum: DemoForum, query: dict, base: str):
    if not (query.get("api_key") or [""])[0]:
        return 400, json.dumps({"code": 5, "response": "Invalid API key"}), JSON, {}
    ident = (query.get("thread:ident") or [None])[0]
    thread = (query.get("thread") or [None])[0]
    want = _disqus_thread(forum, base)
    if thread != DISQUS_THREAD_ID and ident not in want["identifiers"]:
        return 400, json.dumps({"code": 2, "response": "Invalid argument, 'thread': Unable to find thread"}), JSON, {}
    try:
        offset = int(((query.get("cursor") or ["0:0:0"])[0]).split(":")[0])
        limit = min(DISQUS_API_PAGE, int((query.get("limit") or [DISQUS_API_PAGE])[0]))
    except ValueError:
        return 400, json.dumps({"code": 2, "response": "Invalid argument, 'cursor'"}), JSON, {}
    posts = forum.disqus_posts[offset: offset + limit]
    more = offset + limit < len(forum.disqus_posts)
    body = {"cursor": {"prev": None, "hasNext": more, "next": f"{offset + limit}:0:0" if more else None,
                       "hasPrev": offset > 0, "total": None, "id": f"{offset}:0:0", "more": more},
            "code": 0, "response": [_disqus_post_json(p, DISQUS_THREAD_ID) for p in posts]}
    return 200, json.dumps(body, ensure_ascii=False), JSON, {}


# -- Reddit ------------------------------------------------------------------------------------------
def _reddit_t3(forum: DemoForum, base: str) -> dict:
    art = forum.reddit_article
    url = f"{base}{art.path}" if art else f"{base}/"
    return {"kind": "t3", "data": {
        "id": REDDIT_LINK, "name": f"t3_{REDDIT_LINK}", "subreddit": F.REDDIT_SUBREDDIT,
        "title": art.title if art else "News", "url": url, "domain": "127.0.0.1", "is_self": False, "selftext": "",
        "num_comments": len(forum.reddit_comments), "score": 57, "author": "newsdesk_bot",
        "permalink": f"/r/{F.REDDIT_SUBREDDIT}/comments/{REDDIT_LINK}/{REDDIT_SLUG}/",
        "created_utc": forum.reddit_comments[0].created - 900}}


def _t1(c: RComment, depth: int, replies) -> dict:
    html = "".join(f"<blockquote>\n<p>{escape(line[1:].strip())}</p>\n</blockquote>\n" if line.startswith(">")
                   else f"<p>{escape(line)}</p>\n" for line in c.body.split("\n\n"))
    return {"kind": "t1", "data": {
        "id": c.id, "name": f"t1_{c.id}", "parent_id": f"t1_{c.parent}" if c.parent else f"t3_{REDDIT_LINK}",
        "link_id": f"t3_{REDDIT_LINK}", "author": c.author, "body": c.body,
        "body_html": escape(f'<div class="md">{html}</div>'), "score": c.score, "ups": c.score, "downs": 0,
        "created_utc": c.created, "created": c.created, "edited": c.edited if c.edited else False,
        "depth": depth, "subreddit": F.REDDIT_SUBREDDIT, "replies": replies,
        "permalink": f"/r/{F.REDDIT_SUBREDDIT}/comments/{REDDIT_LINK}/{REDDIT_SLUG}/{c.id}/",
        "collapsed": False, "stickied": False, "score_hidden": False, "controversiality": 0}}


def _more(parent: str | None, ids: list[str], depth: int, count: int | None = None) -> dict:
    return {"kind": "more", "data": {"count": len(ids) if count is None else count,
                                     "name": f"t1_{ids[0]}" if ids else "t1__", "id": ids[0] if ids else "_",
                                     "parent_id": f"t1_{parent}" if parent else f"t3_{REDDIT_LINK}",
                                     "depth": depth, "children": ids}}


def _listing(children: list) -> dict:
    return {"kind": "Listing", "data": {"after": None, "before": None, "dist": None, "modhash": "",
                                        "children": children}}


def _reddit_tree(forum: DemoForum, parent: str | None, depth: int, allowed: set[str]) -> list:
    """Children of ``parent`` as Reddit renders them: comments in ``allowed`` nested, a ``more`` stub
    for children loaded later, a continue-thread stub for children only on the permalink page."""
    kids = [c for c in forum.reddit_comments if c.parent == parent]
    out = []
    later = []
    cont = False
    for c in kids:
        if c.id in allowed:
            sub = _reddit_tree(forum, c.id, depth + 1, allowed)
            out.append(_t1(c, depth, _listing(sub) if sub else ""))
        elif c.where == "continue":
            cont = True
        else:
            later.append(c.id)
    if later:
        out.append(_more(parent, later, depth))
    if cont:
        out.append(_more(parent, [], depth, count=0))
    return out


def _reddit_route(forum: DemoForum, path: str, query: dict, base: str):
    thread_paths = (f"/r/{F.REDDIT_SUBREDDIT}/comments/{REDDIT_LINK}/{REDDIT_SLUG}.json",
                    f"/r/{F.REDDIT_SUBREDDIT}/comments/{REDDIT_LINK}/{REDDIT_SLUG}/.json",
                    f"/r/{F.REDDIT_SUBREDDIT}/comments/{REDDIT_LINK}.json", f"/comments/{REDDIT_LINK}.json")
    if path in thread_paths:
        allowed = {c.id for c in forum.reddit_comments if c.where == "thread"}
        body = [_listing([_reddit_t3(forum, base)]), _listing(_reddit_tree(forum, None, 0, allowed))]
        return 200, json.dumps(body, ensure_ascii=False), JSON, {}
    prefix = f"/comments/{REDDIT_LINK}/_/"
    if path.startswith(prefix) and path.endswith(".json"):
        cid = path[len(prefix):-len(".json")]
        by = {c.id: c for c in forum.reddit_comments}
        if cid not in by:
            return 404, json.dumps({"message": "Not Found", "error": 404}), JSON, {}
        depth, p = 0, by[cid].parent
        while p:
            depth, p = depth + 1, by[p].parent
        allowed = {c.id for c in forum.reddit_comments}
        sub = _reddit_tree(forum, cid, depth + 1, allowed)
        body = [_listing([_reddit_t3(forum, base)]), _listing([_t1(by[cid], depth, _listing(sub) if sub else "")])]
        return 200, json.dumps(body, ensure_ascii=False), JSON, {}
    if path == "/api/morechildren.json":
        link = (query.get("link_id") or [""])[0]
        ids = [i for i in ((query.get("children") or [""])[0]).split(",") if i]
        if link != f"t3_{REDDIT_LINK}" or not ids or len(ids) > 100:
            return 200, json.dumps({"json": {"errors": [["BAD_REQUEST", "bad link_id or children", "children"]]}}), JSON, {}
        return 200, json.dumps({"json": {"errors": [], "data": {"things": _morechildren(forum, ids)}}}), JSON, {}
    return 404, json.dumps({"message": "Not Found", "error": 404}), JSON, {}


def _morechildren(forum: DemoForum, ids: list[str]) -> list:
    """Reddit's flat answer: each asked comment, its descendants that load with it, and ``more`` stubs
    for the ones that need another call."""
    by = {c.id: c for c in forum.reddit_comments}
    things: list = []

    def depth_of(c: RComment) -> int:
        d, p = 0, c.parent
        while p:
            d, p = d + 1, by[p].parent
        return d

    def add(cid: str, first: bool) -> None:
        c = by.get(cid)
        if c is None:
            return
        things.append(_t1(c, depth_of(c), ""))
        kids = [k for k in forum.reddit_comments if k.parent == cid]
        later = [k.id for k in kids if k.where == "more2" and first]
        for k in kids:
            if k.id not in later:
                add(k.id, first)
        if later:
            things.append(_more(cid, later, depth_of(c) + 1))

    for cid in ids:
        add(cid, by.get(cid) is not None and by[cid].where == "more")
    return things


# -- SMF ---------------------------------------------------------------------------------------------
def _smf_date(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%B %d, %Y, %I:%M:%S %p")


def smf_topic_page(forum: DemoForum, base: str, start: int, topic: int = SMF_TOPIC) -> str | None:
    title, posts = forum.smf_topics[topic]
    chunk = posts[start: start + SMF_PER_PAGE]
    if not chunk or start % SMF_PER_PAGE:
        return None
    script = f"{base}/smf/index.php"
    n_pages = -(-len(posts) // SMF_PER_PAGE)
    nav = " ".join(f"[<b>{k + 1}</b>]" if k * SMF_PER_PAGE == start else
                   f'<a class="navPages" href="{script}?topic={topic}.{k * SMF_PER_PAGE}">{k + 1}</a>'
                   for k in range(n_pages))
    rows = []
    for k, p in enumerate(chunk):
        number = start + k + 1
        subject = title if number == 1 else f"Re: {title}"
        modified = f"<i>&#171; <b>Last Edit:</b> {_smf_date(p.edited)} by {escape(p.author)} &#187;</i>" if p.edited else ""
        sig = f'<hr width="100%" size="1" class="hrcolor" /><div class="signature">{escape(p.signature)}</div>' \
            if p.signature else ""
        rows.append(
            f'<tr><td class="windowbg"><a name="msg{p.msg}"></a><table width="100%" cellpadding="5" cellspacing="0">'
            f'<tr><td valign="top" width="16%" rowspan="2" class="poster_info"><b><a href="{script}?action=profile;u='
            f'{sum(map(ord, p.author)) % 900 + 10}">{escape(p.author)}</a></b><div class="smalltext">Member<br />Activity: '
            f'{(p.msg * 7) % 400 + 12}</div></td><td valign="top" width="85%" class="td_headerandpost"><table width="100%">'
            f'<tr><td valign="middle"><div class="subject" id="subject_{p.msg}"><a href="{script}?topic={topic}.msg{p.msg}'
            f'#msg{p.msg}">{escape(subject)}</a></div><div class="smalltext">{_smf_date(p.created)}</div></td>'
            f'<td align="right" class="td_buttons"><a class="message_number" href="{script}?topic={topic}.msg{p.msg}'
            f'#msg{p.msg}">#{number}</a></td></tr></table><hr class="hrcolor" /><div class="post">{p.html}</div></td></tr>'
            f'<tr><td valign="bottom" class="smalltext"><table width="100%"><tr><td class="smalltext" id="modified_{p.msg}">'
            f"{modified}</td></tr></table>{sig}</td></tr></table></td></tr>")
        if start == 0 and k == 1 and topic == SMF_TOPIC:  # a hidden decoy "post" that belongs to no topic on this page
            rows.append(
                '<tr class="hidden-decoy" style="display:none"><td><table><tr><td class="poster_info"><b>'
                '<a href="#">4815162342</a></b></td><td class="td_headerandpost"><div class="subject" id="subject_4815162342">'
                f'<a href="{script}?topic=4815162342.msg4815162342#msg4815162342">4815162342</a></div>'
                '<div class="smalltext">4815162342</div><div class="post">4815162342</div></td></tr></table></td></tr>')
    return (f'<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/'
            f'xhtml1-transitional.dtd">\n<html><head><meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />'
            f"<title>{escape(title)}</title></head><body><div id=\"bodyarea\"><div class=\"nav\"><a href=\"{script}\">"
            f"{F.FORUM_NAME} Classic</a> &gt; <a href=\"{script}?board=3.0\">Governance</a></div>"
            f'<table><tr><td class="middletext">Pages: {nav}</td></tr></table>'
            f'<table class="bordercolor" width="100%">' + "".join(rows) + "</table>"
            f'<table><tr><td class="middletext">Pages: {nav}</td></tr></table></div>'
            f'<script type="text/javascript">smf_topic = {topic};\n\tsmf_start = {start};</script>'
            '<div class="copyright"><a href="https://www.simplemachines.org/">Powered by SMF 1.1</a></div></body></html>\n')


def _smf_route(forum: DemoForum, query: dict, base: str):
    raw = (query.get("topic") or [""])[0]
    parts = raw.split(";")
    head = parts[0]
    topic, _, rest = head.partition(".")
    start = int(rest) if rest.isdigit() else 0
    for extra in parts[1:]:
        k, _, v = extra.partition("=")
        if k == "start" and v.isdigit():
            start = int(v)
    missing = (404, "<html><body>The topic or board you are looking for appears to be either missing or off limits "
                    "to you.</body></html>", HTML, {})
    if not topic.isdigit() or int(topic) not in forum.smf_topics:
        return missing
    posts = forum.smf_topics[int(topic)][1]
    if rest.startswith("msg") and rest[3:].isdigit():  # a post anchor: the page that holds the post
        k = next((k for k, p in enumerate(posts) if p.msg == int(rest[3:])), None)
        if k is None:
            return missing
        start = k - k % SMF_PER_PAGE
    if int(topic) == shapes.SMF_GONE_TOPIC and start == 0:
        return missing  # the first page (and its opening post) is gone
    body = smf_topic_page(forum, base, start, int(topic))
    if body is None:
        return 404, "<html><body>Page not found.</body></html>", HTML, {}
    return 200, body, HTML, {}
