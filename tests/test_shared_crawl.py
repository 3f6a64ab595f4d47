"""Many workers, one dataset: 3 `scrapy crawl demo` processes share one REDIS_URL and one s3:// dataset on a
real redis-server and a real S3-compatible server (moto), crawling one standalone demo server. One worker is
killed with -9 mid-run and started again. The dataset, read through pyarrow's S3 filesystem by its manifests,
must equal a single-process run's: same ids and versions, same duplicate labels, no (id, version) twice. A
second round an hour later (crawl clock) revisits due pages and writes only what changed.

SHARED_TEST_ARTICLES (default 60) scales the site; `benchmarks/scale_out.py` runs the 600-article version.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

import pyarrow.dataset as pads
import pytest

from .conftest import REPO, run_crawl
from .services import S3_ENV, make_bucket, redis_service, s3_service  # noqa: F401  (fixtures)

ARTICLES = int(os.environ.get("SHARED_TEST_ARTICLES", "60"))
T0 = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
CHANGES = {"add_comments": {"101": 2}, "edit_articles": [108], "delete_articles": [104], "delete_comments": [1005]}
ID = {"articles": "article_id", "threads": "thread_id", "comments": "comment_id"}
LABELS = ("duplicate_of", "duplicate_reason", "cluster_id")


class DemoProcess:
    """`python -m crawler.demo_site.server` in its own process (the port it printed)."""

    def __init__(self, port: int = 0, changes: str | None = None, latency_ms: int = 10, articles: int = ARTICLES):
        cmd = [sys.executable, "-m", "crawler.demo_site.server", "--port", str(port), "--articles", str(articles),
               "--latency-ms", str(latency_ms)] + (["--changes", changes] if changes else [])
        self.proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, text=True,
                                     env=dict(os.environ, PYTHONPATH=str(REPO)))
        line = self.proc.stdout.readline()
        self.port = int(line.rsplit("port=", 1)[1].split()[0])

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def worker(n: int, port: int, clock: datetime, redis_url: str, endpoint: str, log) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "scrapy", "crawl", "demo", "-a", "serve=no", "-a", f"port={port}",
           "-s", "OUTPUT_DIR=s3://data/shared", "-s", f"REDIS_URL={redis_url}", "-s", f"WORKER_ID=w{n}",
           "-s", "REDIS_LEASE_SECONDS=2", "-s", f"CRAWL_CLOCK={clock.isoformat()}", "-s", "LOG_LEVEL=INFO",
           "-s", "LANGUAGE_WORKER=false"]
    env = dict(os.environ, PYTHONPATH=str(REPO), S3_ENDPOINT_URL=endpoint, **S3_ENV)
    return subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=log, env=env)


def taken(redis_url: str, worker_id: str) -> int:
    """Requests the running incarnation of a worker has taken from the shared queue and not yet committed."""
    import redis

    r = redis.Redis.from_url(redis_url)
    return sum(r.zcard(k) for k in r.scan_iter(match="cryptonews:*:r:*:taken:*") if worker_id_of(r, k) == worker_id)


def worker_id_of(r, key: bytes) -> str | None:
    members_key = key.rsplit(b":taken:", 1)[0] + b":members"
    inc = key.rsplit(b":taken:", 1)[1]
    wid = r.hget(members_key, inc)
    return wid.decode() if wid else None


def shared_round(port, clock, services, tmp_path, name, kill: bool):
    redis_url, endpoint = services
    logs = [open(tmp_path / f"{name}-w{n}.log", "w") for n in (1, 2, 3)]
    procs = {n: worker(n, port, clock, redis_url, endpoint, logs[n - 1]) for n in (1, 2, 3)}
    killed = None
    if kill:  # once w2 holds work it has not committed, kill it and start it again
        deadline = time.monotonic() + 120
        while taken(redis_url, "w2") < 5 and procs[2].poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert procs[2].poll() is None, "w2 finished before it could be killed: make the site larger"
        procs[2].send_signal(signal.SIGKILL)
        killed = procs[2].wait(30)
        logs[1].write("\n=== restarted after kill -9 ===\n")
        logs[1].flush()
        procs[2] = worker(2, port, clock, redis_url, endpoint, logs[1])
    codes = {n: p.wait(300) for n, p in procs.items()}
    for f in logs:
        f.close()
    errors = {n: (tmp_path / f"{name}-w{n}.log").read_text()[-3000:] for n, c in codes.items() if c != 0}
    assert not errors, errors
    return killed


def rows(table_data, table):
    t = table_data.to_pylist()
    return {(r[ID[table]], r["version"]): tuple(r.get(c) for c in LABELS) for r in t}, len(t)


def s3_tables(endpoint):
    os.environ.update(S3_ENV)
    from crawler.shared.objectstore import read_table

    return {t: read_table("s3://data/shared", t, endpoint=endpoint) for t in ID}


def local_tables(out):
    return {t: pads.dataset(out / t, format="parquet", partitioning="hive").to_table() for t in ID}


@pytest.fixture(scope="module")
def services(redis_service, s3_service):  # noqa: F811
    make_bucket(s3_service.url, "data")
    return redis_service.url, s3_service.url


@pytest.fixture(scope="module")
def rounds(services, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("shared")
    demo = DemoProcess()
    port = demo.port
    try:
        ref = tmp / "reference"
        first = run_crawl(ref, "-a", "serve=no", "-a", f"port={port}", "-s", f"CRAWL_CLOCK={T0.isoformat()}")
        assert first.returncode == 0, first.stderr[-3000:]
        killed = shared_round(port, T0, services, tmp, "round1", kill=True)
        after_first = {"ref": local_tables(ref), "shared": s3_tables(services[1])}
    finally:
        demo.stop()
    changes = tmp / "changes.json"
    changes.write_text(json.dumps(CHANGES))
    demo = DemoProcess(port, str(changes))  # the same site an hour later, on the same port (same ids)
    try:
        later = T0 + timedelta(hours=1)
        second = run_crawl(ref, "-a", "serve=no", "-a", f"port={port}", "-s", f"CRAWL_CLOCK={later.isoformat()}")
        assert second.returncode == 0, second.stderr[-3000:]
        shared_round(port, later, services, tmp, "round2", kill=False)
        after_second = {"ref": local_tables(ref), "shared": s3_tables(services[1])}
    finally:
        demo.stop()
    return {"killed": killed, "first": after_first, "second": after_second, "ref_stats": (first.stats, second.stats),
            "endpoint": services[1], "tmp": tmp}


def test_killed_worker_and_dataset_equals_single_process(rounds):
    assert rounds["killed"] == -signal.SIGKILL
    for table in ID:
        ref, n_ref = rows(rounds["first"]["ref"][table], table)
        got, n_got = rows(rounds["first"]["shared"][table], table)
        assert n_got == len(got), f"{table}: duplicate (id, version) rows"
        assert set(got) == set(ref), f"{table}: ids/versions differ"
        assert got == ref, f"{table}: duplicate labels differ"
    assert rounds["first"]["ref"]["articles"].num_rows >= ARTICLES


def test_second_round_revisits_and_writes_only_changes(rounds):
    first, second = rounds["first"]["shared"], rounds["second"]["shared"]
    for table in ID:
        ref, n_ref = rows(rounds["second"]["ref"][table], table)
        got, n_got = rows(second[table], table)
        assert n_got == len(got) and got == ref, table
    new_articles = second["articles"].num_rows - first["articles"].num_rows
    new_comments = second["comments"].num_rows - first["comments"].num_rows
    # the edited story (version 2) and the deleted one (tombstone); two new comments and one tombstone
    assert new_articles == 2
    assert new_comments == 3
    ref_second = rounds["ref_stats"][1]
    os.environ.update(S3_ENV)
    from crawler.shared.objectstore import Dataset, manifests

    by_round: dict[str, Counter] = {}
    for m in manifests(Dataset("s3://data/shared", rounds["endpoint"])):
        c = by_round.setdefault(m["round"], Counter())
        c.update({k: v for k, v in m["stats"].items() if k.startswith("state/") and isinstance(v, int)})
    assert len(by_round) >= 2
    last = by_round[max(by_round)]  # round ids start with their UTC start time
    # the due pages were revisited with conditional GETs, each by one worker: together as many 304s as the
    # single process got (every worker plans all due pages; the round's seen-set lets one of them fetch each)
    assert last["state/revisit/requested"] > 0
    assert last["state/not_modified"] == ref_second["state/not_modified"] > 0


def test_only_committed_files_and_no_partial_objects(rounds):
    """Every Parquet object under the tables is listed by a manifest (nothing half-committed is left), and
    globbing the tables reads the same rows as following the manifests."""
    os.environ.update(S3_ENV)
    from crawler.shared.objectstore import Dataset, committed_files

    ds = Dataset("s3://data/shared", rounds["endpoint"])
    for table in ID:
        listed = set(committed_files(ds, table))
        present = {p for p in ds.files(table) if p.endswith(".parquet")}
        assert present == listed
        assert all("-w1-" in p or "-w2-" in p or "-w3-" in p for p in present)  # worker id in every name
    assert not [p for p in ds.files("_staging")], "staging left behind"


def test_worker_killed_inside_its_commit_is_rolled_forward(services, tmp_path):
    """Killed -9 between the journal and the manifest: no reader sees a partial file, the manifest reader sees
    nothing of the run; restarted with the same WORKER_ID, the worker completes the commit from the journal
    (without the dead process's disk)."""
    os.environ.update(S3_ENV)
    from crawler.shared.objectstore import Dataset, committed_files

    redis_url, endpoint = services
    demo = DemoProcess(latency_ms=0, articles=12)
    prefix = "s3://data/commitkill"
    try:
        env = dict(os.environ, PYTHONPATH=str(REPO), S3_ENDPOINT_URL=endpoint, **S3_ENV)
        cmd = [sys.executable, "-m", "scrapy", "crawl", "demo", "-a", "serve=no", "-a", f"port={demo.port}",
               "-s", f"OUTPUT_DIR={prefix}", "-s", f"REDIS_URL={redis_url}", "-s", "WORKER_ID=solo",
               "-s", "REDIS_LEASE_SECONDS=1", "-s", "LANGUAGE_WORKER=false", "-s", f"CRAWL_CLOCK={T0.isoformat()}"]
        log = open(tmp_path / "solo.log", "w")
        proc = subprocess.Popen(cmd + ["-s", "FAULT_INJECT_COMMIT_PAUSE=2"], cwd=REPO, env=env,
                                stdout=subprocess.DEVNULL, stderr=log)
        ds = Dataset(prefix, endpoint)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and proc.poll() is None:
            if [p for p in ds.files("articles") if p.endswith(".parquet")]:
                break  # the first copy is done: inside the commit window
            time.sleep(0.1)
        assert proc.poll() is None, (tmp_path / "solo.log").read_text()[-2000:]
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        assert [p for p in ds.files("_staging") if p.endswith("COMMIT.json")], "killed before the journal"
        assert not committed_files(ds, "articles"), "no manifest yet: the documented reader sees nothing"
        for table in ID:  # what a globbing reader finds is whole
            for p in ds.files(table):
                pads.dataset(ds.path(p), filesystem=ds.fs, format="parquet").to_table()
        again = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
        assert again.returncode == 0, again.stderr[-3000:]
        assert "rolled forward the commit of killed run" in again.stderr
    finally:
        demo.stop()
    for table in ID:
        listed = set(committed_files(ds, table))
        assert listed and listed == {p for p in ds.files(table) if p.endswith(".parquet")}
        data = pads.dataset([ds.path(p) for p in listed], filesystem=ds.fs, format="parquet").to_table()
        keys = list(zip(data.column(ID[table]).to_pylist(), data.column("version").to_pylist()))
        assert len(keys) == len(set(keys)), f"{table}: duplicate (id, version) rows after the roll-forward"
    assert not [p for p in ds.files("_staging")]


def test_second_process_with_the_same_worker_id_exits_6(services, tmp_path):
    import redis

    from crawler.shared import SharedConfig

    redis_url, _ = services
    out = tmp_path / "dataset"  # shared mode with a directory every worker sees
    settings = {"REDIS_URL": redis_url, "OUTPUT_DIR": str(out), "WORKER_ID": "twin"}

    class S(dict):
        def get(self, k, d=None):
            return super().get(k, d)

        def getfloat(self, k, d=None):
            return float(super().get(k, d))

    cfg = SharedConfig.from_settings(S(settings))
    r = redis.Redis.from_url(redis_url)
    r.set(f"{cfg.prefix}:lease:twin", "another-live-incarnation", px=60_000)  # a live twin holds the lease
    try:
        result = run_crawl(out, "-a", "serve=no", "-a", "port=9", "-s", f"REDIS_URL={redis_url}",
                           "-s", "WORKER_ID=twin", "-s", "REDIS_LEASE_SECONDS=1")
    finally:
        r.delete(f"{cfg.prefix}:lease:twin")
    assert result.returncode == 6, result.stderr[-2000:]
    assert "running elsewhere" in result.stderr


def test_dataset_tools_work_on_the_s3_dataset(rounds):
    env = dict(os.environ, PYTHONPATH=str(REPO), S3_ENDPOINT_URL=rounds["endpoint"], **S3_ENV)
    latest = subprocess.run([sys.executable, "-m", "scrapy", "dataset", "latest", "s3://data/shared"], cwd=REPO,
                            env=env, capture_output=True, text=True, timeout=120)
    assert latest.returncode == 0, latest.stderr[-2000:]
    counts = {line.split()[0]: int(line.split("rows=")[1].split()[0]) for line in latest.stdout.splitlines()}
    assert counts == {t: rounds["second"]["shared"][t].num_rows for t in ID}
    # the worker that ended the round regenerated the card, croissant.json and report.html from every worker's files
    os.environ.update(S3_ENV)
    from crawler.shared.objectstore import Dataset

    ds = Dataset("s3://data/shared", endpoint=rounds["endpoint"])
    assert all(ds.exists(name) for name in ("README.md", "croissant.json", "report.html"))
    card_text = ds.get_bytes("README.md").decode()
    for table in ID:  # every worker's rows of both rounds
        assert f"| {table} | {rounds['second']['shared'][table].num_rows:,} |" in card_text, card_text[:3000]
    card = subprocess.run([sys.executable, "-m", "scrapy", "dataset", "card", "s3://data/shared"], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=120)
    assert card.returncode == 0 and "wrote s3://data/shared/README.md" in card.stderr, card.stderr[-2000:]
    compact = subprocess.run([sys.executable, "-m", "scrapy", "dataset", "compact", "s3://data/shared"], cwd=REPO,
                             env=env, capture_output=True, text=True, timeout=120)
    assert compact.returncode == 2 and "rewrites committed files" in compact.stderr


def test_redis_state_rebuilt_from_the_s3_dataset(rounds, services, monkeypatch):
    """After a Redis loss: `python -m crawler.shared.rebuild` fills a fresh prefix from the committed files; its
    dedup records and thread memberships are the ones the workers' own commits left in Redis."""
    import redis

    from crawler.shared import SharedConfig
    from crawler.shared.rebuild import main
    from crawler.state.redis_crawl_state import RedisCrawlState
    from crawler.state.redis_dedup_store import RedisDedupStore
    from pipelines.dedup import minhash as mh
    from scrapy.settings import Settings

    redis_url, endpoint = services
    monkeypatch.setenv("S3_ENDPOINT_URL", endpoint)
    for k, v in S3_ENV.items():
        monkeypatch.setenv(k, v)
    live = SharedConfig.from_settings(Settings({"REDIS_URL": redis_url, "OUTPUT_DIR": "s3://data/shared"})).prefix
    assert main(["s3://data/shared", "--redis-url", redis_url, "--prefix", "rebuilt"]) == 0
    assert main(["s3://data/shared", "--redis-url", redis_url, "--prefix", "rebuilt"]) == 2  # never over a state
    r = redis.Redis.from_url(redis_url)
    fields = lambda d: (d.content_hash, d.version, d.rep_id, d.cluster_id)  # noqa: E731
    for table in ID:
        ids_ = sorted(set(rounds["second"]["shared"][table].column(ID[table]).to_pylist()))
        before = RedisDedupStore(r, live, mh.PARAMS).get(table, ids_)
        after = RedisDedupStore(r, "rebuilt", mh.PARAMS).get(table, ids_)
        assert set(after) == set(ids_) == set(before)
        assert {i: fields(d) for i, d in after.items()} == {i: fields(d) for i, d in before.items()}, table
    live_cs, rebuilt_cs = RedisCrawlState(r, live), RedisCrawlState(r, "rebuilt")
    urls = {u for u in rounds["second"]["shared"]["articles"].column("url").to_pylist()}
    checked = 0
    for url in sorted(urls):
        page = rebuilt_cs.page(url)
        if page is None:  # a row a discussion made: its page is keyed by the request URL (not rebuilt)
            continue
        checked += 1
        assert page.gone == live_cs.page(url).gone, url
        # every thread the workers filed under the page (the rebuild also files there the threads found elsewhere
        # that discuss its article: crawl_rebuild.py keys a thread by its article's page)
        assert {t["thread_id"] for t in live_cs.threads_of(url)} <= {t["thread_id"] for t in rebuilt_cs.threads_of(url)}
        for t in live_cs.threads_of(url):
            assert rebuilt_cs.thread_comments(t["thread_id"]) == live_cs.thread_comments(t["thread_id"]), url
    assert checked >= ARTICLES
    assert rebuilt_cs.applied_runs() >= {m for m in live_cs.applied_runs()}
