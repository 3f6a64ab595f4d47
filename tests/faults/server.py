"""A misbehaving HTTP server for the fault suite: 127.0.0.1 only, bounded, stops itself.

Every fault is a path (see ``ROUTES``); the same server also answers as ``localhost:PORT`` (told apart by
the Host header), which Scrapy treats as a second host with its own downloader slot. Each request is
logged with its arrival time (``time.time()``), host, path and headers, so tests can assert on what the
crawler actually sent and when.

Bounds: the server serves at most ``max_requests`` requests and shuts itself down ``lifetime`` seconds
after start; slow responses (trickle, hang) give up after ``SLOW_LIMIT`` seconds or as soon as the
client goes away.
"""
from __future__ import annotations

import brotli
import gzip
import json
import math
import socket
import struct
import threading
import time
import zlib
from dataclasses import dataclass, field
from email.utils import formatdate
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

SLOW_LIMIT = 20.0  # seconds a trickle/hang response may last at most
BOMB_SIZE = 64 * 1024 * 1024  # decompressed size of the compression bombs

LOREM = ("Bitcoin miners in Texas curtailed power use during the heat wave, while exchange inflows rose and "
         "analysts debated whether the fee market can sustain security after the next halving. ")


@dataclass
class Hit:
    t: float
    host: str
    path: str
    headers: dict = field(default_factory=dict)


# -- page makers -----------------------------------------------------------------------------------------
def article_html(title: str, *, paragraphs: int = 4, date: str = "2026-11-20T09:30:00Z", modified: str | None = None,
                 post_id: int | None = None, api: str | None = None, comments_title: str = "",
                 body_extra: str = "", text: str = LOREM, charset_meta: str = "utf-8") -> str:
    ld = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": title, "datePublished": date,
          "author": {"@type": "Person", "name": "Dana Reyes"}}
    if modified:
        ld["dateModified"] = modified
    paras = "".join(f"<p>{escape(text)} Paragraph {i}.</p>" for i in range(paragraphs))
    head_api = f'<link rel="https://api.w.org/" href="{api}">' if api else ""
    body_class = f' class="post-template-default single postid-{post_id}"' if post_id else ""
    comments = f'<div id="comments"><h2 class="comments-title">{comments_title}</h2></div>' if comments_title else ""
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="{charset_meta}"><title>{escape(title)}</title>'
            f'<meta property="og:type" content="article"><meta name="generator" content="WordPress 6.6">{head_api}'
            f'<script type="application/ld+json">{json.dumps(ld)}</script></head>'
            f'<body{body_class}><article id="post-{post_id or 1}"><h1>{escape(title)}</h1>'
            f'<div class="entry-content">{paras}{body_extra}</div></article>{comments}</body></html>')


def rest_comments(n: int, text_len: int, post_id: int) -> bytes:
    filler = (LOREM * (text_len // len(LOREM) + 1))[:text_len]
    items = [{"id": 50_000 + i, "post": post_id, "parent": 0, "author_name": f"reader{i % 97}",
              "date_gmt": f"2026-11-20T{10 + i % 10:02d}:{i % 60:02d}:00", "status": "approved",
              "content": {"rendered": f"<p>Comment {i}: {filler}</p>"}} for i in range(n)]
    return json.dumps(items).encode()


CHALLENGE = ('<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>'
             '<div id="cf-browser-verification">Checking your browser before accessing the site.</div>'
             '<script src="/cdn-cgi/challenge-platform/h/b/orchestrate/jsch/v1"></script></body></html>')
SOFT_404 = ('<!DOCTYPE html><html><head><title>Page not found - Block Ledger Daily</title></head><body>'
            '<h1>Oops! That page can&rsquo;t be found.</h1><p>It looks like nothing was found at this location. '
            'Maybe try one of the links below or a search?</p></body></html>')
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" + bytes(range(256)) * 40


def xxe_feed(base: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<!DOCTYPE rss [\n'
            f'  <!ENTITY xxe SYSTEM "file:///etc/hostname">\n'
            f'  <!ENTITY remote SYSTEM "{base}/c/evil-entity">\n'
            f'  <!ENTITY % dtd SYSTEM "{base}/c/evil.dtd"> %dtd;\n'
            f'  <!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">\n'
            f'  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">\n'
            f']>\n<rss version="2.0"><channel><title>Evil &lol3;</title><link>{base}/</link>\n'
            f'<item><title>Leak &xxe;</title><link>{base}/c/xxe-article?leak=&xxe;&amp;r=&remote;</link></item>\n'
            f'<item><title>Fine</title><link>{base}/c/feed-article</link></item>\n'
            f'</channel></rss>\n').encode()


def sitemap_index(base: str, children: list[str]) -> bytes:
    locs = "".join(f"<sitemap><loc>{base}{c}</loc></sitemap>" for c in children)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="http://www.sitemaps.org/schemas/'
            f'sitemap/0.9">{locs}</sitemapindex>\n').encode()


def urlset(base: str, paths: list[str]) -> bytes:
    locs = "".join(f"<url><loc>{base}{p}</loc></url>" for p in paths)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f'{locs}</urlset>\n').encode()


_BOMBS: dict[str, bytes] = {}
_BOMB_LOCK = threading.Lock()


def bomb(kind: str) -> bytes:
    """BOMB_SIZE zero bytes, compressed (a few hundred KiB on the wire); built once per process."""
    with _BOMB_LOCK:
        if kind not in _BOMBS:
            zeros = b"\0" * BOMB_SIZE
            if kind == "gzip":
                _BOMBS[kind] = gzip.compress(zeros, compresslevel=9)
            elif kind == "deflate":
                _BOMBS[kind] = zlib.compress(zeros, 9)
            else:
                _BOMBS[kind] = brotli.compress(zeros, quality=5)
        return _BOMBS[kind]


# -- the handler -----------------------------------------------------------------------------------------
class FaultHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FaultySite/1.0"
    fault_server: "FaultServer"

    def log_message(self, fmt, *args):  # quiet
        pass

    # plumbing
    @property
    def base(self) -> str:
        host = (self.headers.get("Host") or "127.0.0.1").split(":")[0]
        return f"http://{host}:{self.server.server_address[1]}"

    def send(self, status: int, body: bytes | str = b"", ctype: str | None = "text/html; charset=utf-8",
             headers: dict | None = None) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def reset(self) -> None:
        """Close with RST: SO_LINGER on, timeout 0."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def do_GET(self):  # noqa: N802
        srv = self.fault_server
        parts = urlsplit(self.path)
        host = (self.headers.get("Host") or "").split(":")[0]
        hit = Hit(time.time(), host, self.path, {k.lower(): v for k, v in self.headers.items()})
        n = srv.record(hit)
        if n > srv.max_requests:
            return self.send(503, "request budget of the fault server exhausted", "text/plain")
        route = srv.route_for(parts.path)
        if route is None:
            return self.send(404, "<html><head><title>404</title></head><body>no such fault</body></html>")
        route(self, parse_qs(parts.query), srv.count(host, parts.path))

    def do_HEAD(self):  # noqa: N802
        self.do_GET()

    def do_POST(self):  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        self.post_body = self.rfile.read(min(length, 1_000_000)) if length else b""
        self.do_GET()


# -- routes: fn(handler, query, nth_hit_of_this_host_and_path) ---------------------------------------------------
def r_article(h, q, n):
    h.send(200, article_html(f"Story at {h.path}"))


def r_reset(h, q, n):
    h.reset()


def r_reset_once(h, q, n):
    if n == 1:
        return h.reset()
    h.send(200, article_html("Recovered after a reset"))


def r_trickle(h, q, n):
    """Slow-loris: announces 100 kB and sends one byte every 0.2 s."""
    h.send_response(200)
    h.send_header("Content-Type", "text/html; charset=utf-8")
    h.send_header("Content-Length", "100000")
    h.end_headers()
    end = time.monotonic() + SLOW_LIMIT
    try:
        while time.monotonic() < end:
            h.wfile.write(b"<")
            h.wfile.flush()
            time.sleep(0.2)
        h.fault_server.events.append(("trickle", "limit"))
    except OSError:
        h.fault_server.events.append(("trickle", "client_left"))  # the client gave up: what we test
    h.close_connection = True


def r_hang(h, q, n):
    """Accepts, reads the request, never answers (until the client leaves or SLOW_LIMIT)."""
    h.connection.settimeout(0.2)
    end = time.monotonic() + SLOW_LIMIT
    outcome = "limit"
    while time.monotonic() < end:
        try:
            if h.connection.recv(1) == b"":
                outcome = "client_left"
                break
        except socket.timeout:
            continue
        except OSError:
            outcome = "client_left"
            break
    h.fault_server.events.append(("hang", outcome))
    h.close_connection = True


def r_429(h, q, n):
    secs = q.get("secs", ["2"])[0]
    if n == 1:
        return h.send(429, "slow down", "text/plain", {"Retry-After": secs})
    h.send(200, article_html(f"After 429 {h.path}"))


def r_503_date(h, q, n):
    if n == 1:
        target = math.ceil(time.time()) + int(q.get("secs", ["2"])[0])
        h.fault_server.retry_after_dates[h.path] = target
        return h.send(503, "maintenance", "text/plain", {"Retry-After": formatdate(target, usegmt=True)})
    h.send(200, article_html(f"After 503 {h.path}"))


def r_429_huge(h, q, n):
    if n == 1:
        return h.send(429, "come back tomorrow", "text/plain", {"Retry-After": "86400"})
    h.send(200, article_html("After a capped wait"))


def r_429_bare(h, q, n):
    if n == 1:
        return h.send(429, "too many requests", "text/plain")  # no Retry-After at all
    h.send(200, article_html("After a bare 429"))


def r_slow_article(h, q, n):
    time.sleep(float(q.get("delay", ["0.3"])[0]))
    h.send(200, article_html(f"Slow story {h.path}"))


def r_loop_a(h, q, n):
    h.send(302, "", None, {"Location": "/t/loop-b"})


def r_loop_b(h, q, n):
    h.send(302, "", None, {"Location": "/t/loop-a"})


def r_chain(h, q, n):
    path, _, query = h.path.partition("?")
    k = int(path.rstrip("/").rsplit("/", 1)[-1])
    if k <= 0:
        return h.send(200, article_html(f"End of a redirect chain {query}"))
    h.send(302, "", None, {"Location": f"/t/chain/{k - 1}?{query}"})


def r_cross_auth(h, q, n):
    port = h.server.server_address[1]
    h.send(302, "", None, {"Location": f"http://localhost:{port}/t/echo"})


def r_same_auth(h, q, n):
    h.send(302, "", None, {"Location": "/t/echo-same"})


def r_echo(h, q, n):
    h.send(200, article_html(f"Landing page {h.path}"))


def r_bigbody(h, q, n):
    size = int(q.get("mb", ["3"])[0]) * 1024 * 1024
    h.send_response(200)
    h.send_header("Content-Type", "text/html; charset=utf-8")
    h.send_header("Content-Length", str(size))
    h.end_headers()
    try:
        chunk = b"<p>" + b"x" * 65530 + b"</p>"
        sent = 0
        while sent < size:
            h.wfile.write(chunk[: size - sent])
            sent += len(chunk)
    except OSError:
        pass
    h.close_connection = True


def r_bigbody_chunked(h, q, n):
    """No Content-Length: the client only learns the size while streaming."""
    h.send_response(200)
    h.send_header("Content-Type", "text/html; charset=utf-8")
    h.send_header("Transfer-Encoding", "chunked")
    h.end_headers()
    try:
        chunk = b"<p>" + b"y" * 65530 + b"</p>"
        for _ in range(int(q.get("mb", ["3"])[0]) * 16):
            h.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        h.wfile.write(b"0\r\n\r\n")
    except OSError:
        pass
    h.close_connection = True


# content
def r_wrong_charset(h, q, n):
    html = article_html("Café in Zürich accepts € and ₿", text="Der Café-Besitzer in Zürich nimmt jetzt Bitcoin an; "
                        "Preise in € und ₿ stehen nebeneinander auf der Tafel. " * 3)
    h.send(200, html.encode("utf-8"), "text/html; charset=iso-8859-1")


def r_wrong_charset_utf8(h, q, n):
    """Declared UTF-8, really windows-1252 (an old CMS behind a modern proxy)."""
    html = article_html("Señor Nakamoto’s café: “no comment”", charset_meta="windows-1252",
                        text="The café owner said “no comment” about the señor’s wallet — twice. " * 3)
    h.send(200, html.encode("cp1252"), "text/html; charset=utf-8")


def r_missing_charset(h, q, n):
    html = article_html("Naïve façade: crypto café reopens", charset_meta="",
                        text="The naïve façade of the café hides a mining rig; “smart” money—allegedly. " * 3)
    html = html.replace('<meta charset="">', "")
    h.send(200, html.encode("cp1252"), "text/html")


def r_truncated_html(h, q, n):
    html = article_html("A story cut off mid-sentence").encode()
    h.send(200, html[: len(html) // 2])


def r_truncated_json_article(h, q, n):
    h.send(200, article_html("Story whose comment API is cut off", post_id=4242, api=f"{h.base}/wp-json/",
                             comments_title="3 thoughts on this"))


def r_rest(h, q, n):
    post = int(q.get("post", ["0"])[0])
    if post == 4242:  # truncated JSON
        body = rest_comments(3, 200, post)
        return h.send(200, body[: len(body) - 40], "application/json; charset=UTF-8",
                      {"X-WP-Total": "3", "X-WP-TotalPages": "1"})
    if post == 7777:  # about 10 MB of comments
        total = int(h.fault_server.options.get("big_comments", 1000))
        body = rest_comments(total, 10_000, post)
        return h.send(200, body, "application/json; charset=UTF-8",
                      {"X-WP-Total": str(total), "X-WP-TotalPages": "1"})
    if 9000 < post < 9100:  # a server-stated page count (X-WP-TotalPages) that is absurd or malformed
        page = int(q.get("page", ["1"])[0])
        stated = WP_PAGE_COUNTS[post - 9001]
        items = json.loads(rest_comments(3, 80, post))
        for k, it in enumerate(items):
            it["id"] = post * 1_000_000 + page * 10 + k
            it["content"]["rendered"] = f"<p>Reader note {page}.{k} on the stated page count of this thread.</p>"
        return h.send(200, json.dumps(items), "application/json; charset=UTF-8",
                      {"X-WP-Total": stated, "X-WP-TotalPages": stated})
    if post == 8888:  # many comments in one response (items-per-response cap)
        return h.send(200, rest_comments(20, 120, post), "application/json; charset=UTF-8",
                      {"X-WP-Total": "20", "X-WP-TotalPages": "1"})
    h.send(200, b"[]", "application/json; charset=UTF-8", {"X-WP-Total": "0", "X-WP-TotalPages": "0"})


WP_PAGE_COUNTS = ["1000000000000", "99999999999999999999999999999", "-5", "1e12", "NaN", "2000", "0x7fffffff",
                  " 1000000 "]


def r_wp_pages_article(h, q, n):
    k = int(h.path.rsplit("/", 1)[-1])
    h.send(200, article_html(f"Story whose comment API states {WP_PAGE_COUNTS[k - 1].strip()} pages",
                             post_id=9000 + k, api=f"{h.base}/wp-json/"))


def r_sitemap_chain(h, q, n):
    """A sitemap index whose only child is itself with the next query number (?x=N+1), plus a urlset child."""
    x = int(q.get("x", ["0"])[0])
    h.send(200, sitemap_index(h.base, [f"/c/sitemap-chain?x={x + 1}", f"/c/sitemap-urls-{x}.xml"]),
           "application/xml; charset=utf-8")


def r_sitemap_wide(h, q, n):
    """An index of ``fan`` children, each again an index of ``fan`` children (``d`` levels)."""
    d, fan, tag = int(q.get("d", ["0"])[0]), int(q.get("fan", ["10"])[0]), q.get("t", ["0"])[0]
    if d >= 3:
        return h.send(200, urlset(h.base, [f"/a/wide-{tag}"]), "application/xml; charset=utf-8")
    h.send(200, sitemap_index(h.base, [f"/c/sitemap-wide?d={d + 1}&amp;fan={fan}&amp;t={tag}-{i}" for i in range(fan)]),
           "application/xml; charset=utf-8")


def r_sitemap_many_urls(h, q, n):
    h.send(200, urlset(h.base, [f"/a/many-{i}" for i in range(int(q.get("n", ["100"])[0]))]),
           "application/xml; charset=utf-8")


def r_big_comments_article(h, q, n):
    h.send(200, article_html("Story with a 10 MB comment thread", post_id=7777, api=f"{h.base}/wp-json/"))


def r_many_comments_article(h, q, n):
    h.send(200, article_html("Story with twenty comments", post_id=8888, api=f"{h.base}/wp-json/"))


def r_empty(h, q, n):
    h.send(200, b"")


def r_challenge(h, q, n):
    h.send(200, CHALLENGE)


def r_soft404(h, q, n):
    h.send(200, SOFT_404)


def r_bad_dates(h, q, n):
    h.send(200, article_html("Story from the future", date="2999-01-01T00:00:00Z", modified="0001-01-01T00:00:00Z"))


def r_huge_title(h, q, n):
    h.send(200, article_html("Absurd " * 1000))


def r_binary(h, q, n):
    h.send(200, PDF, "text/html; charset=utf-8")


def r_bomb(h, q, n):
    kind = h.path.rsplit("-", 1)[-1]  # /c/bomb-gzip, /c/bomb-deflate, /c/bomb-br
    h.send(200, bomb(kind), "text/html; charset=utf-8", {"Content-Encoding": kind})


def r_encoded_article(h, q, n):
    kind = h.path.rsplit("-", 1)[-1]  # /c/encoded-gzip, /c/encoded-br
    html = article_html(f"Compressed story ({kind})").encode()
    data = gzip.compress(html) if kind == "gzip" else brotli.compress(html)
    h.send(200, data, "text/html; charset=utf-8", {"Content-Encoding": kind})


def r_xxe_feed(h, q, n):
    h.send(200, xxe_feed(h.base), "application/rss+xml; charset=utf-8")


def r_evil(h, q, n):  # must never be fetched
    h.send(200, b'<!ENTITY leak "EVIL-DTD-LOADED">', "application/xml-dtd")


def r_sitemap(h, q, n):
    name = h.path.rsplit("/", 1)[-1]
    if name == "sitemap-index.xml":
        body = sitemap_index(h.base, ["/c/sitemap-index.xml", "/c/sitemap-a.xml"])
    elif name == "sitemap-a.xml":
        body = sitemap_index(h.base, ["/c/sitemap-index.xml", "/c/sitemap-a.xml", "/c/sitemap-urls.xml"])
    else:
        body = urlset(h.base, ["/c/from-sitemap"])
    h.send(200, body, "application/xml; charset=utf-8")


def r_robots(h, q, n):
    """robots.txt by the server's robots mode: rules, 404, 500, reset, hang, redirect:N."""
    mode = h.fault_server.robots
    if mode == "rules":
        return h.send(200, "User-agent: *\nDisallow: /private/\n", "text/plain")
    if mode == "404":
        return h.send(404, "not here", "text/plain")
    if mode == "500":
        return h.send(500, "oops", "text/plain")
    if mode == "429":
        return h.send(429, "slow down", "text/plain")
    if mode == "flaky":  # 500 the first time, rules afterwards
        if n == 1:
            return h.send(500, "oops", "text/plain")
        return h.send(200, "User-agent: *\nDisallow: /private/\n", "text/plain")
    if mode == "reset":
        return h.reset()
    if mode == "hang":
        return r_hang(h, q, n)
    if mode.startswith("redirect:"):
        hops = int(mode.split(":")[1])
        return h.send(301, "", None, {"Location": "/robots-hop/1" if hops else "/robots-final.txt"})
    return h.send(200, "", "text/plain")


def r_slow_sitemap(h, q, n):
    """A sitemap that takes its time, then lists the URL given in ``to``."""
    time.sleep(float(q.get("delay", ["2"])[0]))
    h.send(200, urlset("", q.get("to", [])), "application/xml; charset=utf-8")


def r_robots_hop(h, q, n):
    hops = int(h.fault_server.robots.split(":")[1])
    k = int(h.path.rsplit("/", 1)[-1])
    if k >= hops:
        return h.send(200, "User-agent: *\nDisallow: /private/\n", "text/plain")
    h.send(301, "", None, {"Location": f"/robots-hop/{k + 1}"})


# -- decoding: a UTF-8 page with one invalid byte (or a pasted cp1252 word) -------------------------------
ACCENTED = "Le marché — déjà vu, naïve señora: €100 ₿ 比特币 Ärger"
BAD_BYTES = {"lone_ff": b"\xff", "truncated": b"\xe2\x80", "continuation": b"\x80", "overlong": b"\xc0\xaf",
             "surrogate": b"\xed\xa0\x80", "cp1252_word": b"caf\xe9", "nul_free_c1": b"\x9d",
             "two_bytes": b"\xfe\xfe"}


def r_bad_byte(h, q, n):
    """``/c/bad-byte/<variant>/<declared>``: declared = header (charset=utf-8), meta (only <meta charset>),
    none (no charset anywhere), latin1 (header says ISO-8859-1)."""
    _, _, _, variant, declared = h.path.split("?")[0].split("/")[:5]
    meta = "utf-8" if declared in ("header", "meta") else ""
    page = article_html(f"Bad byte {variant} {declared}", text=ACCENTED + " " + LOREM, charset_meta=meta or "x-none",
                        body_extra="<p>MARK</p>")
    if not meta:
        page = page.replace('<meta charset="x-none">', "")
    body = page.encode("utf-8").replace(b"MARK", b"before " + BAD_BYTES[variant] + b" after")
    ctype = {"header": "text/html; charset=utf-8", "meta": "text/html", "none": "text/html",
             "latin1": "text/html; charset=ISO-8859-1"}[declared]
    h.send(200, body, ctype)


# -- hostile nesting: 100k nested elements around (and after) the story --------------------------------------
NESTINGS = {"div": ("<div>", "</div>"), "inline": ("<b>", "</b>"), "list": ("<ul><li>", "</li></ul>"),
            "table": ("<table><tr><td>", "</td></tr></table>"), "unclosed": ("<div>", ""),
            "blockquote": ("<blockquote>", "</blockquote>")}


def r_nested(h, q, n):
    """``/c/nested/<kind>/<depth>``: a normal story whose body also holds ``depth`` nested elements."""
    _, _, _, kind, depth = h.path.split("?")[0].split("/")[:5]
    open_, close = NESTINGS[kind]
    d = int(depth)
    deep = open_ * d + "<p>Deep text at the bottom of the nesting.</p>" + close * d
    h.send(200, article_html(f"Nested {kind} {depth}", body_extra=deep))


# -- address policy: pages that point the crawler at other (local) addresses, given in ``to`` -------------
def rss_items(links: list[str]) -> bytes:
    items = "".join(f"<item><title>Story {i}</title><link>{escape(u)}</link>"
                    f"<pubDate>Fri, 20 Nov 2026 09:30:00 GMT</pubDate></item>" for i, u in enumerate(links))
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Policy feed</title>'
            f"<link>http://example.invalid/</link><description>d</description>{items}</channel></rss>").encode()


def r_policy_feed(h, q, n):
    h.send(200, rss_items(q.get("to", []) + [h.base + "/a/policy-feed-own"]), "application/rss+xml; charset=utf-8")


def r_policy_sitemap(h, q, n):
    h.send(200, urlset("", q.get("to", []) + [h.base + "/a/policy-sitemap-own"]), "application/xml; charset=utf-8")


def r_policy_sitemap_index(h, q, n):
    h.send(200, sitemap_index("", q.get("to", [])), "application/xml; charset=utf-8")


def r_policy_redirect(h, q, n):
    h.send(int(q.get("status", ["302"])[0]), "", None, {"Location": q.get("to", ["/a/x"])[0]})


def r_policy_reddit(h, q, n):
    """A Reddit thread JSON (``[t3 listing, t1 listing]``) whose submission is a link post to ``to``."""
    link = q.get("to", ["https://example.invalid/"])[0]
    sub = {"kind": "t3", "data": {"id": "pol1", "name": "t3_pol1", "title": "Look at this", "is_self": False,
                                  "url": link, "domain": urlsplit(link).hostname or "", "num_comments": 1,
                                  "permalink": "/r/policy/comments/pol1/look/", "created_utc": 1795000000,
                                  "author": "poster", "subreddit": "policy"}}
    com = {"kind": "t1", "data": {"id": "c1", "name": "t1_c1", "parent_id": "t3_pol1", "link_id": "t3_pol1",
                                  "body": "A reader's reply about the linked page, long enough to count.",
                                  "author": "reader", "created_utc": 1795000100, "replies": ""}}
    body = [{"kind": "Listing", "data": {"children": [sub]}}, {"kind": "Listing", "data": {"children": [com]}}]
    h.send(200, json.dumps(body), "application/json; charset=utf-8")


# -- an authenticated API: OAuth client-credentials token, then bearer-token requests ------------------------
def r_oauth_token(h, q, n):
    form = dict(parse_qs(getattr(h, "post_body", b"").decode()))
    if h.command != "POST" or not h.headers.get("Authorization", "").startswith("Basic ") \
            or form.get("grant_type") != ["client_credentials"]:
        return h.send(401, json.dumps({"error": "invalid_client"}), "application/json")
    body = json.dumps({"access_token": h.fault_server.options.get("access_token", "tok-0"), "token_type": "bearer",
                       "expires_in": 3600, "refresh_token": h.fault_server.options.get("refresh_token", "rt-0"),
                       "scope": "read"}).encode()
    if "gzip" in (h.headers.get("Accept-Encoding") or ""):
        return h.send(200, gzip.compress(body), "application/json; charset=utf-8", {"Content-Encoding": "gzip"})
    h.send(200, body, "application/json; charset=utf-8")


def r_api_story(h, q, n):
    """An article behind the bearer token; answers with a session cookie and a redirect carrying a token."""
    want = "Bearer " + h.fault_server.options.get("access_token", "tok-0")
    if h.headers.get("Authorization") != want:
        return h.send(401, "no", "text/plain")
    if h.path.startswith("/api/story/moved"):
        return h.send(302, "", None, {"Location": f"/api/story/final?access_token={q.get('access_token', [''])[0]}"})
    h.send(200, article_html(f"Authenticated story {urlsplit(h.path).path.rsplit('/', 1)[-1]}"), headers={
        "Set-Cookie": f"session={h.fault_server.options.get('session', 'sess-0')}; HttpOnly"})


ROUTES = {
    "/c/bad-byte/": r_bad_byte, "/c/nested/": r_nested, "/c/wp-pages/": r_wp_pages_article, "/c/sitemap-chain": r_sitemap_chain,
    "/c/sitemap-wide": r_sitemap_wide, "/c/sitemap-many": r_sitemap_many_urls,
    "/oauth/token": r_oauth_token, "/api/story/": r_api_story,
    "/policy/feed": r_policy_feed, "/policy/sitemap": r_policy_sitemap,
    "/policy/sitemap-index": r_policy_sitemap_index, "/policy/redirect": r_policy_redirect,
    "/r/policy/comments/": r_policy_reddit,
    "/robots.txt": r_robots,
    "/robots-hop/": r_robots_hop,
    "/robots-final.txt": lambda h, q, n: h.send(200, "User-agent: *\nDisallow: /private/\n", "text/plain"),
    "/a/": r_article, "/private/": r_article,
    "/t/reset-once": r_reset_once, "/t/reset": r_reset, "/t/trickle": r_trickle, "/t/hang": r_hang,
    "/t/429-huge": r_429_huge, "/t/429-bare": r_429_bare, "/t/429": r_429, "/t/503-date": r_503_date, "/t/slow/": r_slow_article,
    "/t/slow-sitemap": r_slow_sitemap,
    "/t/loop-a": r_loop_a, "/t/loop-b": r_loop_b, "/t/chain/": r_chain,
    "/t/cross-auth": r_cross_auth, "/t/same-auth": r_same_auth, "/t/echo": r_echo, "/t/echo-same": r_echo,
    "/t/bigbody-chunked": r_bigbody_chunked, "/t/bigbody": r_bigbody,
    "/c/wrong-charset": r_wrong_charset, "/c/wrong-charset-utf8": r_wrong_charset_utf8, "/c/missing-charset": r_missing_charset,
    "/c/truncated-html": r_truncated_html, "/c/truncated-json": r_truncated_json_article,
    "/wp-json/wp/v2/comments": r_rest, "/c/comments-10mb": r_big_comments_article,
    "/c/many-comments": r_many_comments_article,
    "/c/empty": r_empty, "/c/challenge": r_challenge, "/c/soft404": r_soft404, "/c/bad-dates": r_bad_dates,
    "/c/huge-title": r_huge_title, "/c/binary": r_binary, "/c/bomb-": r_bomb, "/c/encoded-": r_encoded_article,
    "/c/feed-xxe": r_xxe_feed, "/c/evil": r_evil, "/c/sitemap-": r_sitemap,
    "/c/xxe-article": r_article, "/c/feed-article": r_article, "/c/from-sitemap": r_article,
}


class FaultServer:
    """``with FaultServer() as srv: ...`` - serves ROUTES on 127.0.0.1 (and as localhost) in a thread."""

    def __init__(self, *, robots: str = "empty", max_requests: int = 2000, lifetime: float = 150.0,
                 options: dict | None = None, host: str = "127.0.0.1"):
        self.robots = robots
        self.max_requests = max_requests
        self.lifetime = lifetime
        self.options = options or {}
        self.hits: list[Hit] = []
        self.retry_after_dates: dict[str, int] = {}
        self.events: list[tuple[str, str]] = []  # how slow responses ended: (route, client_left|limit)
        self._counts: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()
        handler = type("Handler", (FaultHandler,), {"fault_server": self})
        assert host.startswith("127.") or host == "::1", "fault servers listen on loopback only"
        self.host = host
        server_cls = ThreadingHTTPServer
        if ":" in host:
            server_cls = type("V6Server", (ThreadingHTTPServer,), {"address_family": socket.AF_INET6})
        self.httpd = server_cls((host, 0), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self._thread: threading.Thread | None = None
        self._timer: threading.Timer | None = None

    @property
    def base(self) -> str:
        return f"http://[{self.host}]:{self.port}" if ":" in self.host else f"http://{self.host}:{self.port}"

    @property
    def other_base(self) -> str:
        """The same server under another host name: a second downloader slot for Scrapy."""
        return f"http://localhost:{self.port}"

    def route_for(self, path: str):
        if path in ROUTES:
            return ROUTES[path]
        for prefix, fn in ROUTES.items():
            if prefix.endswith(("/", "-")) and path.startswith(prefix):
                return fn
        return None

    def record(self, hit: Hit) -> int:
        with self._lock:
            self.hits.append(hit)
            return len(self.hits)

    def count(self, host: str, path: str) -> int:
        with self._lock:
            key = (host, path)
            self._counts[key] = self._counts.get(key, 0) + 1
            return self._counts[key]

    def hits_for(self, path: str, host: str | None = None) -> list[Hit]:
        with self._lock:
            return [h for h in self.hits if urlsplit(h.path).path == path and (host is None or h.host == host)]

    def start(self) -> "FaultServer":
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="fault-server", daemon=True)
        self._thread.start()
        self._timer = threading.Timer(self.lifetime, self.stop)  # stops itself even if a test forgets
        self._timer.daemon = True
        self._timer.start()
        return self

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self._thread is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self._thread = None

    def __enter__(self) -> "FaultServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
