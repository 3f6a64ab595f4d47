"""Dropping an item always names the step and the reason, and counts it.

``pipeline/drop/<step>/<reason>`` counts every drop; drops that lose data (``error=True``) also count
in ``pipeline/drop_errors``, which makes ``scrapy crawl`` exit non-zero. Duplicates removed on purpose
are not errors.
"""
from __future__ import annotations

import logging

from scrapy.exceptions import DropItem

logger = logging.getLogger(__name__)


def record_key(item) -> str:
    for name in ("comment_id", "thread_id", "article_id"):
        v = getattr(item, name, None)
        if v:
            return f"{type(item).__name__}:{v}"
    return f"{type(item).__name__}:{getattr(item, 'url', '') or getattr(item, 'source_url', '')}"


def drop(stats, step: str, reason: str, item, *, error: bool = True, detail: str = "") -> None:
    stats.inc_value(f"pipeline/drop/{step}/{reason}")
    if error:
        stats.inc_value("pipeline/drop_errors")
    msg = f"[{step}] {reason}: {record_key(item)}" + (f" ({detail})" if detail else "")
    (logger.warning if error else logger.debug)(msg)
    raise DropItem(msg, log_level="WARNING" if error else "DEBUG")
