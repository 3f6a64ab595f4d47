"""vBulletin thread pages, 3.x and 4.x (``showthread.php?t=ID``, ``&page=N``, post anchors
``showthread.php?p=N#postN``, and search-friendly forms ``/ID-slug.html`` / ``/ID-slug-N.html``,
``showthread.php/ID-slug/pageN``). Shared rules: :mod:`crawler.comments.classic_forum`; the markup:

- a post's text is ``div#post_message_N``; its container ``li#post_N`` (4.x ``postcontainer``) or the
  ``table#postN`` / ``div#postN`` around it (3.x); the author ``a.bigusername`` (3.x) or ``a.username`` (4.x);
  the date ``span.date`` (4.x) or the first header cell (3.x); the number ``a#postcountN[name]``;
- quotes are ``div.bbcode_container`` (4.x, header ``bbcode_postedby``) or the inset-bordered quote box of
  3.x with its "Quote:" label and "Originally Posted by X" line; the line's link ``…p=N`` / ``#postN`` names
  the quoted post; signatures ``div.signature`` and the 3.x "__________________" block are outside the text;
- the thread id from the URL, else ``threadid`` in the page's links and scripts, the canonical link; pages
  from ``div.pagenav`` (3.x) / ``div.pagination`` (4.x) links.
vBulletin numbers posts: the opening post is post #1.
"""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urljoin, urlsplit

from .classic_forum import ClassicForumAdapter, ForumMarkup, has_class, script_url

PLATFORM = "vbulletin"
PARSER = "vbulletin@1"
_T = re.compile(r"[?&;](?:t|threadid)=(\d+)")
_SEO = re.compile(r"/(\d+)-[^/]*?(?:-(\d+))?\.html$")
_PATH = re.compile(r"showthread\.php/(\d+)(?:-[^/]*)?(?:/page(\d+))?")


def _thread_and_page(url: str) -> tuple[str | None, int | None]:
    parts = urlsplit(url)
    q = parse_qs(parts.query)
    m = _T.search("?" + parts.query)
    if m:
        page = (q.get("page") or [None])[0]
        return m.group(1), int(page) if page and page.isdigit() else None
    m = _PATH.search(parts.path)
    if m:
        return m.group(1), int(m.group(2)) if m.group(2) else None
    m = _SEO.search(parts.path)
    if m and not parts.path.endswith(("-post.html",)) and "-post" not in parts.path.rsplit("/", 1)[-1][:20]:
        return m.group(1), int(m.group(2)) if m.group(2) else None
    return None, None


class VbulletinMarkup(ForumMarkup):
    platform = PLATFORM
    sniff = ("post_message_",)
    post_containers = ("//li[starts-with(@id, 'post_')][.//*[starts-with(@id, 'post_message_')]]"
                       " | //table[starts-with(@id, 'post')][.//*[starts-with(@id, 'post_message_')]]"
                       " | //div[starts-with(@id, 'post')][.//*[starts-with(@id, 'post_message_')]]")
    post_id = re.compile(r"^post_?(\d+)$")
    body = ".//*[starts-with(@id, 'post_message_')]"
    author = (".//a[contains(@class, 'bigusername')]//text() | .//a[contains(@class, 'username')]//text()"
              " | .//*[starts-with(@id, 'postmenu_')]//a//text()")
    date_text = (f".//span[{has_class('date')}] | (.//td[{has_class('thead')}])[1]"
                 f" | (.//div[{has_class('thead')}]/div)[1] | .//*[@itemprop='datePublished']")
    number = (".//a[starts-with(@id, 'postcount')]/@name | .//a[contains(@class, 'postcounter')]//text()")
    quotes = f".//div[{has_class('bbcode_container')}] | .//*[contains(@style, 'inset')]"
    quote_source = ".//a[contains(@href, 'post')]/@href"
    quote_source_id = re.compile(r"(?:[?&]p=|#post|post)(\d+)")
    chrome = (f".//div[{has_class('bbcode_postedby')}] | .//*[contains(@style, 'inset')]/div[1][.//a[contains(@href, 'post')]]"
              f" | .//div[{has_class('smallfont')}][normalize-space(.)='Quote:'] | .//label[normalize-space(.)='Quote:']"
              f" | .//div[{has_class('signature')}]")
    title = (f"//span[{has_class('threadtitle')}]//text()", "//h1//strong[@itemprop='name']//text()",
             "//td[@class='navbar']//strong//text()", "//meta[@property='og:title']/@content")
    not_quotes = f".//blockquote[{has_class('postcontent')}]"

    def topic_id(self, url: str, root) -> str | None:
        t, _ = _thread_and_page(url)
        if t:
            return t
        for v in root.xpath("//link[@rel='canonical']/@href | //span[contains(@class, 'threadtitle')]//a/@href"):
            t, _ = _thread_and_page(urljoin(url, v))
            if t:
                return t
        text = " ".join(root.xpath("//script/text()"))[:200_000] + " ".join(root.xpath("//a/@href")[:400])
        m = re.search(r"threadid\s*[=:]\s*['\"]?(\d+)", text) or re.search(r"[?&;]t=(\d+)", text)
        return m.group(1) if m else None

    def page_from_url(self, url: str) -> int:
        return _thread_and_page(url)[1] or 1

    def current_page(self, root) -> int | None:
        for t in root.xpath(f"//div[{has_class('pagenav')}]//td[{has_class('alt2')}]//strong//text()"
                            f" | //div[{has_class('pagination')}]//span[{has_class('selected')}]//text()"):
            if t.strip().isdigit():
                return int(t.strip())
        return None

    def page_links(self, root, url: str, topic: str) -> dict[int, str]:
        out: dict[int, str] = {}
        for href in root.xpath(f"//div[{has_class('pagenav')}]//a/@href | //div[contains(@class, 'pagination')]//a/@href"):
            absolute = urljoin(url, href)
            t, page = _thread_and_page(absolute)
            if t == topic and page and page > 1 and "printthread" not in absolute:
                out.setdefault(page, absolute)
        return out

    def page_url(self, url: str, topic: str, page: int, root=None) -> str:
        parts = urlsplit(url)
        if _SEO.search(parts.path) and not _T.search("?" + parts.query):
            base = re.sub(r"-\d+\.html$", ".html", url.split("#")[0].split("?")[0]) if page <= 1 else None
            if root is not None:
                for v in root.xpath("//link[@rel='canonical']/@href"):
                    t, p = _thread_and_page(urljoin(url, v))
                    if t == topic and not p:
                        base = urljoin(url, v)
            if base and page <= 1:
                return base
        first = f"{script_url(url, 'showthread.php')}?t={topic}"
        return first if page <= 1 else f"{first}&page={page}"


class VbulletinAdapter(ClassicForumAdapter):
    def __init__(self):
        super().__init__(VbulletinMarkup(), PARSER)


def opening_post(url: str, body, headers: dict | None = None) -> dict | None:
    return VbulletinAdapter().opening_post(url, body, headers)
