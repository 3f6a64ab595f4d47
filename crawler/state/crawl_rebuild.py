"""Rebuild the crawl state from the committed Parquet files (after ``rm -rf OUTPUT_DIR/_state``, a corrupt,
behind or ahead state: :meth:`crawler.state.run_context.RunContext.check_state` decides, this rebuilds).

What the dataset says, the rebuilt state knows again:

* ``pages``: one per news article URL (rows a discussion made — a forum topic's opening post, a thread entry —
  are left out: their page is known by its request URL, which the dataset does not hold; such topics are found
  again by discovery), from the article's rows — its identity (``article_id``, ``url``,
  ``canonical_url``, ``site``: what a tombstone needs), ``published_at``, first seen (earliest ``fetched_at``),
  last visit (latest ``fetched_at``), whether its latest row is a tombstone (``gone``: not fetched again), the
  comment count of its threads. Its revisit schedule is computed again from these times (:func:`crawler.state.schedule.next_visit`,
  visits counted from 0: a page is revisited at least as often as before, never less), so pages deleted from the
  site are revisited when due and get their tombstone as in an undisturbed crawl.
* ``threads``: one per thread row, with its page (the article's URL), platform, native id, article and its host
  (recovered exactly: the host whose ``thread_id`` hash matches, among the hosts of its URLs), and its comments
  (native id, comment id, tombstoned or not, at their latest version; gone from a thread when the comment's
  latest version is in another thread: it moved) — so a comment deleted on the site is noticed on the thread's
  next complete visit. Not recoverable: a comment that moved to another thread unchanged (its new place wrote
  no row), which the rebuilt state still counts in the thread it left.

Rows a quarantined file held (``scrapy dataset verify --quarantine``) are not in the dataset any more: the pages
of the runs that lost a file (all pages, when a lost file cannot be attributed to a run) are due at once, so
the next crawl fetches them and writes the lost rows again.

Not in the dataset, so not rebuilt: HTTP validators (``ETag`` / ``Last-Modified``: the next visit of each page
is a full fetch; the rebuilt dedup state keeps unchanged rows out) and the API requests that start a thread's
collection (``first_requests``: after a rebuild a thread is collected again from its page, not from a 304).
"""
from __future__ import annotations

import json
import logging
from datetime import timezone
from pathlib import Path
from urllib.parse import urlsplit

import duckdb

from crawler import ids

from .crawl_state import CrawlState, iso, pack_identity, pack_members, to_micros
from .schedule import next_visit

logger = logging.getLogger(__name__)
PARTITIONS = "crawl_date=*"


def _glob(output: Path, table: str) -> str | None:
    if not any((output / table).glob(f"{PARTITIONS}/*.parquet")):
        return None
    return str(output / table / PARTITIONS / "*.parquet").replace("'", "''")


def _utc(dt):
    return None if dt is None else (dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


def _host_of(platform: str, native_thread_id: str, thread_id: str, urls) -> str | None:
    for u in urls:
        host = urlsplit(u).netloc if u else ""
        if host and ids.thread_id(platform, host, native_thread_id) == thread_id:
            return host
    return None


def quarantined_runs(output: Path) -> set[str] | None:
    """Runs that lost a file to ``scrapy dataset verify --quarantine`` (by the file names, ``part-<run>-N``);
    None when a lost file cannot be attributed to a run (a compacted file): then every page is refetched."""
    runs: set[str] = set()
    for q in (output / "_quarantine").glob("*/QUARANTINE.json"):
        try:
            files = json.loads(q.read_text()).get("files") or []
        except (OSError, ValueError, AttributeError):
            return None
        for rel in files:
            name = Path(str(rel)).name
            if not name.startswith("part-") or name.startswith("part-compact-"):
                return None
            runs.add(name[len("part-"):].rsplit("-", 1)[0].removesuffix(".parquet"))
    return runs


def rebuild(state: CrawlState, output: str | Path) -> dict[str, int]:
    """Fill a fresh (empty) crawl state from the committed files under ``output``; returns what it rebuilt."""
    output = Path(output)
    lost = quarantined_runs(output)  # rows lost with a quarantined file: their pages are fetched again now
    con = duckdb.connect()
    counts = {"pages": 0, "threads": 0, "comments": 0, "refetch": 0}
    pages: dict[str, dict] = {}
    thr = _glob(output, "threads")
    platforms = {r[0] for r in con.execute(f"SELECT DISTINCT platform FROM read_parquet('{thr}')").fetchall()} \
        if thr else set()
    art = _glob(output, "articles")
    if art:
        rows = con.execute(f"""
            SELECT url, arg_max(article_id, version), arg_max(canonical_url, version), arg_max(site, version),
                   max(published_at), min(fetched_at), max(fetched_at),
                   arg_max(is_tombstone, (version, fetched_at)), arg_min(parser, version), list(DISTINCT run_id)
            FROM read_parquet('{art}', union_by_name = true) GROUP BY url""").fetchall()
        for url, aid, canonical, site, published, first, last, tomb, parser, runs in rows:
            if any((parser or "").startswith(f"{p}-") for p in platforms):
                continue  # a row a discussion made (opening post, thread entry): its page key is not its URL
            pages[url] = {"article_id": aid, "canonical_url": canonical, "site": site, "published": _utc(published),
                          "first": _utc(first), "last": _utc(last), "gone": bool(tomb), "kind": "article",
                          "count": None, "refetch": lost is None or bool(lost & set(runs or []))}
    opened = {r[0]: r[1] for r in con.execute(
        f"SELECT article_id, arg_max(url, version) FROM read_parquet('{art}') GROUP BY article_id").fetchall()} \
        if art else {}
    url_of_article = {**opened, **{p["article_id"]: url for url, p in pages.items()}}
    threads: dict[str, dict] = {}
    if thr:
        rows = con.execute(f"""
            SELECT thread_id, arg_max(platform, version), arg_max(article_id, version),
                   arg_max(native_thread_id, version), arg_max(url, version), arg_max(discussion_url, version),
                   arg_max(comment_count_collected, version), list(DISTINCT run_id)
            FROM read_parquet('{thr}', union_by_name = true) GROUP BY thread_id""").fetchall()
        for tid, platform, aid, native, url, discussion_url, collected, runs in rows:
            page_url = url_of_article.get(aid) or url
            threads[tid] = {"page_url": page_url, "platform": platform, "article_id": aid, "native": native,
                            "urls": [url, discussion_url, page_url], "members": {}}
            page = pages.get(page_url)
            if page is not None and collected is not None:
                page["count"] = max(page["count"] or 0, collected)
            if page is not None and lost and lost & set(runs or []):
                page["refetch"] = True
    com = _glob(output, "comments")
    if com:
        # a comment id lives in the thread of its latest version: in any other thread it once was, it moved away
        # (gone there, as the run that saw it move recorded: crawler/state/revisits.py)
        rows = con.execute(f"""
            WITH c AS (SELECT thread_id, native_id, comment_id, is_tombstone, version, fetched_at, source_url
                       FROM read_parquet('{com}', union_by_name = true)),
                 latest AS (SELECT comment_id, max(version) AS v FROM c GROUP BY comment_id)
            SELECT thread_id, native_id, c.comment_id, arg_max(is_tombstone, (version, fetched_at)),
                   min(source_url), max(version) < any_value(latest.v)
            FROM c JOIN latest USING (comment_id) GROUP BY thread_id, native_id, c.comment_id""").fetchall()
        for tid, native_id, cid, tomb, source_url, moved in rows:
            t = threads.get(tid)
            if t is None:
                continue
            t["members"][native_id] = (int(bool(tomb) or bool(moved)), cid)
            t["urls"].append(source_url)
            counts["comments"] += 1
    con.close()
    with state.db:
        for url, p in pages.items():
            identity = {"article_id": p["article_id"], "url": url, "canonical_url": p["canonical_url"],
                        "site": p["site"]}
            nxt = None if p["gone"] else p["last"] if p["refetch"] else \
                next_visit(p["published"], p["first"], 0, p["last"], False)
            counts["refetch"] += bool(p["refetch"] and not p["gone"])
            state.db.execute(
                "INSERT OR REPLACE INTO pages (url, article_id, etag, last_modified, content_hash, published_at, "
                "first_seen, last_visit, visits, comment_count, next_visit, gone, article_json, kind) "
                "VALUES (?, ?, NULL, NULL, NULL, ?, ?, ?, 0, ?, ?, ?, ?, ?)",
                (url, p["article_id"], to_micros(iso(p["published"])), to_micros(iso(p["first"])),
                 to_micros(iso(p["last"])), p["count"], to_micros(iso(nxt)), int(p["gone"]),
                 pack_identity(url, json.dumps(identity)), p["kind"]))
            counts["pages"] += 1
        for tid, t in threads.items():
            host = _host_of(t["platform"], t["native"], tid, t["urls"]) or ""
            members = {n: (gone, None if host and cid == ids.comment_id(t["platform"], host, n) else cid)
                       for n, (gone, cid) in t["members"].items()}
            state.db.execute("INSERT OR REPLACE INTO threads VALUES (?, ?, ?, ?, ?, ?, '[]', ?)",
                             (tid, t["page_url"], t["platform"], host, t["native"], t["article_id"],
                              pack_members(members)))
            counts["threads"] += 1
    state._empty = state._empty_tables()
    logger.info("crawl state rebuilt from the dataset: %(pages)d pages, %(threads)d threads, %(comments)d comments",
                counts)
    return counts
