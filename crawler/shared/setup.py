"""Wiring of shared mode into a crawl (called by the spiders' ``from_crawler`` when REDIS_URL is set)."""
from __future__ import annotations

import logging
import secrets

from scrapy import signals
from scrapy.exceptions import DontCloseSpider

from . import SharedConfig
from .context import SharedRunContext

logger = logging.getLogger(__name__)
SCHEDULER = "crawler.shared.scheduler.SharedScheduler"
DOWNLOADER = "crawler.downloader.SlotLimitedDownloader"
EXPORTER, SHARED_EXPORTER = "pipelines.parquet.ParquetExportPipeline", "pipelines.parquet_shared.SharedParquetExport"
SALT_OBJECT = ".author_salt"


def shared_context(crawler, run_id: str, state_enabled: bool) -> SharedRunContext | None:
    """The shared run context when REDIS_URL is set (and the scheduler switched to scrapy-redis's), else None."""
    cfg = SharedConfig.from_settings(crawler.settings)
    if cfg is None:
        return None
    crawler.settings.set("SCHEDULER", SCHEDULER, priority="cmdline")  # before the engine exists
    # per-domain concurrency that holds with no download delay (crawler/downloader.py); -s DOWNLOADER still wins
    crawler.settings.set("DOWNLOADER", DOWNLOADER, priority="spider")
    use_shared_exporter(crawler.settings)
    return SharedRunContext(cfg, run_id, state_enabled=state_enabled)


def use_shared_exporter(settings) -> None:
    """The Parquet exporter's place in ITEM_PIPELINES goes to the shared-mode exporter (same order)."""
    def name(component) -> str:
        return component if isinstance(component, str) else f"{component.__module__}.{component.__qualname__}"

    pipes = settings.getdict("ITEM_PIPELINES")
    swapped = {SHARED_EXPORTER if name(k) == EXPORTER else k: v for k, v in pipes.items()}
    if swapped != pipes:
        settings.set("ITEM_PIPELINES", swapped, priority="cmdline")


def after_open(crawler, spider, ctx: SharedRunContext) -> None:
    """Once the context is open: expose the round, switch the dedup labeler, hold the spider open until the
    round's crawl is over."""
    crawler.shared_round = ctx.round if ctx.round is not None and ctx.round.rid else None
    if crawler.shared_round is None:
        return
    from pipelines.dedup.shared_labels import install_labeler

    def opened(spider):
        crawler.stats.set_value("shared/round", ctx.round.rid)
        crawler.stats.set_value("shared/worker", ctx.cfg.worker_id)
        for inc in ctx.round.reaped:
            crawler.stats.inc_value("shared/reaped_incarnations")
        for key in ctx.startup_notes:
            crawler.stats.inc_value(key)

    crawler.signals.connect(opened, signal=signals.spider_opened, weak=False)

    install_labeler(crawler, ctx)

    def idle(spider):  # connected before the spider's _release_tombstones: marks this worker idle first
        rnd = crawler.shared_round
        rnd.mark_idle()
        if round_still_crawling(rnd):
            crawler.stats.inc_value("shared/idle_waits")
            raise DontCloseSpider

    crawler.signals.connect(idle, signal=signals.spider_idle, weak=False)


def round_still_crawling(rnd) -> bool:
    """True while a shared round may still hand out threads: requests queued, or a live member not idle (its
    pages may queue more). A worker's idle is then only a pause; False with no shared round (``rnd`` None)."""
    return rnd is not None and (rnd.queued() > 0 or not rnd.crawl_done())


def shared_salt(ctx: SharedRunContext) -> bytes:
    """The dataset's author salt, the same for every worker: read from the dataset, else chosen once in Redis
    (SET NX) and written to the dataset."""
    ds = ctx.dataset
    if ds.exists(SALT_OBJECT):
        return bytes.fromhex(ds.get_bytes(SALT_OBJECT).decode().strip())
    key = f"{ctx.cfg.prefix}:author_salt"
    ctx.client.set(key, secrets.token_bytes(32).hex(), nx=True)
    salt = ctx.client.get(key).decode()
    ds.put_bytes(SALT_OBJECT, salt.encode())
    return bytes.fromhex(salt)


try:  # what "Redis or the object store cannot be reached" looks like
    from redis import RedisError as _RedisError
except ImportError:  # pragma: no cover - redis is in requirements.txt
    _RedisError = OSError
SharedUnavailable = (_RedisError,)
