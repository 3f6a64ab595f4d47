"""Scale: memory, state size and speed of the full demo crawl at a given size, in a child process.

    python benchmarks/scale.py --articles 20000 --comments 50 [--out DIR] [--keep]

Runs ``scrapy crawl demo -a articles=N -a comments=M`` (the real command, every pipeline step, the Parquet
commit) in a child process with ``OUTPUT_DIR`` in a fresh directory and samples, every second from
``/proc``, the resident set size of the crawl process and of its descendants (the language worker). Rows
written so far are read from Scrapy's periodic stats log line (``export/rows/*``, every second), so the
samples can be placed at 10 %, 25 %, 50 % and 100 % of the run's rows. Then a second run over the same
output (the incremental case: same site, nothing changed, same state) is timed.

Prints: RSS of the crawl at 10/25/50/100 % of rows and its peak (peak includes the commit after the last
row), the worker's peak, the state files' size (``_state/``) in bytes per committed record, Parquet bytes,
rows/s of the first run (rows ÷ wall time of the child, start-up and commit included) and the second run's
wall time. The machine may be shared: compare figures within one invocation.

The demo site is served by its own process (``python -m crawler.demo_site.server``; the crawl runs with ``-a
serve=no``), started once for both runs: generating and serving the site is the site's work, not the
crawler's, so its CPU, memory and threads are kept out of the crawl process (in the crawl process its
request threads compete with the crawl for the GIL: the 300 x 50 crawl took 77 s wall there against 34 s
with the server apart, for the same rows). Its RSS and CPU are printed on their own line.

Politeness for the local demo server: the demo spider already crawls its own 127.0.0.1 server without
AutoThrottle or DOWNLOAD_DELAY. Its Reddit-style API answers with Reddit's budget of 100 requests a minute
(and the crawl obeys that, and HN Algolia's 10,000 an hour), which at 20,000 articles (two Reddit lookups and
one HN lookup per article) would make the crawl wait for hours; the benchmark therefore starts the server
with ``--reddit-budget`` = ``--api-budget`` and tells the crawl the same budgets (``REDDIT_RATELIMIT_PER_MINUTE``,
``HN_ALGOLIA_RATELIMIT_PER_HOUR``, ``HN_FIREBASE_RATELIMIT_PER_MINUTE``). Printed as the first line.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PAGE = os.sysconf("SC_PAGE_SIZE")
ROWS_LINE = re.compile(r'"export/rows/(\w+)": (\d+)')


def rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * PAGE / 2**20
    except (OSError, IndexError, ValueError):
        return 0.0


TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (the machine is shared: wall time says little)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    except (OSError, IndexError, ValueError):
        return 0.0


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children of children too), from /proc/*/stat's parent field."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        kids = parents.get(todo.pop(), [])
        out += kids
        todo += kids
    return out


def is_derive(pid: int) -> bool:
    """Whether a descendant is the post-commit derived-files child (pipelines/dataset/derive.py), not the worker."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return b"pipelines.dataset.derive" in fh.read()
    except OSError:
        return False


MILESTONES = (0.10, 0.25, 0.50, 0.75)


class Sampler(threading.Thread):
    """Samples (seconds, rows so far, crawl RSS MB, largest descendant RSS MB) every ``interval`` s."""

    def __init__(self, proc: subprocess.Popen, interval: float = 1.0, expected: int = 0, server_pid: int = 0):
        super().__init__(daemon=True)
        self.server_pid, self.server_peak, self.server_cpu = server_pid, 0.0, 0.0
        self.derive_peak = 0.0  # the child that writes latest/, card, croissant, report after the commit
        self.derive_seen: list[float] = []  # when it was seen (first, last: its wall time to about 1 s)
        self.derive_cpu: dict[int, float] = {}
        self.expected = expected  # rows the site should give (for the live lines only)
        self.proc, self.interval = proc, interval
        self.rows = 0
        self.closing_at: float | None = None  # when Scrapy began closing the spider: every row written
        self._current: dict[str, int] = {}  # export/rows/<table> as last logged (one table per log line)
        self.samples: list[tuple[float, int, float, float]] = []
        self.t0 = time.perf_counter()
        self.cpu_crawl = 0.0
        self.cpu_worker: dict[int, float] = {}

    def run(self) -> None:
        shown = 0
        while self.proc.poll() is None:
            if self.expected and shown < len(MILESTONES) and self.rows >= MILESTONES[shown] * self.expected:
                print(f"  [live] {MILESTONES[shown]:.0%} of the expected rows at t={time.perf_counter() - self.t0:.0f} s: "
                      f"crawl RSS {rss_mb(self.proc.pid):.1f} MB", flush=True)  # in case the run never ends
                shown += 1
            crawl = rss_mb(self.proc.pid)
            kids = [p for p in descendants(self.proc.pid) if not is_derive(p)]  # the language worker
            worker = max((rss_mb(p) for p in kids), default=0.0)
            for p in descendants(self.proc.pid):
                if is_derive(p):
                    self.derive_peak = max(self.derive_peak, rss_mb(p))
                    self.derive_seen = [self.derive_seen[0] if self.derive_seen else time.perf_counter() - self.t0,
                                        time.perf_counter() - self.t0]
                    self.derive_cpu[p] = max(self.derive_cpu.get(p, 0.0), cpu_seconds(p))
            self.samples.append((time.perf_counter() - self.t0, self.rows, crawl, worker))
            self.cpu_crawl = max(self.cpu_crawl, cpu_seconds(self.proc.pid))
            for p in kids:
                self.cpu_worker[p] = max(self.cpu_worker.get(p, 0.0), cpu_seconds(p))
            if self.server_pid:
                self.server_peak = max(self.server_peak, rss_mb(self.server_pid))
                self.server_cpu = max(self.server_cpu, cpu_seconds(self.server_pid))
            time.sleep(self.interval)

    def read_log(self, stream) -> None:
        """Follow the child's log: the periodic stats line carries the cumulative export/rows/* counters."""
        current = self._current
        for line in stream:
            if self.closing_at is None and "Closing spider" in line:
                self.closing_at = time.perf_counter() - self.t0
            found = ROWS_LINE.findall(line)
            if found:
                current.update((t, int(n)) for t, n in found)
                self.rows = sum(current.values())


def free_port() -> int:
    """One free port for both runs: the demo's URLs (and so its ids) contain the port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(articles: int, comments: int, api_budget: int, log: Path) -> tuple[subprocess.Popen, int]:
    """The demo site in its own process on a free port (printed on its first stdout line)."""
    cmd = [sys.executable, "-m", "crawler.demo_site.server", "--port", "0", "--articles", str(articles),
           "--comments", str(comments), "--reddit-budget", str(api_budget)]
    err = open(log, "w")
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=err, text=True)
    line = proc.stdout.readline()
    m = re.search(r"port=(\d+)", line)
    if not m:
        proc.kill()
        sys.exit(f"the demo server did not start (see {log}): {line!r}")
    return proc, int(m.group(1))


def budget_settings(api_budget: int) -> list[str]:
    return ["-s", f"REDDIT_RATELIMIT_PER_MINUTE={api_budget}", "-s", f"HN_ALGOLIA_RATELIMIT_PER_HOUR={60 * api_budget}",
            "-s", f"HN_FIREBASE_RATELIMIT_PER_MINUTE={api_budget}"]


def crawl(out: Path, articles: int, comments: int, port: int, log: Path,
          extra: list[str], server_pid: int = 0) -> tuple[Sampler, float, int]:
    os.chdir(REPO)
    from scrapy.utils.project import get_project_settings

    extensions = {**get_project_settings().getdict("EXTENSIONS"), "scrapy.extensions.periodic_log.PeriodicLog": 0}
    cmd = [sys.executable, "-m", "scrapy", "crawl", "demo", "-a", f"articles={articles}", "-a",
           f"comments={comments}", "-a", f"port={port}", "-s", f"OUTPUT_DIR={out}", "-s", "LOG_LEVEL=INFO",
           "-s", "LOGSTATS_INTERVAL=1", "-s", f"EXTENSIONS={json.dumps(extensions)}",
           "-s", 'PERIODIC_LOG_STATS={"include": ["export/rows/"]}',
           "-s", 'PERIODIC_LOG_DELTA={"include": ["-nothing-"]}', "-s", "TELNETCONSOLE_ENABLED=false", *extra]
    if server_pid:
        cmd[cmd.index(f"port={port}") + 1:cmd.index(f"port={port}") + 1] = ["-a", "serve=no"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with open(log, "w") as fh:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=fh, stderr=subprocess.PIPE, text=True)
        sampler = Sampler(proc, expected=articles * (comments + 2), server_pid=server_pid)
        sampler.start()
        for line in proc.stderr:  # the log goes to stderr; keep a copy
            fh.write(line)
            sampler.read_log([line])
        proc.wait()
        sampler.join()
    elapsed = time.perf_counter() - sampler.t0
    return sampler, elapsed, proc.returncode


def dir_bytes(path: Path, suffix: str = "") -> int:
    return sum(p.stat().st_size for p in path.rglob(f"*{suffix}") if p.is_file()) if path.exists() else 0


def committed_rows(out: Path) -> dict[str, int]:
    rows: dict[str, int] = {}
    for m in sorted((out / "_manifests").glob("*.json")):
        for table, n in json.loads(m.read_text()).get("rows", {}).items():
            rows[table] = rows.get(table, 0) + n
    return rows


def at_share(sampler: Sampler, total_rows: int, share: float) -> tuple[float, float] | None:
    """(crawl RSS, seconds) of the first sample at which ``share`` of the run's rows were written; 100 %: the
    first sample after Scrapy began closing the spider (every row written, the commit starting)."""
    samples = sampler.samples
    if share >= 1.0 and sampler.closing_at is not None:
        after = [s for s in samples if s[0] >= sampler.closing_at]
        if after:
            return after[0][2], after[0][0]
    for t, rows, crawl_mb, _ in samples:
        if rows >= share * total_rows:
            return crawl_mb, t
    if share >= 1.0 and samples:
        return samples[-1][2], samples[-1][0]
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=int, default=2000)
    ap.add_argument("--comments", type=int, default=50)
    ap.add_argument("--out", help="output directory (default: a fresh temporary one, removed afterwards)")
    ap.add_argument("--keep", action="store_true", help="keep the output directory")
    ap.add_argument("--no-second-run", action="store_true")
    ap.add_argument("--api-budget", type=int, default=60000,
                    help="requests per minute of the local demo server's Reddit-style API, and the crawl's budgets "
                         "for it (HN Algolia: 60 x this per hour); 100 = reddit.com's real budget")
    ap.add_argument("--serve-in-crawl", action="store_true",
                    help="serve the demo site inside the crawl process (scrapy crawl demo's default) instead")
    ap.add_argument("-s", dest="settings", action="append", default=[], help="extra Scrapy setting NAME=VALUE")
    args = ap.parse_args()
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="scale-"))
    if out.exists() and any(out.iterdir()):
        sys.exit(f"{out} is not empty")
    extra = budget_settings(args.api_budget) + [x for s in args.settings for x in ("-s", s)]
    server = None
    print(f"politeness for the local demo server (127.0.0.1, ours): no AutoThrottle, no DOWNLOAD_DELAY (the demo "
          f"spider's own settings); API budgets {args.api_budget}/min Reddit-style, {60 * args.api_budget}/h HN "
          f"Algolia, {args.api_budget}/min HN Firebase (server and crawl; reddit.com's is 100/min)", flush=True)
    try:
        if args.serve_in_crawl:
            port, server_pid = free_port(), 0
            extra = extra[6:]  # the in-crawl server keeps Reddit's 100/min, which the crawl obeys from its headers
            print("demo server: inside the crawl process (its threads and memory count as the crawl's; its APIs "
                  "keep reddit.com's 100/min: --api-budget does not apply)")
        else:
            server, port = serve(args.articles, args.comments, args.api_budget, out.parent / f"{out.name}-server.log")
            server_pid = server.pid
            print(f"demo server: its own process (pid {server_pid}, port {port}); crawl with -a serve=no", flush=True)
        sampler, elapsed, rc = crawl(out, args.articles, args.comments, port, out.parent / f"{out.name}-run1.log", extra,
                                     server_pid)
        rows = committed_rows(out)
        total = sum(rows.values())
        state = dir_bytes(out / "_state")
        parquet = sum(dir_bytes(out / t, ".parquet") for t in ("articles", "threads", "comments"))
        peak = max((s[2] for s in sampler.samples), default=0.0)
        worker = max((s[3] for s in sampler.samples), default=0.0)
        print(f"demo site: {args.articles} articles x {args.comments} comments; exit code {rc}")
        print(f"rows committed: {total:,} ({', '.join(f'{t} {n:,}' for t, n in sorted(rows.items()))})")
        cpu_w = sum(sampler.cpu_worker.values())
        print(f"first run: {elapsed:.1f} s wall, {total / elapsed:,.0f} rows/s; CPU: crawl process "
              f"{sampler.cpu_crawl:.1f} s ({total / max(sampler.cpu_crawl, 1e-9):,.0f} rows per CPU second), "
              f"language worker {cpu_w:.1f} s (CPU seen up to the last 1-s sample)")
        print("crawl-process RSS at share of rows written:")
        for share in (0.10, 0.25, 0.50, 1.00):
            hit = at_share(sampler, total, share)
            print(f"  {share:>4.0%}: " + (f"{hit[0]:7.1f} MB (t={hit[1]:.0f} s)" if hit else "   (no sample)"))
        print(f"crawl-process peak RSS: {peak:.1f} MB (commit included)")
        if sampler.closing_at is not None:
            crawl_peak = max((s[2] for s in sampler.samples if s[0] < sampler.closing_at), default=0.0)
            commit_peak = max((s[2] for s in sampler.samples if s[0] >= sampler.closing_at), default=0.0)
            print(f"  while crawling: {crawl_peak:.1f} MB; closing + commit "
                  f"({elapsed - sampler.closing_at:.0f} s): {commit_peak:.1f} MB")
        r25, r100 = at_share(sampler, total, 0.25), at_share(sampler, total, 1.0)
        if r25 and r100:
            print(f"RSS at 100 % / RSS at 25 %: {r100[0] / r25[0]:.3f}; peak / RSS at 25 %: {peak / r25[0]:.3f}")
        print(f"language worker peak RSS: {worker:.1f} MB")
        print(f"derived-files child after the commit (latest/, card, croissant, report; its own process): peak RSS "
              f"{sampler.derive_peak:.1f} MB")
        if sampler.derive_seen and sampler.closing_at is not None:  # the close phase split: commit, then the child
            first, last = sampler.derive_seen
            print(f"  close phase split: before the child {first - sampler.closing_at:.0f} s (labels, files, state "
                  f"commit); child seen {last - first + 1:.0f} s (1-s samples), CPU {sum(sampler.derive_cpu.values()):.1f} s "
                  f"up to its last sample")
        if server_pid:
            print(f"demo server process (not the crawl): peak RSS {sampler.server_peak:.1f} MB, "
                  f"CPU {sampler.server_cpu:.1f} s")
        files = {p.name: p.stat().st_size for p in sorted((out / '_state').glob('*')) if p.is_file()}
        print(f"state: {state:,} bytes = {state / max(total, 1):.1f} bytes/record "
              f"({', '.join(f'{k} {v:,}' for k, v in files.items())})")
        print(f"parquet: {parquet:,} bytes = {parquet / max(total, 1):.1f} bytes/record")
        if not args.no_second_run:
            s2, e2, rc2 = crawl(out, args.articles, args.comments, port, out.parent / f"{out.name}-run2.log", extra,
                                server_pid)
            rows2 = sum(committed_rows(out).values()) - total
            peak2 = max((s[2] for s in s2.samples), default=0.0)
            state2 = dir_bytes(out / "_state")
            print(f"second (incremental) run over the same state: {e2:.1f} s wall ({s2.cpu_crawl:.1f} s CPU), exit code {rc2}, "
                  f"{rows2:,} new rows, peak RSS {peak2:.1f} MB, state now {state2:,} bytes")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if not args.keep and not args.out:
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
