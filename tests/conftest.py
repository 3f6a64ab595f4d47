"""Shared fixtures: a real `scrapy crawl demo` run (subprocess) whose Parquet output tests read back."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "realpages"


@dataclass
class CrawlResult:
    output: Path
    returncode: int
    stderr: str
    stats: dict

    def table(self, name: str):
        import pyarrow.dataset as ds

        return ds.dataset(self.output / name, format="parquet", partitioning="hive").to_table()


def run_crawl(output: Path, *args: str, spider: str = "demo", timeout: int = 300) -> CrawlResult:
    """Run `scrapy crawl SPIDER -s OUTPUT_DIR=output ARGS...` from the repo root; stats from the run manifest."""
    cmd = [sys.executable, "-m", "scrapy", "crawl", spider, "-s", f"OUTPUT_DIR={output}", "-s", "LOG_LEVEL=INFO", *args]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout, env=env)
    return CrawlResult(output, proc.returncode, proc.stderr, manifest_stats(output))


def crawl_fixture_site(tmp: Path, site_dir: Path, name: str, title: str, domain: str,
                       origins: list[str] | None = None) -> CrawlResult:
    """`scrapy crawl news -a source=NAME` over a fixture site (SITE_DIR/routes.json, served on 127.0.0.1 by
    tests/fixtures/sources/fixture_site.py) registered as one generic source whose feed is https://DOMAIN/feed/;
    ORIGINS are the addresses the site answers for (default https://DOMAIN). Output in TMP/out."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("fixture_site", REPO / "tests" / "fixtures" / "sources" / "fixture_site.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    registry = tmp / "sources.json"
    registry.write_text(json.dumps({"version": 1, "sources": [{
        "name": name, "title": title, "domains": [domain], "home": f"https://{domain}/",
        "discovery": [{"kind": "feed", "url": f"https://{domain}/feed/"}], "comments": "none", "parser": "generic",
        "politeness": {"download_delay": 1.0, "concurrency": 1}}]}))
    with module.FixtureSite(site_dir, origins or [f"https://{domain}"]) as site:
        return run_crawl(tmp / "out", "-a", f"source={name}", "-a", f"base_override={domain}={site.base}",
                         "-a", f"registry={registry}", "-s", "CONTACT=tests@example.org",
                         "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", spider="news")


def manifest_stats(output: Path) -> dict:
    """The crawl stats recorded in the newest run manifest of a dataset ({} when none)."""
    manifests = sorted((p for p in (output / "_manifests").glob("*.json") if not p.name.startswith("compact-")),
                       key=lambda p: p.stat().st_mtime)
    return json.loads(manifests[-1].read_text())["stats"] if manifests else {}


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> CrawlResult:
    out = tmp_path_factory.mktemp("demo") / "dataset"
    result = run_crawl(out, "-s", "PROGRESS_INTERVAL=0.5")  # progress lines to check (tests/test_progress.py)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def demo():
    """The demo site served on a free local port for the tests of one module (adapters fetch from it)."""
    from crawler.demo_site.server import DemoServer

    srv = DemoServer().start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def realpages() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared/realpages is absent (only available on the project's machines)")
    return SHARED
