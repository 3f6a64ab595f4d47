"""Scale-out: pages/s of 1 worker vs 3 workers sharing one REDIS_URL and one s3:// dataset, on the demo site
with a per-response latency (an I/O-bound crawl, as real crawls are). Prints figures; never passes or fails.

    python benchmarks/scale_out.py [--articles 600] [--latency-ms 50] [--per-domain 1] [--workers 1,3] [--kill]

Starts a real redis-server and moto's S3 server on free 127.0.0.1 ports (as the tests do), and the demo server
in this process (it counts the requests it answers and when). Each configuration crawls the same site into a
fresh dataset and a fresh Redis prefix. Two rates per configuration:

* crawl pages/s: responses served / (last response - first response): the crawl itself;
* end-to-end pages/s: responses / wall time from starting the processes to the last one exiting (process
  start-up, the round barrier, labelling and the S3 commit included).

The discussion lookup by URL is off (``--lookup auto`` turns it on): it is bound by the APIs' budgets, which all
workers share. ``--per-domain`` is each worker's CONCURRENT_REQUESTS_PER_DOMAIN (default 1: a polite worker sends one
request at a time to a host, so the crawl is bound by the latency, not the CPU, and more workers is how it gets
faster); the server reports the most requests it answered at once per host (at most workers x per-domain: shared
mode's downloader holds the limit, crawler/downloader.py). Each configuration also prints the workers' CPU time
per response and the load average before and after it: on a machine shared with other work the 3-worker figure
is CPU-bound as soon as the workers' CPU (about 12 ms a page, plus start-up) does not fit in what is left. ``--kill`` also kills one of the workers
with -9 mid-run and restarts it (the Must-show scenario at full size), then checks the dataset against a
single-process run's ids, versions and labels.
"""
from __future__ import annotations

import argparse
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from crawler.demo_site.server import DemoServer  # noqa: E402
from crawler.demo_site.site import DemoSite  # noqa: E402

# The discussion lookup by URL (Reddit/HN APIs) is bound by the APIs' budgets, which are per client and shared by
# every worker (the servers' X-Ratelimit headers are obeyed): more workers do not make it faster, by design.
# The benchmark measures page crawling, so it is off unless --lookup is given.
LOOKUP = "none"


class CountingServer:
    def __init__(self, articles: int, comments: int, latency_ms: float):
        self.srv = DemoServer(DemoSite(n_articles=articles, comments_per_article=comments), latency_ms=latency_ms)
        self.times: list[float] = []
        self.inflight: dict[str, int] = {}
        self.peak: dict[str, int] = {}  # the most requests the server answered at once, per Host
        lock = threading.Lock()
        handler = self.srv.httpd.RequestHandlerClass
        # TCP_NODELAY: the handler writes headers and body separately on a kept-alive (HTTP/1.1) connection, and
        # with Nagle's algorithm the body waits for the client's delayed ACK, ~40 ms a response (measured: 10.1
        # vs 17.7 pages/s for one worker); a web server sends them without that stall
        handler.disable_nagle_algorithm = True
        original = handler.do_GET
        times, inflight, peak = self.times, self.inflight, self.peak

        def do_get(h):
            host = h.headers.get("Host", "").split(":")[0]
            with lock:
                inflight[host] = inflight.get(host, 0) + 1
                peak[host] = max(peak.get(host, 0), inflight[host])
            try:
                original(h)
            finally:
                with lock:
                    inflight[host] -= 1
                    times.append(time.monotonic())

        handler.do_GET = do_get
        self.srv.start()

    def reset(self) -> None:
        self.times.clear()
        self.peak.clear()


def run_workers(n: int, port: int, redis_url: str, endpoint: str, dataset: str, prefix: str, per_domain: int,
                logdir: Path, kill: bool = False) -> tuple[float, list[int]]:
    from tests.services import S3_ENV

    env = dict(os.environ, PYTHONPATH=str(REPO), S3_ENDPOINT_URL=endpoint, **S3_ENV)

    def start(k: int):
        cmd = [sys.executable, "-m", "scrapy", "crawl", "demo", "-a", "serve=no", "-a", f"port={port}",
               "-s", f"OUTPUT_DIR={dataset}", "-s", f"REDIS_URL={redis_url}", "-s", f"REDIS_KEY_PREFIX={prefix}",
               "-s", f"WORKER_ID=w{k}", "-s", f"CONCURRENT_REQUESTS_PER_DOMAIN={per_domain}",
               "-s", "REDIS_LEASE_SECONDS=3", "-s", "LOG_LEVEL=INFO", "-s", "CRAWL_CLOCK=2026-11-20T12:00:00+00:00",
               "-s", f"DISCUSSION_LOOKUP={LOOKUP}"]
        return subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL,
                                stderr=open(logdir / f"{prefix}-w{k}.log", "a"), env=env)

    t0 = time.monotonic()
    procs = {k: start(k) for k in range(1, n + 1)}
    if kill and n > 1:
        time.sleep(8)
        procs[2].send_signal(signal.SIGKILL)
        procs[2].wait()
        print("  killed w2 with -9 mid-run; restarting it", flush=True)
        procs[2] = start(2)
    codes = [p.wait() for p in procs.values()]
    return time.monotonic() - t0, codes


def compare_with_single_process(port: int, dataset: str, endpoint: str, tmp: Path) -> None:
    """The killed-and-restarted 3-worker dataset against one local process crawling the same site."""
    import pyarrow.dataset as pads

    from crawler.shared.objectstore import read_table
    from tests.services import S3_ENV

    os.environ.update(S3_ENV)
    ref = tmp / "reference"
    subprocess.run([sys.executable, "-m", "scrapy", "crawl", "demo", "-a", "serve=no", "-a", f"port={port}",
                    "-s", f"OUTPUT_DIR={ref}", "-s", "CRAWL_CLOCK=2026-11-20T12:00:00+00:00", "-s", "LOG_LEVEL=WARNING",
                    "-s", f"DISCUSSION_LOOKUP={LOOKUP}"],
                   cwd=REPO, env=dict(os.environ, PYTHONPATH=str(REPO)), check=True, capture_output=True)
    ids = {"articles": "article_id", "threads": "thread_id", "comments": "comment_id"}
    for table, col in ids.items():
        ref_ds = pads.dataset(ref / table, format="parquet", partitioning="hive")
        cols = [c for c in (col, "version", "duplicate_of", "duplicate_reason", "cluster_id") if c in ref_ds.schema.names]
        a = ref_ds.to_table(columns=cols).to_pylist()
        b = read_table(dataset, table, columns=cols, endpoint=endpoint).to_pylist()
        key = lambda r: (r[col], r["version"])  # noqa: E731
        dup = len(b) - len({key(r) for r in b})
        same = sorted(map(tuple, (r.values() for r in a))) == sorted(map(tuple, (r.values() for r in b)))
        print(f"  {table}: single process {len(a)} rows, 3 workers {len(b)} rows; duplicate (id, version) rows "
              f"{dup}; ids, versions and labels equal: {same}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--articles", type=int, default=600)
    ap.add_argument("--comments", type=int, default=6)
    ap.add_argument("--latency-ms", type=float, default=50)
    ap.add_argument("--per-domain", type=int, default=1)
    ap.add_argument("--workers", default="1,3")
    ap.add_argument("--kill", action="store_true")
    ap.add_argument("--lookup", default="none", help="DISCUSSION_LOOKUP for the workers (default none)")
    args = ap.parse_args()
    global LOOKUP
    LOOKUP = args.lookup

    from tests.services import make_bucket, start_redis, start_s3

    tmp = Path(tempfile.mkdtemp(prefix="scale_out-"))
    try:
        redis_svc = start_redis(tmp)
        s3_svc = start_s3()
    except BaseException as exc:  # pytest.skip outside pytest
        sys.exit(f"cannot start the services: {exc}")
    try:
        time.sleep(1)
        make_bucket(s3_svc.url, "bench")
        site = CountingServer(args.articles, args.comments, args.latency_ms)
        print(f"demo site: {args.articles} articles x {args.comments} comments, {args.latency_ms:.0f} ms per "
              f"response, CONCURRENT_REQUESTS_PER_DOMAIN={args.per_domain} per worker; machine: "
              f"{os.cpu_count()} cores (shared with other work)")
        results, last = {}, None
        for n in [int(x) for x in args.workers.split(",")]:
            site.reset()
            prefix = f"bench{n}-{int(time.time())}"
            cpu0, load0 = resource.getrusage(resource.RUSAGE_CHILDREN), os.getloadavg()[0]
            wall, codes = run_workers(n, site.srv.port, redis_svc.url, s3_svc.url, f"s3://bench/{prefix}", prefix,
                                      args.per_domain, tmp, kill=args.kill)
            times = sorted(site.times)
            pages = len(times)
            crawl = (times[-1] - times[0]) if pages > 1 else float("nan")
            results[n] = pages / crawl
            last = f"s3://bench/{prefix}" if n > 1 else last
            cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)
            print(f"{n} worker(s): {pages} responses; crawl {crawl:.1f} s = {pages / crawl:.1f} pages/s; "
                  f"end-to-end {wall:.1f} s = {pages / wall:.1f} pages/s; exit codes {codes}; worker CPU "
                  f"{cpu:.1f} s ({1000 * cpu / max(pages, 1):.1f} ms/response incl. start-up and commit); load "
                  f"average {load0:.1f} -> {os.getloadavg()[0]:.1f}; most requests answered at once per host "
                  f"{dict(sorted(site.peak.items()))}", flush=True)
        if args.kill and last is not None:
            compare_with_single_process(site.srv.port, last, s3_svc.url, tmp)
        if 1 in results and 3 in results:
            print(f"speed-up 3 vs 1 (crawl pages/s): {results[3] / results[1]:.2f}x (goal >= 2.7x)")
        print(f"logs: {tmp}")
    finally:
        redis_svc.stop()
        s3_svc.stop()


if __name__ == "__main__":
    main()
