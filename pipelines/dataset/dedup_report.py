"""Print the duplicate clusters of a dataset for inspection.

    scrapy dataset dedup-report OUTPUT_DIR [--table articles|comments] [--limit 50] [--width 70]

For each cluster (rows sharing ``cluster_id``): the representative first — looked up by id, so a
representative written by an earlier run is shown even though its own row predates the cluster — then
every member with its reason (content/near), run, date, site and title or text snippet. Largest clusters
first, ties by cluster id, so the output is stable.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pyarrow.dataset as ds

from crawler.urls import site_of

from . import cli

HELP = "print the duplicate clusters (representative first) for inspection"

ID = {"articles": "article_id", "comments": "comment_id"}
COLS = {"articles": ["article_id", "canonical_url", "title", "body_text", "published_at", "run_id", "version",
                     "duplicate_of", "duplicate_reason", "cluster_id", "syndicated_from"],
        "comments": ["comment_id", "source_url", "body_text", "published_at", "run_id", "version", "duplicate_of",
                     "duplicate_reason", "cluster_id"]}


def load(output: Path, table: str) -> list[dict]:
    root = output / table
    if not root.is_dir():
        return []
    return ds.dataset(root, format="parquet", partitioning="hive").to_table(columns=COLS[table]).to_pylist()


def clusters(rows: list[dict], table: str) -> list[tuple[dict | None, list[dict]]]:
    """[(representative row or None, member rows)] — members exclude the representative itself."""
    idc = ID[table]
    by_id: dict[str, dict] = {}
    for r in rows:  # latest version of each id stands for it
        if r[idc] not in by_id or r["version"] > by_id[r[idc]]["version"]:
            by_id[r[idc]] = r
    groups: dict[str, list[dict]] = {}
    for r in rows:
        if r["cluster_id"] and r["duplicate_of"]:
            groups.setdefault(r["cluster_id"], []).append(r)
    out = [(by_id.get(cid), sorted(m, key=lambda r: (str(r["published_at"]), r[idc], r["version"])))
           for cid, m in groups.items()]
    return sorted(out, key=lambda c: (-len(c[1]), c[1][0]["cluster_id"]))


def describe(r: dict, table: str, width: int) -> str:
    text = r["title"] if table == "articles" else r["body_text"]
    text = " ".join((text or "").split())
    text = text if len(text) <= width else text[: width - 1] + "…"
    url = r["canonical_url"] if table == "articles" else r["source_url"]
    date = r["published_at"].strftime("%Y-%m-%d %H:%M") if r["published_at"] else "no date         "
    extra = f"  syndicated_from={r['syndicated_from']}" if r.get("syndicated_from") else ""
    return f"{r[ID[table]][:12]} v{r['version']} {date} {site_of(url):<22} run={r['run_id']}  {text}{extra}"


def render(output: Path, table: str, limit: int = 50, width: int = 70) -> str:
    rows = load(output, table)
    cl = clusters(rows, table)
    dups = [m for _, members in cl for m in members]
    lines = [f"{table}: {len(rows)} rows, {len(cl)} duplicate clusters, {len(dups)} duplicate rows "
             f"(content {sum(m['duplicate_reason'] == 'content' for m in dups)}, "
             f"near {sum(m['duplicate_reason'] == 'near' for m in dups)})"]
    for rep, members in cl[:limit]:
        lines.append(f"\ncluster {members[0]['cluster_id']} — {len(members) + 1} rows")
        lines.append("  REP      " + (describe(rep, table, width) if rep else "(representative row not found)"))
        lines += [f"  {m['duplicate_reason']:<8} " + describe(m, table, width) for m in members]
    if len(cl) > limit:
        lines.append(f"\n… {len(cl) - limit} more clusters (--limit)")
    return "\n".join(lines)


def add_arguments(parser) -> None:
    parser.add_argument("--table", choices=sorted(ID), action="append")
    parser.add_argument("--limit", type=int, default=50)
    parser.add_argument("--width", type=int, default=70)


def run(output_dir: Path, args) -> int:
    tables = args.table or ["articles", "comments"]
    print("\n\n".join(render(output_dir, t, args.limit, args.width) for t in tables))
    return 0


if __name__ == "__main__":
    sys.exit(cli.main(sys.modules[__name__]))
