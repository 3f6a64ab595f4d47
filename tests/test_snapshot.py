"""The latest view as files (latest/<table>/*.parquet) after two demo runs with changes: HF `datasets` (the real
package, offline) loads ``comments_latest`` from the card's configs and gets exactly the latest version of each
comment: edited ones at version 2, deleted ones left out, new ones in."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta

import duckdb
import pytest

from crawler.demo_site.site import DemoSite

from .conftest import REPO
from .test_incremental import T0, crawl, free_port

pytest.importorskip("datasets")

LOAD = """
import json, sys
from datasets import load_dataset
rows = load_dataset(sys.argv[1], sys.argv[2], cache_dir=sys.argv[3])["train"]
print(json.dumps(sorted([r["comment_id"], r["version"], r["body_text"]] for r in rows)))
"""
SMALL = ("-a", "articles=4", "-a", "comments=3")


@pytest.fixture(scope="module")
def changed(tmp_path_factory):
    out = tmp_path_factory.mktemp("snapshot") / "dataset"
    site = DemoSite(n_articles=4, comments_per_article=3)
    stories = [a for a in site.articles if a.comments]
    edited, deleted = stories[0].comments[-1].native_id, stories[1].comments[-1].native_id
    changes = out.parent / "changes.json"
    changes.write_text(json.dumps({"add_comments": {str(stories[2].post_id): 1},
                                   "edit_comments": {str(edited): "Edited later: the fee numbers were wrong."},
                                   "delete_comments": [deleted]}))
    port = free_port()
    first = crawl(out, port, T0, *SMALL)
    second = crawl(out, port, T0 + timedelta(hours=2), *SMALL, "-a", f"changes={changes}")
    return out, first, second, edited, deleted


def latest_rows(out):
    con = duckdb.connect()
    glob = f"{out}/comments/crawl_date=*/*.parquet"
    return sorted(tuple(r) for r in con.execute(
        "SELECT comment_id, version, body_text FROM (SELECT *, row_number() OVER (PARTITION BY comment_id ORDER BY "
        f"version DESC, valid_from DESC) r FROM read_parquet('{glob}', hive_partitioning=1, union_by_name=1)) "
        "WHERE r = 1 AND NOT is_tombstone").fetchall()), con


def test_hf_datasets_loads_exactly_the_latest_comments(changed, tmp_path):
    out, first, second, edited, deleted = changed
    assert (out / "latest" / "comments").is_dir()  # refreshed by the second run's commit
    assert "config_name: comments_latest" in (out / "README.md").read_text()
    env = dict(os.environ, HF_DATASETS_OFFLINE="1", HF_HUB_OFFLINE="1", HF_HOME=str(tmp_path / "hf"))
    proc = subprocess.run([sys.executable, "-c", LOAD, str(out), "comments_latest", str(tmp_path / "cache")],
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = [tuple(r) for r in json.loads(proc.stdout.strip().splitlines()[-1])]
    want, con = latest_rows(out)
    assert got == want
    assert len({r[0] for r in got}) == len(got)  # one row per comment
    by_native = dict(con.execute(f"SELECT native_id, comment_id FROM read_parquet('{out}/comments/*/*.parquet')"
                                 ).fetchall())
    versions = {r[0]: r[1] for r in got}
    assert versions[by_native[str(edited)]] == 2 and "Edited later" in dict((r[0], r[2]) for r in got)[by_native[str(edited)]]
    assert by_native[str(deleted)] not in versions
    assert len(got) == first.stats["export/rows/comments"] + 1 - 1  # one added, one deleted


def test_snapshot_command_rewrites_the_same_view(changed):
    out = changed[0]
    before = latest_rows(out)[0]
    proc = subprocess.run([sys.executable, "-m", "scrapy", "dataset", "snapshot", str(out)], cwd=REPO,
                          capture_output=True, text=True, timeout=300, env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert proc.returncode == 0, proc.stderr[-3000:]
    con = duckdb.connect()
    rows = sorted(tuple(r) for r in con.execute(
        f"SELECT comment_id, version, body_text FROM read_parquet('{out}/latest/comments/*.parquet')").fetchall())
    assert rows == before
    tables = {p.name for p in (out / "latest").iterdir()}
    assert tables == {"articles", "threads", "comments"}  # no temporary directories left
