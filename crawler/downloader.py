"""Scrapy's downloader with per-slot concurrency that holds under the asyncio reactor (``DOWNLOADER``).

Scrapy 2.19's ``Downloader._process_queue`` starts queued requests while ``slot.free_transfer_slots() > 0``, but
under the asyncio reactor each download is a task that only marks its request as transferring when it first
runs, on a later turn of the event loop. With no download delay (the demo site, DOWNLOAD_DELAY = 0) the loop
therefore starts every queued request of a slot at once: CONCURRENT_REQUESTS_PER_DOMAIN = 1 let 11-15 requests
reach one host together (measured against a local server; with a delay the loop starts one request per call and
the limit holds). Here a request takes its transfer slot when its download is scheduled, so the limit is the
number of requests a host sees at once. Used in shared mode (:mod:`crawler.shared.setup`), where politeness per
worker is what makes more workers the way to crawl faster.
"""
from __future__ import annotations

from scrapy.core.downloader import Downloader


class SlotLimitedDownloader(Downloader):
    def _wait_for_download(self, slot, request, queue_dfd):
        slot.transferring.add(request)  # taken now, not when the task first runs (``_download`` adds it again)
        return super()._wait_for_download(slot, request, queue_dfd)
