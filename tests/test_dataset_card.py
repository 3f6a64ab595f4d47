"""The dataset card, rendered from a real `scrapy crawl demo` run; figures checked against pyarrow."""
from __future__ import annotations

import json
import shutil
from collections import Counter

import pyarrow.compute as pc
import pyarrow.dataset as ds
import pytest

from pipelines.dataset.card import render_card, write_card
from pipelines.schema import TABLES


@pytest.fixture
def dataset(demo_run, tmp_path):
    out = tmp_path / "dataset"
    shutil.copytree(demo_run.output, out)  # the shared run stays untouched
    return out


def front_matter(card: str) -> dict:
    yaml = pytest.importorskip("yaml")
    assert card.startswith("---\n")
    return yaml.safe_load(card.split("---\n")[1])


def test_front_matter_configs_point_at_every_tables_files(dataset):
    meta = front_matter(render_card(dataset))
    # the versioned tables, then their latest views (latest/, refreshed at each commit)
    assert [c["config_name"] for c in meta["configs"]] == list(TABLES) + [f"{t}_latest" for t in TABLES]
    for c in meta["configs"]:
        files = list(dataset.glob(c["data_files"][0]["path"]))
        assert files and all(f.suffix == ".parquet" for f in files)
    langs = set(ds.dataset(dataset / "articles", partitioning="hive").to_table(columns=["language"])
                .column(0).to_pylist()) - {"und"}
    assert set(meta["language"]) >= langs and "und" not in meta["language"]
    assert meta["license"] == "other"


def test_figures_match_the_files(dataset):
    card = render_card(dataset)
    articles = ds.dataset(dataset / "articles", partitioning="hive").to_table()
    for t in TABLES:
        n = ds.dataset(dataset / t, partitioning="hive").count_rows()
        assert f"| {t} | {n:,} |" in card
        assert f"### `{t}` ({n:,} rows)" in card
    for site, n in Counter(articles.column("site").to_pylist()).items():
        assert f"| {site} | {n:,} |" in card
    lo, hi = pc.min(articles.column("published_at")).as_py(), pc.max(articles.column("published_at")).as_py()
    assert f"from **{lo:%Y-%m-%d}** to **{hi:%Y-%m-%d}**" in card
    comments = ds.dataset(dataset / "comments", partitioning="hive").to_table(columns=["language"])
    for lang, n in Counter(comments.column(0).to_pylist()).items():
        assert any(line.startswith(f"| {lang} |") and line.endswith(f"| {n:,} |") for line in card.splitlines())
    manifests = [json.loads(p.read_text()) for p in (dataset / "_manifests").glob("*.json")]
    assert f"Crawl runs: **{len(manifests)}**; last run `{manifests[-1]['run_id']}`" in card


def test_every_documented_field_and_the_loading_recipes_are_there(dataset):
    card = render_card(dataset)
    for cols in TABLES.values():
        for c in cols:
            assert f"| `{c.name}` | `{c.type}` |" in card and c.doc.replace("|", "\\|") in card
    for recipe in ("pd.read_parquet", "ds.dataset(", "duckdb.sql", 'load_dataset("parquet", data_files='):
        assert recipe in card
    assert "belongs to its publishers" in card and "research use" in card


def test_write_card_is_atomic_and_stable(dataset):
    path = write_card(dataset)
    first = path.read_text()
    assert path == dataset / "README.md" and not list(dataset.glob(".README*"))
    assert write_card(dataset).read_text() == first  # same data, same card
    # the card does not count itself or compaction records as runs
    (dataset / "_manifests" / "compact-x.json").write_text(json.dumps({"kind": "compaction", "partitions": []}))
    assert render_card(dataset) == first


def test_empty_dataset_renders(tmp_path):
    card = render_card(tmp_path)
    assert "| articles | 0 |" in card and "Crawl runs: **0**" in card and "configs:\n---" in card
