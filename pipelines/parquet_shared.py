"""The Parquet exporter in shared mode: the same tables and files as :mod:`pipelines.parquet`, written through
``pyarrow.fs`` to ``OUTPUT_DIR`` (``s3://BUCKET/PREFIX`` or a directory every worker sees), committed with the
rename-free protocol of :mod:`crawler.shared.objectstore`.

Each worker writes its own immutable part files (``part-RUN-WORKER-NNNNN.parquet``: run id and worker id in
the name) and its own manifest (``_manifests/RUN.json``), so workers committing at once never touch each
other's objects. Rows are staged on the worker's local disk while it crawls; labelled files go to the
dataset's ``_staging/WORKER/RUN/`` when the round's labels are known, then the journal, the copies and the
manifest follow (see the protocol there).
"""
from __future__ import annotations

import json
import logging
import re

import pyarrow as pa

from crawler.shared.objectstore import CRAWL_DELTA, DEDUP_DELTA, JOURNAL, finish_commit
from crawler.state.redis_dedup_store import pack

from .parquet import ID_COLUMN, ParquetExportPipeline, StagedFile, apply_labels, close_tables
from .schema import PARTITION_COLUMN

logger = logging.getLogger(__name__)


class LeaseLost(RuntimeError):
    pass


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


class SharedParquetExport(ParquetExportPipeline):
    def __init__(self, crawler, output_dir: str):
        super().__init__(crawler, output_dir)
        self.output = output_dir  # a URI or a directory: never resolved as a local path

    def open_spider(self, spider=None):
        self.ctx = self.crawler.run_context
        self.run_id = self.ctx.run_id
        self.staging = self.ctx.local_staging
        self.refused = bool(getattr(self.crawler.spider, "refusal", None))
        self.stats.set_value("export/output_dir", str(self.output))

    def close_spider(self, spider=None):
        if self.refused:
            return
        rnd, ds = self.ctx.round, self.ctx.dataset
        try:
            staged = close_tables(self.writers.values())  # every writer closed, even after one fails
            if not rnd.crawl_done():  # closed early (shutdown): our pages go back to the queue for the others
                self.stats.set_value("shared/left_early", True)
                rnd.leave()
                raise LeaseLost("the round's crawl is not over (closed early): left it without committing")
            labeler = self.crawler.dedup_labeler
            tables = {f.table for f in staged}
            labels = {t: labeler.labels(t) for t in tables}
            drops = {t: labeler.drop_ids(t) for t in tables}
            if self.failed:
                raise OSError("earlier write failures; not committing")
            moves = [self._stage(f, labels.get(f.table, {}), drops.get(f.table, set())) for f in staged]
            manifest = self._manifest(moves)
            manifest["worker_id"] = self.ctx.cfg.worker_id
            manifest["round"] = rnd.rid
            remote = self.ctx.remote_staging
            if self.ctx.state is not None:
                d = self.ctx.delta
                ds.put_bytes(f"{remote}/{CRAWL_DELTA}", json.dumps(
                    {"pages": d.pages, "threads": d.threads, "comments": d.comments}).encode())
            if labeler.store is not None:
                changes = labeler.changes(self.run_id)
                ds.put_bytes(f"{remote}/{DEDUP_DELTA}", json.dumps(
                    {t: [[pack(doc), bands] for doc, bands in rows] for t, rows in changes.items()}).encode())
            if rnd.lost:
                raise LeaseLost("this worker's lease was taken over; its pages are crawled again elsewhere")
            ds.put_json(f"{remote}/{JOURNAL}", {"run_id": self.run_id, "moves": moves, "manifest": manifest})
            finish_commit(ds, remote, self.ctx.apply_states, pause=self.fault_commit_pause)
            rnd.committed()
            for m in moves:
                self.stats.inc_value(f"export/files/{m['table']}")
            rnd.try_end()
        except LeaseLost as exc:
            self._fail("shared_round", exc)
        except (OSError, pa.ArrowException, TimeoutError) as exc:
            self._fail("commit", exc)
        except Exception as exc:  # noqa: BLE001 - e.g. Redis unreachable at commit: never report success
            self._fail("commit", exc)
        self.stats.set_value("export/committed", not self.failed)

    def _stage(self, f: StagedFile, labels: dict, drop: set) -> dict:
        """Apply the labels into a local file, upload it under the run's staging prefix; return the copy that
        publishes it (paths relative to the dataset root)."""
        name = f.path.name.replace(f"part-{self.run_id}-", f"part-{self.run_id}-{_safe(self.ctx.cfg.worker_id)}-")
        rel = f"{f.table}/{PARTITION_COLUMN}={f.crawl_date}/{name}"
        src, rows = f.path, f.rows
        if labels or drop:
            src = f.path.with_suffix(".labelled")
            n, rows = apply_labels(f.path, src, labels, ID_COLUMN[f.table], self.compression, drop)
            self.stats.inc_value(f"export/labelled_duplicates/{f.table}", n)
            if rows != f.rows:
                self.stats.inc_value(f"export/dropped_duplicates/{f.table}", f.rows - rows)
        staged = f"{self.ctx.remote_staging}/{rel}"
        self.ctx.dataset.upload(str(src), staged)
        return {"table": f.table, "src": staged, "dst": rel, "rows": rows}
