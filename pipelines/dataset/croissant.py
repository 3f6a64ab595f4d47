"""``OUTPUT_DIR/croissant.json``: MLCommons Croissant 1.0 metadata (JSON-LD) of the dataset, from the schema.

Written at each commit (``CROISSANT_ENABLED``) and by ``scrapy dataset croissant OUTPUT_DIR``. It describes:

* one ``cr:FileSet`` per table: the table's committed Parquet files (``<table>/crawl_date=*/*.parquet``,
  relative to the file's own directory, so the dataset stays relocatable), and, when ``latest/`` exists, one
  per latest view;
* one ``cr:RecordSet`` per table (and per latest view) whose fields are the columns of :mod:`pipelines.schema`
  (Croissant data type from the Arrow type, the column's documentation as description, list columns
  ``repeated``), a ``crawl_date`` field read from the file path (the Hive partition), the key (id and
  ``version``), and the joins ``threads.article_id``/``comments.article_id`` → ``article_id``,
  ``comments.thread_id`` → ``thread_id`` as ``references``. A reference points at the *latest view's* files of
  the joined table (one row per id, so a join never multiplies rows; mlcroissant joins references when it
  reads), which is why the joins are declared only once ``latest/`` exists (``LATEST_AT_COMMIT``, on by
  default). Joins within a table (``parent_id``, ``duplicate_of``) are stated in their descriptions:
  mlcroissant's operation graph must stay acyclic.

``mlcroissant`` (pinned in requirements.txt) loads it and yields exactly the Parquet rows
(``tests/test_croissant.py``). Only the tables that have files are described; regenerating without new data
gives the same bytes.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pyarrow as pa

from . import cli
from ..schema import PARTITION_COLUMN, SCHEMA_VERSION, TABLES

CONFORMS_TO = "http://mlcommons.org/croissant/1.0"
CONTEXT = {
    "@language": "en", "@vocab": "https://schema.org/", "citeAs": "cr:citeAs", "column": "cr:column",
    "conformsTo": "dct:conformsTo", "cr": "http://mlcommons.org/croissant/", "rai": "http://mlcommons.org/croissant/RAI/",
    "data": {"@id": "cr:data", "@type": "@json"}, "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/", "equivalentProperty": "cr:equivalentProperty",
    "examples": {"@id": "cr:examples", "@type": "@json"}, "extract": "cr:extract", "field": "cr:field",
    "fileProperty": "cr:fileProperty", "fileObject": "cr:fileObject", "fileSet": "cr:fileSet", "format": "cr:format",
    "includes": "cr:includes", "isLiveDataset": "cr:isLiveDataset", "jsonPath": "cr:jsonPath", "key": "cr:key",
    "md5": "cr:md5", "parentField": "cr:parentField", "path": "cr:path", "recordSet": "cr:recordSet",
    "references": "cr:references", "regex": "cr:regex", "repeated": "cr:repeated", "replace": "cr:replace",
    "samplingRate": "cr:samplingRate", "sc": "https://schema.org/", "separator": "cr:separator", "source": "cr:source",
    "subField": "cr:subField", "transform": "cr:transform",
}
ID_COLUMN = {"articles": "article_id", "threads": "thread_id", "comments": "comment_id"}
REFERENCES = {  # (table, column) -> (table, column) it joins to
    ("threads", "article_id"): ("articles", "article_id"),
    ("comments", "article_id"): ("articles", "article_id"),
    ("comments", "thread_id"): ("threads", "thread_id"),
}  # joins within a table (parent_id, duplicate_of) are in the field descriptions: mlcroissant's operation graph
#    must stay acyclic
LICENCE = ("The text belongs to its publishers and authors; collected for research use (text and data mining) "
           "only. Comment authors are pseudonymised.")

HELP = "write OUTPUT_DIR/croissant.json (MLCommons Croissant 1.0 metadata of the tables; also done at each commit)"


def data_type(t: pa.DataType) -> str:
    if pa.types.is_list(t):
        return data_type(t.value_type)
    if pa.types.is_boolean(t):
        return "sc:Boolean"
    if pa.types.is_integer(t):
        return "sc:Integer"
    if pa.types.is_floating(t):
        return "sc:Float"
    if pa.types.is_timestamp(t):
        return "sc:DateTime"
    return "sc:Text"


def table_glob(table: str, latest: bool = False) -> str:
    return f"latest/{table}/*.parquet" if latest else f"{table}/{PARTITION_COLUMN}=*/*.parquet"


def _file_set(name: str, includes: str, what: str) -> dict:
    return {"@type": "cr:FileSet", "@id": name, "name": name, "description": what,
            "encodingFormat": "application/x-parquet", "includes": includes}


def record_set(table: str, files: str, name: str, latest: bool = False, join_targets: frozenset = frozenset()) -> dict:
    fields = []
    for c in TABLES[table]:
        f = {"@type": "cr:Field", "@id": f"{name}/{c.name}", "name": c.name, "description": c.doc,
             "dataType": data_type(c.type), "source": {"fileSet": {"@id": files}, "extract": {"column": c.name}}}
        if pa.types.is_list(c.type):
            f["repeated"] = True
        ref = REFERENCES.get((table, c.name))
        if ref is not None and ref[0] in join_targets:
            f["references"] = {"fileSet": {"@id": f"{ref[0]}_latest-files"}, "extract": {"column": ref[1]}}
        fields.append(f)
    if latest:  # the snapshot stores the partition as a column
        fields.append({
            "@type": "cr:Field", "@id": f"{name}/{PARTITION_COLUMN}", "name": PARTITION_COLUMN, "dataType": "sc:Text",
            "description": "Hive partition of the row's file in the versioned table (UTC date of fetched_at).",
            "source": {"fileSet": {"@id": files}, "extract": {"column": PARTITION_COLUMN}}})
    else:
        fields.append({
            "@type": "cr:Field", "@id": f"{name}/{PARTITION_COLUMN}", "name": PARTITION_COLUMN, "dataType": "sc:Text",
            "description": "Hive partition of the file (UTC date of fetched_at), read from its path.",
            "source": {"fileSet": {"@id": files}, "extract": {"fileProperty": "fullpath"},
                       "transform": {"regex": rf".*{PARTITION_COLUMN}=(\d{{4}}-\d{{2}}-\d{{2}})/.*"}}})
    key = [{"@id": f"{name}/{ID_COLUMN[table]}"}] + ([] if latest else [{"@id": f"{name}/version"}])
    what = (f"Latest version of each {table[:-1]} (tombstoned ones left out), one row per id." if latest else
            f"Every version of every {table[:-1]} (tombstones included); the key is id and version.")
    return {"@type": "cr:RecordSet", "@id": name, "name": name, "description": what, "key": key, "field": fields}


def _last_commit(output: Path) -> str | None:
    """Finish time (UTC date) of the newest committed run, from the manifests (stable without new data)."""
    dates = []
    for p in Path(output, "_manifests").glob("*.json"):
        try:
            dates.append(json.loads(p.read_text()).get("finished_at") or "")
        except (OSError, ValueError):
            continue
    return max(dates)[:10] if any(dates) else None


def render_croissant(output_dir) -> dict:
    output = Path(output_dir)
    present = [t for t in TABLES if any(output.glob(table_glob(t)))]
    latest = [t for t in TABLES if any(output.glob(table_glob(t, latest=True)))]
    distribution, record_sets = [], []
    for t in present:
        distribution.append(_file_set(f"{t}-files", table_glob(t), f"Parquet files of the {t} table."))
        record_sets.append(record_set(t, f"{t}-files", t, join_targets=frozenset(latest)))
    for t in latest:
        distribution.append(_file_set(f"{t}_latest-files", table_glob(t, latest=True),
                                      f"Parquet files of the latest view of {t} (scrapy dataset snapshot)."))
        record_sets.append(record_set(t, f"{t}_latest-files", f"{t}_latest", latest=True,
                                      join_targets=frozenset(latest)))
    return {
        "@context": CONTEXT, "@type": "sc:Dataset", "conformsTo": CONFORMS_TO,
        "name": "crypto-news-and-discussion",
        "description": "News articles from crypto news sites and the reader discussion under them (threads and "
                       "comments), crawled politely, cleaned, language-tagged, asset-tagged, duplicates labelled "
                       f"(not deleted). Schema version {SCHEMA_VERSION}; see README.md beside this file.",
        "license": LICENCE, "url": "README.md", "datePublished": _last_commit(output), "version": f"{SCHEMA_VERSION}.0.0",
        "citeAs": "crypto news and discussion dataset, crawled with cryptonews-dataset",
        "distribution": distribution, "recordSet": record_sets,
    }


def write_croissant(output_dir) -> Path:
    path = Path(output_dir) / "croissant.json"
    tmp = path.with_name(".croissant.json.tmp")
    tmp.write_text(json.dumps(render_croissant(output_dir), indent=1, ensure_ascii=False) + "\n")
    os.replace(tmp, path)
    return path


def run(output_dir: Path, args=None) -> int:
    print(write_croissant(output_dir))
    return 0


if __name__ == "__main__":
    sys.exit(cli.main(sys.modules[__name__]))
