"""`scrapy dataset verify --quarantine s3://…` is refused (one line, exit 2): the tools run on a temporary local
copy of a remote dataset, so a quarantine there left the damaged object in the remote dataset, listed by its
manifest and read by every reader, while the tool printed "quarantined". Plain `verify` still checks the remote
dataset. Against a real S3-compatible server (moto in server mode; skipped with the reason where it cannot start).
"""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq

from .conftest import REPO
from .services import S3_ENV, make_bucket, s3_service  # noqa: F401  (fixture)


def test_quarantine_is_refused_on_a_remote_dataset(s3_service):  # noqa: F811
    make_bucket(s3_service.url, "verifyq")
    os.environ.update(S3_ENV)
    from crawler.shared.objectstore import Dataset

    ds = Dataset("s3://verifyq/data", endpoint=s3_service.url)
    good, bad = "comments/crawl_date=2026-01-01/part-r1-00001.parquet", "comments/crawl_date=2026-01-01/part-r1-00002.parquet"
    buf = io.BytesIO()
    pq.write_table(pa.table({"comment_id": ["c1"], "version": [1]}), buf)
    data = buf.getvalue()
    ds.put_bytes(good, data)
    ds.put_bytes(bad, data[: len(data) // 2])  # truncated: no footer
    ds.put_json("_manifests/r1.json", {"run_id": "r1", "files": [{"table": "comments", "path": good, "rows": 1},
                                                                {"table": "comments", "path": bad, "rows": 1}]})
    before = {rel: ds.get_bytes(rel) for rel in ds.files("")}
    env = dict(os.environ, PYTHONPATH=str(REPO), S3_ENDPOINT_URL=s3_service.url, **S3_ENV)

    def verify(*args):
        return subprocess.run([sys.executable, "-m", "scrapy", "dataset", "verify", "s3://verifyq/data", *args],
                              cwd=REPO, env=env, capture_output=True, text=True, timeout=120)

    q = verify("--quarantine")
    assert q.returncode == 2, q.stderr[-2000:]
    lines = [line for line in q.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "--quarantine is not available on a remote dataset" in lines[0], q.stderr
    assert "quarantined" not in q.stderr
    assert {rel: ds.get_bytes(rel) for rel in ds.files("")} == before  # the remote dataset is untouched

    plain = verify("--quick")  # checking still works on the remote dataset, and finds the damaged object
    assert plain.returncode == 4 and bad in plain.stderr, plain.stderr[-2000:]
    assert json.loads(ds.get_bytes("_manifests/r1.json"))["files"][1]["path"] == bad
