"""Shared mode: many crawl processes (on one or many machines) working on one dataset.

Switched on by ``-s REDIS_URL=redis://HOST:PORT/DB``; without it nothing here is used. What is shared, and
where it lives:

* the frontier and the seen-set: scrapy-redis's scheduler and duplicate filter (:mod:`.scheduler`), with
  keys scoped to one *crawl round* so that the next round revisits what is due;
* the crawl state and the dedup state: Redis stores behind the same interfaces as the SQLite ones
  (:mod:`crawler.state.redis_crawl_state`, :mod:`crawler.state.redis_dedup_store`);
* the round itself — who takes part, who is idle, who died, the duplicate labels chosen once for all
  (:mod:`.round`);
* the dataset: ``OUTPUT_DIR`` may be ``s3://BUCKET/PREFIX`` (:mod:`.objectstore`), written through
  ``pyarrow.fs`` with a rename-free commit protocol.
"""
from __future__ import annotations

import hashlib
import os
import socket
from dataclasses import dataclass


def is_remote(output: str) -> bool:
    return str(output).startswith("s3://")


@dataclass(frozen=True)
class SharedConfig:
    redis_url: str
    prefix: str  # every Redis key of this dataset starts with it
    worker_id: str  # stable name of this worker: a restarted worker takes its own place back
    lease_seconds: float
    output: str
    retention_days: float = 365.0  # DEDUP_NEAR_RETENTION_DAYS, as a single process prunes its dedup state

    @classmethod
    def from_settings(cls, settings) -> "SharedConfig | None":
        url = settings.get("REDIS_URL") or ""
        if not url:
            return None
        output = str(settings.get("OUTPUT_DIR", "output"))
        where = output if is_remote(output) else os.path.abspath(output)
        prefix = settings.get("REDIS_KEY_PREFIX") or f"cryptonews:{hashlib.sha1(where.encode()).hexdigest()[:12]}"
        worker = settings.get("WORKER_ID") or socket.gethostname()
        return cls(url, prefix, worker, settings.getfloat("REDIS_LEASE_SECONDS", 30.0), output,
                   settings.getfloat("DEDUP_NEAR_RETENTION_DAYS", 365))


def redis_client(url: str):
    """A client that retries a dropped connection a few times, briefly (a Redis restart), then fails."""
    import redis
    from redis.backoff import ExponentialBackoff
    from redis.retry import Retry

    return redis.Redis.from_url(url, socket_timeout=30, socket_connect_timeout=5,
                                retry=Retry(ExponentialBackoff(cap=2.0, base=0.2), 3),
                                retry_on_error=[redis.ConnectionError, redis.TimeoutError])
