"""One crawl round shared by many workers, coordinated in Redis.

A *round* is what one `scrapy crawl` is in local mode: every worker started while a round is open joins it;
the round ends when every worker that joined has committed (or died). Its keys live under
``PREFIX:r:ROUND:`` and are deleted when it ends, so the frontier and the seen-set of one round never block
the revisits of the next one (the scrapy-redis pain of a seen-set that never expires).

* **Lease** (the run lock of shared mode): ``PREFIX:lease:WORKER`` holds the running incarnation (its run id)
  with an expiry, renewed by a heartbeat. A worker that dies releases it by expiry; a second process with the
  same ``WORKER_ID`` waits for it, then gives up (exit 6). A worker that finds its lease taken over refuses to
  commit: its work is being redone elsewhere.
* **Taken requests**: every request a worker pops from the shared queue is also recorded under its
  incarnation (one Lua script: pop + record), and forgotten only once the worker's output is committed. When
  an incarnation's lease is gone, any worker moves its taken requests back into the queue (again atomically):
  what a killed worker fetched but never committed is fetched again, by whoever is free.
* **Barrier**: a worker whose engine runs dry marks itself idle; popping clears the mark. The round's crawl is
  over when the queue is empty and every live member is idle (checked atomically). Only then are duplicate
  labels computed — once, by one worker, over the records of every live member (registered as they were
  scraped), and stored for all: the representative of a duplicate cluster is chosen once and is the same
  for every worker, and equal to what a single process crawling the same pages would choose.
* Records of a dead incarnation are left out of the labelling (its pages were fetched again by someone else).

Limits (documented in the README): a single Redis instance (scripts touch keys of one round, not Redis
Cluster-safe); a worker killed after the barrier and before its commit loses that round's share of pages
until they are discovered or due again.
"""
from __future__ import annotations

import base64
import json
import logging
import time
import uuid

logger = logging.getLogger(__name__)

# Lua scripts (atomic on the server). KEYS are passed where the key is known up front; the per-member keys of
# a round are derived inside (single-instance Redis).
_POP = """
local item = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #item == 0 then return false end
redis.call('ZREM', KEYS[1], item[1])
redis.call('ZADD', KEYS[2], item[2], item[1])
redis.call('SREM', KEYS[3], ARGV[1])
return item[1]
"""
# KEYS: members, dead, queue; ARGV: round key prefix, lease key prefix. Moves the taken requests of every
# member whose lease is no longer its own back into the queue; returns the incarnations found dead.
_REAP = """
local members = redis.call('HGETALL', KEYS[1])
local found = {}
for i = 1, #members, 2 do
  local inc, worker = members[i], members[i + 1]
  if redis.call('SISMEMBER', KEYS[2], inc) == 0 and redis.call('SISMEMBER', ARGV[1] .. 'committed', inc) == 0
     and redis.call('GET', ARGV[2] .. worker) ~= inc then
    redis.call('SADD', KEYS[2], inc)
    local taken = ARGV[1] .. 'taken:' .. inc
    if redis.call('EXISTS', taken) == 1 then
      redis.call('ZUNIONSTORE', KEYS[3], 2, KEYS[3], taken, 'AGGREGATE', 'MIN')
      redis.call('DEL', taken)
    end
    table.insert(found, inc)
  end
end
return found
"""
# KEYS: queue, members, dead, idle, crawled. 1 when the crawl of the round is over (and records it).
_CRAWL_DONE = """
if redis.call('EXISTS', KEYS[5]) == 1 then return 1 end
if redis.call('ZCARD', KEYS[1]) > 0 then return 0 end
local members = redis.call('HKEYS', KEYS[2])
for _, inc in ipairs(members) do
  if redis.call('SISMEMBER', KEYS[3], inc) == 0 and redis.call('SISMEMBER', KEYS[4], inc) == 0 then return 0 end
end
redis.call('SET', KEYS[5], '1')
return 1
"""
# KEYS: owner, dead; ARGV: me. 1 when I am (now) the one who computes the labels.
_CLAIM = """
local owner = redis.call('GET', KEYS[1])
if owner == ARGV[1] then return 1 end
if (not owner) or redis.call('SISMEMBER', KEYS[2], owner) == 1 then
  redis.call('SET', KEYS[1], ARGV[1])
  return 1
end
return 0
"""
# KEYS: round, members, dead, committed, crawled; ARGV: round id. 1 when the round is over (and ends it).
_END = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if redis.call('EXISTS', KEYS[5]) == 0 then return 0 end
for _, inc in ipairs(redis.call('HKEYS', KEYS[2])) do
  if redis.call('SISMEMBER', KEYS[3], inc) == 0 and redis.call('SISMEMBER', KEYS[4], inc) == 0 then return 0 end
end
redis.call('DEL', KEYS[1])
return 1
"""
# KEYS: claims hash, dead; ARGV: field, me. 1 when the field is (now) mine: free, mine, or a dead incarnation's.
_CLAIM_KEY = """
local owner = redis.call('HGET', KEYS[1], ARGV[1])
if owner == ARGV[2] then return 1 end
if (not owner) or redis.call('SISMEMBER', KEYS[2], owner) == 1 then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  return 1
end
return 0
"""
# KEYS: lease; ARGV: me, ttl ms. Take a free lease, or renew my own.
_LEASE = """
local v = redis.call('GET', KEYS[1])
if (not v) or v == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
# KEYS: round, crawled, members; ARGV: new round id, me, worker. {status, round id}
_JOIN = """
local rid = redis.call('GET', KEYS[1])
if not rid then
  redis.call('SET', KEYS[1], ARGV[1])
  rid = ARGV[1]
elseif redis.call('EXISTS', ARGV[4] .. rid .. ':crawled') == 1 then
  return {'wait', rid}
end
redis.call('HSET', ARGV[4] .. rid .. ':members', ARGV[2], ARGV[3])
return {'joined', rid}
"""


class LeaseHeld(RuntimeError):
    pass


def _s(v):
    return v.decode() if isinstance(v, bytes) else v


class SharedRound:
    """This incarnation's membership of the current round (one per crawl process)."""

    def __init__(self, client, prefix: str, worker_id: str, incarnation: str, lease_seconds: float = 30.0):
        self.r, self.prefix, self.worker, self.me = client, prefix, worker_id, incarnation
        self.lease_seconds = lease_seconds
        self.rid: str | None = None
        self.lost = False
        self.reaped: list[str] = []
        self._scripts = {name: client.register_script(src) for name, src in (
            ("pop", _POP), ("reap", _REAP), ("done", _CRAWL_DONE), ("claim", _CLAIM), ("end", _END),
            ("lease", _LEASE), ("release", _RELEASE), ("join", _JOIN), ("claim_key", _CLAIM_KEY))}

    # -- keys -----------------------------------------------------------------------------------------
    @property
    def lease_key(self) -> str:
        return f"{self.prefix}:lease:{self.worker}"

    def key(self, name: str) -> str:
        return f"{self.prefix}:r:{self.rid}:{name}"

    @property
    def queue_key(self) -> str:
        return self.key("requests")

    @property
    def seen_key(self) -> str:
        return self.key("seen")

    # -- lease ----------------------------------------------------------------------------------------
    def acquire_lease(self, wait: float | None = None) -> None:
        """Take this worker's lease, waiting up to ``wait`` seconds (default: one lease period, so that a
        killed predecessor's lease can expire) for it to be free."""
        deadline = time.monotonic() + (self.lease_seconds * 1.5 if wait is None else wait)
        while not self.renew():
            holder = _s(self.r.get(self.lease_key))
            if time.monotonic() > deadline:
                raise LeaseHeld(f"worker {self.worker!r} is running elsewhere (lease {self.lease_key} held by "
                                f"{holder}); give each process its own WORKER_ID")
            time.sleep(min(0.5, self.lease_seconds / 10))

    def renew(self) -> bool:
        ok = bool(self._scripts["lease"](keys=[self.lease_key], args=[self.me, int(self.lease_seconds * 1000)]))
        return ok

    def heartbeat(self) -> None:
        """Renew the lease (called every third of a lease period); a lease lost to another incarnation makes
        this one refuse to commit."""
        try:
            if not self.renew() or (self.rid and self.r.sismember(self.key("dead"), self.me)):
                if not self.lost:
                    logger.error("lost the lease of worker %s: another incarnation took over; this run will "
                                 "not commit", self.worker)
                self.lost = True
        except Exception as exc:  # noqa: BLE001 - a Redis hiccup: try again at the next beat
            logger.warning("lease renewal failed: %s", exc)

    def release(self) -> None:
        try:
            self._scripts["release"](keys=[self.lease_key], args=[self.me])
        except Exception as exc:  # noqa: BLE001
            logger.warning("could not release lease %s: %s", self.lease_key, exc)

    # -- membership -----------------------------------------------------------------------------------
    def join(self, wait: float = 600.0) -> str:
        """Join the open round (or open one). A round past its crawl is not joinable: wait for it to end."""
        deadline = time.monotonic() + wait
        round_key = f"{self.prefix}:round"
        while True:
            new = f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{uuid.uuid4().hex[:6]}"
            status, rid = (_s(x) for x in self._scripts["join"](
                keys=[round_key], args=[new, self.me, self.worker, f"{self.prefix}:r:"]))
            self.rid = rid
            if status == "joined":
                self.reap()
                logger.info("worker %s (%s) joined crawl round %s", self.worker, self.me, rid)
                return rid
            self.reap()
            self.try_end()
            if time.monotonic() > deadline:
                raise LeaseHeld(f"crawl round {rid} is still committing after {wait:.0f}s")
            self.renew()
            time.sleep(0.5)

    def reap(self) -> list[str]:
        """Mark members whose lease is gone as dead and put their taken requests back in the queue."""
        found = [_s(x) for x in self._scripts["reap"](
            keys=[self.key("members"), self.key("dead"), self.queue_key],
            args=[self.key(""), f"{self.prefix}:lease:"])]
        for inc in found:
            logger.warning("worker incarnation %s is gone: its uncommitted requests are back in the queue", inc)
        self.reaped += found
        return found

    def members(self) -> dict[str, str]:
        return {_s(k): _s(v) for k, v in self.r.hgetall(self.key("members")).items()}

    def dead(self) -> set[str]:
        return {_s(x) for x in self.r.smembers(self.key("dead"))}

    # -- the queue ------------------------------------------------------------------------------------
    def pop(self) -> bytes | None:
        return self._scripts["pop"](keys=[self.queue_key, self.key("taken:" + self.me), self.key("idle")],
                                    args=[self.me])

    def queued(self) -> int:
        return int(self.r.zcard(self.queue_key))

    def mark_idle(self) -> None:
        self.r.sadd(self.key("idle"), self.me)

    def crawl_done(self) -> bool:
        self.reap()
        return bool(self._scripts["done"](keys=[self.queue_key, self.key("members"), self.key("dead"),
                                                self.key("idle"), self.key("crawled")]))

    # -- records and labels ---------------------------------------------------------------------------
    def claim(self, table: str, key: str) -> bool:
        """The round's "same record fetched twice" rule across workers: the first live claimant keeps a record
        key (canonical URL, thread id, comment id); a dead incarnation's claims pass to whoever asks next."""
        return bool(self._scripts["claim_key"](keys=[self.key("claims:" + table), self.key("dead")],
                                               args=[key, self.me]))

    def register(self, table: str, docs: list[dict]) -> None:
        """Records that passed every pipeline step (their dedup keys), for the round's labelling."""
        if not docs:
            return
        self.r.hset(self.key("docs:" + table), mapping={d["id"]: json.dumps({**d, "inc": self.me}) for d in docs})

    def round_docs(self, table: str) -> list[dict]:
        """The registered records of live members (sorted by id)."""
        dead = self.dead()
        docs = [json.loads(v) for v in self.r.hvals(self.key("docs:" + table))]
        return sorted((d for d in docs if d["inc"] not in dead), key=lambda d: d["id"])

    def labels(self, compute, tables, poll: float = 0.2, timeout: float = 900.0) -> dict[str, dict]:
        """The round's labels: computed once (``compute()`` → {table: {id: label}}) by whichever worker claims
        it first, read by all. A claimant that dies is replaced."""
        deadline = time.monotonic() + timeout
        owner, dead = self.key("labels_owner"), self.key("dead")
        while not self.r.exists(self.key("labelled")):
            if not self.crawl_done():  # labels need every record of the round
                if time.monotonic() > deadline:
                    raise TimeoutError("the round's crawl did not finish in time")
                time.sleep(poll)
                continue
            if self._scripts["claim"](keys=[owner, dead], args=[self.me]):
                try:
                    labels = compute()
                except Exception:
                    self._scripts["release"](keys=[owner], args=[self.me])  # let another worker try
                    raise
                pipe = self.r.pipeline(transaction=True)
                for table, lab in labels.items():
                    if lab:
                        pipe.hset(self.key("labels:" + table), mapping={i: json.dumps(v) for i, v in lab.items()})
                pipe.set(self.key("labelled"), self.me)
                pipe.execute()
                break
            if time.monotonic() > deadline:
                raise TimeoutError("the round's duplicate labels were not computed in time")
            self.renew()
            self.reap()
            time.sleep(poll)
        return {t: {_s(k): tuple(json.loads(v)) for k, v in self.r.hgetall(self.key("labels:" + t)).items()}
                for t in tables}

    # -- the end --------------------------------------------------------------------------------------
    def committed(self) -> None:
        """This incarnation's output is committed: its taken requests are done."""
        pipe = self.r.pipeline(transaction=True)
        pipe.delete(self.key("taken:" + self.me))
        pipe.sadd(self.key("committed"), self.me)
        pipe.execute()

    def leave(self) -> None:
        """A member that commits nothing (refused, failed) leaves as if dead: its taken requests go back."""
        pipe = self.r.pipeline(transaction=True)
        pipe.sadd(self.key("dead"), self.me)
        taken = self.key("taken:" + self.me)
        pipe.zunionstore(self.queue_key, [self.queue_key, taken], aggregate="MIN")
        pipe.delete(taken)
        pipe.srem(self.key("idle"), self.me)
        pipe.execute()

    def try_end(self) -> bool:
        """End the round when its crawl is over and every member committed or died: its keys are deleted."""
        if self.rid is None:
            return False
        ended = self._scripts["end"](keys=[f"{self.prefix}:round", self.key("members"), self.key("dead"),
                                           self.key("committed"), self.key("crawled")], args=[self.rid])
        if ended:
            for k in self.r.scan_iter(match=self.key("*"), count=1000):
                self.r.unlink(k)
            logger.info("crawl round %s ended", self.rid)
        return bool(ended)


def pack_sig(sig) -> str | None:
    return base64.b64encode(sig.tobytes()).decode() if sig is not None else None
