"""A shared-mode worker is polite per host: with CONCURRENT_REQUESTS_PER_DOMAIN=1 the demo server (with a
latency per response, as a remote site) never answers two of its requests to one host at once.

Scrapy 2.19's own downloader lets every queued request of a slot start at once under the asyncio reactor when
there is no download delay (crawler/downloader.py); shared mode uses the downloader that holds the limit, and
more workers, each polite, are how a shared crawl gets faster (benchmarks/scale_out.py).
"""
from __future__ import annotations

import os
import subprocess
import sys
import threading

from crawler.demo_site.server import DemoServer
from crawler.demo_site.site import DemoSite

from .conftest import REPO
from .services import redis_service  # noqa: F401  (fixture)


class PeakServer:
    """The demo server, counting how many requests per Host it is answering at once (the most seen)."""

    def __init__(self, latency_ms: float):
        self.srv = DemoServer(DemoSite(n_articles=20), latency_ms=latency_ms)
        self.peak: dict[str, int] = {}
        self.answered = 0
        now: dict[str, int] = {}
        lock = threading.Lock()
        handler = self.srv.httpd.RequestHandlerClass
        original = handler.do_GET

        def do_get(h):
            host = h.headers.get("Host", "").split(":")[0]
            with lock:
                now[host] = now.get(host, 0) + 1
                self.peak[host] = max(self.peak.get(host, 0), now[host])
            try:
                original(h)
            finally:
                with lock:
                    now[host] -= 1
                    self.answered += 1

        handler.do_GET = do_get
        self.srv.start()


def test_one_request_per_host_at_a_time(redis_service, tmp_path):  # noqa: F811
    site = PeakServer(latency_ms=20)
    try:
        cmd = [sys.executable, "-m", "scrapy", "crawl", "demo", "-a", "serve=no", "-a", f"port={site.srv.port}",
               "-s", f"OUTPUT_DIR={tmp_path / 'shared'}", "-s", f"REDIS_URL={redis_service.url}",
               "-s", "REDIS_KEY_PREFIX=polite", "-s", "WORKER_ID=w1", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1",
               "-s", "DISCUSSION_LOOKUP=none", "-s", "LANGUAGE_WORKER=false", "-s", "LOG_LEVEL=WARNING"]
        done = subprocess.run(cmd, cwd=REPO, env=dict(os.environ, PYTHONPATH=str(REPO)), capture_output=True,
                              text=True, timeout=300)
    finally:
        site.srv.stop()
    assert done.returncode == 0, done.stderr[-3000:]
    assert site.answered > 40  # enough requests queued at once for a burst to show
    assert site.peak and all(n == 1 for n in site.peak.values()), site.peak
