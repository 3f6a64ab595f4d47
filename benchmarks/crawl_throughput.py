"""Crawl throughput: the full demo crawl (parsers, adapters, pipelines, Parquet) against a bare Scrapy spider
that only fetches and parses the same pages of the same scaled-up demo site, in one run.

    python benchmarks/crawl_throughput.py --articles 300 --comments 20

Each side runs in its own subprocess (so peak RSS is its own; the full crawl's language worker process
is shown in its own column). Both sides use the same settings (16 concurrent requests, no delays), the
same demo server (in the crawl process) and alternate --repeat times; the best of each is shown. Prints
pages/s, peak RSS, rows/s and, as the last line, ``pipeline/raw ratio: X`` (full pages/s ÷ bare pages/s).
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

COMMON = {
    "LOG_LEVEL": "WARNING", "AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0, "CONCURRENT_REQUESTS": 16,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 8, "TELNETCONSOLE_ENABLED": False,
    "DISCUSSION_LOOKUP": "none",  # the raw baseline fetches pages only; API lookups would not compare like for like
}


def run_full(articles: int, comments: int, out: str) -> dict:
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    settings.setdict({**COMMON, "OUTPUT_DIR": out}, priority="cmdline")
    proc = CrawlerProcess(settings)
    crawler = proc.create_crawler("demo")
    proc.crawl(crawler, articles=articles, comments=comments)
    t0 = time.perf_counter()
    proc.start()
    elapsed = time.perf_counter() - t0
    stats = crawler.stats.get_stats()
    rows = sum(v for k, v in stats.items() if k.startswith("export/rows/"))
    return {"pages": stats.get("response_received_count", 0), "seconds": elapsed, "rows": rows,
            "worker_rss_mb": stats.get("pipeline/language/worker_peak_rss_mb")}


def run_bare(articles: int, comments: int) -> dict:
    """Plain Scrapy: follow the same feed → article → REST comment pages, parse each with a selector."""
    import scrapy
    from scrapy.crawler import CrawlerProcess

    from crawler.demo_site.server import DemoServer
    from crawler.demo_site.site import DemoSite

    server = DemoServer(DemoSite(n_articles=articles, comments_per_article=comments)).start()

    class Bare(scrapy.Spider):
        name = "bare"

        async def start(self):
            for base in (server.base, server.partner_base):
                yield scrapy.Request(f"{base}/feed/", callback=self.parse_feed)
            yield scrapy.Request(f"{server.base}/news-sitemap.xml", callback=self.parse_feed)

        def parse_feed(self, response):
            for link in response.xpath("//*[local-name()='link' or local-name()='loc']/text()").getall():
                yield response.follow(link.split("?")[0], callback=self.parse_page)

        def parse_page(self, response):
            title = response.css("title::text").get()
            text = " ".join(response.css(".entry-content p::text").getall())
            api = response.css('link[rel="https://api.w.org/"]::attr(href)').get()
            post = response.css("body::attr(class)").re_first(r"postid-(\d+)")
            if api and post:
                yield response.follow(f"{api}wp/v2/comments?post={post}&per_page=100&page=1",
                                      callback=self.parse_comments)
            yield {"title": title, "n": len(text)}

        def parse_comments(self, response):
            data = response.json() if response.status == 200 else []
            pages = int(response.headers.get("X-WP-TotalPages", b"1"))
            if "page=1" in response.url:
                for p in range(2, pages + 1):
                    yield response.follow(response.url.replace("page=1", f"page={p}"), callback=self.parse_comments)
            for c in data:
                yield {"id": c["id"]}

    proc = CrawlerProcess({**COMMON, "ROBOTSTXT_OBEY": True})
    crawler = proc.create_crawler(Bare)
    proc.crawl(crawler)
    t0 = time.perf_counter()
    proc.start()
    elapsed = time.perf_counter() - t0
    server.stop()
    stats = crawler.stats.get_stats()
    return {"pages": stats.get("response_received_count", 0), "seconds": elapsed,
            "rows": stats.get("item_scraped_count", 0)}


def child(mode: str, articles: int, comments: int) -> None:
    with tempfile.TemporaryDirectory() as out:
        res = run_full(articles, comments, out) if mode == "full" else run_bare(articles, comments)
    res["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(res))


def measure(mode: str, articles: int, comments: int) -> dict:
    cmd = [sys.executable, __file__, "--child", mode, "--articles", str(articles), "--comments", str(comments)]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=True)
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=int, default=300)
    ap.add_argument("--comments", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=1, help="alternate bare/full runs this many times; best of each")
    ap.add_argument("--child", choices=["full", "bare"])
    args = ap.parse_args()
    if args.child:
        return child(args.child, args.articles, args.comments)
    best: dict[str, dict] = {}
    for _ in range(args.repeat):
        for mode in ("bare", "full"):
            r = measure(mode, args.articles, args.comments)
            r["pages_per_s"] = r["pages"] / r["seconds"]
            r["rows_per_s"] = r["rows"] / r["seconds"]
            if mode not in best or r["pages_per_s"] > best[mode]["pages_per_s"]:
                best[mode] = r
    print(f"demo site: {args.articles} articles x {args.comments} comments")
    print(f"{'spider':<8}{'pages':>8}{'seconds':>10}{'pages/s':>10}{'rows':>9}{'rows/s':>10}{'peak RSS MB':>13}"
          f"{'+ worker MB':>13}")
    for mode in ("bare", "full"):
        r = best[mode]
        worker = r.get("worker_rss_mb")
        print(f"{mode:<8}{r['pages']:>8}{r['seconds']:>10.2f}{r['pages_per_s']:>10.1f}{r['rows']:>9}"
              f"{r['rows_per_s']:>10.1f}{r['peak_rss_mb']:>13.1f}{worker if worker is not None else '-':>13}")
    print(f"pipeline/raw ratio: {best['full']['pages_per_s'] / best['bare']['pages_per_s']:.2f}")


if __name__ == "__main__":
    main()
