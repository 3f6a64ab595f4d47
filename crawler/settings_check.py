"""Settings given on the command line (``-s NAME=VALUE``) checked before anything starts.

A value that cannot be what its setting needs raises :class:`~crawler.usage.UsageProblem` naming the
setting, the value and what is allowed, so ``scrapy crawl`` exits 2 with one line instead of a traceback
from deep inside a component. The expected kind of each setting comes from its default (the project's
``crawler/settings.py``, then Scrapy's own defaults): a bool default wants a boolean, an int default an
integer, a float default a number; :data:`CHOICES` lists settings that take one of a few words, and
:data:`MINIMUM` the numeric ones that have a lower bound.
"""
from __future__ import annotations

from datetime import datetime

from scrapy.settings import SETTINGS_PRIORITIES, Settings, default_settings

from crawler import settings as project_settings
from crawler.usage import UsageProblem

BOOL_WORDS = {"1", "0", "true", "false", "True", "False"}  # what Scrapy's Settings.getbool accepts
CHOICES = {
    "LANGUAGE_WORKER": ("auto", "true", "false", "1", "0", "True", "False"),
    "PARQUET_COMPRESSION": ("zstd", "snappy", "gzip", "brotli", "lz4", "none"),
    "LOG_LEVEL": ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"),
}
MINIMUM = {
    "PARQUET_ROW_GROUP_ROWS": 1, "PARQUET_FILE_MAX_ROWS": 1, "LANGUAGE_BATCH_SIZE": 1,
    "LANGUAGE_MIN_CHARS": 0, "LANGUAGE_MAX_CHARS": 1, "COMMENTS_MAX_PAGES_PER_THREAD": 1,
    "CONCURRENT_REQUESTS": 1, "CONCURRENT_REQUESTS_PER_DOMAIN": 1, "DOWNLOAD_DELAY": 0, "DOWNLOAD_TIMEOUT": 0,
    "PROGRESS_INTERVAL": 0, "DEDUP_NEAR_THRESHOLD": 0, "COMMENT_DEDUP_MIN_CHARS": 0, "RETRY_TIMES": 0,
    "REDIS_LEASE_SECONDS": 0.5, "SHARED_POLL_SECONDS": 0.01,
}
MAXIMUM = {"DEDUP_NEAR_THRESHOLD": 1}
ISO_TIME = ("CRAWL_CLOCK",)
# integer defaults that are read as numbers (seconds): a fraction is fine there
FRACTION_OK = {"DOWNLOAD_TIMEOUT", "RETRY_AFTER_MAX_WAIT", "RETRY_AFTER_DEFAULT_WAIT", "ROBOTSTXT_CACHE_TTL",
               "ROBOTSTXT_ERROR_TTL", "ROBOTSTXT_TIMEOUT", "PROGRESS_INTERVAL", "LOGSTATS_INTERVAL",
               "CLOSESPIDER_TIMEOUT", "AUTOTHROTTLE_START_DELAY", "AUTOTHROTTLE_MAX_DELAY"}


def default_of(name: str):
    if hasattr(project_settings, name):
        return getattr(project_settings, name)
    return getattr(default_settings, name, None)


def check_value(name: str, value) -> None:
    """Raise UsageProblem when ``value`` (as given on the command line) cannot serve as setting ``name``."""
    if not isinstance(value, str):
        return  # set from code, not typed by an operator
    shown = f"setting {name}={value!r}"
    if name in CHOICES:
        if value not in CHOICES[name]:
            raise UsageProblem(f"{shown} is not valid; allowed: {', '.join(CHOICES[name])}")
        return
    if name in ISO_TIME:
        if value:
            try:
                datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                raise UsageProblem(f"{shown} is not valid; allowed: an ISO 8601 time such as "
                                   "2026-11-25T06:00:00+00:00, or empty for the real clock") from None
        return
    if name == "REDIS_URL":
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise UsageProblem(f"{shown} is not valid; allowed: redis://HOST:PORT/DB, rediss://... or unix://...")
        return
    if name == "OUTPUT_DIR" and value.startswith("s3://") and len(value) <= len("s3://"):
        raise UsageProblem(f"{shown} is not valid; allowed: s3://BUCKET/PREFIX or a directory")
    if name == "PRIVATE_NETWORK_ALLOW":
        from crawler.middlewares.address_policy import Allowance

        try:
            Allowance.parse(value)
        except ValueError as exc:
            raise UsageProblem(f"{shown} is not valid; {exc}") from None
        return
    default = default_of(name)
    if isinstance(default, bool):
        if value not in BOOL_WORDS:
            raise UsageProblem(f"{shown} is not valid; allowed: True/False (or 1/0)")
        return
    if isinstance(default, (int, float)):
        try:
            whole = isinstance(default, int) and name not in FRACTION_OK
            number = int(value) if whole else float(value)
        except ValueError:
            kind = "an integer" if whole else "a number"
            raise UsageProblem(f"{shown} is not valid; allowed: {kind} (default {default})") from None
        low, high = MINIMUM.get(name), MAXIMUM.get(name)
        if low is not None and number < low or high is not None and number > high:
            bounds = f">= {low}" if high is None else f"between {low} and {high}"
            raise UsageProblem(f"{shown} is not valid; allowed: a number {bounds} (default {default})")


def check_settings(settings: Settings) -> None:
    """Check every setting given with ``-s`` (command-line priority)."""
    for name, value in settings.items():
        if settings.getpriority(name) == SETTINGS_PRIORITIES["cmdline"]:
            check_value(name, value)
