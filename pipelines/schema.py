"""The single source of truth for the dataset's table schemas.

Each table is a list of :class:`Column` (name, Arrow type, nullability, meaning, example).
``docs/schema.md`` is generated from this module (``python -m pipelines.schema > docs/schema.md``)
and a test keeps the two equal. Only the Parquet exporter turns records into Arrow; everything
upstream handles the plain dataclasses of :mod:`crawler.items`.

Versioning rule: adding a nullable column keeps ``SCHEMA_VERSION``; removing, renaming or
retyping a column bumps it.
"""
from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

SCHEMA_VERSION = 1
TS = pa.timestamp("us", tz="UTC")
PARTITION_COLUMN = "crawl_date"  # Hive partition key (YYYY-MM-DD of fetched_at); not stored in files


@dataclass(frozen=True)
class Column:
    name: str
    type: pa.DataType
    nullable: bool
    doc: str
    example: str


def _common_tail() -> list[Column]:
    return [
        Column("version", pa.int32(), False,
               "Version of this record: 1 for the first capture, +1 each time its content changed.", "1"),
        Column("valid_from", TS, False,
               "When this version was first seen (UTC); equals fetched_at of the run that wrote it.",
               "2026-11-25T06:40:00Z"),
        Column("is_tombstone", pa.bool_(), False,
               "True when this row records that the page or comment vanished (all content fields empty).",
               "false"),
        Column("fetched_at", TS, False, "When the response was downloaded (UTC).", "2026-11-25T06:40:00Z"),
        Column("run_id", pa.string(), False, "Identifier of the crawl run that wrote the row.",
               "20261125T064000Z-demo-3f2a"),
        Column("parser", pa.string(), False, "Extractor that produced the row, as name@version.",
               "generic@2"),
        Column("schema_version", pa.int32(), False, "Version of this schema (see the table header).", "1"),
    ]


def _assets_column(table_note: str) -> Column:
    return Column("assets", pa.list_(pa.string()), True,
                  "Crypto assets the text talks about, as sorted tickers from the asset registry "
                  "(pipelines/assets/registry.json); ambiguous words (NEO/neo-, LINK, ONE, SOL in Spanish, DOT, "
                  "Compound, Maker) count only with crypto context, language-aware (pipelines/assets/matching.py). "
                  + table_note + " Empty list: none found; null: tombstone, tagging off, or a row written "
                  "before the column existed.", '["BTC", "NEO"]')


ARTICLE_COLUMNS: list[Column] = [
    Column("article_id", pa.string(), False,
           "Stable id: first 32 hex chars of SHA-256 of canonical_url.", "9f2c...e1"),
    Column("url", pa.string(), False, "URL the page was fetched from (after redirects).",
           "http://127.0.0.1:8000/2026/11/bitcoin-miners/?utm_source=rss"),
    Column("canonical_url", pa.string(), False,
           "Normalised URL: page's rel=canonical/og:url when on the same site, tracking parameters, "
           "fragments, default ports and trailing-slash variants removed.",
           "http://127.0.0.1:8000/2026/11/bitcoin-miners/"),
    Column("site", pa.string(), False, "Host (and port) the article was published on.", "127.0.0.1:8000"),
    Column("title", pa.string(), False, "Headline, cleaned.", "Bitcoin miners switch off"),
    Column("body_text", pa.string(), False,
           "Main text, paragraphs separated by blank lines; navigation, footers and comments removed.",
           "Miners in Texas ..."),
    Column("summary", pa.string(), True, "Standfirst or meta/OpenGraph description.", "Hashrate fell ..."),
    Column("authors", pa.list_(pa.string()), False, "Normalised author names (may be empty).",
           '["Dana Reyes"]'),
    Column("authors_raw", pa.list_(pa.string()), False, "Author strings as found on the page.",
           '["By Dana Reyes"]'),
    Column("published_at", TS, True,
           "Publication time (UTC), null when absent or implausible. For a date the page gives as a day only "
           "(\"March 2, 2021\", a URL's /2021/03/02/) it is that day at midnight UTC; the site's local day of a "
           "full time is that of `published_at` + `published_at_offset_minutes`.",
           "2026-11-20T09:30:00Z"),
    Column("published_at_raw", pa.string(), True,
           "The date `published_at` was read from, verbatim: the page's own date string in whatever format it "
           "writes it (\"2026-11-20T10:30:00+01:00\", \"March 2, 2021\", \"7 Oct. 2024\"); the URL's date as the "
           "URL writes it (\"2021/03/02\") when only the URL dates the page; an ISO day (YYYY-MM-DD) when only "
           "a heuristic (htmldate) found the date; for a discussion's own row (Reddit, HN) the platform's value as "
           "given. Null when no date was found.",
           "2026-11-20T10:30:00+01:00"),
    Column("published_at_offset_minutes", pa.int16(), True,
           "UTC offset, in minutes east of UTC, of the local time the source states for `published_at`; "
           "`published_at` + this offset is the time as the source wrote it, whose day is the day the site "
           "published on when the source writes its own local time. "
           "Filled by the article page parser (`generic@N`: every article found through feeds, sitemaps, "
           "WordPress REST post lists or listings), from the offset the page writes its date in, or the site's "
           "offset inferred from its other timestamps when the page writes the time in UTC and the local day is "
           "the URL's day; and by forum opening-post rows (`<forum>-opening-post@1`: Discourse, phpBB, XenForo, "
           "vBulletin, SMF, Invision), from the offset of the post's timestamp. 0 for a time stated in UTC (it "
           "records a UTC stamp: the site's own local offset may differ, as on forums that serve every time "
           "in UTC); "
           "null when the source gives no offset (a day-only date, a time without an offset such as a forum's "
           "printed local time) and on rows whose platform gives an epoch instant (Reddit, Hacker News) or no "
           "time (`<forum>-topic@1`).",
           "60"),
    Column("modified_at", TS, True, "Last modification time (UTC) if the page states it.",
           "2026-11-21T08:00:00Z"),
    Column("section", pa.string(), True, "Section or category.", "Markets"),
    Column("tags", pa.list_(pa.string()), False, "Keywords/tags (may be empty).", '["mining", "bitcoin"]'),
    Column("image_url", pa.string(), True, "Lead image (og:image / JSON-LD image).", "http://.../lead.jpg"),
    Column("language", pa.string(), False,
           "ISO 639-1 code from langdetect (seeded); 'und' when the text is too short to judge.", "en"),
    Column("language_score", pa.float64(), True, "langdetect probability of `language`; null for 'und'.",
           "0.99"),
    Column("word_count", pa.int32(), False, "Whitespace-separated tokens in body_text.", "612"),
    Column("content_hash", pa.string(), False,
           "SHA-256 (hex, 32 chars) of the normalised body text (case-folded, whitespace-collapsed).",
           "51ab...0c"),
    Column("duplicate_of", pa.string(), True,
           "article_id of the cluster representative when this row is a duplicate; null otherwise.", "null"),
    Column("duplicate_reason", pa.string(), True,
           "Why this row is a duplicate: 'content' (same content_hash) or 'near' (MinHash estimate of "
           "5-word-shingle Jaccard >= DEDUP_NEAR_THRESHOLD).",
           "content"),
    Column("cluster_id", pa.string(), True,
           "Id shared by all rows of a duplicate cluster (= representative's article_id); a representative "
           "written by an earlier run keeps cluster_id null in its own row.", "9f2c...e1"),
    Column("syndicated_from", pa.string(), True,
           "Original source URL when the page says it is a repost/syndicated copy.", "https://example.org/a"),
    _assets_column("From title, summary and body_text."),
    Column("is_paywalled", pa.bool_(), True,
           "True when the page says it is not free (JSON-LD isAccessibleForFree false, or article:content_tier "
           "locked/metered) and served only a teaser (under 1,500 characters of text): body_text is then the "
           "story's opening without the paywall's own messages, not the whole story. False when the page "
           "declares no paywall or served more than a teaser; null for rows not made from an article page "
           "(a discussion's opening post) and in rows written before the column existed. A not-free page "
           "serving no story text at all is no row (articles/not_article/paywall).", "false"),
] + _common_tail()

THREAD_COLUMNS: list[Column] = [
    Column("thread_id", pa.string(), False,
           "Stable id: hash of platform, host and the platform's thread identifier.", "7d1e...aa"),
    Column("platform", pa.string(), False,
           "Comment platform: wordpress, disqus, discourse, reddit, hackernews, smf, phpbb, xenforo, vbulletin, invision.",
           "wordpress"),
    Column("article_id", pa.string(), False, "Article the thread discusses (joins articles.article_id).",
           "9f2c...e1"),
    Column("url", pa.string(), False, "URL of the thread (page or API endpoint first fetched).",
           "http://127.0.0.1:8000/wp-json/wp/v2/comments?post=12"),
    Column("native_thread_id", pa.string(), True, "The platform's own id of the thread (post id, topic id).",
           "12"),
    Column("comment_count_reported", pa.int32(), True, "Comment count the site itself states.", "14"),
    Column("comment_count_collected", pa.int32(), False, "Comment rows collected for this thread.", "14"),
    Column("is_complete", pa.bool_(), False,
           "True when every comment page was fetched and collected >= reported.", "true"),
    Column("source", pa.string(), False,
           "Where the rows came from: 'api' (the platform's JSON API), 'html' (the rendered page), "
           "'embed' (JSON embedded in the page).", "api"),
    _assets_column("The tags of the thread's title and of its comments in this version."),
    Column("title", pa.string(), True,
           "Title of the discussion (Reddit submission, HN story, forum topic) when the platform states one.",
           "Miners switch off as fees spike"),
    Column("community", pa.string(), True,
           "Where the discussion lives: the subreddit (without r/), 'hackernews', a forum category.",
           "CryptoCurrency"),
    Column("author_id", pa.string(), True,
           "Pseudonym of whoever opened the thread (submitter, story author), made like comments.author_id "
           "(salted HMAC; the raw name when AUTHOR_PSEUDONYMISE is off); null when not shown.", "a81b...07"),
    Column("score", pa.int64(), True, "The thread's score (Reddit score, HN points) when shown.", "143"),
    Column("created_at", TS, True, "When the thread was opened (UTC), if stated.", "2026-11-22T07:20:00Z"),
    Column("discussion_url", pa.string(), True,
           "The page a person opens to read the discussion (Reddit permalink, HN item page).",
           "https://www.reddit.com/r/CryptoCurrency/comments/abc123/miners_switch_off/"),
] + _common_tail()

COMMENT_COLUMNS: list[Column] = [
    Column("comment_id", pa.string(), False,
           "Stable id: hash of platform, host and native_id.", "c0ff...ee"),
    Column("thread_id", pa.string(), False, "Thread the comment belongs to (joins threads.thread_id).",
           "7d1e...aa"),
    Column("article_id", pa.string(), False, "Article discussed (joins articles.article_id).", "9f2c...e1"),
    Column("parent_id", pa.string(), True, "comment_id of the comment replied to; null at top level.",
           "null"),
    Column("depth", pa.int32(), False, "0 for top-level comments, parent's depth + 1 for replies.", "1"),
    Column("position", pa.int32(), False,
           "0-based place in the thread's display order (depth-first, oldest first among siblings); -1 on "
           "tombstones.", "3"),
    Column("platform", pa.string(), False, "Comment platform.", "wordpress"),
    Column("native_id", pa.string(), False, "The platform's own comment id, as in its permalinks.", "431"),
    Column("author_id", pa.string(), True,
           "Salted HMAC-SHA256 pseudonym of the author (32 hex); the raw name when AUTHOR_PSEUDONYMISE "
           "is off; null when no author is shown.", "a81b...07"),
    Column("author_pseudonymised", pa.bool_(), False, "True when author_id is a pseudonym.", "true"),
    Column("body_text", pa.string(), False,
           "Comment text without the quoted parts; empty string for deleted comments.", "Agreed, fees ..."),
    Column("quoted_text", pa.string(), True, "Text the comment quotes (blockquotes), if any.", "Fees will ..."),
    Column("published_at", TS, True, "When the comment was posted (UTC).", "2026-11-20T11:02:00Z"),
    Column("published_at_raw", pa.string(), True, "Date string as found.", "2026-11-20T11:02:00"),
    Column("edited_at", TS, True, "When the comment was last edited (UTC), if stated.", "null"),
    Column("score", pa.int64(), True, "Votes/likes when the platform shows them.", "5"),
    Column("is_deleted", pa.bool_(), False, "True for deleted/removed comments (kept to preserve the tree).",
           "false"),
    Column("language", pa.string(), False, "As articles.language; 'und' for short or empty text.", "en"),
    Column("language_score", pa.float64(), True, "As articles.language_score.", "0.97"),
    Column("content_hash", pa.string(), False, "SHA-256 (32 hex) of the normalised body_text.", "77aa...01"),
    Column("duplicate_of", pa.string(), True,
           "comment_id of the cluster representative: exact same text from COMMENT_DEDUP_MIN_CHARS characters, "
           "near-duplicates from DEDUP_COMMENT_NEAR_MIN_WORDS words; may be a row of an earlier run; null "
           "otherwise.", "null"),
    Column("duplicate_reason", pa.string(), True, "Why this row is a duplicate.", "content"),
    Column("cluster_id", pa.string(), True,
           "Id shared by a duplicate cluster; a representative written by an earlier run keeps cluster_id null "
           "in its own row.", "null"),
    Column("source_url", pa.string(), False, "URL of the response the comment was parsed from.",
           "http://127.0.0.1:8000/wp-json/wp/v2/comments?post=12&page=2"),
    _assets_column("From body_text (not quoted_text)."),
    Column("is_placeholder", pa.bool_(), True,
           "True for a row standing for a parent comment the crawl never received (no text, author or date; "
           "kept so its replies keep their place). is_deleted on such a row is true only when every page of "
           "the thread was read (the platform no longer lists it). False for comments that were read; null in "
           "rows written before the column existed.", "false"),
    Column("is_edited", pa.bool_(), True,
           "True when the platform says the comment was edited, whether or not it says when (edited_at may be "
           "null: old Reddit comments carry only `edited: true`); false when it shows no edit; null on "
           "placeholder rows and in rows written before the column existed.", "false"),
] + _common_tail()

TABLES: dict[str, list[Column]] = {
    "articles": ARTICLE_COLUMNS,
    "threads": THREAD_COLUMNS,
    "comments": COMMENT_COLUMNS,
}


def arrow_schema(table: str) -> pa.Schema:
    cols = TABLES[table]
    return pa.schema(
        [pa.field(c.name, c.type, nullable=c.nullable, metadata={"doc": c.doc}) for c in cols],
        metadata={"schema_version": str(SCHEMA_VERSION), "table": table},
    )


def render_markdown() -> str:
    out = [
        "# Dataset schema",
        "",
        f"Schema version: **{SCHEMA_VERSION}**. Generated from `pipelines/schema.py` "
        "(`python -m pipelines.schema > docs/schema.md`); a test keeps this file equal to the code.",
        "",
        "Layout: `OUTPUT_DIR/<table>/crawl_date=YYYY-MM-DD/part-<run_id>-NNNNN.parquet` (Hive partitioning; "
        "`crawl_date` is the UTC date of `fetched_at` and is not stored inside the files). Tables join on "
        "`article_id` (articles ← threads ← comments) and `thread_id` (threads ← comments). Timestamps are "
        "`timestamp[us, UTC]`.",
        "",
        "Versioning: adding a nullable column keeps the version; removing, renaming or retyping one bumps it.",
    ]
    for table, cols in TABLES.items():
        out += ["", f"## `{table}`", "", "| column | type | nullable | meaning | example |", "|---|---|---|---|---|"]
        for c in cols:
            doc = c.doc.replace("|", "\\|")
            ex = c.example.replace("|", "\\|")
            out.append(f"| `{c.name}` | `{c.type}` | {'yes' if c.nullable else 'no'} | {doc} | `{ex}` |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(render_markdown(), end="")
