"""Scrapy settings: defaults for polite, unattended crawling. Every project knob is documented here.

Override any of them per run with ``scrapy crawl SPIDER -s NAME=VALUE``.
"""
BOT_NAME = "cryptonews"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"
COMMANDS_MODULE = "crawler.commands"  # our `crawl` adds exit codes and a one-line summary; `dataset` runs dataset tools

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
    "pipelines.health.HealthPipeline": 50,  # observes every record before any step can drop it
    "pipelines.validate.ValidatePipeline": 100,
    "pipelines.clean.CleanPipeline": 200,
    "pipelines.pseudonymise.PseudonymisePipeline": 250,
    "pipelines.language.step.LanguagePipeline": 300,
    "pipelines.assets.step.AssetTagPipeline": 350,  # the `assets` column (after language: rules are language-aware)
    "pipelines.dedup.exact.ExactDedupPipeline": 400,
    "pipelines.dedup.seen.SeenBeforePipeline": 410,
    "pipelines.dedup.near.NearDedupPipeline": 420,
    "pipelines.parquet.ParquetExportPipeline": 900,
}
LANGUAGE_MIN_CHARS = 40  # shorter text gets language 'und' instead of a guess
LANGUAGE_MAX_CHARS = 2000  # langdetect reads at most this many characters (speed; accuracy is flat beyond)
LANGUAGE_BATCH_SIZE = 256  # records detected together (answers do not depend on the batch)
LANGUAGE_WORKER = "auto"  # detect in one worker process: "auto" = when the machine has more than one core
# The worker also computes asset tags, content hashes and MinHash signatures for the later steps
# (pipelines/precompute.py; same rows either way). Off: on a quiet machine it did not lower the crawl's CPU yet
# (docs/performance.md, "The second core").
LANGUAGE_WORKER_PRECOMPUTE = False
# Records of one response processed at once (Scrapy's default 100 starts 100 tasks for every response, even a
# one-record page; our steps are synchronous apart from the language batches, so 16 keeps them busy).
CONCURRENT_ITEMS = 16
# Scrapy checks every callback for a generator with `return value` by reading its source and parsing it with
# `ast` each time its cache misses (it is keyed by the bound method object, so it misses for most responses):
# ~3 % of the crawl's CPU at 1,000 x 50. tests/test_spider_callbacks.py runs the same check on our callbacks.
WARN_ON_GENERATOR_RETURN_VALUE = False
# Asset tags (pipelines/assets/): tickers a text talks about, from a registry shipped as data.
ASSETS_ENABLED = True  # False: the step is off and the `assets` column stays null
ASSETS_REGISTRY = ""  # another registry file of the same shape; empty = pipelines/assets/registry.json
# Files regenerated after each commit from the committed data (pipelines/dataset/), besides the card README.md:
LATEST_AT_COMMIT = True  # OUTPUT_DIR/latest/<table>/*.parquet: one row per id at its latest version (snapshot)
CROISSANT_AT_COMMIT = True  # OUTPUT_DIR/croissant.json: MLCommons Croissant 1.0 metadata
REPORT_AT_COMMIT = True  # OUTPUT_DIR/report.html: plots and figures (matplotlib), self-contained
# Deduplication (pipelines/dedup/): duplicates are labelled (duplicate_of/reason/cluster_id), not deleted.
COMMENT_DEDUP_MIN_CHARS = 60  # shorter comments (normalised) are never labelled duplicates ("+1", "Nice.")
DEDUP_COMMENT_NEAR_MIN_WORDS = 30  # shorter comments use the exact-text rule only, never MinHash
# Retention of the dedup state (docs/performance.md): records last committed more than this many days ago leave
# near-duplicate matching (signature and LSH bands deleted); ids, versions and content hashes stay. 0 = keep all.
DEDUP_NEAR_RETENTION_DAYS = 365
DEDUP_NEAR_THRESHOLD = 0.6  # estimated Jaccard of 5-word shingles from which two texts are near-duplicates
DEDUP_DROP_DUPLICATES = False  # True: labelled duplicates are left out of the files (counted), not kept
DEDUP_STATE_ENABLED = True  # remember what earlier runs wrote (unchanged records skipped, versions, clusters)
DEDUP_STATE_PATH = ""  # SQLite file of that state; empty = OUTPUT_DIR/_state/dedup.sqlite
VALIDATE_MAX_BODY_CHARS = 2_000_000  # absurdly large bodies are dropped as errors
VALIDATE_MIN_YEAR = 1995  # dates before this (or more than a day in the future) are set to null, with a count

# Extraction health (pipelines/health.py): a site whose share of pages with body/title/date collapses, compared
# with its own history in earlier manifests, makes the run exit 5.
HEALTH_SHARE_HEALTHY = 0.9  # a share at or above this in the site's history counts as healthy
HEALTH_SHARE_COLLAPSED = 0.5  # ... and falling below this now is a collapse
HEALTH_BODY_CHARS_RATIO = 0.3  # median body length below this fraction of its history median is a collapse
HEALTH_MIN_HISTORY = 2  # earlier runs of the site needed before any verdict
HEALTH_MIN_PAGES = 5  # pages of the site needed in a run (and in each history run) to judge it
HEALTH_HISTORY_RUNS = 10  # how many recent manifests make the history

# Sitemaps (crawler/spiders/base.py): every count in a sitemap is the server's, so each is capped (counted
# limits/drop/sitemap_{urls,depth,count}).
SITEMAP_MAX_URLS = 50_000  # page URLs used from one sitemap (the protocol's own maximum)
SITEMAP_MAX_DEPTH = 4  # index hops followed below a start sitemap
SITEMAP_MAX_COUNT = 2000  # child sitemaps fetched per run

# --- comment threads ------------------------------------------------------------------------------
COMMENTS_MAX_PAGES_PER_THREAD = 200  # cap on comment API pages fetched for one thread (more: thread incomplete)
# Comment platform credentials (crawler/comments/). Without them: Disqus reads embedded posts only (the thread is
# flagged incomplete when the site reports more); Reddit (live reddit.com) is skipped with one log line.
DISQUS_API_KEY = ""  # public API key for threads/listPosts (also read from the environment)
DISQUS_API_BASE = ""  # empty = https://disqus.com/api/3.0
REDDIT_CLIENT_ID = ""  # OAuth app credentials for live Reddit (also read from the environment)
REDDIT_CLIENT_SECRET = ""

# --- Reddit and Hacker News APIs (crawler/middlewares/reddit_oauth.py, api_budget.py; README "Discussion") ------
# Every remote origin is a setting, so tests and mirrors point them at local servers. A value may carry a path
# prefix (http://127.0.0.1:8000/reddit-api): every request whose URL starts with it is an API request.
REDDIT_TOKEN_URL = "https://www.reddit.com/api/v1/access_token"  # app-only OAuth (client_credentials grant)
REDDIT_API_ORIGIN = "https://oauth.reddit.com"  # every Reddit API call goes here with the bearer token
REDDIT_TOKEN_RENEW_MARGIN = 60  # seconds before expires_in at which the token is renewed
REDDIT_TOKEN_ATTEMPTS = 3  # tries of the token endpoint on network errors, 429, 5xx (a 4xx refuses at once)
REDDIT_RATELIMIT_PER_MINUTE = 100  # Reddit's budget per OAuth client; X-Ratelimit-* headers also obeyed
REDDIT_LISTING_LIMIT = 100  # submissions asked per subreddit listing page (Reddit's maximum)
REDDIT_LISTING_MAX_PAGES = 3  # listing pages followed through `after` per subreddit source (or its max_pages)
HN_ALGOLIA_URL = "https://hn.algolia.com/api/v1"  # search_by_date, search (url lookup), items/{id} (whole tree)
HN_FIREBASE_URL = "https://hacker-news.firebaseio.com/v0"  # item/{id}.json: fallback when Algolia fails
HN_DISCUSSION_URL = "https://news.ycombinator.com/item?id={id}"  # threads.discussion_url for live HN
HN_ALGOLIA_RATELIMIT_PER_HOUR = 10000  # Algolia's documented limit per IP
HN_FIREBASE_RATELIMIT_PER_MINUTE = 600  # our own cap (the Firebase API states no limit)
HN_SEARCH_HITS_PER_PAGE = 50  # stories per hn_search page
HN_SEARCH_MAX_PAGES = 2  # pages followed per hn_search source (or its max_pages)
# Discussion lookup by URL: for every article collected, ask these platforms where it is discussed
# (Reddit /api/info?url= with URL variants, HN Algolia search restricted to `url`) and collect those threads.
# "auto" = every platform that can be asked: hackernews (no credentials needed) and reddit when
# REDDIT_CLIENT_ID/SECRET are set; "" or "none" = off; or a comma list ("reddit,hackernews").
# `scrapy crawl warc` looks up only when this is set explicitly (a replay never goes online by itself).
DISCUSSION_LOOKUP = "auto"

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
# (block owned by the middlewares work; keep edits inside it). See docs/reliability.md.
DOWNLOADER_MIDDLEWARES: dict = {
    # Scrapy's versions are replaced by subclasses/equivalents that count every decision:
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "scrapy.downloadermiddlewares.useragent.UserAgentMiddleware": None,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "crawler.middlewares.address_policy.AddressPolicyMiddleware": 50,  # no private/loopback/link-local targets
    "crawler.middlewares.api_budget.ApiSlotMiddleware": 90,  # API origins: own slot, robots.txt not applied
    "crawler.middlewares.robots.RobotsTxtPolicyMiddleware": 100,  # RFC 9309 outcomes (ROBOTSTXT_OBEY)
    "crawler.middlewares.identity.IdentityMiddleware": 500,  # User-Agent with CONTACT; live crawls need it
    "crawler.middlewares.retry_after.RetryAfterMiddleware": 550,  # RETRY_* + Retry-After per-host backoff
    "crawler.middlewares.limits.DownloadLimitsMiddleware": 560,  # counts maxsize/timeouts; no retry of oversize
    "crawler.middlewares.content_guard.ContentGuardMiddleware": 585,  # empty/binary/truncated/charset
    "crawler.middlewares.limits.LimitedHttpCompressionMiddleware": 590,  # decompression bombs, counted
    "crawler.middlewares.limits.SafeRedirectMiddleware": 600,  # loops, max hops, auth/cookie stripping
    "crawler.middlewares.api_budget.ApiBudgetMiddleware": 880,  # API rate limits (sliding window, X-Ratelimit-*)
    # bearer token for REDDIT_API_ORIGIN, attached after any budget wait (a token never ages in a queue)
    "crawler.middlewares.reddit_oauth.RedditOAuthMiddleware": 885,
}
SPIDER_MIDDLEWARES: dict = {
    "crawler.middlewares.limits.ItemsPerResponseLimitMiddleware": 950,  # LIMITS_MAX_ITEMS_PER_RESPONSE
}
EXTENSIONS: dict = {}
# Scrapy's collector without its per-attribute-access shim (crawler/stats_collector.py): same stats, ~10x cheaper
# per counted record
STATS_CLASS = "crawler.stats_collector.CrawlStatsCollector"
# The scheduler hands out requests for the host with the fewest in flight, so a host backing off
# (Retry-After, slow responses) does not fill the downloader while other hosts wait.
SCHEDULER_PRIORITY_QUEUE = "scrapy.pqueues.DownloaderAwarePriorityQueue"
# robots.txt (crawler/middlewares/robots.py; RFC 9309). ROBOTSTXT_OBEY above switches it on.
ROBOTSTXT_CACHE_TTL = 86400  # seconds parsed rules / allow-all outcomes are reused (RFC: <= 24 h)
ROBOTSTXT_ERROR_TTL = 3600  # seconds a 5xx/unreachable robots.txt keeps its host fully disallowed
ROBOTSTXT_MAX_REDIRECTS = 5  # redirect hops followed for robots.txt (more: treated as unavailable)
ROBOTSTXT_TIMEOUT = 20  # download timeout (s) for robots.txt; a timeout means "unreachable"
ROBOTSTXT_MAX_BYTES = 512 * 1024  # bytes of robots.txt parsed (RFC: at least 500 KiB)
ROBOTSTXT_RETRY_TIMES = 1  # retries of a failing robots.txt fetch before deciding
# Retry-After (crawler/middlewares/retry_after.py): 429/503 with Retry-After back off that host only.
RETRY_AFTER_MAX_WAIT = 300  # longest wait (s) honoured; longer asks are capped (retry/retry_after/capped)
RETRY_AFTER_DEFAULT_WAIT = 5  # back-off (s) for a 429/503 without a usable Retry-After (0 = plain retry)
# Limits (crawler/middlewares/limits.py); DOWNLOAD_MAXSIZE/DOWNLOAD_TIMEOUT/REDIRECT_MAX_TIMES above apply.
LIMITS_ENABLED = True  # count size/timeout limits and never retry an oversized body
LIMITS_MAX_DECOMPRESSED_SIZE = 32 * 1024 * 1024  # cap on a body after gzip/deflate/br/zstd (0 = DOWNLOAD_MAXSIZE)
LIMITS_MAX_ITEMS_PER_RESPONSE = 50_000  # items kept from one response (0 = no cap)
# Identity (crawler/middlewares/identity.py): CONTACT and USER_AGENT_TEMPLATE are set above.
IDENTITY_ENABLED = True  # set the User-Agent and refuse live crawls without CONTACT
# Content guard (crawler/middlewares/content_guard.py): drops bad 2xx bodies with a reason.
CONTENT_GUARD_ENABLED = True  # empty, binary, truncated, soft-404 checks and charset repair
CONTENT_DROP_TRUNCATED_HTML = True  # False: only count content/flag/truncated_html and keep the page
CONTENT_SOFT_404 = True  # drop 200 pages whose title/h1 says "page not found"
# Address policy (crawler/middlewares/address_policy.py): only public addresses, http(s) only.
ADDRESS_POLICY_ENABLED = True  # never switch off for live sources
# host:port entries or CIDR blocks that may be reached although private/loopback (empty: none). The demo spider
# adds its own server and -a base_override= its origins; nothing learned from a page is ever added.
PRIVATE_NETWORK_ALLOW: list = []
ADDRESS_POLICY_DNS_TTL = 60  # seconds a host's resolved addresses are reused by the policy
# --- end of middlewares block ---------------------------------------------------------------------

REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"
# Progress (crawler/extensions/progress.py): every PROGRESS_INTERVAL seconds one line with pages, rows staged per
# table, threads open/complete/incomplete and per-minute rates (0 = off). Scrapy's LogStats line stays as it is.
PROGRESS_INTERVAL = 60.0
EXTENSIONS.update({"crawler.extensions.progress.ProgressLog": 510})
TELNETCONSOLE_ENABLED = False
# Scrapy's remote-control extension (an aiohttp server on localhost that runs Python code sent to it, plus a job file
# in the user's profile): a cron crawl has no use for it; off like the telnet console
REMOTE_CONTROL_ENABLED = False

# --- incremental runs (crawler/state/) -----------------------------------------------------------
CRAWL_STATE_ENABLED = True  # remember fetched pages (ETag, schedule, thread members) in OUTPUT_DIR/_state/crawl.sqlite
CRAWL_CLOCK = ""  # ISO time to use as "now" for revisit scheduling (tests, backfills); empty = the real clock
DATASET_VERIFY_AT_START = True  # sizes + footers of every committed file before a crawl; damage -> exit 4 with names
FAULT_INJECT_COMMIT_PAUSE = 0.0  # seconds slept after each file rename at commit: only for kill tests
FAULT_INJECT_KILL_AT = ""  # fault tests only: SIGKILL at journal | first_rename | manifest | crawl_state

# --- shared mode: many workers, one frontier, one state, one dataset (crawler/shared/; README "Many machines") ---
# REDIS_URL switches it on: scrapy-redis's scheduler and seen-set per crawl round, crawl and dedup state in Redis,
# the run lock a Redis lease. OUTPUT_DIR may then be s3://BUCKET/PREFIX (endpoint from the S3_ENDPOINT_URL
# environment variable, credentials from the usual AWS_* variables) or a directory every worker mounts.
REDIS_URL = ""  # redis://HOST:PORT/DB (or rediss://, unix://); empty = local mode, nothing shared
REDIS_KEY_PREFIX = ""  # namespace of the dataset's Redis keys; empty = derived from OUTPUT_DIR
WORKER_ID = ""  # stable name of this worker (a restart with the same name takes its place back); empty = host name
REDIS_LEASE_SECONDS = 30.0  # a worker's lease, renewed every third of it; a dead worker is given up after this
SHARED_POLL_SECONDS = 0.25  # how often an idle worker looks for new work in the shared queue

# --- WARC capture and replay ---
# Capture (crawler/middlewares/warc_capture.py): every response of a crawl, with its request, into
# gzip-per-record WARC/1.1 files; off while WARC_CAPTURE_DIR is empty. Replay (warc_replay.py) is used by
# `scrapy crawl warc -a path=...` only (inert for other spiders). See docs/sources.md.
DOWNLOADER_MIDDLEWARES.update({
    "crawler.middlewares.warc_capture.WarcCaptureMiddleware": 890,  # next to the downloader: raw responses
    "crawler.middlewares.warc_replay.WarcReplayMiddleware": 950,  # answers requests from WARC records
    # next to the downloader: the address a response really came from (DNS rebinding); before WARC capture
    "crawler.middlewares.address_policy.RemoteAddressCheckMiddleware": 960,
})
WARC_CAPTURE_DIR = ""  # directory for WARC files; empty = no capture
WARC_MAX_SIZE = 1_000_000_000  # bytes after which a new WARC file is started
WARC_PREFIX = "cryptonews"  # file name prefix: <prefix>-<timestamp>-<serial>-<pid>.warc.gz
