"""Steps take one record or a :class:`~crawler.items.RecordBatch` of records alike.

``@per_record`` turns a step's ``process_item(self, record)`` into one that also accepts a batch: the
step runs on every record of the batch in turn. A record the step drops (``DropItem``, always raised
through :func:`pipelines.drops.drop`, so it is already counted and logged with its reason) leaves the batch
and is announced with Scrapy's ``item_dropped`` signal, exactly as a dropped single item is. A record on
which the step fails with an unexpected exception is logged with its traceback, counted as
``pipeline/errors/<step>`` and announced with ``item_error`` (which the exporter counts as data lost,
``pipeline/drop_errors``, so ``scrapy crawl`` exits 3, as for a single item that fails); the rest of the
batch goes on. Steps keep a ``crawler`` attribute for this.
"""
from __future__ import annotations

import functools
import logging

from scrapy import signals
from scrapy.exceptions import DropItem
from twisted.python.failure import Failure

from crawler.items import RecordBatch

logger = logging.getLogger(__name__)


def records_of(item) -> list:
    """The records an item carries: the batch's records, or the item itself."""
    return item.records if isinstance(item, RecordBatch) else [item]


def record_dropped(crawler, record, exc: DropItem) -> None:
    if crawler is not None:
        crawler.signals.send_catch_log(signal=signals.item_dropped, item=record, response=None,
                                       exception=exc, spider=crawler.spider)


def record_failed(crawler, step: str, record, exc: Exception) -> None:
    from .drops import record_key

    logger.error("[%s] failed on %s: %r", step, record_key(record), exc, exc_info=exc)
    if crawler is None:
        return
    crawler.stats.inc_value(f"pipeline/errors/{step}")
    # the exporter counts it as data lost (pipeline/drop_errors)
    crawler.signals.send_catch_log(signal=signals.item_error, item=record, response=None,
                                   spider=crawler.spider, failure=Failure(exc))


def per_record(process_record):
    """Decorator for a step's ``process_item``: see the module docs."""

    @functools.wraps(process_record)
    def process_item(self, item, spider=None):
        if not isinstance(item, RecordBatch):
            return process_record(self, item)
        crawler = getattr(self, "crawler", None)
        kept = []
        for record in item.records:
            try:
                kept.append(process_record(self, record))
            except DropItem as exc:
                record_dropped(crawler, record, exc)
            except Exception as exc:  # noqa: BLE001 - one bad record must not take its thread with it
                record_failed(crawler, getattr(self, "step", type(self).__name__), record, exc)
        item.records = kept
        return item

    return process_item
