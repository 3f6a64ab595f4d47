"""scrapy-redis's scheduler and duplicate filter, adapted to shared crawl rounds (``SCHEDULER`` in shared mode).

scrapy-redis 0.9.1 works with Scrapy 2.19 as a scheduler (its ``Scheduler`` has ``from_crawler``,
``enqueue_request``, ``next_request``, ``has_pending_requests``; the spider's async ``start()`` is consumed by
Scrapy's engine, which hands each start request to ``enqueue_request`` like any other — the async-start
incompatibility reported upstream concerns ``RedisSpider``'s ``start_requests()``, which we do not use). What
must change, and why:

* **Keys per round** (:class:`crawler.shared.round.SharedRound`): the queue and the seen-set of one round are
  deleted when it ends, so a page due for a revisit in the next round is not "already seen" for ever.
* **Nobody flushes on close**: scrapy-redis deletes the queue and the seen-set when a spider closes unless
  ``SCHEDULER_PERSIST``, and its dupefilter's ``close()`` deletes the seen-set regardless — with many workers
  the first to finish would wipe everyone's frontier. The round deletes its keys when it ends.
* **Reliable pop**: a request popped from the shared queue is recorded as taken by this incarnation in the same
  Lua script, so a worker killed with ``-9`` loses nothing: its taken requests go back to the queue.
* **Local requests**: a request that carries in-process state (a comment thread page: ``cb_kwargs`` hold the
  thread being collected; a linked page a discussion waits for) cannot be handed to another process; it stays
  in this worker's memory queue.
  Anything that does not serialise stays local too (counted ``scheduler/local/unserialisable``).
* **Fingerprints**: the seen-set uses the crawler's request fingerprinter (Scrapy's, as in local mode), not
  scrapy-redis's own hash, so both modes agree on what "the same request" is.
* **No idling while requests remain**: Scrapy looks at an empty scheduler again only every 5 s; a worker that
  ran dry while others fill the queue is woken every ``SHARED_POLL_SECONDS`` instead.
* **No Bloom filter**: the seen-set is an exact Redis set (a Bloom filter's false positives silently drop pages).
"""
from __future__ import annotations

import heapq
import itertools
import logging

from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler as RedisScheduler

logger = logging.getLogger(__name__)


class RoundDupeFilter(RFPDupeFilter):
    """The round's seen-set; fingerprints from the crawler's fingerprinter; never deleted on close."""

    def __init__(self, server, key, fingerprinter, debug=False):
        super().__init__(server, key, debug)
        self.fingerprinter = fingerprinter

    def request_fingerprint(self, request):
        return self.fingerprinter.fingerprint(request).hex()

    def close(self, reason=""):
        pass  # the round deletes its seen-set when it ends (see module docstring)


class RoundQueue(PriorityQueue):
    """scrapy-redis's priority queue, popped through the round's reliable pop."""

    def __init__(self, server, spider, key, round_, serializer=None):
        super().__init__(server, spider, key, serializer)
        self.round = round_

    def pop(self, timeout=0):
        data = self.round.pop()
        return self._decode_request(data) if data else None


LOCAL_META = ("thread_page", "join_key", "shared_local")  # answers only this process can use


def is_local(request) -> bool:
    """A request whose answer needs this process's memory: a comment-thread page (its collector is in
    ``cb_kwargs``), a page a discussion waits for to join its thread (``join_key``: the pending join lives in
    this spider), or anything marked ``shared_local``."""
    return any(request.meta.get(k) for k in LOCAL_META)


class SharedScheduler(RedisScheduler):
    def __init__(self, crawler, round_, poll: float):
        super().__init__(server=round_.r, persist=True, queue_key=round_.queue_key,
                         dupefilter_key=round_.seen_key, idle_before_close=0)
        self.crawler, self.round, self.poll = crawler, round_, poll
        self.stats = crawler.stats
        self.local: list = []
        self._seq = itertools.count()
        self._poker = None

    @classmethod
    def from_crawler(cls, crawler):
        round_ = getattr(crawler, "shared_round", None)
        if round_ is None or round_.rid is None:  # the run refused to start: crawl nothing, share nothing
            from scrapy.core.scheduler import Scheduler

            return Scheduler.from_crawler(crawler)
        return cls(crawler, round_, crawler.settings.getfloat("SHARED_POLL_SECONDS", 0.25))

    def open(self, spider):
        self.spider = spider
        self.queue = RoundQueue(self.server, spider, self.queue_key, self.round, self.serializer)
        self.df = RoundDupeFilter(self.server, self.dupefilter_key, self.crawler.request_fingerprinter,
                                  debug=self.crawler.settings.getbool("DUPEFILTER_DEBUG"))
        if len(self.queue):
            spider.log(f"joining crawl round {self.round.rid} ({len(self.queue)} requests queued)")
        from twisted.internet import task

        self._poker = task.LoopingCall(self._poke)
        self._poker.start(self.poll, now=False)

    def _poke(self) -> None:
        slot = getattr(self.crawler.engine, "_slot", None)  # Scrapy's own 5 s heartbeat does the same, slower
        if slot is not None and slot.closing is None:
            slot.nextcall.schedule()

    def close(self, reason):
        if self._poker is not None and self._poker.running:
            self._poker.stop()

    def enqueue_request(self, request):
        if is_local(request):
            return self._push_local(request)
        if not request.dont_filter and self.df.request_seen(request):
            self.df.log(request, self.spider)
            return False
        try:
            self.queue.push(request)
        except Exception as exc:  # noqa: BLE001 - cannot be shared (serialisation): crawl it here
            logger.debug("request kept local (%s): %s", exc, request)
            self.stats.inc_value("scheduler/local/unserialisable")
            return self._push_local(request)
        self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def _push_local(self, request) -> bool:
        heapq.heappush(self.local, (-request.priority, next(self._seq), request))
        self.stats.inc_value("scheduler/enqueued/local")
        return True

    def next_request(self):
        if self.local:  # finishing threads in progress first keeps memory flat
            self.stats.inc_value("scheduler/dequeued/local")
            return heapq.heappop(self.local)[2]
        request = self.queue.pop()
        if request is not None:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def has_pending_requests(self):
        return bool(self.local) or len(self.queue) > 0

    def __len__(self):
        return len(self.local) + len(self.queue)
