"""Extraction health per site and run, compared with the site's history to catch silent collapses.

A site redesign rarely makes a crawl fail: it makes the parser return pages without a body, without a
date, or threads without comments. :class:`HealthTracker` sums up one run per site; :func:`load_history`
reads earlier runs' summaries from the run manifests (``_manifests/<run_id>.json``, key ``"health"``);
:func:`collapses` compares the two and names every collapse. Thresholds (module constants, overridable by
the ``HEALTH_*`` settings of the same name):

* a share (title, body, date present) collapses when the history median was > ``SHARE_HEALTHY`` (0.90)
  and this run's share is < ``SHARE_COLLAPSED`` (0.50);
* ``median_body_chars`` collapses when it falls below ``BODY_CHARS_RATIO`` (0.30) × its history median;
* ``comments_per_thread`` collapses when it is 0 where the history median was > 0 (a run with pages but
  no threads counts as 0 comments per thread);
* no verdict without ``MIN_HISTORY`` (2) earlier runs of the site having at least ``MIN_PAGES`` (3)
  pages, nor for a run of the site with fewer than ``MIN_PAGES`` pages; only the last ``HISTORY_RUNS``
  (10) runs are used.

Everything but :class:`HealthPipeline` is pure (or reads files only) and needs no Scrapy.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, fields
from pathlib import Path
from statistics import median
from urllib.parse import urlsplit

from .batch import per_record

logger = logging.getLogger(__name__)

SHARE_HEALTHY = 0.90
SHARE_COLLAPSED = 0.50
BODY_CHARS_RATIO = 0.30
MIN_HISTORY = 2
MIN_PAGES = 3
HISTORY_RUNS = 10
SHARES = {"title_share": "title", "body_share": "body", "date_share": "published_at"}


@dataclass(frozen=True)
class Thresholds:
    share_healthy: float = SHARE_HEALTHY
    share_collapsed: float = SHARE_COLLAPSED
    body_chars_ratio: float = BODY_CHARS_RATIO
    min_history: int = MIN_HISTORY
    min_pages: int = MIN_PAGES
    history_runs: int = HISTORY_RUNS

    @classmethod
    def from_settings(cls, settings) -> "Thresholds":
        """Reads HEALTH_SHARE_HEALTHY, HEALTH_SHARE_COLLAPSED, ... (upper-cased field names)."""
        kw = {}
        for f in fields(cls):
            key, default = f"HEALTH_{f.name.upper()}", getattr(cls, f.name)
            kw[f.name] = settings.getfloat(key, default) if f.type == "float" else settings.getint(key, default)
        return cls(**kw)


def _get(record, name, default=None):
    return record.get(name, default) if isinstance(record, dict) else getattr(record, name, default)


def _table(record) -> str:
    return _get(record, "table") or ("articles" if _get(record, "title") is not None else "")


class HealthTracker:
    """Observes records (dataclasses of crawler.items or dicts with a 'table' key) of one run."""

    def __init__(self):
        self.sites: dict[str, dict] = {}
        self.article_site: dict[str, str] = {}
        self.threads: list[tuple[str, str, int]] = []  # (article_id, url, comments): site resolved at summary

    def _site(self, site: str) -> dict:
        return self.sites.setdefault(site, {"pages": 0, "title": 0, "body": 0, "date": 0, "body_chars": [],
                                            "threads": 0, "comments": 0})

    def observe(self, record) -> None:
        if _get(record, "is_tombstone"):
            return  # a vanished page has empty content by design
        table = _table(record)
        if table == "articles":
            site = _get(record, "site") or "unknown"
            self.article_site[_get(record, "article_id") or ""] = site
            s, body = self._site(site), _get(record, "body_text") or ""
            s["pages"] += 1
            s["title"] += bool((_get(record, "title") or "").strip())
            s["body"] += bool(body.strip())
            s["date"] += _get(record, "published_at") is not None
            s["body_chars"].append(len(body))
        elif table == "threads":
            self.threads.append((_get(record, "article_id") or "", _get(record, "url") or "",
                                 int(_get(record, "comment_count_collected") or 0)))

    def summary(self) -> dict[str, dict]:
        """Per site; a thread counts for its article's site (the thread URL's host when the article is unseen)."""
        threads: dict[str, list[int]] = {}
        for aid, url, n in self.threads:
            threads.setdefault(self.article_site.get(aid) or urlsplit(url).netloc or "unknown", []).append(n)
        for site in threads:
            self._site(site)
        out = {}
        for site, s in sorted(self.sites.items()):
            s["threads"], s["comments"] = len(threads.get(site, [])), sum(threads.get(site, []))
            n = s["pages"]
            out[site] = {
                "pages": n,
                "title_share": round(s["title"] / n, 4) if n else None,
                "body_share": round(s["body"] / n, 4) if n else None,
                "date_share": round(s["date"] / n, 4) if n else None,
                "median_body_chars": float(median(s["body_chars"])) if n else None,
                "threads": s["threads"],
                "comments_per_thread": round(s["comments"] / s["threads"], 4) if s["threads"] else 0.0,
            }
        return out


def load_history(output_dir, limit: int | None = None) -> dict[str, list[dict]]:
    """{site: [summary, ...]} from earlier run manifests' "health" key, oldest first."""
    runs = []
    for path in Path(output_dir, "_manifests").glob("*.json"):
        try:
            m = json.loads(path.read_text())
        except (OSError, ValueError):
            logger.warning("health: unreadable manifest %s skipped", path)
            continue
        if isinstance(m.get("health"), dict):
            runs.append((m.get("started_at") or "", m.get("run_id") or path.stem, m["health"]))
    out: dict[str, list[dict]] = {}
    for _, _, health in sorted(runs, key=lambda r: (r[0], r[1])):
        for site, summary in health.items():
            out.setdefault(site, []).append(summary)
    return {site: h[-limit:] for site, h in out.items()} if limit else out


def _hist_median(history: list[dict], key: str):
    values = [h[key] for h in history if h.get(key) is not None]
    return median(values) if values else None


def site_collapses(site: str, now: dict, history: list[dict], t: Thresholds = Thresholds()) -> list[str]:
    """Collapses of one site's summary against its history ([] when there is too little to judge)."""
    usable = [h for h in history[-t.history_runs:] if (h.get("pages") or 0) >= t.min_pages]
    if len(usable) < t.min_history or (now.get("pages") or 0) < t.min_pages:
        return []
    out = []
    for key, label in SHARES.items():
        past, cur = _hist_median(usable, key), now.get(key)
        if past is not None and cur is not None and past > t.share_healthy and cur < t.share_collapsed:
            out.append(f"{site}: {label} present on {cur:.0%} of {now['pages']} pages (history median {past:.0%})")
    past, cur = _hist_median(usable, "median_body_chars"), now.get("median_body_chars")
    if past and cur is not None and cur < t.body_chars_ratio * past:
        out.append(f"{site}: median body {cur:.0f} chars < {t.body_chars_ratio:.0%} of history median {past:.0f}")
    past, cur = _hist_median(usable, "comments_per_thread"), now.get("comments_per_thread")
    if past and past > 0 and cur is not None and cur == 0:
        out.append(f"{site}: 0 comments per thread ({now.get('threads', 0)} threads; history median {past:g})")
    return out


def collapses(summary: dict[str, dict], history: dict[str, list[dict]], min_history: int = MIN_HISTORY,
              thresholds: Thresholds | None = None) -> list[str]:
    """Every collapse of this run's summary against the history, one message each, sites in order."""
    t = thresholds or Thresholds(min_history=min_history)
    return [msg for site in sorted(summary) for msg in site_collapses(site, summary[site], history.get(site, []), t)]


def finish(crawler, output_dir) -> dict[str, dict]:
    """Compute this run's summary and verdict once; set health/* stats. Returns the summary for the manifest.

    Called by the exporter before it writes the manifest (so the summary lands under "health"), and by
    HealthPipeline.close_spider as a fallback; the second call returns the cached summary.
    """
    tracker = getattr(crawler, "health_tracker", None)
    if tracker is None:
        return {}
    done = getattr(crawler, "health_summary", None)
    if done is not None:
        return done
    t = Thresholds.from_settings(crawler.settings)
    summary = tracker.summary()
    history = load_history(output_dir, t.history_runs)
    verdicts = collapses(summary, history, thresholds=t)
    stats = crawler.stats
    stats.set_value("health/sites", len(summary))
    for site, s in summary.items():
        judged = len([h for h in history.get(site, []) if (h.get("pages") or 0) >= t.min_pages]) >= t.min_history
        if not judged or s["pages"] < t.min_pages:
            stats.inc_value("health/no_verdict")
            logger.info("health: no verdict for %s (history runs %d, pages %d; need %d and %d)", site,
                        len(history.get(site, [])), s["pages"], t.min_history, t.min_pages)
    for msg in verdicts:
        logger.error("health collapse: %s", msg)
    stats.set_value("health/collapses", len(verdicts))
    if verdicts:
        stats.set_value("health/collapsed", "; ".join(verdicts))
    crawler.health_summary = summary
    return summary


class HealthPipeline:
    """Observes every record as it arrives (register it first, e.g. priority 50, to see records before any
    step drops them); the verdict is computed in :func:`finish`."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.output_dir = crawler.settings.get("OUTPUT_DIR", "output")
        crawler.health_tracker = HealthTracker()

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    @per_record
    def process_item(self, item, spider=None):
        self.crawler.health_tracker.observe(item)
        return item

    def close_spider(self, spider=None):
        finish(self.crawler, self.output_dir)
