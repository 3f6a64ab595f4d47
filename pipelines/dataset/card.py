"""The dataset card: ``OUTPUT_DIR/README.md`` in Hugging Face dataset-card style, regenerated from the data.

``render_card(output_dir)`` computes every figure with DuckDB from the committed Parquet files (never from
staging) and the run manifests; field docs come from :mod:`pipelines.schema`. ``write_card`` replaces the
file atomically (tmp + rename). ``scrapy dataset card OUTPUT_DIR`` does the same by hand.
The card depends only on the data, so regenerating it without new data leaves it byte-identical.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import duckdb

from ..schema import PARTITION_COLUMN, SCHEMA_VERSION, TABLES
from . import cli, duck

HELP = "regenerate the dataset card OUTPUT_DIR/README.md from the data (also done at each commit)"

LICENCE_NOTE = ("The text of articles and comments belongs to its publishers and authors; it is collected "
                "for research use (text and data mining). Comment authors are pseudonymised. Check the terms "
                "of each source before any other use, and do not republish the text itself.")


def table_glob(table: str) -> str:
    return f"{table}/{PARTITION_COLUMN}=*/*.parquet"


def _has_files(output: Path, table: str) -> bool:
    return any(output.glob(table_glob(table)))


def _view(con, output: Path, table: str) -> None:
    path = str(output / table_glob(table)).replace("'", "''")
    con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{path}', hive_partitioning=1, "
                "union_by_name=1)")


def runs(output: Path) -> list[dict]:
    """Crawl-run manifests (compaction records excluded), oldest first."""
    out = []
    for p in Path(output, "_manifests").glob("*.json"):
        try:
            m = json.loads(p.read_text())
        except (OSError, ValueError):
            continue
        if m.get("kind") != "compaction" and m.get("run_id"):
            out.append(m)
    return sorted(out, key=lambda m: (m.get("started_at") or "", m["run_id"]))


def figures(output: Path) -> dict:
    """Every number the card shows, computed from the committed files."""
    con = duck.connect()
    present = [t for t in TABLES if _has_files(output, t)]
    for t in present:
        _view(con, output, t)
    f = {"rows": {t: (con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] if t in present else 0)
                  for t in TABLES},
         "present": present, "sites": [], "date_range": (None, None), "languages": {},
         "latest": [t for t in TABLES if any(output.glob(f"latest/{t}/*.parquet"))]}
    if "articles" in present:
        f["sites"] = con.execute("SELECT site, count(DISTINCT article_id) FROM articles WHERE NOT is_tombstone "
                                 "GROUP BY site ORDER BY 2 DESC, 1").fetchall()
        lo, hi = con.execute("SELECT min(published_at), max(published_at) FROM articles").fetchall()[0]
        f["date_range"] = (lo.strftime("%Y-%m-%d") if lo else None, hi.strftime("%Y-%m-%d") if hi else None)
    for t in ("articles", "comments"):
        if t in present:
            for lang, n in con.execute(f"SELECT language, count(*) FROM {t} WHERE NOT is_tombstone "
                                       "GROUP BY 1").fetchall():
                f["languages"].setdefault(lang, {"articles": 0, "comments": 0})[t] = n
    f["runs"] = runs(output)
    return f


def front_matter(f: dict) -> list[str]:
    langs = sorted(lang for lang in f["languages"] if lang and lang != "und")
    out = ["---", "pretty_name: Crypto news articles and reader comments", "license: other",
           "license_name: publishers-copyright",
           "license_details: Text belongs to its publishers and authors; collected for research use only.",
           "language:"] + [f"- {lang}" for lang in langs] + [
           "tags:", "- crypto", "- news", "- comments", "configs:"]
    for i, t in enumerate(f["present"]):
        out += [f"- config_name: {t}", "  data_files:", "  - split: train", f'    path: "{table_glob(t)}"']
        out += ["  default: true"] if i == 0 else []
    for t in f.get("latest", []):  # the latest view (scrapy dataset snapshot / LATEST_AT_COMMIT)
        out += [f"- config_name: {t}_latest", "  data_files:", "  - split: train", f'    path: "latest/{t}/*.parquet"']
    return out + ["---"]


def fields_section(f: dict) -> list[str]:
    out = ["## Tables and fields", "",
           f"Schema version {SCHEMA_VERSION}. Tables join on `article_id` (articles ← threads ← comments) and "
           f"`thread_id` (threads ← comments). `{PARTITION_COLUMN}` (UTC date of `fetched_at`) is the Hive "
           "partition key, in the path rather than in the files."]
    for t, cols in TABLES.items():
        out += ["", f"### `{t}` ({f['rows'][t]:,} rows)", "", "| column | type | nullable | meaning |", "|---|---|---|---|"]
        out += [f"| `{c.name}` | `{c.type}` | {'yes' if c.nullable else 'no'} | {c.doc.replace('|', chr(92) + '|')} |"
                for c in cols]
    return out


def contents_section(f: dict) -> list[str]:
    lo, hi = f["date_range"]
    out = ["## Contents", "", "| table | rows |", "|---|---|"] + [f"| {t} | {n:,} |" for t, n in f["rows"].items()]
    out += ["", "Sources (articles per site, tombstones excluded):", "", "| site | articles |", "|---|---|"]
    out += [f"| {site} | {n:,} |" for site, n in f["sites"]] or ["| (none) | 0 |"]
    out += ["", f"Articles published from **{lo or 'n/a'}** to **{hi or 'n/a'}** (`published_at`, UTC).", "",
            "Languages (langdetect; `und` = too short to judge):", "", "| language | articles | comments |",
            "|---|---|---|"]
    out += [f"| {lang} | {c['articles']:,} | {c['comments']:,} |"
            for lang, c in sorted(f["languages"].items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))]
    last = f["runs"][-1] if f["runs"] else {}
    out += ["", f"Crawl runs: **{len(f['runs'])}**; last run `{last.get('run_id', 'n/a')}` "
            f"(finished {last.get('finished_at', 'n/a')})."]
    return out


def loading_section() -> list[str]:
    return ["## Loading", "", "```python", "import pandas as pd",
            'articles = pd.read_parquet("articles")  # run from this directory', "",
            "import pyarrow.dataset as ds", 'comments = ds.dataset("comments", partitioning="hive").to_table()', "",
            "import duckdb", 'duckdb.sql("SELECT a.title, count(*) FROM read_parquet(\'comments/*/*.parquet\') c "',
            '           "JOIN read_parquet(\'articles/*/*.parquet\') a USING (article_id) GROUP BY 1").show()', "",
            "from datasets import load_dataset",
            'ds_articles = load_dataset("parquet", data_files={"train": "articles/*/*.parquet"})["train"]',
            'comments_now = load_dataset(".", "comments_latest")["train"]  # latest version of each comment', "```",
            "", "`latest/<table>/` holds one row per id at its latest version (tombstoned records left out); "
            "`croissant.json` describes the tables in MLCommons Croissant; `report.html` shows the data at a glance."]


def render_card(output_dir) -> str:
    f = figures(Path(output_dir))
    body = ["", "# Crypto news articles and reader comments", "",
            "News articles from crypto news sites and the reader discussion under them (threads and comments), "
            "crawled politely (robots.txt obeyed), cleaned, language-tagged, duplicates labelled (not deleted).",
            ""] + contents_section(f) + [""] + fields_section(f) + [""] + loading_section() + [
            "", "## Licence", "", LICENCE_NOTE]
    return "\n".join(front_matter(f) + body) + "\n"


def write_card(output_dir) -> Path:
    path = Path(output_dir) / "README.md"
    tmp = path.with_name(".README.md.tmp")
    tmp.write_text(render_card(output_dir))
    os.replace(tmp, path)
    return path


def run(output_dir: Path, args=None) -> int:
    print(write_card(output_dir))
    return 0


if __name__ == "__main__":
    sys.exit(cli.main(sys.modules[__name__]))
