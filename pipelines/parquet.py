"""Last step — the Parquet exporter: Hive-partitioned tables under OUTPUT_DIR, committed atomically.

Rows are buffered per (table, crawl_date) and flushed as row groups of PARQUET_ROW_GROUP_ROWS into
staging files under ``OUTPUT_DIR/_staging/<run_id>/`` (invisible to readers: pyarrow and DuckDB globs
over ``<table>/`` never see it, and pyarrow ignores ``_``-prefixed paths). When the crawl ends, duplicate
labels are applied and the run is committed through the journal protocol of
:mod:`crawler.state.run_context` (target dirs checked, ``COMMIT.json``, atomic renames into
``OUTPUT_DIR/<table>/crawl_date=YYYY-MM-DD/``, manifest ``_manifests/<run_id>.json``, state deltas), then the
dataset card is regenerated.
"""
from __future__ import annotations


import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from scrapy import signals

from crawler.exitcodes import exit_code
from crawler.items import record_columns

from crawler.state.run_context import (DELTA, JOURNAL, PENDING_EXIT, fault_kill, finish_commit, record_exit,
                                       write_json_atomic)

from .batch import per_record, records_of
from .column_fit import fit_row
from .dataset.writer import close_all, close_writer, open_writer, reading, writing
from .drops import drop
from .health import finish as finish_health
from .schema import PARTITION_COLUMN, SCHEMA_VERSION, TABLES, arrow_schema

logger = logging.getLogger(__name__)
LABEL_COLUMNS = ("duplicate_of", "duplicate_reason", "cluster_id")


@dataclass
class StagedFile:
    table: str
    crawl_date: str
    path: Path
    rows: int


DEDUP_STATE_FAILURES = ("dedup/state/unavailable", "dedup/state/read_failed", "dedup/state/busy")


def refuse_without_dedup_state(stats) -> None:
    """Raise when the run could not use the cross-run dedup state: its rows would be labelled as if nothing was
    seen before (unchanged records written again as new, version 1), so it must not commit (both exporters)."""
    for key in DEDUP_STATE_FAILURES:
        if stats.get_value(key):
            raise OSError(f"dedup state not usable ({key}); not committing")


def required_nulls(table: str, row: dict) -> list[str]:
    return [c.name for c in TABLES[table] if not c.nullable and row.get(c.name) is None]


class TableWriter:
    """Streams one table's rows into staging part files, one open file per crawl_date."""

    def __init__(self, table: str, staging: Path, run_id: str, row_group_rows: int, max_file_rows: int,
                 compression: str):
        self.table, self.staging, self.run_id = table, staging, run_id
        self.schema = arrow_schema(table)
        self.row_group_rows, self.max_file_rows, self.compression = row_group_rows, max_file_rows, compression
        self.buffers: dict[str, list[dict]] = {}
        self.writers: dict[str, tuple[pq.ParquetWriter, StagedFile]] = {}
        self.staged: list[StagedFile] = []
        self.seq = 0

    def add(self, crawl_date: str, row: dict) -> None:
        buf = self.buffers.setdefault(crawl_date, [])
        buf.append(row)
        if len(buf) >= self.row_group_rows:
            self.flush(crawl_date)

    def flush(self, crawl_date: str) -> None:
        rows = self.buffers.pop(crawl_date, [])
        if not rows:
            return
        writer, staged = self.writers.get(crawl_date, (None, None))
        if writer is None or staged.rows >= self.max_file_rows:
            if writer is not None:
                del self.writers[crawl_date]
                close_writer(writer)
            self.seq += 1
            path = self.staging / self.table / f"{PARTITION_COLUMN}={crawl_date}" / f"part-{self.run_id}-{self.seq:05d}.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            staged = StagedFile(self.table, crawl_date, path, 0)
            writer = open_writer(path, self.schema, compression=self.compression)
            self.writers[crawl_date] = (writer, staged)
            self.staged.append(staged)
        writer.write_table(pa.Table.from_pylist(rows, schema=self.schema), row_group_size=self.row_group_rows)
        staged.rows += len(rows)

    def close(self) -> list[StagedFile]:
        """Flush and close every file; every writer is closed even when one fails (the first error is raised)."""
        first = None
        try:
            for d in list(self.buffers):
                self.flush(d)
        except Exception as exc:  # noqa: BLE001
            first = exc
        writers, self.writers = list(self.writers.values()), {}
        self.buffers.clear()
        try:
            close_all([lambda w=w: close_writer(w) for w, _ in writers])
        except Exception as exc:  # noqa: BLE001
            first = first or exc
        if first is not None:
            raise first
        return self.staged


def close_tables(writers) -> list[StagedFile]:
    """Close every TableWriter (all of them, even after one fails: none is left to ``__del__``); the staged
    files, or the first failure."""
    staged: list[StagedFile] = []
    close_all([lambda w=w: staged.extend(w.close()) for w in writers])
    return staged


def apply_labels(src: Path, dst: Path, lookup, id_column: str, compression: str,
                 drop=None) -> tuple[int, int]:
    """Copy a staged file to dst, row group by row group, filling the duplicate label columns from
    ``lookup(ids) -> {id: (duplicate_of, reason, cluster_id)}`` (asked once per row group: the labels are
    never all in memory; a dict of every label works too) and leaving out the rows whose label ``drop(label)``
    says to (DEDUP_DROP_DUPLICATES; a set of ids works too). Returns (labelled rows, rows kept)."""
    if isinstance(lookup, dict):
        table = lookup
        lookup = lambda ids: table  # noqa: E731
    if isinstance(drop, (set, frozenset)):
        ids_out = drop
        drop = (lambda label, rid: rid in ids_out) if ids_out else None
    elif drop is not None:
        keep_drop = drop
        drop = lambda label, rid: keep_drop(label)  # noqa: E731
    with reading(src) as pf:
        return _copy_labelled(pf, dst, lookup, id_column, compression, drop)


def _copy_labelled(pf: pq.ParquetFile, dst: Path, lookup, id_column: str, compression: str,
                   drop) -> tuple[int, int]:
    schema = pf.schema_arrow
    idx = {name: schema.get_field_index(name) for name in LABEL_COLUMNS}
    labelled = kept = 0
    with writing(dst, schema, compression=compression) as writer:
        for i in range(pf.num_row_groups):
            batch = pf.read_row_group(i)
            ids = batch.column(id_column).to_pylist()
            labels = lookup(ids)
            if labels or drop is not None:
                cols = {name: batch.column(name).to_pylist() for name in LABEL_COLUMNS}
                for k, rid in enumerate(ids):
                    lab = labels.get(rid)
                    if lab:
                        for name, value in zip(LABEL_COLUMNS, lab):
                            cols[name][k] = value
                        labelled += lab[0] is not None
                for name in LABEL_COLUMNS:
                    batch = batch.set_column(idx[name], schema.field(name), pa.array(cols[name], pa.string()))
                if drop is not None:
                    batch = batch.filter(pa.array([not drop(labels.get(rid), rid) for rid in ids]))
            kept += batch.num_rows
            writer.write_table(batch)
            del batch, labels
    return labelled, kept


ID_COLUMN = {"articles": "article_id", "comments": "comment_id", "threads": "thread_id"}


class ParquetExportPipeline:
    step = "export"

    def __init__(self, crawler, output_dir: str):
        self.crawler, self.stats = crawler, crawler.stats
        s = crawler.settings
        self.output = Path(output_dir).resolve()
        self.row_group_rows = s.getint("PARQUET_ROW_GROUP_ROWS", 5000)
        self.max_file_rows = s.getint("PARQUET_FILE_MAX_ROWS", 500_000)
        self.compression = s.get("PARQUET_COMPRESSION", "zstd")
        self.fault_commit_pause = s.getfloat("FAULT_INJECT_COMMIT_PAUSE", 0.0)  # kill tests only
        self.fault_kill_at = s.get("FAULT_INJECT_KILL_AT") or None  # fault tests only
        self.verify_at_start = s.getbool("DATASET_VERIFY_AT_START", True)
        self.writers: dict[str, TableWriter] = {}
        self.started = datetime.now(timezone.utc)
        self.failed = False

    @classmethod
    def from_crawler(cls, crawler):
        # shared mode (REDIS_URL) puts pipelines.parquet_shared.SharedParquetExport in its place in ITEM_PIPELINES
        exporter = cls(crawler, crawler.settings.get("OUTPUT_DIR", "output"))
        crawler.signals.connect(exporter.item_failed, signal=signals.item_error)
        return exporter

    def item_failed(self, item, response=None, spider=None, failure=None) -> None:
        """``item_error``: a step raised on a record (or on a whole batch): its rows are lost, and the
        run says so in its exit code."""
        self.stats.inc_value("pipeline/drop_errors", len(records_of(item)))

    def open_spider(self, spider=None):
        self.ctx = getattr(self.crawler, "run_context", None)
        self.run_id = getattr(self.crawler.spider, "run_id", None) or self.stats.get_value("run/id")
        self.staging = self.output / "_staging" / self.run_id
        self.refused = bool(getattr(self.crawler.spider, "refusal", None))
        self.stats.set_value("export/output_dir", str(self.output))
        if self.refused:  # e.g. another run holds the lock: write nothing at all
            return
        if self.verify_at_start:
            self._verify_dataset()
            if self.refused:
                return
        try:
            self.staging.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self._fail("staging_unwritable", exc)

    def _verify_dataset(self) -> None:
        """Sizes and footers of every committed file (``scrapy dataset verify --quick``): a damaged file makes the
        run refuse before it crawls, naming the file (exit 4); ``scrapy dataset verify --quarantine`` repairs."""
        from .dataset.verify import quick_problems

        found = quick_problems(self.output)
        if not found:
            return
        names = "; ".join(str(p) for p in found[:5]) + (f"; and {len(found) - 5} more" if len(found) > 5 else "")
        msg = f"damaged dataset ({len(found)} problem(s)): {names} - see `scrapy dataset verify {self.output}`"
        logger.error(msg)
        self.stats.set_value("export/failed/damaged_dataset", msg)
        spider = self.crawler.spider
        if getattr(spider, "refusal", None) is None:
            spider.refusal = ("export/failed/damaged_dataset", msg)
        self.refused = True

    def _fail(self, reason: str, exc: Exception) -> None:
        self.failed = True
        self.stats.inc_value(f"export/failed/{reason}")
        if not self.stats.get_value("export/failure"):  # the first failure, said in the exit line
            self.stats.set_value("export/failure", f"{reason}: {type(exc).__name__}: {exc}"[:300])
        logger.error("export failed (%s): %s", reason, exc)

    @per_record
    def process_item(self, item, spider=None):
        table = item.table
        row = record_columns(item)
        # a value its column cannot store would fail the whole row group (and the commit): repaired where the
        # column may be null (a number in a text column becomes its text), else the row is dropped; counted
        repaired, unfit = fit_row(table, row)
        for reason, name in repaired:
            self.stats.inc_value(f"pipeline/repaired/{self.step}/{reason}_{name}")
        if unfit is not None:
            drop(self.stats, self.step, unfit, item)
        nulls = required_nulls(table, row)
        if nulls:
            drop(self.stats, self.step, f"null_required_{nulls[0]}", item, detail=", ".join(nulls))
        if self.failed:
            drop(self.stats, self.step, "output_unwritable", item)
        writer = self.writers.get(table)
        if writer is None:
            writer = self.writers[table] = TableWriter(table, self.staging, self.run_id, self.row_group_rows,
                                                       self.max_file_rows, self.compression)
        try:
            writer.add(row["fetched_at"].strftime("%Y-%m-%d"), row)
        except (OSError, pa.ArrowException, OverflowError, TypeError, ValueError) as exc:
            self._fail("write", exc)
            drop(self.stats, self.step, "write_failed", item, detail=str(exc))
        self.stats.inc_value(f"export/rows/{table}")
        return item

    def close_spider(self, spider=None):
        if self.refused:
            return
        derived = None
        try:
            staged = close_tables(self.writers.values())
            labeler = getattr(self.crawler, "dedup_labeler", None)
            moves = [self._prepare(f, labeler) for f in staged]
            if self.failed:
                raise OSError("earlier write failures; not committing")
            refuse_without_dedup_state(self.stats)
            for m in moves:  # every target directory must exist before the journal promises the commit
                target = (self.output / m["dst"]).parent
                target.mkdir(parents=True, exist_ok=True)
                if not target.is_dir():
                    raise NotADirectoryError(target)
            manifest = self._manifest(moves)
            if self.ctx is not None and self.ctx.state is not None:
                self.ctx.delta.save(self.staging / DELTA)
            write_json_atomic(self.staging / JOURNAL, {"run_id": self.run_id, "moves": moves, "manifest": manifest})
            fault_kill("journal", self.fault_kill_at)

            def start_derived(journal):  # files and manifest published: the derived files can be written
                nonlocal derived  # (a child on the other core) while the state deltas are applied here
                derived = self._start_derived()

            def advance_dedup_state(journal):  # before the journal goes: a kill here is rolled forward
                if labeler is not None and hasattr(labeler, "commit"):
                    labeler.commit(self.run_id)

            finish_commit(self.output, self.staging, self.ctx.state if self.ctx else None,  # atomic renames
                          after_files=advance_dedup_state, pause=self.fault_commit_pause, kill_at=self.fault_kill_at,
                          after_manifest=start_derived)
            record_exit(self.output, self.run_id, *exit_code({**self.stats.get_stats(), "export/committed": True}))
            for m in moves:
                self.stats.inc_value(f"export/files/{m['table']}")
            derived, started = None, derived
            self._finish_derived(started)
            try:
                self.staging.parent.rmdir()  # only succeeds when no other run's staging is left
            except OSError:
                pass
        except Exception as exc:  # noqa: BLE001 - whatever stops the commit, the run must say it was not committed
            self._fail("commit", exc)
            if derived is not None:  # started before the failure: its files describe what was published
                self._finish_derived(derived)
            record_exit(self.output, self.run_id, *exit_code({**self.stats.get_stats(), "export/committed": False}))
        self.stats.set_value("export/committed", not self.failed)

    def _start_derived(self):
        """Start regenerating the files derived from the committed data, in a child process
        (pipelines/dataset/derive.py: their DuckDB/pyarrow buffers and matplotlib stay out of the crawl's memory):
        the ``latest/`` view, the card README.md (after it: it lists its configs), croissant.json, report.html, each
        when its setting is on (the card always). Started as soon as the files and manifest are published, so it
        runs on the other core while the state deltas are applied; :meth:`_finish_derived` waits for it."""
        from .dataset.derive import start_derive

        settings = self.crawler.settings
        names = [n for n, setting in (("latest", "LATEST_AT_COMMIT"), ("card", None), ("croissant", "CROISSANT_AT_COMMIT"),
                                      ("report", "REPORT_AT_COMMIT")) if setting is None or settings.getbool(setting, True)]
        return start_derive(self.output, names)

    def _finish_derived(self, child) -> None:
        """Wait for the derived-files child. Counted ``export/<name>/written`` or ``export/<name>/failed`` (logged).
        A failure here never un-commits the run."""
        if child is None:
            return
        for name, error in child.results().items():
            if error is None:
                self.stats.inc_value(f"export/{name}/written")
            else:
                self.stats.inc_value(f"export/{name}/failed")
                logger.error("%s not written after commit: %s", "dataset card" if name == "card" else name, error)

    def _prepare(self, f: StagedFile, labeler) -> dict:
        """Apply duplicate labels (streamed: one look-up per row group); return the rename that will publish the
        file (paths relative to OUTPUT_DIR)."""
        final = self.output / f.table / f"{PARTITION_COLUMN}={f.crawl_date}" / f.path.name
        src, rows = f.path, f.rows
        if labeler is not None and labeler.has_labels(f.table):
            src = f.path.with_suffix(".labelled")
            drop = labeler.is_dropped if labeler.drop_duplicates else None
            n, rows = apply_labels(f.path, src, lambda ids: labeler.label_batch(f.table, ids), ID_COLUMN[f.table],
                                   self.compression, drop)
            self.stats.inc_value(f"export/labelled_duplicates/{f.table}", n)
            if rows != f.rows:
                self.stats.inc_value(f"export/dropped_duplicates/{f.table}", f.rows - rows)
        return {"table": f.table, "src": str(src.relative_to(self.output)), "dst": str(final.relative_to(self.output)),
                "rows": rows}

    def _manifest(self, moves: list[dict]) -> dict:
        health = finish_health(self.crawler, self.output)  # sets health/* stats: compute before copying stats
        rows: dict[str, int] = {}
        for m in moves:
            rows[m["table"]] = rows.get(m["table"], 0) + m["rows"]
        return {
            "run_id": self.run_id, "schema_version": SCHEMA_VERSION,
            "started_at": self.started.isoformat(), "finished_at": datetime.now(timezone.utc).isoformat(),
            "files": [{"table": m["table"], "path": m["dst"], "rows": m["rows"]} for m in moves], "rows": rows,
            "health": health,
            "exit": dict(PENDING_EXIT),  # the run's real exit replaces it once the state steps are done
            "stats": {k: v for k, v in self.stats.get_stats().items() if isinstance(v, (int, float, str, bool))},
        }
