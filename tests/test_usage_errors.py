"""Usage errors of `scrapy crawl`: exit 2, one line on stderr naming the problem and what is allowed, no traceback,
and nothing started (no output written)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from crawler.settings_check import check_value
from crawler.usage import UsageProblem

from .conftest import REPO


def scrapy(tmp_path, *args):
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "scrapy", "crawl", *args, "-s", f"OUTPUT_DIR={out}"]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PYTHONPATH=str(REPO)))
    return proc, out


def bad_asset_registry(tmp_path):
    path = tmp_path / "assets.json"
    path.write_text(json.dumps({"context_words": {"en": ["token"]}, "assets": [{"ticker": "btc", "names": ["x"]}]}))
    return ["demo", "-s", f"ASSETS_REGISTRY={path}"]


def bad_source_registry(tmp_path):
    path = tmp_path / "sources.json"
    path.write_text(json.dumps({"sources": [{"name": "Bad Name"}]}))
    return ["news", "-a", "source=all", "-a", f"registry={path}"]


CASES = {
    "unknown source": (lambda p: ["news", "-a", "source=nosuchsite"], ["unknown source 'nosuchsite'", "decrypt"]),
    "missing source": (lambda p: ["news"], ["missing -a source=", "all"]),
    "invalid source registry entry": (bad_source_registry, ["invalid source registry", "name must match ^[a-z]"]),
    "invalid asset registry entry": (bad_asset_registry, ["ticker 'btc' is not valid", "capital letters"]),
    "missing -a path=": (lambda p: ["warc"], ["missing -a path=", "glob"]),
    "no WARC files": (lambda p: ["warc", "-a", f"path={p}/none/*.warc.gz"], ["no WARC files match", "globs"]),
    "bad integer setting": (lambda p: ["demo", "-s", "PARQUET_ROW_GROUP_ROWS=lots"],
                            ["PARQUET_ROW_GROUP_ROWS='lots'", "an integer"]),
    "bad choice setting": (lambda p: ["demo", "-s", "LANGUAGE_WORKER=sometimes"], ["LANGUAGE_WORKER", "auto"]),
    "bad boolean setting": (lambda p: ["demo", "-s", "ROBOTSTXT_OBEY=perhaps"], ["ROBOTSTXT_OBEY", "True/False"]),
    "bad spider argument": (lambda p: ["demo", "-a", "articles=many"], ["-a articles='many'", "integer"]),
    "unknown spider": (lambda p: ["nosuchspider"], ["unknown spider 'nosuchspider'", "demo, news, warc"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_usage_error_is_one_line_and_exit_2(tmp_path, case):
    make_args, expected = CASES[case]
    proc, out = scrapy(tmp_path, *make_args(tmp_path))
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert len(lines) == 1, proc.stderr[-2000:]
    assert lines[0].startswith("usage error: ")
    for fragment in expected:
        assert fragment in lines[0]
    assert "Traceback" not in proc.stderr
    assert not out.exists()  # nothing started, nothing written


def test_good_values_pass_the_settings_check():
    for name, value in [("PARQUET_ROW_GROUP_ROWS", "100"), ("DOWNLOAD_TIMEOUT", "2.5"), ("ROBOTSTXT_OBEY", "False"),
                        ("LANGUAGE_WORKER", "auto"), ("CRAWL_CLOCK", "2026-11-20T12:00:00+00:00"), ("CONTACT", "x")]:
        check_value(name, value)
    with pytest.raises(UsageProblem, match="between 0 and 1"):
        check_value("DEDUP_NEAR_THRESHOLD", "1.5")
    with pytest.raises(UsageProblem, match="ISO 8601"):
        check_value("CRAWL_CLOCK", "yesterday")
