"""The demo forum's topics in the shapes real crawls meet them in (served by :mod:`forum`'s routes; words from
:mod:`forum_content`). ``entry_shapes(base)`` lists where a crawl enters each one:

- ``repost_html``  Discourse topic 4031 entered at its crawler page: post 1 reposts an outside news story
  (the founding example) whose source is given only by the topic's ``featured_link`` and a onebox at the top;
  a link cited in the text is not the source; the sister-site footer closes the post and the page.
- ``repost_json``  the same repost as topic 4033, entered at its topic JSON.
- ``repost_later`` the same repost as topic 4034, entered at a ``/posts.json`` answer holding the replies but
  not post 1 (the crawl must fetch the topic to have the article).
- ``embed``        topic 4032, made by a site that uses the forum as its comment system: post 1 is only the
  "companion discussion topic for the original entry at <URL>" line, the URL a demo story.
- ``smf_anchor``   SMF topic 8 entered through a post anchor ``topic=8.msgN#msgN`` of a post on its second page.
- ``smf_later``    SMF topic 9 entered at its second page ``topic=9.20``.
- ``smf_gone``     SMF topic 10 entered at its second page; its first page is gone (404): the thread joins an
  article row made from what page 2 says.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from html import escape

from . import forum_content as F

SEED_SLUG = "china-s-leader-wants-the-country-to-take-the-lead-in-blockchain"
REPOST_HTML_ID, EMBED_ID, REPOST_JSON_ID, REPOST_LATER_ID = 4031, 4032, 4033, 4034
EMBED_SLUG = "companion-discussion"
SMF_ENTRY_TOPICS = (8, 9, 10)
SMF_GONE_TOPIC = 10
SMF_ENTRY_POSTS = 26  # two pages of 20


def seed_footer_html() -> str:
    links = " · ".join(f'<a href="https://{n.lower().replace(" ", "").replace(chr(39), "")}.example/">{escape(n)}</a>'
                       for n in F.SEED_FOOTER)
    return f"<hr><p>{links}</p>"


def seed_onebox(forum_base: str) -> str:
    return (f'<aside class="onebox allowlistedgeneric" data-onebox-src="{F.SEED_STORY_URL}"><header class="source">'
            f'<img src="{forum_base}/forum/uploads/site-icon.png" class="site-icon" width="32" height="32">'
            f'<a href="{F.SEED_STORY_URL}" target="_blank" rel="noopener">{F.SEED_STORY_HOST}</a></header>'
            f'<article class="onebox-body"><h3><a href="{F.SEED_STORY_URL}" target="_blank" rel="noopener">'
            f'{escape(F.SEED_TITLE)}</a></h3><p>{escape(F.SEED_BULLETS[0])}</p></article>'
            '<div style="clear: both"></div></aside>')


def seed_opening_cooked(forum_base: str) -> str:
    bullets = "<ul>" + "".join(f"<li>{escape(b)}</li>" for b in F.SEED_BULLETS) + "</ul>"
    paras = "".join(f"<p>{escape(p)}</p>" for p in F.SEED_BODY)
    paras = paras.replace("the NEO network", f'the <a href="{F.SEED_CITED_URL}">NEO network</a>')
    return seed_onebox(forum_base) + bullets + paras + seed_footer_html()


def seed_body_text() -> str:
    """The article body a crawl must make of the repost: the bullet summary, then the body."""
    return "\n\n".join(F.SEED_BULLETS + F.SEED_BODY)


def build_topics(FTopic, FPost, start: datetime, embed_article, base_ids: int = 62000) -> list:
    """The Discourse topics above (the opening post of a repost is rendered per request: see forum.py)."""
    topics = []
    for k, tid in enumerate((REPOST_HTML_ID, REPOST_JSON_ID, REPOST_LATER_ID)):
        t0 = start + timedelta(hours=5 + k)
        first = base_ids + 100 * k
        posts = [FPost(1, first, "pub_newsdesk", None, t0)]
        for n, user, reply, text in F.SEED_REPLIES:
            posts.append(FPost(n, first + n, user, f"<p>{escape(text)}</p>", t0 + timedelta(minutes=17 * n),
                               reply_to=reply, likes=n % 3))
        topics.append(FTopic(tid, SEED_SLUG, F.SEED_TITLE, posts, None, featured_link=F.SEED_STORY_URL,
                             page_footer=F.SEED_FOOTER, opening="seed"))
    if embed_article is not None:
        t0 = start + timedelta(hours=9)
        first = base_ids + 400
        posts = [FPost(1, first, "system", None, t0)]
        for n, text in enumerate(F.EMBED_REPLIES, start=2):
            posts.append(FPost(n, first + n, F.FORUM_USERS[n * 3 % len(F.FORUM_USERS)], f"<p>{escape(text)}</p>",
                               t0 + timedelta(minutes=29 * n), reply_to=2 if n == 4 else None))
        topics.append(FTopic(EMBED_ID, EMBED_SLUG, embed_article.title, posts, embed_article, opening="embed"))
    return topics


def opening_cooked(topic, base: str) -> str | None:
    """Post 1 of a topic above, for the request's base URL (None: not one of these topics)."""
    if topic.opening == "seed":
        return seed_opening_cooked(base)
    if topic.opening == "embed" and topic.article is not None:
        url = f"{base}{topic.article.path}"
        return (f'<hr>\n<small>This is a companion discussion topic for the original entry at '
                f'<a href="{url}">{url}</a></small>')
    return None


def entry_shapes(base: str, forum) -> list[tuple[str, str]]:
    """(shape, URL) for every entry listed in the module docs."""
    later = next(t for t in forum.extra_topics if t.id == REPOST_LATER_ID)
    # percent-encoded as Scrapy sends it (the crawl state keys pages by the request's URL)
    ids = "&".join(f"post_ids%5B%5D={p.id}" for p in later.posts[1:])
    shapes = [("repost_html", f"{base}/forum/t/{SEED_SLUG}/{REPOST_HTML_ID}"),
              ("repost_json", f"{base}/forum/t/{SEED_SLUG}/{REPOST_JSON_ID}.json"),
              ("repost_later", f"{base}/forum/t/{REPOST_LATER_ID}/posts.json?{ids}")]
    if any(t.id == EMBED_ID for t in forum.extra_topics):
        shapes.append(("embed", f"{base}/forum/t/{EMBED_SLUG}/{EMBED_ID}.json"))
    anchor = forum.smf_topics[8][1][22].msg  # a post on the second page
    shapes += [("smf_anchor", f"{base}/smf/index.php?topic=8.msg{anchor}#msg{anchor}"),
               ("smf_later", f"{base}/smf/index.php?topic=9.20"),
               ("smf_gone", f"{base}/smf/index.php?topic={SMF_GONE_TOPIC}.20")]
    return shapes


def smf_entry_topics(SPost, start: datetime, line) -> dict[int, tuple[str, list]]:
    """SMF topics 8-10: 26 flat posts each (two pages), one quoting an earlier post across the page break."""
    out = {}
    for topic in SMF_ENTRY_TOPICS:
        t0 = start + timedelta(days=3, hours=topic)
        posts = []
        for k in range(SMF_ENTRY_POSTS):
            msg = 2000 + topic * 100 + k * 2
            posts.append(SPost(msg, F.FORUM_USERS[(k * 5 + topic) % len(F.FORUM_USERS)],
                               escape(line(k * 7 + topic)), t0 + timedelta(minutes=13 * k)))
        src = posts[3]
        posts[21].html = (f'<div class="quoteheader"><a href="/smf/index.php?topic={topic}.msg{src.msg}#msg{src.msg}">'
                          f'Quote from: {escape(src.author)}</a></div><div class="quote">{src.html}</div><br />'
                          + posts[21].html)
        out[topic] = (F.SMF_ENTRY_TITLES[topic], posts)
    return out
