"""Fault-suite plumbing: run a real ``scrapy crawl`` subprocess against the misbehaving server and read
back what it produced (Parquet rows, final stats, exit code, log).

Every run is bounded: ``CLOSESPIDER_TIMEOUT`` inside the crawl and a subprocess timeout outside it; the
servers bind 127.0.0.1 and stop themselves (``tests/faults/server.py``).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from crawler import settings as project_settings

from .server import FaultServer

REPO = Path(__file__).resolve().parents[2]
STATS_EXT = "tests.faults.stats_dump.StatsDumpExtension"

# Settings of every fault run: fast (no politeness delays towards our own local server), bounded.
BASE_SETTINGS = {
    "LOG_LEVEL": "INFO",
    "AUTOTHROTTLE_ENABLED": "False",
    "DOWNLOAD_DELAY": "0",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "8",
    "RETRY_TIMES": "1",
    "DOWNLOAD_TIMEOUT": "5",
    "CLOSESPIDER_TIMEOUT": "90",
    "SPIDER_MODULES": "crawler.spiders,tests.faults.spiders",
}


@dataclass
class FaultRun:
    output: Path
    returncode: int
    stats: dict
    log: str

    def rows(self, table: str) -> list[dict]:
        """Rows of a table read back from the committed Parquet files ([] when none were committed)."""
        import pyarrow.dataset as ds

        path = self.output / table
        if not path.is_dir():
            return []
        return ds.dataset(path, format="parquet", partitioning="hive").to_table().to_pylist()

    def urls(self, table: str = "articles", column: str = "url") -> set[str]:
        return {r[column] for r in self.rows(table)}

    def stat(self, key: str, default=0):
        return self.stats.get(key, default)

    def stats_with(self, prefix: str) -> dict:
        return {k: v for k, v in self.stats.items() if k.startswith(prefix)}


def local_allowance(urls) -> list[str]:
    """``PRIVATE_NETWORK_ALLOW`` entries for the local fault servers the start URLs name (as 127.0.0.1 and as
    localhost, which the fault server also answers to): those ports, nothing else."""
    ports = sorted({urlsplit(u).port for u in urls if urlsplit(u).port})
    return [f"{h}:{p}" for p in ports for h in ("127.0.0.1", "localhost")]


def run_crawl(tmp: Path, *, spider: str = "fault_probe", urls: list[str] | tuple = (), args: dict | None = None,
              settings: dict | None = None, output: Path | None = None, timeout: float = 150,
              wait: bool = True):
    """Run ``python -m scrapy crawl SPIDER`` from the repository root; return a :class:`FaultRun`
    (or the Popen object and its FaultRun-to-be when ``wait=False``)."""
    tmp.mkdir(parents=True, exist_ok=True)
    output = output if output is not None else tmp / "dataset"
    stats_path = tmp / "stats.json"
    extensions = dict(getattr(project_settings, "EXTENSIONS", {}) or {})
    extensions[STATS_EXT] = 0
    merged = {**BASE_SETTINGS, "OUTPUT_DIR": str(output), "STATS_DUMP_PATH": str(stats_path),
              "EXTENSIONS": json.dumps(extensions), **(settings or {})}
    if "PRIVATE_NETWORK_ALLOW" not in merged:  # the address policy refuses loopback: allow the test's servers
        merged["PRIVATE_NETWORK_ALLOW"] = ",".join(local_allowance(urls))
    cmd = [sys.executable, "-m", "scrapy", "crawl", spider]
    for k, v in merged.items():
        cmd += ["-s", f"{k}={v}"]
    a = dict(args or {})
    if urls:
        a["urls"] = ",".join(urls)
    for k, v in a.items():
        cmd += ["-a", f"{k}={v}"]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop("SCRAPY_SETTINGS_MODULE", None)
    log_path = tmp / "crawl.log"
    if not wait:
        logf = open(log_path, "w")
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=logf, stderr=subprocess.STDOUT, env=env)
        return proc, lambda: _result(output, proc.wait(timeout=timeout), stats_path, log_path, logf)
    with open(log_path, "w") as logf:
        try:
            rc = subprocess.run(cmd, cwd=REPO, stdout=logf, stderr=subprocess.STDOUT, env=env,
                                timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            rc = -999
    return _result(output, rc, stats_path, log_path, None)


def _result(output: Path, rc: int, stats_path: Path, log_path: Path, logf) -> FaultRun:
    if logf is not None:
        logf.close()
    stats = json.loads(stats_path.read_text()) if stats_path.exists() else {}
    return FaultRun(output, rc, stats, log_path.read_text(errors="replace"))


@pytest.fixture(scope="module")
def fault_server():
    with FaultServer() as srv:
        yield srv
