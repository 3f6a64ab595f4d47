"""`scrapy dataset VERB OUTPUT_DIR`: the verbs listed by --help, usage errors as one line and exit 2, and every
verb run on a real demo crawl's output (a copy, so the shared crawl stays as it was)."""
from __future__ import annotations

import shutil
import subprocess
import sys

import duckdb
import pytest

from .conftest import REPO

def count(sql: str) -> int:
    return duckdb.connect().execute(sql).fetchone()[0]


VERBS = ["card", "compact", "croissant", "dedup-rebuild", "dedup-report", "latest", "report", "snapshot", "verify"]


def dataset(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scrapy", "dataset", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture()
def copy(demo_run, tmp_path):
    out = tmp_path / "ds"
    shutil.copytree(demo_run.output, out)
    return out


def test_help_lists_every_verb():
    proc = dataset("--help")
    assert proc.returncode == 0, proc.stderr
    listed = proc.stdout.split("verbs:\n", 1)[1].splitlines()
    assert [line.split()[0] for line in listed if line.startswith("  ")] == VERBS


@pytest.mark.parametrize("args", [("no-such-verb", "."), ("latest", "/nonexistent/dataset"), ()])
def test_usage_errors_are_one_line_and_exit_2(args):
    proc = dataset(*args)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_a_verb_shows_its_own_options():
    proc = dataset("compact", "--help")
    assert proc.returncode == 0 and "--target-rows" in proc.stdout


def test_latest_counts_every_table(copy):
    proc = dataset("latest", str(copy))
    assert proc.returncode == 0, proc.stderr
    counts = {line.split()[0]: line.split()[1] for line in proc.stdout.splitlines()}
    for table in ("articles", "threads", "comments"):
        n = count(f"SELECT count(*) FROM read_parquet('{copy}/{table}/*/*.parquet')")
        assert counts[table] == f"rows={n}"


def test_card_rewrites_the_same_card(copy):
    before = (copy / "README.md").read_text()
    (copy / "README.md").unlink()
    proc = dataset("card", str(copy))
    assert proc.returncode == 0, proc.stderr
    assert (copy / "README.md").read_text() == before


def test_dedup_report_lists_clusters(copy):
    proc = dataset("dedup-report", str(copy), "--table", "articles", "--limit", "3")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("articles: ") and "duplicate clusters" in proc.stdout


def test_dedup_rebuild_refuses_an_existing_state_then_rebuilds(copy):
    state = copy / "_state" / "dedup.sqlite"
    assert state.exists()
    refused = dataset("dedup-rebuild", str(copy))
    assert refused.returncode == 1 and "move it away first" in refused.stderr
    fresh = copy / "rebuilt.sqlite"
    proc = dataset("dedup-rebuild", str(copy), str(fresh))
    assert proc.returncode == 0, proc.stderr
    n = count(f"SELECT count(DISTINCT article_id) FROM read_parquet('{copy}/articles/*/*.parquet')")
    assert fresh.exists() and int(proc.stdout.split()[0]) >= n > 0


def test_compact_keeps_every_row(copy):
    def rows():
        return {t: count(f"SELECT count(*) FROM read_parquet('{copy}/{t}/*/*.parquet')")
                for t in ("articles", "threads", "comments")}

    before = rows()
    proc = dataset("compact", str(copy), "--min-files", "1")
    assert proc.returncode == 0, proc.stderr
    assert "compact:" in proc.stderr and rows() == before
