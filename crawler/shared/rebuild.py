"""Rebuild the shared crawl state and dedup state in Redis from the committed dataset (after a Redis loss).

    python -m crawler.shared.rebuild OUTPUT_DIR --redis-url redis://HOST:PORT/DB [--prefix PREFIX]

``OUTPUT_DIR`` is the dataset the workers write (``s3://BUCKET/PREFIX`` with ``S3_ENDPOINT_URL`` and the AWS
variables, or a shared directory); the prefix defaults to the one the workers derive from it
(``REDIS_KEY_PREFIX``). The committed files (what the manifests list) are mirrored to a temporary directory,
and the same rebuilds a single process runs on its own dataset fill Redis: the crawl state
(:mod:`crawler.state.crawl_rebuild`: pages with their identity and revisit schedule, threads and their comments —
not the HTTP validators, which the dataset does not hold) and the dedup state
(:func:`pipelines.dedup.rebuild.rebuild_from_dataset`: latest version, content hash, cluster and MinHash bands of
every record). Every committed run is then marked as applied. Run it with no worker running; it refuses (exit 2)
when Redis already holds a state for the prefix.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys

from crawler import ids
from crawler.state.crawl_state import CrawlState, StateDelta, iso, unpack_members
from crawler.state.redis_crawl_state import RedisCrawlState
from crawler.state.redis_dedup_store import RedisDedupStore

from . import SharedConfig, redis_client
from .mirror import mirror
from .objectstore import Dataset

RUN = "rebuild"


def state_delta(state: CrawlState) -> StateDelta:
    """Everything a (rebuilt) SQLite crawl state holds, as one delta another store can apply."""
    pages = {}
    for (url,) in state.db.execute("SELECT url FROM pages").fetchall():
        p = state.page(url)
        pages[url] = {"article_id": p.article_id, "etag": p.etag, "last_modified": p.last_modified,
                      "content_hash": p.content_hash, "published_at": iso(p.published_at),
                      "first_seen": iso(p.first_seen), "last_visit": iso(p.last_visit), "visits": p.visits,
                      "comment_count": p.comment_count, "next_visit": iso(p.next_visit), "gone": int(p.gone),
                      "article_json": p.article_json, "kind": p.kind}
    threads, comments = {}, []
    rows = state.db.execute("SELECT thread_id, page_url, platform, host, native_thread_id, article_id, first_requests, "
                            "comments FROM threads ORDER BY thread_id").fetchall()
    for tid, page_url, platform, host, native, aid, first, blob in rows:
        threads[tid] = {"page_url": page_url, "platform": platform, "host": host, "native_thread_id": native,
                        "article_id": aid, "first_requests": json.loads(first)}
        for n, (gone, cid) in unpack_members(blob).items():
            comments.append((tid, n, cid or ids.comment_id(platform, host, n), gone))
    return StateDelta(pages=pages, threads=threads, comments=comments)


def rebuild(output: str, client, prefix: str, params: str) -> dict[str, int]:
    """Fill an empty Redis state under ``prefix`` from the dataset at ``output``; returns what it rebuilt."""
    from crawler.state.consistency import committed_runs
    from crawler.state.crawl_rebuild import rebuild as rebuild_crawl_state
    from pipelines.dedup.rebuild import rebuild_from_dataset

    local = mirror(Dataset(output))
    try:
        sql = CrawlState(local / "_state" / "crawl.sqlite")
        counts = dict(rebuild_crawl_state(sql, local))
        red = RedisCrawlState(client, prefix)
        red.apply(state_delta(sql), RUN)
        sql.close()
        runs = committed_runs(local)
        red.mark_applied(runs)
        store = RedisDedupStore(client, prefix, params)
        counts["dedup_records"] = rebuild_from_dataset(local, store)
        store.mark_runs(runs)
        counts["runs"] = len(runs)
        return counts
    finally:
        shutil.rmtree(local, ignore_errors=True)


def holds_state(client, prefix: str) -> bool:
    return bool(client.exists(f"{prefix}:cs:applied") or client.exists(f"{prefix}:dd:runs"))


def main(argv: list[str] | None = None) -> int:
    from scrapy.settings import Settings

    from pipelines.dedup import minhash as mh

    ap = argparse.ArgumentParser(prog="python -m crawler.shared.rebuild", description=__doc__.split("\n\n")[0])
    ap.add_argument("output_dir")
    ap.add_argument("--redis-url", required=True)
    ap.add_argument("--prefix", default=None, help="REDIS_KEY_PREFIX of the workers (default: derived from OUTPUT_DIR)")
    args = ap.parse_args(argv)
    cfg = SharedConfig.from_settings(Settings({"REDIS_URL": args.redis_url, "OUTPUT_DIR": args.output_dir,
                                               "REDIS_KEY_PREFIX": args.prefix or ""}))
    client = redis_client(cfg.redis_url)
    if holds_state(client, cfg.prefix):
        print(f"{ap.prog}: Redis already holds a state under {cfg.prefix}: not rebuilt", file=sys.stderr)
        return 2
    if not Dataset(cfg.output).files("_manifests"):
        print(f"{ap.prog}: no committed run in {cfg.output}", file=sys.stderr)
        return 2
    counts = rebuild(cfg.output, client, cfg.prefix, mh.PARAMS)
    print(f"{ap.prog}: rebuilt {cfg.prefix} from {cfg.output}: "
          + ", ".join(f"{k}={v}" for k, v in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
