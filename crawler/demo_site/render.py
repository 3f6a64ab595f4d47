"""Renders the demo site's pages: WordPress-style HTML, RSS, news sitemap, REST JSON."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from html import escape

from . import content as C
from .content import DemoArticle, DemoComment
from .site import CHALLENGE_PATH, MISSING_PATH, PRIVATE_PATH, DemoSite

MAIN_NAME = "Block Ledger Daily"
PARTNER_NAME = "Chain Wire Partners"
TRACKING = "utm_source=rss&utm_medium=feed&utm_campaign=daily"


def _iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).isoformat()


def robots_txt(base: str) -> str:
    return f"User-agent: *\nDisallow: /private/\n\nSitemap: {base}/news-sitemap.xml\n"


def rss(site: DemoSite, base: str, partner: bool) -> str:
    arts = [site.partner_article] if partner else site.articles
    items = []
    for a in arts:
        path = site.partner_path() if partner else a.path
        link = f"{base}{path}?{TRACKING}"
        items.append(
            f"<item><title>{escape(a.title)}</title><link>{escape(link)}</link>"
            f"<guid isPermaLink=\"false\">{base}/?p={a.post_id}</guid>"
            f"<pubDate>{format_datetime(a.published)}</pubDate>"
            f"<description>{escape(a.summary)}</description></item>")
    name = PARTNER_NAME if partner else MAIN_NAME
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel>"
            f"<title>{name}</title><link>{base}/</link><description>Crypto news</description>"
            + "".join(items) + "</channel></rss>\n")


def news_sitemap(site: DemoSite, base: str) -> str:
    urls = [(a.path, a.title, a.published, a.lang) for a in site.articles]
    first = site.articles[0].published if site.articles else datetime(2026, 11, 1, tzinfo=timezone.utc)
    urls += [(CHALLENGE_PATH, "Verification", first, "en"), (MISSING_PATH, "Removed story", first, "en"),
             (PRIVATE_PATH, "Insider memo", first, "en")]
    entries = "".join(
        f"<url><loc>{escape(base + p)}</loc><news:news><news:publication><news:name>{MAIN_NAME}</news:name>"
        f"<news:language>{lang}</news:language></news:publication>"
        f"<news:publication_date>{_iso(d)}</news:publication_date><news:title>{escape(t)}</news:title>"
        f"</news:news></url>" for p, t, d, lang in urls)
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" "
            "xmlns:news=\"http://www.google.com/schemas/sitemap-news/0.9\">" + entries + "</urlset>\n")


def homepage(site: DemoSite, base: str) -> str:
    links = "".join(
        f"<li><a href=\"{a.path}?utm_source=homepage&amp;fbclid=IwAR0demo{a.post_id}\">{escape(a.title)}</a></li>"
        for a in site.articles)
    links += f"<li><a href=\"{PRIVATE_PATH}\">Insider memo</a></li><li><a href=\"{MISSING_PATH}\">Removed</a></li>"
    return _page(MAIN_NAME, f"<h1>{MAIN_NAME}</h1><ul class=\"latest\">{links}</ul>", C.MAIN_FOOTER, head="")


def _page(site_name: str, main: str, footer: str, head: str, lang: str = "en", body_class: str = "home") -> str:
    return (f"<!DOCTYPE html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\">{head}</head>"
            f"<body class=\"{body_class}\"><header class=\"site-header\"><a class=\"site-title\" href=\"/\">"
            f"{site_name}</a><nav class=\"main-nav\"><a href=\"/\">Home</a> <a href=\"/feed/\">RSS</a> "
            f"<a href=\"/category/markets/\">Markets</a></nav></header><main id=\"main\">{main}</main>"
            f"<footer class=\"site-footer\"><p>{escape(footer)}</p></footer></body></html>\n")


def article_page(site: DemoSite, art: DemoArticle, base: str, partner: bool = False) -> str:
    path = site.partner_path() if partner else art.path
    url = base + path
    site_name = PARTNER_NAME if partner else MAIN_NAME
    n_visible = len(site.visible_comments(art))
    published = art.published + timedelta(days=1) if partner else art.published  # republished a day later
    ld = {
        "@context": "https://schema.org", "@type": "NewsArticle", "headline": art.title,
        "datePublished": _iso(published), "dateModified": _iso(art.modified or published),
        "author": [{"@type": "Person", "name": art.author}], "articleSection": art.section,
        "keywords": ", ".join(art.tags), "inLanguage": art.lang, "mainEntityOfPage": url,
        "publisher": {"@type": "Organization", "name": site_name},
        "image": f"{base}/images/{art.post_id}.jpg",
    }
    if not partner:
        ld["commentCount"] = n_visible
    head = (
        f"<title>{escape(art.title)} – {site_name}</title><link rel=\"canonical\" href=\"{url}\">"
        f"<meta name=\"generator\" content=\"WordPress 6.6.2\">"
        f"<meta name=\"description\" content=\"{escape(art.summary)}\">"
        f"<meta property=\"og:type\" content=\"article\"><meta property=\"og:title\" content=\"{escape(art.title)}\">"
        f"<meta property=\"og:url\" content=\"{url}\"><meta property=\"og:site_name\" content=\"{site_name}\">"
        f"<meta property=\"og:description\" content=\"{escape(art.summary)}\">"
        f"<meta property=\"article:published_time\" content=\"{_iso(published)}\">"
        f"<meta property=\"article:section\" content=\"{escape(art.section)}\">"
        + "".join(f"<meta property=\"article:tag\" content=\"{escape(t)}\">" for t in art.tags)
        + f"<script type=\"application/ld+json\">{json.dumps(ld, ensure_ascii=False)}</script>"
    )
    if not partner:
        head += f"<link rel=\"https://api.w.org/\" href=\"{base}/wp-json/\">"
    body = "".join(f"<p>{escape(p)}</p>" for p in art.paragraphs)
    related = ""
    if partner:
        orig = f"http://127.0.0.1:{base.rsplit(':', 1)[-1]}{art.path}"
        related = (f"<p class=\"more\">Related: <a href=\"{orig}?utm_source=partner&amp;utm_medium=referral\">"
                   f"original story</a></p>")
    main = (
        f"<article id=\"post-{art.post_id}\" class=\"post type-post\"><header class=\"entry-header\">"
        f"<h1 class=\"entry-title\">{escape(art.title)}</h1><div class=\"entry-meta\">By "
        f"<a class=\"author\" rel=\"author\" href=\"/author/{art.author.split()[0].lower()}/\">{escape(art.author)}</a>"
        f" <time class=\"entry-date published\" datetime=\"{_iso(published)}\">{published:%B %d, %Y}</time>"
        f"</div></header><div class=\"entry-content\">{body}</div>{related}</article>"
    )
    if not partner:
        main += comments_html(art, n_visible)
    footer = C.PARTNER_FOOTER if partner else C.MAIN_FOOTER
    return _page(site_name, main, footer, head, lang=art.lang, body_class=f"single postid-{art.post_id}")


def comments_html(art: DemoArticle, n_visible: int) -> str:
    children: dict[int, list[DemoComment]] = {}
    for c in art.comments:
        children.setdefault(c.parent, []).append(c)

    def li(c: DemoComment, depth: int) -> str:
        kids = children.get(c.native_id, [])
        sub = f"<ol class=\"children\">{''.join(li(k, depth + 1) for k in kids)}</ol>" if kids else ""
        if c.deleted:
            return (f"<li id=\"comment-{c.native_id}\" class=\"comment comment-deleted depth-{depth}\">"
                    f"<div class=\"comment-body\"><p class=\"deleted\">{C.DELETED_PLACEHOLDER}</p></div>{sub}</li>")
        return (
            f"<li id=\"comment-{c.native_id}\" class=\"comment depth-{depth}{' parent' if kids else ''}\">"
            f"<article id=\"div-comment-{c.native_id}\" class=\"comment-body\"><footer class=\"comment-meta\">"
            f"<div class=\"comment-author vcard\"><b class=\"fn\">{escape(c.author)}</b> <span class=\"says\">says:"
            f"</span></div><div class=\"comment-metadata\"><a href=\"#comment-{c.native_id}\"><time datetime=\""
            f"{_iso(c.date)}\">{c.date:%B %d, %Y at %H:%M}</time></a></div></footer>"
            f"<div class=\"comment-content\">{c.html}</div><div class=\"reply\"><a class=\"comment-reply-link\" "
            f"href=\"?replytocom={c.native_id}#respond\">Reply</a></div></article>{sub}</li>")

    items = "".join(li(c, 1) for c in children.get(0, []))
    title = f"{n_visible} thoughts on &ldquo;{escape(art.title)}&rdquo;" if n_visible else "No comments yet"
    return (f"<div id=\"comments\" class=\"comments-area\"><h2 class=\"comments-title\">{title}</h2>"
            f"<ol class=\"comment-list\">{items}</ol></div>")


def rest_comments(site: DemoSite, art: DemoArticle, base: str, page: int, per_page: int) -> tuple[str, int, int]:
    """One page of /wp-json/wp/v2/comments?post=ID (oldest first, like ?order=asc). Returns body, total, pages."""
    visible = sorted(site.visible_comments(art), key=lambda c: (c.date, c.native_id))
    total = len(visible)
    pages = max(1, -(-total // per_page))
    chunk = visible[(page - 1) * per_page: page * per_page]
    items = [{
        "id": c.native_id, "post": art.post_id, "parent": c.parent, "author": 0, "author_name": c.author,
        "author_url": "", "date": c.date.strftime("%Y-%m-%dT%H:%M:%S"), "date_gmt": c.date.strftime("%Y-%m-%dT%H:%M:%S"),
        "content": {"rendered": c.html + "\n"}, "link": f"{base}{art.path}#comment-{c.native_id}",
        "status": "approved", "type": "comment", "meta": [],
        "_links": {"up": [{"embeddable": True, "post_type": "post", "href": f"{base}/wp-json/wp/v2/posts/{art.post_id}"}]},
    } for c in chunk]
    return json.dumps(items, ensure_ascii=False), total, pages


def challenge_page() -> str:
    return ("<!DOCTYPE html><html lang=\"en-US\"><head><title>Just a moment...</title>"
            "<meta name=\"robots\" content=\"noindex,nofollow\"></head><body><div class=\"main-wrapper\">"
            "<h1>Checking if the site connection is secure</h1><p>Enable JavaScript and cookies to continue.</p>"
            "<div id=\"challenge-stage\"></div><form id=\"challenge-form\" action=\"/cdn-cgi/challenge-platform/h/b\" "
            "method=\"POST\"></form><script src=\"/cdn-cgi/challenge-platform/h/b/orchestrate/chl_page/v1\"></script>"
            "</div></body></html>\n")


def not_found_page() -> str:
    return _page(MAIN_NAME, "<h1>Page not found</h1><p>Nothing lives at this address.</p>", C.MAIN_FOOTER, head="")


def private_page() -> str:
    return _page(MAIN_NAME, "<h1>Insider memo</h1><p>Staff only. Crawlers are asked not to read this.</p>",
                 C.MAIN_FOOTER, head="")
