"""Scrapy settings: defaults for polite, unattended crawling. Every project knob is documented here.

Override any of them per run with ``scrapy crawl SPIDER -s NAME=VALUE``.
"""
BOT_NAME = "cryptonews"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"
COMMANDS_MODULE = "crawler.commands"  # our `crawl` adds exit codes and a one-line summary

# --- identity -------------------------------------------------------------------------------------
# CONTACT: an e-mail or URL where site operators can reach whoever runs the crawl. It goes into the
# User-Agent. Crawls of live sources refuse to start without it (the offline demo does not need it).
CONTACT = ""
USER_AGENT_TEMPLATE = "cryptonews-dataset-crawler/0.1 (+{contact}; research crawler)"
USER_AGENT = "cryptonews-dataset-crawler/0.1 (research crawler; no contact configured)"

# --- output ---------------------------------------------------------------------------------------
OUTPUT_DIR = "output"  # dataset root: articles/, threads/, comments/ (Hive-partitioned Parquet)
PARQUET_ROW_GROUP_ROWS = 5000  # rows buffered per table before a row group is flushed (bounds memory)
PARQUET_FILE_MAX_ROWS = 500_000  # a new part file is started after this many rows
PARQUET_COMPRESSION = "zstd"
# Comment authors: pseudonymised with a salted HMAC by default. The salt is read from AUTHOR_SALT or,
# when empty, from OUTPUT_DIR/.author_salt (created on first use, so pseudonyms stay stable across runs).
AUTHOR_PSEUDONYMISE = True
AUTHOR_SALT = ""

# --- pipelines ------------------------------------------------------------------------------------
ITEM_PIPELINES = {
    "pipelines.validate.ValidatePipeline": 100,
    "pipelines.clean.CleanPipeline": 200,
    "pipelines.pseudonymise.PseudonymisePipeline": 250,
    "pipelines.language.LanguagePipeline": 300,
    "pipelines.dedup_exact.ExactDedupPipeline": 400,
    "pipelines.parquet.ParquetExportPipeline": 900,
}
LANGUAGE_MIN_CHARS = 40  # shorter text gets language 'und' instead of a guess
LANGUAGE_MAX_CHARS = 2000  # langdetect reads at most this many characters (speed; accuracy is flat beyond)
VALIDATE_MAX_BODY_CHARS = 2_000_000  # absurdly large bodies are dropped as errors
VALIDATE_MIN_YEAR = 1995  # dates before this (or more than a day in the future) are set to null, with a count

# --- comment threads ------------------------------------------------------------------------------
COMMENTS_MAX_PAGES_PER_THREAD = 200  # cap on comment API pages fetched for one thread

# --- politeness -----------------------------------------------------------------------------------
ROBOTSTXT_OBEY = True
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 2.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
COOKIES_ENABLED = False
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 32 * 1024 * 1024
DOWNLOAD_WARNSIZE = 8 * 1024 * 1024
REDIRECT_MAX_TIMES = 5
RETRY_TIMES = 2

# --- politeness & safety middlewares (crawler/middlewares/) --------------------------------------
# (block owned by the middlewares work; keep edits inside it)
DOWNLOADER_MIDDLEWARES: dict = {}
SPIDER_MIDDLEWARES: dict = {}
EXTENSIONS: dict = {}
# --- end of middlewares block ---------------------------------------------------------------------

REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"
TELNETCONSOLE_ENABLED = False
