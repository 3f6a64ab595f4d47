"""A dataset on an object store (``s3://BUCKET/PREFIX``) or a local/shared directory, through ``pyarrow.fs``;
and the rename-free commit protocol of shared mode.

S3 settings: ``S3_ENDPOINT_URL`` (e.g. ``http://127.0.0.1:9000`` for MinIO or moto; empty = AWS), region from
``S3_REGION``/``AWS_REGION``/``AWS_DEFAULT_REGION``, credentials from the usual AWS environment variables
(``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``) or any source the AWS SDK reads.

Layout: the same Hive tables as local mode (``articles/crawl_date=YYYY-MM-DD/part-RUN-WORKER-00001.parquet``),
one manifest per committed run (``_manifests/RUN.json``), staging under ``_staging/WORKER/RUN/`` (readers never
look under ``_``-prefixed paths; pyarrow's dataset discovery skips them).

Commit (:func:`finish_commit`), per worker, for its own files only — workers never write the same key:

1. labelled part files and the state deltas are uploaded under ``_staging/WORKER/RUN/``;
2. ``COMMIT.json`` is written there (one PUT: atomic): the copies to make and the manifest;
3. each staged object is copied server-side to its final key — an S3 object appears whole or not at all, so a
   reader globbing ``*.parquet`` never sees a partial file (locally: a rename);
4. ``_manifests/RUN.json`` is written (one PUT): from here on the run is committed;
5. the crawl-state and dedup-state deltas are applied (idempotent), and the staging prefix is deleted.

Readers following the documented way (:func:`committed_files`: the files listed by manifests) see only
committed runs. A worker killed before step 2 leaves staging only (discarded when it restarts); killed after
step 2, its commit is rolled forward when it restarts (same ``WORKER_ID``), from step 3 on, without the local
disk of the dead process. Part files a dead worker copied without writing its manifest are complete files
that no manifest lists until the roll-forward writes it.
"""
from __future__ import annotations

import json
import logging
import os
import time
from urllib.parse import urlsplit

import pyarrow.fs as pafs

from . import is_remote

logger = logging.getLogger(__name__)
JOURNAL = "COMMIT.json"
CRAWL_DELTA = "crawl_delta.json"
DEDUP_DELTA = "dedup_delta.json"


def filesystem(output: str, endpoint: str | None = None, region: str | None = None):
    """(FileSystem, root path) for OUTPUT_DIR."""
    if not is_remote(output):
        return pafs.LocalFileSystem(), os.path.abspath(output)
    parts = urlsplit(output)
    endpoint = endpoint if endpoint is not None else os.environ.get("S3_ENDPOINT_URL", "")
    region = region or os.environ.get("S3_REGION") or os.environ.get("AWS_REGION") \
        or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    kw = {"region": region}
    if endpoint:
        ep = urlsplit(endpoint if "://" in endpoint else f"http://{endpoint}")
        kw.update(endpoint_override=ep.netloc, scheme=ep.scheme or "http")
    return pafs.S3FileSystem(**kw), f"{parts.netloc}{parts.path}".rstrip("/")


class Dataset:
    """Paths relative to the dataset root, on whatever filesystem OUTPUT_DIR names."""

    def __init__(self, output: str, endpoint: str | None = None):
        self.output = str(output)
        self.remote = is_remote(self.output)
        self.fs, self.root = filesystem(self.output, endpoint)

    def path(self, rel: str) -> str:
        return f"{self.root}/{rel}".rstrip("/")

    def rel(self, path: str) -> str:
        return path[len(self.root) + 1:]

    def exists(self, rel: str) -> bool:
        return self.fs.get_file_info(self.path(rel)).type != pafs.FileType.NotFound

    def size(self, rel: str) -> int | None:
        info = self.fs.get_file_info(self.path(rel))
        return info.size if info.type == pafs.FileType.File else None

    def put_bytes(self, rel: str, data: bytes) -> None:
        """One object written whole (S3: a single PUT is atomic; locally: tmp + rename)."""
        if not self.remote:
            os.makedirs(os.path.dirname(self.path(rel)), exist_ok=True)
            tmp = self.path(rel) + ".tmp"
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path(rel))
            return
        with self.fs.open_output_stream(self.path(rel)) as out:
            out.write(data)

    def put_json(self, rel: str, data: dict) -> None:
        self.put_bytes(rel, json.dumps(data, indent=1, sort_keys=True, default=str).encode())

    def get_bytes(self, rel: str) -> bytes:
        with self.fs.open_input_stream(self.path(rel)) as f:
            return f.read()

    def get_json(self, rel: str) -> dict:
        return json.loads(self.get_bytes(rel))

    def upload(self, local_path: str, rel: str) -> None:
        if not self.remote:
            os.makedirs(os.path.dirname(self.path(rel)), exist_ok=True)
        pafs.copy_files(local_path, self.path(rel), source_filesystem=pafs.LocalFileSystem(),
                        destination_filesystem=self.fs)

    def publish(self, src_rel: str, dst_rel: str) -> None:
        """Make a staged file visible at its final key, whole (S3: server-side copy; locally: a rename)."""
        if self.remote:
            self.fs.copy_file(self.path(src_rel), self.path(dst_rel))
        else:
            os.makedirs(os.path.dirname(self.path(dst_rel)), exist_ok=True)
            os.replace(self.path(src_rel), self.path(dst_rel))

    def listdir(self, rel: str, recursive: bool = False) -> list[str]:
        sel = pafs.FileSelector(self.path(rel), allow_not_found=True, recursive=recursive)
        return [self.rel(i.path) for i in self.fs.get_file_info(sel)]

    def files(self, rel: str) -> list[str]:
        sel = pafs.FileSelector(self.path(rel), allow_not_found=True, recursive=True)
        return sorted(self.rel(i.path) for i in self.fs.get_file_info(sel) if i.type == pafs.FileType.File)

    def delete_dir(self, rel: str) -> None:
        try:
            self.fs.delete_dir(self.path(rel))
        except (FileNotFoundError, OSError) as exc:
            if self.exists(rel):
                raise
            logger.debug("nothing to delete at %s (%s)", rel, exc)


def manifests(ds: Dataset) -> list[dict]:
    out = []
    for rel in ds.files("_manifests"):
        if rel.endswith(".json"):
            try:
                out.append(ds.get_json(rel))
            except (OSError, ValueError) as exc:
                logger.warning("unreadable manifest %s: %s", rel, exc)
    return sorted(out, key=lambda m: (m.get("finished_at") or "", m.get("run_id") or ""))


def committed_files(ds: Dataset, table: str) -> list[str]:
    """The documented way to read a shared dataset: exactly the files that committed manifests list."""
    return sorted({f["path"] for m in manifests(ds) for f in m.get("files", []) if f["table"] == table})


def read_table(output: str, table: str, columns=None, endpoint: str | None = None):
    """A committed table as one Arrow table (Hive partition column included), read through pyarrow.fs."""
    import pyarrow.dataset as pads

    ds = Dataset(output, endpoint)
    paths = [ds.path(p) for p in committed_files(ds, table)]
    if not paths:
        return None
    part = pads.partitioning(flavor="hive")
    dataset = pads.dataset(paths, filesystem=ds.fs, format="parquet", partitioning=part,
                           partition_base_dir=ds.path(table))
    return dataset.to_table(columns=columns)


def finish_commit(ds: Dataset, staging: str, apply_states=None, pause: float = 0.0) -> dict:
    """Steps 3-5 for a staging prefix holding a journal; safe to repeat after a crash at any point.
    ``pause`` (seconds slept after each copy) exists only so kill tests can hit the commit window."""
    journal = ds.get_json(f"{staging}/{JOURNAL}")
    for move in journal["moves"]:
        if ds.exists(move["src"]):
            if not (ds.remote and ds.size(move["dst"]) == ds.size(move["src"])):
                ds.publish(move["src"], move["dst"])
                if pause:
                    time.sleep(pause)
        elif not ds.exists(move["dst"]):
            raise FileNotFoundError(f"commit of {journal['run_id']}: neither {move['src']} nor {move['dst']}")
    ds.put_json(f"_manifests/{journal['run_id']}.json", journal["manifest"])
    if apply_states is not None:
        apply_states(journal, staging)
    ds.delete_dir(staging)
    return journal


def recover(ds: Dataset, worker_id: str, current_run: str, apply_states=None) -> tuple[list[str], list[str]]:
    """Staging left by earlier incarnations of this worker: roll committed journals forward, discard the rest.
    Only this worker's prefix is touched (it holds this worker's lease); returns (rolled forward, discarded)."""
    rolled, discarded = [], []
    base = f"_staging/{worker_id}"
    for rel in sorted(ds.listdir(base)):
        name = rel.rsplit("/", 1)[-1]
        if name == current_run:
            continue
        if ds.exists(f"{rel}/{JOURNAL}"):
            finish_commit(ds, rel, apply_states)
            rolled.append(name)
            logger.warning("rolled forward the commit of killed run %s", name)
        else:
            ds.delete_dir(rel)
            discarded.append(name)
            logger.warning("discarded uncommitted leftovers of killed run %s", name)
    return rolled, discarded
