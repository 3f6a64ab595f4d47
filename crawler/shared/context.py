"""One worker's hold on a shared dataset: the Redis lease, the round, recovery of its own killed runs, the
crawl state in Redis. The shared-mode counterpart of :class:`crawler.state.run_context.RunContext` (same
attributes, so spiders and the exporter use either alike)."""
from __future__ import annotations

import logging
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from crawler.state.crawl_state import StateDelta
from crawler.state.redis_crawl_state import RedisCrawlState
from crawler.state.run_lock import LockHeld

from . import SharedConfig, redis_client
from .objectstore import CRAWL_DELTA, DEDUP_DELTA, Dataset, manifests, recover
from .rebuild import holds_state
from .round import LeaseHeld, SharedRound

logger = logging.getLogger(__name__)


class StateMissing(RuntimeError):
    """Redis holds no crawl or dedup state for this prefix while the dataset has committed runs (Redis restarted
    without persistence, a flushed database, another REDIS_KEY_PREFIX): crawling would write every known record
    again as new. The operator rebuilds the state first (``python -m crawler.shared.rebuild``)."""


@dataclass
class SharedRunContext:
    cfg: SharedConfig
    run_id: str
    state_enabled: bool = True
    state: RedisCrawlState | None = None
    delta: StateDelta = field(default_factory=StateDelta)
    recovered: list[str] = field(default_factory=list)
    discarded: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)  # what recovery worked around, as stat names (as run_context)
    rebuilt: dict = field(default_factory=dict)  # what a crawl-state rebuild recovered (as run_context)
    took_lock: bool = False
    round: SharedRound | None = None
    dataset: Dataset | None = None
    dedup_store: object = None  # set by the shared labeler (roll-forward of dedup deltas)
    startup_notes: list = field(default_factory=list)  # stats keys to count once stats exist

    def __post_init__(self):
        self.output = self.cfg.output
        self.local_staging = Path(tempfile.mkdtemp(prefix=f"cryptonews-{self.run_id}-"))
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    @property
    def staging(self) -> Path:
        return self.local_staging

    @property
    def remote_staging(self) -> str:
        return f"_staging/{self.cfg.worker_id}/{self.run_id}"

    def open(self, roll_forward_hook=None, round_wait: float = 600.0,
             dedup_enabled: bool = True) -> "SharedRunContext":
        """Lease, recovery of this worker's killed runs, crawl state, round. Raises LockHeld, StateMissing."""
        client = redis_client(self.cfg.redis_url)
        client.ping()
        self.client = client
        self.round = SharedRound(client, self.cfg.prefix, self.cfg.worker_id, self.run_id, self.cfg.lease_seconds)
        try:
            self.round.acquire_lease()
        except LeaseHeld as exc:
            raise LockHeld(str(exc)) from None
        self.took_lock = True
        self._beat = threading.Thread(target=self._heartbeat, name="shared-lease", daemon=True)
        self._beat.start()
        self.dataset = Dataset(self.cfg.output)
        if self.state_enabled:
            self.state = RedisCrawlState(client, self.cfg.prefix)
        self.recovered, self.discarded = recover(self.dataset, self.cfg.worker_id, self.run_id, self.apply_states)
        self._check_state_present(dedup_enabled)
        try:
            self.round.join(wait=round_wait)
        except LeaseHeld as exc:
            raise LockHeld(str(exc)) from None
        return self

    def _check_state_present(self, dedup_enabled: bool) -> None:
        if not (self.state_enabled or dedup_enabled) or holds_state(self.client, self.cfg.prefix):
            return
        runs = manifests(self.dataset)
        if runs:
            raise StateMissing(
                f"Redis holds no crawl or dedup state under prefix {self.cfg.prefix!r} but {self.cfg.output} has "
                f"{len(runs)} committed run(s): every known record would be written again as new. Rebuild the "
                f"state first: python -m crawler.shared.rebuild {self.cfg.output} --redis-url <REDIS_URL> "
                f"(or check REDIS_URL / REDIS_KEY_PREFIX)")

    def _heartbeat(self) -> None:
        while not self._stop.wait(self.cfg.lease_seconds / 3):
            self.round.heartbeat()

    def apply_states(self, journal: dict, staging: str) -> None:
        """Step 5 of the commit (also when rolling a killed run forward): crawl and dedup deltas, idempotent."""
        import json

        ds = self.dataset
        if self.state is not None and ds.exists(f"{staging}/{CRAWL_DELTA}"):
            delta = json.loads(ds.get_bytes(f"{staging}/{CRAWL_DELTA}"))
            self.state.apply(StateDelta(delta["pages"], delta["threads"], [tuple(c) for c in delta["comments"]]),
                             journal["run_id"])
        if ds.exists(f"{staging}/{DEDUP_DELTA}"):
            from crawler.state.dedup_store import SeenDoc
            from crawler.state.redis_dedup_store import RedisDedupStore, unpack

            store = self.dedup_store
            if store is None:
                from pipelines.dedup import minhash as mh

                store = RedisDedupStore(self.client, self.cfg.prefix, mh.PARAMS)
            if not store.has_run(journal["run_id"]):
                raw = json.loads(ds.get_bytes(f"{staging}/{DEDUP_DELTA}"))
                changes = {t: [(unpack(d), bands) for d, bands in rows] for t, rows in raw.items()}
                assert all(isinstance(d, SeenDoc) for rows in changes.values() for d, _ in rows)
                store.apply(journal["run_id"], changes)
                if self.cfg.retention_days > 0:  # as the single-process labeler's commit does
                    store.prune(datetime.now(timezone.utc) - timedelta(days=self.cfg.retention_days))

    def close(self) -> None:
        self._stop.set()
        shutil.rmtree(self.local_staging, ignore_errors=True)
        if self.round is not None and self.took_lock:
            try:
                self.round.try_end()
            except Exception as exc:  # noqa: BLE001
                logger.warning("could not check the round's end: %s", exc)
            self.round.release()
