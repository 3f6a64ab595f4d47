"""`scrapy dataset VERB s3://BUCKET/PREFIX`: the dataset tools on an object-store dataset.

The tools read local Parquet with DuckDB and pyarrow, so a remote dataset is brought to them: the committed
files (those the manifests list — what a reader following the documented way sees), the manifests and the
dataset's own metadata files are copied into a temporary directory through ``pyarrow.fs``, the tool runs on
it, and whatever the tool wrote there (the card, report, croissant.json, the ``latest/`` snapshot) is
uploaded back, each file as one object. Tools that rewrite committed files (compact, dedup-rebuild) refuse
on a remote dataset: in shared mode the dedup state lives in Redis and files are immutable per worker.
"""
from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from crawler.exitcodes import USAGE

from .objectstore import Dataset, committed_files

REWRITERS = {"compact", "dedup_rebuild"}
TABLES = ("articles", "threads", "comments")


def _snapshot(root: Path) -> dict[str, tuple[float, int]]:
    return {str(p.relative_to(root)): (p.stat().st_mtime_ns, p.stat().st_size)
            for p in root.rglob("*") if p.is_file()}


def run_on_remote(tool, args, prog: str) -> int:
    name = tool.__name__.rsplit(".", 1)[-1]
    if name in REWRITERS:
        print(f"{prog}: not available on a remote dataset ({args.output_dir}): it rewrites committed files",
              file=sys.stderr)
        return USAGE
    uri = str(args.output_dir)
    try:
        ds = Dataset(uri)
        if not ds.files("_manifests"):
            print(f"{prog}: no dataset at {uri} (no manifests)", file=sys.stderr)
            return USAGE
        local = mirror(ds)
    except OSError as exc:
        print(f"{prog}: cannot read {uri}: {exc}", file=sys.stderr)
        return USAGE
    try:
        before = _snapshot(local)
        args.output_dir = local
        code = tool.run(local, args)
        for rel in upload_changed(ds, local, before):
            print(f"{prog}: wrote {uri.rstrip('/')}/{rel}", file=sys.stderr)
        return code
    finally:
        shutil.rmtree(local, ignore_errors=True)


def mirror(ds: Dataset) -> Path:
    """A temporary local copy of what a reader of ``ds`` sees: the manifests, the files they list, the dataset's
    own top-level files (card, croissant.json, salt, …)."""
    local = Path(tempfile.mkdtemp(prefix="dataset-mirror-"))
    try:
        wanted = [m for m in ds.files("_manifests") if m.endswith(".json")]
        wanted += [p for t in TABLES for p in committed_files(ds, t)]
        wanted += [p for p in ds.listdir("") if not p.startswith("_") and "/" not in p and ds.size(p) is not None]
        for rel in wanted:
            target = local / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(ds.get_bytes(rel))
    except BaseException:
        shutil.rmtree(local, ignore_errors=True)
        raise
    return local


def upload_changed(ds: Dataset, local: Path, before: dict) -> list[str]:
    """Upload what changed in the mirror since ``before`` (each file one object); returns their paths."""
    wrote = []
    for rel, stamp in sorted(_snapshot(local).items()):
        if before.get(rel) != stamp:
            ds.put_bytes(rel, (local / rel).read_bytes())
            wrote.append(rel)
    return wrote


def refresh_derived(uri: str, writers: dict) -> dict[str, str]:
    """Regenerate files derived from the committed data of a remote dataset (``{name: write(local_dir)}``, e.g.
    the card): once on a mirror, then what they wrote is uploaded. Returns ``{name: "written" | "failed: …"}``; a
    writer's failure does not stop the others."""
    ds = Dataset(uri)
    local = mirror(ds)
    out = {}
    try:
        before = _snapshot(local)
        for name, write in writers.items():
            try:
                write(local)
                out[name] = "written"
            except Exception as exc:  # noqa: BLE001 - a derived file never undoes a commit
                out[name] = f"failed: {exc!r}"
        upload_changed(ds, local, before)
        return out
    finally:
        shutil.rmtree(local, ignore_errors=True)


__all__ = ["mirror", "refresh_derived", "run_on_remote", "upload_changed"]
