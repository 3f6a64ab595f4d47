"""``OUTPUT_DIR/report.html``: what was collected, at a glance, in one self-contained page.

Sections: articles per day per source, comments per article (distribution) and per platform, thread
completeness per platform, reply depth, languages, duplicates (share per site, largest clusters), extraction
health per site across runs (from the run manifests), asset mentions over time. Every figure is computed with
DuckDB from the committed Parquet files (the *latest* version of each record, tombstoned ones left out) and the
manifests; plots are drawn with matplotlib (Agg backend, no display) and embedded as PNG data URIs, so the page
needs no network and no other file. Every number is also in a table whose rows carry it machine-readably::

    <tr data-figure="comments_per_platform" data-key="discourse" data-value="42">

(``data-key`` parts joined by ``|``), which is how ``tests/test_report.py`` compares the page, rendered in
headless Chromium, with its own DuckDB queries.

Written at each commit (``REPORT_AT_COMMIT``, on by default; it costs about a second on the demo) and by
``scrapy dataset report OUTPUT_DIR``. Regenerating without new data gives the same bytes.
"""
from __future__ import annotations

import base64
import html
import io
import json
import os
import sys
from pathlib import Path

import duckdb
import matplotlib

matplotlib.use("Agg")  # no display: files only (before anything imports pyplot)
from matplotlib.figure import Figure  # noqa: E402

from . import cli
from ..schema import PARTITION_COLUMN, TABLES  # noqa: E402

ID_COLUMN = {"articles": "article_id", "threads": "thread_id", "comments": "comment_id"}
TOP_TICKERS = 8
TOP_CLUSTERS = 10
HEALTH_METRICS = ("body_share", "title_share", "date_share")

HELP = "write the self-contained OUTPUT_DIR/report.html (plots and figures of the data; also done at each commit)"


# --- figures ---------------------------------------------------------------------------------------------
def connect(output: Path) -> tuple[duckdb.DuckDBPyConnection, list[str]]:
    """A DuckDB connection with ``all_<table>`` and ``latest_<table>`` views of the tables that have files."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")  # days are UTC days, whatever the machine's zone
    present = []
    for t in TABLES:
        if not any(output.glob(f"{t}/{PARTITION_COLUMN}=*/*.parquet")):
            continue
        glob = str(output / t / f"{PARTITION_COLUMN}=*" / "*.parquet").replace("'", "''")
        con.execute(f"CREATE VIEW all_{t} AS SELECT * FROM read_parquet('{glob}', hive_partitioning=1, "
                    "union_by_name=1)")
        con.execute(f"CREATE VIEW latest_{t} AS SELECT * EXCLUDE (_rank) FROM (SELECT *, row_number() OVER "
                    f"(PARTITION BY {ID_COLUMN[t]} ORDER BY version DESC, valid_from DESC) AS _rank FROM all_{t}) "
                    "WHERE _rank = 1 AND NOT is_tombstone")
        present.append(t)
    return con, present


def _columns(con, view: str) -> set[str]:
    return {r[0] for r in con.execute(f"DESCRIBE {view}").fetchall()}


def _rows(con, sql: str) -> list[tuple]:
    return [tuple(r) for r in con.execute(sql).fetchall()]


def manifests(output: Path) -> list[dict]:
    out = []
    for p in Path(output, "_manifests").glob("*.json"):
        try:
            m = json.loads(p.read_text())
        except (OSError, ValueError):
            continue
        if m.get("kind") != "compaction" and m.get("run_id"):
            out.append(m)
    return sorted(out, key=lambda m: (m.get("started_at") or "", m["run_id"]))


def figures(output_dir) -> dict[str, list[tuple]]:
    """Every figure of the report: name → rows of (key parts..., value)."""
    output = Path(output_dir)
    con, present = connect(output)
    f: dict[str, list[tuple]] = {}
    f["totals"] = [(f"{t}_rows", _rows(con, f"SELECT count(*) FROM all_{t}")[0][0]) for t in present] + \
                  [(f"{t}_latest", _rows(con, f"SELECT count(*) FROM latest_{t}")[0][0]) for t in present]
    f["runs"] = [("runs", len(manifests(output)))]
    if "articles" in present:
        f["articles_per_day"] = _rows(con, "SELECT strftime(published_at, '%Y-%m-%d'), site, count(*) FROM "
                                           "latest_articles WHERE published_at IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2")
        f["totals"].append(("articles_undated", _rows(con, "SELECT count(*) FROM latest_articles WHERE "
                                                           "published_at IS NULL")[0][0]))
        dup = "duplicate_of IS NOT NULL"
        f["duplicate_share_articles"] = _rows(con, f"SELECT site, round(avg(CASE WHEN {dup} THEN 1 ELSE 0 END), 4) "
                                                   "FROM latest_articles GROUP BY 1 ORDER BY 1")
    if "articles" in present and "comments" in present:
        f["comments_per_article"] = _rows(con, """
            SELECT n, count(*) FROM (SELECT a.article_id, count(c.comment_id) AS n FROM latest_articles a
              LEFT JOIN latest_comments c ON c.article_id = a.article_id GROUP BY 1) GROUP BY 1 ORDER BY 1""")
    if "comments" in present:
        f["duplicate_share_comments"] = _rows(con, "SELECT platform, round(avg(CASE WHEN duplicate_of IS NOT NULL "
                                                   "THEN 1 ELSE 0 END), 4) FROM latest_comments GROUP BY 1 ORDER BY 1")
        f["comments_per_platform"] = _rows(con, "SELECT platform, count(*) FROM latest_comments GROUP BY 1 ORDER BY 1")
        f["reply_depth"] = _rows(con, "SELECT depth, count(*) FROM latest_comments GROUP BY 1 ORDER BY 1")
    if "threads" in present:
        f["thread_completeness"] = _rows(con, "SELECT platform, CASE WHEN is_complete THEN 'complete' ELSE "
                                              "'incomplete' END, count(*) FROM latest_threads GROUP BY 1, 2 ORDER BY 1, 2")
    f["languages"] = []
    for t in ("articles", "comments"):
        if t in present:
            f["languages"] += [(t, lang, n) for lang, n in _rows(
                con, f"SELECT language, count(*) FROM latest_{t} GROUP BY 1 ORDER BY 1")]
    f["largest_clusters"] = []
    for t in ("articles", "comments"):
        if t in present:
            f["largest_clusters"] += [(t, cid, n) for cid, n in _rows(con, f"""
                SELECT coalesce(duplicate_of, {ID_COLUMN[t]}) AS rep, count(*) AS n FROM latest_{t}
                WHERE rep IN (SELECT duplicate_of FROM latest_{t} WHERE duplicate_of IS NOT NULL)
                GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {TOP_CLUSTERS}""")]
    f["extraction_health"] = [(m["run_id"], site, metric, round(float(h[metric]), 4))
                              for m in manifests(output) for site, h in sorted((m.get("health") or {}).items())
                              for metric in HEALTH_METRICS if isinstance(h, dict) and h.get(metric) is not None]
    mentions = []
    for t in ("articles", "comments"):
        if t in present and "assets" in _columns(con, f"latest_{t}"):
            mentions.append(f"SELECT strftime(coalesce(published_at, fetched_at), '%Y-%m-%d') AS day, "
                            f"unnest(assets) AS ticker FROM latest_{t}")
    f["asset_mentions"] = _rows(con, "SELECT day, ticker, count(*) FROM (" + " UNION ALL ".join(mentions) +
                                ") GROUP BY 1, 2 ORDER BY 1, 2") if mentions else []
    return f


# --- plots -----------------------------------------------------------------------------------------------
def _png(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _figure(title: str) -> tuple[Figure, object]:
    fig = Figure(figsize=(7.5, 3.4))  # fixed margins: one draw per plot (a layout engine draws twice)
    fig.subplots_adjust(left=0.09, right=0.98, top=0.9, bottom=0.24)
    ax = fig.subplots()
    ax.set_title(title, fontsize=10)
    return fig, ax


def _empty(ax) -> None:
    ax.text(0.5, 0.5, "no data yet", ha="center", va="center", fontsize=12, transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])


def _bars(title: str, labels: list[str], values: list[float], xlabel: str = "", ylabel: str = "") -> str:
    fig, ax = _figure(title)
    if not values:
        _empty(ax)
    else:
        ax.bar(range(len(values)), values, color="#3b6ea8")
        ax.set_xticks(range(len(labels)), labels, rotation=30 if len(labels) > 6 else 0, ha="right" if len(labels) > 6 else "center",
                      fontsize=8)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
    return _png(fig)


def _histogram(title: str, xs: list[int], counts: list[int], xlabel: str, ylabel: str) -> str:
    """Counts at numeric positions (a long tail stays readable, unlike one category per value)."""
    fig, ax = _figure(title)
    if not counts:
        _empty(ax)
    else:
        ax.bar(xs, counts, width=max(0.8, (max(xs) - min(xs)) / 120), color="#3b6ea8")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
    return _png(fig)


def _lines(title: str, series: dict[str, dict[str, float]], ylabel: str = "", share: bool = False) -> str:
    fig, ax = _figure(title)
    xs = sorted({x for s in series.values() for x in s})
    if not xs:
        _empty(ax)
    else:
        for name, s in series.items():
            ax.plot(range(len(xs)), [s.get(x, 0) for x in xs], marker="o", markersize=3, label=name)
        step = max(1, len(xs) // 10)
        ax.set_xticks(range(0, len(xs), step), xs[::step], rotation=30, ha="right", fontsize=7)
        ax.set_ylabel(ylabel)
        if share:
            ax.set_ylim(-0.02, 1.05)
        ax.legend(fontsize=7, ncols=2)
    return _png(fig)


def _stacked(title: str, groups: list[str], parts: dict[str, dict[str, float]]) -> str:
    fig, ax = _figure(title)
    if not groups:
        _empty(ax)
    else:
        bottom = [0.0] * len(groups)
        for name, colour in zip(parts, ("#3b8a4a", "#c0504d", "#8064a2", "#f79646")):
            vals = [parts[name].get(g, 0) for g in groups]
            ax.bar(range(len(groups)), vals, bottom=bottom, label=name, color=colour)
            bottom = [b + v for b, v in zip(bottom, vals)]
        ax.set_xticks(range(len(groups)), groups, fontsize=8)
        ax.legend(fontsize=8)
    return _png(fig)


def plots(f: dict) -> dict[str, str]:
    p = {}
    per_site: dict[str, dict[str, float]] = {}
    for day, site, n in f.get("articles_per_day", []):
        per_site.setdefault(site, {})[day] = n
    p["articles_per_day"] = _lines("Articles per day (published_at) per source", per_site, "articles")
    dist = f.get("comments_per_article", [])
    p["comments_per_article"] = _histogram("Comments per article (number of articles with n comments)",
                                           [n for n, _ in dist], [c for _, c in dist], "comments", "articles")
    plat = f.get("comments_per_platform", [])
    p["comments_per_platform"] = _bars("Comments per platform", [k for k, _ in plat], [v for _, v in plat])
    comp: dict[str, dict[str, float]] = {"complete": {}, "incomplete": {}}
    for platform, state, n in f.get("thread_completeness", []):
        comp[state][platform] = n
    p["thread_completeness"] = _stacked("Threads complete / incomplete per platform",
                                        sorted({r[0] for r in f.get("thread_completeness", [])}), comp)
    depth = f.get("reply_depth", [])
    p["reply_depth"] = _histogram("Reply depth (0 = top level)", [d for d, _ in depth], [n for _, n in depth],
                                  "depth", "comments")
    langs: dict[str, dict[str, float]] = {"articles": {}, "comments": {}}
    for t, lang, n in f.get("languages", []):
        langs[t][lang] = n
    p["languages"] = _stacked("Languages (langdetect; und = too short)",
                              sorted({r[1] for r in f.get("languages", [])}), langs)
    share = f.get("duplicate_share_articles", [])
    p["duplicates"] = _bars("Share of articles labelled duplicate, per site", [s for s, _ in share],
                            [v for _, v in share], "", "share")
    health: dict[str, dict[str, float]] = {}
    runs = {r[0]: i for i, r in enumerate(dict.fromkeys((r[0],) for r in f.get("extraction_health", [])))}
    for run_id, site, metric, v in f.get("extraction_health", []):
        health.setdefault(f"{site} {metric.replace('_share', '')}", {})[f"run {runs[run_id] + 1:02d}"] = v
    p["extraction_health"] = _lines("Extraction health per site across runs (share of pages with ...)", health, "share",
                                    share=True)
    totals: dict[str, int] = {}
    for _, ticker, n in f.get("asset_mentions", []):
        totals[ticker] = totals.get(ticker, 0) + n
    top = sorted(totals, key=lambda t: (-totals[t], t))[:TOP_TICKERS]
    series = {t: {} for t in top}
    for day, ticker, n in f.get("asset_mentions", []):
        if ticker in series:
            series[ticker][day] = n
    p["asset_mentions"] = _lines(f"Asset mentions per day (articles + comments; top {TOP_TICKERS})", series, "records")
    return p


# --- page ------------------------------------------------------------------------------------------------
SECTIONS = [  # (plot, title, figures shown in its tables, what it says)
    ("articles_per_day", "Articles per day per source", ["articles_per_day"],
     "Latest version of each article, by UTC date of published_at; undated articles are counted in the totals."),
    ("comments_per_article", "Comments per article", ["comments_per_article"],
     "How many articles have n comments (articles without comments included)."),
    ("comments_per_platform", "Comments per platform", ["comments_per_platform"], "Latest comment rows per platform."),
    ("thread_completeness", "Thread completeness", ["thread_completeness"],
     "A thread is complete when every comment page was fetched and collected >= reported."),
    ("reply_depth", "Reply depth", ["reply_depth"], "Comments per depth in the reply tree."),
    ("languages", "Languages", ["languages"], "langdetect's answer per record; und = too short to judge."),
    ("duplicates", "Duplicate clusters", ["duplicate_share_articles", "duplicate_share_comments", "largest_clusters"],
     "Share of articles labelled duplicate per site (plotted) and of comments per platform, and the largest "
     "clusters (representative id, members including the representative)."),
    ("extraction_health", "Extraction health per site across runs", ["extraction_health"],
     "Share of a site's pages with a body, a title and a date, per run (from the run manifests)."),
    ("asset_mentions", "Asset mentions over time", ["asset_mentions"],
     "Records (articles and comments) mentioning each asset per day (published_at, else fetched_at)."),
]
CSS = ("body{font-family:sans-serif;max-width:60em;margin:1em auto;color:#222}h1{font-size:1.5em}"
       "h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ccc}img.plot{display:block;max-width:100%}"
       "table{border-collapse:collapse;font-size:.8em;margin:.4em 0}td,th{border:1px solid #ddd;padding:1px 6px}"
       "details{margin:.3em 0}td.v{text-align:right}")


# After loading, each plot says whether it decoded and where it sits (page pixels): lets a test check the
# rendered page (tests/test_report.py); the page works the same without it.
LOAD_SCRIPT = ("window.addEventListener('load',function(){var n=0;document.querySelectorAll('img.plot')"
               ".forEach(function(i){var r=i.getBoundingClientRect(),ok=i.complete&&i.naturalWidth>0;if(ok)n++;"
               "i.setAttribute('data-rendered',ok?'yes':'no');i.setAttribute('data-rect',[r.left+scrollX,"
               "r.top+scrollY,r.width,r.height].map(Math.round).join(','))});"
               "document.body.setAttribute('data-plots-rendered',n)});")


def _table(name: str, rows: list[tuple]) -> str:
    body = []
    for r in rows:
        key, value = "|".join(str(x) for x in r[:-1]), r[-1]
        cells = "".join(f"<td>{html.escape(str(x))}</td>" for x in r[:-1])
        body.append(f'<tr data-figure="{name}" data-key="{html.escape(key, quote=True)}" data-value="{value}">'
                    f'{cells}<td class="v">{value}</td></tr>')
    return (f'<details><summary>{html.escape(name)} ({len(rows)} rows)</summary><table class="figures" '
            f'data-figure="{name}">' + "".join(body) + "</table></details>")


def render_report(output_dir) -> str:
    f = figures(output_dir)
    p = plots(f)
    totals = dict(f["totals"])
    head = ", ".join(f"{t}: {totals.get(f'{t}_latest', 0):,} current ({totals.get(f'{t}_rows', 0):,} rows with "
                     "versions and tombstones)" for t in TABLES)
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width">', "<title>Dataset report</title>",
           f"<style>{CSS}</style></head><body>", "<h1>Crypto news and discussion: dataset report</h1>",
           f"<p>{html.escape(head)}. Runs committed: {dict(f['runs'])['runs']}. Figures use the latest version of "
           "each record (tombstoned records left out) unless stated.</p>", _table("totals", f["totals"]),
           _table("runs", f["runs"])]
    for plot, title, names, what in SECTIONS:
        out += [f'<section id="{plot}"><h2>{html.escape(title)}</h2><p>{html.escape(what)}</p>',
                f'<img class="plot" data-plot="{plot}" alt="{html.escape(title)}" src="{p[plot]}">']
        out += [_table(n, f.get(n, [])) for n in names]
        out.append("</section>")
    out.append(f"<script>{LOAD_SCRIPT}</script></body></html>")
    return "\n".join(out) + "\n"


def write_report(output_dir) -> Path:
    path = Path(output_dir) / "report.html"
    tmp = path.with_name(".report.html.tmp")
    tmp.write_text(render_report(output_dir), encoding="utf-8")
    os.replace(tmp, path)
    return path


def run(output_dir: Path, args=None) -> int:
    print(write_report(output_dir))
    return 0


if __name__ == "__main__":
    sys.exit(cli.main(sys.modules[__name__]))
