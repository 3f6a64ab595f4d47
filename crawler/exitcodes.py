"""Exit codes of `scrapy crawl` in this project, decided from the crawl's stats. Pure, so tests can call it.

| code | meaning |
|------|---------|
| 0 | the run completed and committed its output |
| 1 | Scrapy could not start the crawl (bad spider name, settings) |
| 2 | usage error (Scrapy's own) |
| 3 | data was lost: items dropped as errors, or a callback raised |
| 4 | output could not be written or committed |
| 5 | extraction health collapsed compared with the site's history |
| 6 | another run holds the output lock |
| 7 | the spider refused to start (e.g. live crawl without CONTACT) |
"""
from __future__ import annotations

OK, STARTUP, USAGE, DATA_LOST, NOT_COMMITTED, HEALTH, LOCKED, REFUSED = 0, 1, 2, 3, 4, 5, 6, 7


def exit_code(stats: dict) -> tuple[int, str]:
    """(code, reason) for a finished crawl."""
    if stats.get("run/refused"):
        return REFUSED, f"refused to start: {stats.get('run/refused')}"
    if stats.get("run/locked"):
        return LOCKED, f"another run holds the output lock: {stats.get('run/locked')}"
    failed = [k for k, v in stats.items() if k.startswith("export/failed/") and v]
    if failed or stats.get("export/committed") is not True:
        # a commit that did not report success (it failed, or never ran because something raised) is a failure
        why = ", ".join(f"{k}: {stats[k]}" if isinstance(stats[k], str) else k for k in failed) or \
            ("export/committed=False" if "export/committed" in stats else "commit never finished")
        return NOT_COMMITTED, f"output not committed ({why}){_reason_detail(stats)}"
    lost = stats.get("pipeline/drop_errors", 0)
    exceptions = sum(v for k, v in stats.items() if k.startswith("spider_exceptions/") and isinstance(v, int))
    if lost or exceptions:
        return DATA_LOST, f"data lost: {lost} items dropped as errors, {exceptions} callback exceptions"
    if stats.get("health/collapsed"):
        return HEALTH, f"extraction health collapsed: {stats.get('health/collapsed')}"
    return OK, "ok"


def _reason_detail(stats: dict) -> str:
    detail = stats.get("export/failure")
    return f": {detail}" if detail else ""


def summary_line(stats: dict) -> str:
    rows = {t: stats.get(f"export/rows/{t}", 0) for t in ("articles", "threads", "comments")}
    dropped = {}
    for k, v in stats.items():
        if not isinstance(v, int) or not v:
            continue
        if k.startswith("articles/not_article/"):
            if k.count("/") > 2 and stats.get(k.rsplit("/", 1)[0]):
                continue  # the rule behind a reason counted already (listing/headlines under listing)
            dropped[k.split("/", 1)[1]] = v
        elif k.startswith("pipeline/drop/"):
            dropped[k.split("/", 2)[2]] = v
        elif k in ("robotstxt/forbidden",) or k.startswith("robotstxt/disallow"):
            dropped[k] = v
        elif k.startswith("httperror/response_ignored_status_count/"):
            dropped["http_" + k.rsplit("/", 1)[1]] = v
        elif k.startswith(("content/drop/", "limits/drop/")):
            dropped[k] = v
        elif k == "comments/incomplete_thread":
            dropped[k] = v
    dropped_s = ", ".join(f"{k}={v}" for k, v in sorted(dropped.items())) or "none"
    flagged = f" | flagged: paywalled={stats['articles/paywalled']}" if stats.get("articles/paywalled") else ""
    return (f"articles={rows['articles']} threads={rows['threads']} comments={rows['comments']} "
            f"| dropped/skipped: {dropped_s}{flagged}")
