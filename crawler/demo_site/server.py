"""A local HTTP server for the demo site, bound to 127.0.0.1 only, run in a background thread.

``127.0.0.1:PORT`` serves the original publisher, ``localhost:PORT`` the partner that republishes one
story. ``python -m crawler.demo_site.server --port P --articles N --comments M [--latency-ms L]`` serves it
in the foreground, on its own: for a look in a browser, or for several crawl processes at once
(``scrapy crawl demo -a serve=no -a port=P``). ``--latency-ms`` delays every response (as a remote site
would), which makes a crawl I/O-bound.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
import threading
from dataclasses import dataclass
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from . import render as R
from .routes import EXTRA_ROUTES, REQUEST_ROUTES
from .site import CHALLENGE_PATH, PRIVATE_PATH, REST_PER_PAGE, DemoSite

logger = logging.getLogger(__name__)


@dataclass
class DemoRequest:
    """What a request route sees (``routes.REQUEST_ROUTES``)."""
    method: str
    host: str
    path: str
    query: dict
    headers: object  # the request's headers (email.message.Message: case-insensitive .get)
    body: bytes
    base: str


class _Handler(BaseHTTPRequestHandler):
    server_version = "DemoWP/1.0"
    # HTTP/1.1 keeps connections open between requests, as web servers do (every answer carries its
    # Content-Length): HTTP/1.0's connection per request cost the crawler a TCP connect and close per page
    protocol_version = "HTTP/1.1"
    site: DemoSite  # set on the subclass made per server
    latency: float = 0.0  # seconds slept before each response (set per server)

    def log_message(self, fmt, *args):  # keep crawl logs readable
        logger.debug("demo site: " + fmt, *args)

    def _send(self, status: int, body: str | bytes, ctype: str = "text/html; charset=utf-8", headers=None) -> None:
        data = body if isinstance(body, bytes) else body.encode("utf-8")
        if status == 200:  # validators for conditional GET: unchanged content answers 304
            etag = '"' + hashlib.sha1(data).hexdigest()[:20] + '"'
            headers = {**(headers or {}), "ETag": etag}
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def do_HEAD(self):  # noqa: N802
        self.do_GET()

    def _request_route(self) -> bool:
        host = (self.headers.get("Host") or "127.0.0.1").split(":")[0]
        base = f"http://{'localhost' if host == 'localhost' else '127.0.0.1'}:{self.server.server_address[1]}"
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, 1 << 20)) if length > 0 else b""
        req = DemoRequest(self.command, host, parts.path, parse_qs(parts.query), self.headers, body, base)
        for route in REQUEST_ROUTES:
            hit = route(self.site, req)
            if hit is not None:
                self._send(*hit)
                return True
        return False

    def do_POST(self):  # noqa: N802
        if not self._request_route():
            self._send(405, R.not_found_page())

    def do_GET(self):  # noqa: N802
        if self.latency:
            time.sleep(self.latency)
        if self._request_route():
            return
        host = (self.headers.get("Host") or "127.0.0.1").split(":")[0]
        partner = host == "localhost"
        port = self.server.server_address[1]
        base = f"http://{'localhost' if partner else '127.0.0.1'}:{port}"
        parts = urlsplit(self.path)
        path, query = parts.path, parse_qs(parts.query)
        site = self.site
        for route in EXTRA_ROUTES:
            hit = route(site, host, path, query, base)
            if hit is not None:
                return self._send(*hit)
        if path == "/robots.txt":
            return self._send(200, R.robots_txt(base), "text/plain; charset=utf-8")
        if path in ("/feed/", "/feed"):
            return self._send(200, R.rss(site, base, partner), "application/rss+xml; charset=utf-8")
        if partner:
            if path == site.partner_path():
                return self._send(200, R.article_page(site, site.partner_article, base, partner=True))
            return self._send(404, R.not_found_page())
        if path == "/":
            return self._send(200, R.homepage(site, base))
        if path == "/news-sitemap.xml":
            return self._send(200, R.news_sitemap(site, base), "application/xml; charset=utf-8")
        if path == CHALLENGE_PATH:
            return self._send(200, R.challenge_page())
        if path == PRIVATE_PATH:
            return self._send(200, R.private_page())
        if path == "/wp-json/wp/v2/comments":
            return self._rest_comments(query, base)
        art = site.by_path(path)
        if art is not None:
            return self._send(200, R.article_page(site, art, base))
        return self._send(404, R.not_found_page())

    def _rest_comments(self, query: dict, base: str) -> None:
        try:
            post_id = int(query.get("post", ["0"])[0])
            page = int(query.get("page", ["1"])[0])
            per_page = int(query.get("per_page", ["10"])[0])  # WordPress's default page size is 10
        except ValueError:
            return self._send(400, '{"code":"rest_invalid_param"}', "application/json")
        art = self.site.by_post_id(post_id)
        per_page = max(1, min(per_page, REST_PER_PAGE, (art.rest_per_page if art else None) or REST_PER_PAGE))
        if art is None:
            return self._send(200, "[]", "application/json; charset=UTF-8", {"X-WP-Total": "0", "X-WP-TotalPages": "0"})
        if art.rest_status:
            return self._send(art.rest_status, '{"code":"internal_server_error"}', "application/json; charset=UTF-8")
        if not art.rest_enabled:
            return self._send(401, '{"code":"rest_cannot_read","message":"Sorry, you are not allowed to list '
                                   'comments.","data":{"status":401}}', "application/json; charset=UTF-8")
        body, total, pages = R.rest_comments(self.site, art, base, page, per_page)
        if page > pages:
            return self._send(400, '{"code":"rest_comment_invalid_page_number"}', "application/json")
        return self._send(200, body, "application/json; charset=UTF-8",
                          {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)})


class _Listener(ThreadingHTTPServer):
    # socketserver listens with a backlog of 5: a crawler opening 16 connections at once overflows it, the
    # kernel drops the extra SYNs and the client waits a retransmission timeout (~1 s) — a stall no real site
    # shows. Web servers listen with hundreds (nginx: 511).
    request_queue_size = 512
    daemon_threads = True

    def handle_error(self, request, client_address):
        """A client that went away mid-answer (a crawl stopped, a timeout) is no server error: one debug line,
        not socketserver's traceback on stderr. Anything else keeps the traceback."""
        exc = sys.exc_info()[1]
        if isinstance(exc, (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)):
            logger.debug("demo site: client %s:%s went away (%s)", *client_address[:2], type(exc).__name__)
            return
        super().handle_error(request, client_address)


class DemoServer:
    """Serve a :class:`DemoSite` on 127.0.0.1 in a daemon thread."""

    def __init__(self, site: DemoSite | None = None, port: int = 0, latency_ms: float = 0.0) -> None:
        self.site = site or DemoSite()
        handler = type("Handler", (_Handler,), {"site": self.site, "latency": max(0.0, latency_ms) / 1000})
        self.httpd = _Listener(("127.0.0.1", port), handler)
        self.port = self.httpd.server_address[1]
        self._thread: threading.Thread | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def partner_base(self) -> str:
        return f"http://localhost:{self.port}"

    def start(self) -> "DemoServer":
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="demo-site", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m crawler.demo_site.server",
                                 description="Serve the demo site on 127.0.0.1 in the foreground.")
    ap.add_argument("--port", type=int, default=8765, help="port to listen on (0 = a free one, printed)")
    ap.add_argument("--articles", type=int, default=12, help="generated stories (default 12)")
    ap.add_argument("--comments", type=int, default=6, help="comments per story (default 6)")
    ap.add_argument("--latency-ms", type=float, default=0.0, help="delay before every response, in ms")
    ap.add_argument("--changes", help="JSON file of site changes applied before serving (DemoSite.apply_changes)")
    ap.add_argument("--reddit-budget", type=int, default=None,
                    help="requests per minute the Reddit-style API allows (default 100, as reddit.com); a crawl "
                         "of this server is told the same with -s REDDIT_RATELIMIT_PER_MINUTE")
    args = ap.parse_args(argv)
    site = DemoSite(n_articles=args.articles, comments_per_article=args.comments)
    if args.changes:
        with open(args.changes) as fh:
            site.apply_changes(json.load(fh))
    srv = DemoServer(site, port=args.port, latency_ms=args.latency_ms)
    if args.reddit_budget is not None:
        from .apis import apis_for
        apis_for(site, srv.base).reddit.budget = max(1, args.reddit_budget)
    # one line on stdout, flushed: scripts that start the server with --port 0 read the port from it
    print(f"demo site on {srv.base}/ and {srv.partner_base}/ port={srv.port} (Ctrl-C to stop)", flush=True)
    try:
        srv.httpd.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    finally:
        srv.httpd.server_close()
    sys.exit(0)


if __name__ == "__main__":
    main()
