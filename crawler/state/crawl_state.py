"""What earlier runs fetched: HTTP validators, content hashes, thread membership and revisit times.

SQLite by default (``OUTPUT_DIR/_state/crawl.sqlite``), behind :class:`CrawlState`'s small interface.
A run reads the committed state freely but writes nothing until its output is committed: changes are
collected in a :class:`StateDelta`, saved next to the run's staged files, and applied in one transaction
by :meth:`CrawlState.apply` after the files are in place (and again, idempotently, when a later run
rolls a killed run's commit forward). So a crashed run never marks as seen what it did not write.
"""
from __future__ import annotations

import json
import logging
import os
import sqlite3
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from crawler import ids

from .vacuum import compact_if_grown

logger = logging.getLogger(__name__)

# Format 2: one row per page (WITHOUT ROWID: the URL is stored once; times as integer microseconds since 1970
# UTC; the article identity without what the URL already says) and per thread; a thread's comments are one
# compressed blob of native ids (comment ids are derived from platform/host/native id, stored only when they
# differ), not one row per comment — about 8 bytes per comment instead of ~150.
SCHEMA = """
CREATE TABLE IF NOT EXISTS pages (
  url TEXT PRIMARY KEY, article_id TEXT, etag TEXT, last_modified TEXT, content_hash TEXT,
  published_at INTEGER, first_seen INTEGER NOT NULL, last_visit INTEGER NOT NULL, visits INTEGER NOT NULL DEFAULT 0,
  comment_count INTEGER, next_visit INTEGER, gone INTEGER NOT NULL DEFAULT 0, article_json TEXT,
  kind TEXT NOT NULL DEFAULT 'article') WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS pages_due ON pages(next_visit) WHERE gone = 0 AND next_visit IS NOT NULL;
CREATE TABLE IF NOT EXISTS threads (
  thread_id TEXT PRIMARY KEY, page_url TEXT NOT NULL, platform TEXT NOT NULL, host TEXT NOT NULL,
  native_thread_id TEXT NOT NULL, article_id TEXT NOT NULL, first_requests TEXT NOT NULL,
  comments BLOB) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS threads_page ON threads(page_url);
CREATE TABLE IF NOT EXISTS applied_runs (run_id TEXT PRIMARY KEY, applied_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
STATE_FORMAT = "2"


def pack_members(members: dict[str, tuple[int, str | None]]) -> bytes:
    """A thread's comments ``{native_id: (gone, comment_id or None when derived)}`` as one zlib'd JSON list."""
    rows = [[n, g] if cid is None else [n, g, cid] for n, (g, cid) in members.items()]
    return zlib.compress(json.dumps(rows, separators=(",", ":")).encode(), 6)


def unpack_members(blob: bytes | None) -> dict[str, tuple[int, str | None]]:
    if not blob:
        return {}
    return {r[0]: (r[1], r[2] if len(r) > 2 else None) for r in json.loads(zlib.decompress(blob))}


TIME_COLUMNS = ("published_at", "first_seen", "last_visit", "next_visit")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def to_micros(value: str | None) -> int | None:
    """An ISO time (as the delta carries it) as integer microseconds since 1970 UTC (what the file stores)."""
    if value is None:
        return None
    delta = datetime.fromisoformat(value) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(value: int | None) -> datetime | None:
    return None if value is None else _EPOCH + timedelta(microseconds=value)


def pack_identity(url: str, article_json: str | None) -> str | None:
    """The article identity a tombstone needs, without the parts the page URL already gives."""
    if not article_json:
        return article_json
    d = json.loads(article_json)
    if d.get("url") == url:
        del d["url"]
    if d.get("canonical_url") == d.get("url", url):
        del d["canonical_url"]
    if d.get("article_id") == ids.article_id(d.get("canonical_url", d.get("url", url))):
        del d["article_id"]
    return json.dumps(d, separators=(",", ":"))


def unpack_identity(url: str, packed: str | None) -> str | None:
    if not packed:
        return packed
    d = json.loads(packed)
    page = d.get("url", url)
    canonical = d.get("canonical_url", page)
    out = {"article_id": d.get("article_id") or ids.article_id(canonical), "url": page, "canonical_url": canonical}
    out.update((k, v) for k, v in d.items() if k not in out)
    return json.dumps(out)


def iso(dt: datetime | None) -> str | None:
    return dt.astimezone(timezone.utc).isoformat() if dt else None


def parse_iso(s: str | None) -> datetime | None:
    return datetime.fromisoformat(s) if s else None


@dataclass
class PageState:
    url: str
    article_id: str | None
    etag: str | None
    last_modified: str | None
    content_hash: str | None
    published_at: datetime | None
    first_seen: datetime
    last_visit: datetime
    visits: int
    comment_count: int | None
    next_visit: datetime | None
    gone: bool
    article_json: str | None  # the last article row's identity fields, to write a tombstone
    kind: str = "article"  # 'article' (a news page) or 'discussion' (a forum topic / thread entry point)


class Spool:
    """An append-only list of JSON values in a file (a run's per-comment state changes): nothing of it stays in
    memory. ``append``/``extend`` write; iterating reads back in order. Without a file it is an in-memory list."""

    def __init__(self, path: Path | None = None, items=None):
        self.path, self._fh, self._items = path, None, list(items) if items is not None else None
        if path is None and items is None:
            self._items = []
        self.count = len(self._items) if self._items is not None else 0

    def append(self, value) -> None:
        if self._items is not None:
            self._items.append(value)
        else:
            if self._fh is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._fh = open(self.path, "w", buffering=1 << 16)  # a fresh spool per run
            self._fh.write(json.dumps(value, separators=(",", ":")))
            self._fh.write("\n")
        self.count += 1

    def extend(self, values) -> None:
        for v in values:
            self.append(v)

    def sync(self) -> None:
        if self._fh is None and self._items is None and self.path is not None and not self.path.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.touch()  # an empty spool is a file too (the delta names it)
        if self._fh is not None:
            self._fh.flush()
            os.fsync(self._fh.fileno())

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator:
        if self._items is not None:
            yield from self._items
            return
        self.sync()
        if self.path is None or not self.path.exists():
            return
        with open(self.path) as fh:
            for line in fh:
                yield json.loads(line)


class ThreadSpool(Spool):
    """``delta.threads[thread_id] = {...}`` written to a spool; :meth:`items` reads back (the last write of a
    thread wins when applied, as in a dict)."""

    def __setitem__(self, thread_id: str, cols: dict) -> None:
        self.append([thread_id, cols])

    def items(self):
        for tid, cols in self:
            yield tid, cols


@dataclass
class StateDelta:
    """Everything one run learned; applied only when the run's output is committed.

    ``pages`` (one entry per page, read back during the run) stays in memory; ``threads`` and ``comments`` (one
    entry per comment) are spooled to files beside the run's staged output when the delta has a ``spool_dir``
    (a dict and a list otherwise).
    """

    pages: dict[str, dict] = field(default_factory=dict)  # url -> column values (iso strings)
    threads: ThreadSpool | dict = field(default_factory=dict)
    comments: Spool | list = field(default_factory=list)  # (thread_id, native_id, comment_id, gone)
    spool_dir: Path | None = None

    def __post_init__(self) -> None:
        if self.spool_dir is not None:
            self.threads = ThreadSpool(Path(self.spool_dir) / "crawl_delta.threads.jsonl")
            self.comments = Spool(Path(self.spool_dir) / "crawl_delta.comments.jsonl")

    def save(self, path: Path) -> None:
        """Write the delta beside the run's staged files (durably: the commit journal follows it)."""
        data: dict = {"pages": self.pages}
        for name in ("threads", "comments"):
            part = getattr(self, name)
            if isinstance(part, Spool) and part.path is not None:
                part.sync()
                part.close()
                data[f"{name}_file"] = part.path.name
            else:
                data[name] = list(part.items()) if name == "threads" else list(part)
        tmp = path.with_suffix(".tmp")  # the fields are plain JSON values already: no deep copy (asdict) needed
        with open(tmp, "w") as fh:
            json.dump(data, fh)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> "StateDelta":
        """Raises CorruptDelta when the file is empty, truncated or not a delta."""
        try:
            d = json.loads(path.read_text())
            threads = ThreadSpool(path.parent / d["threads_file"]) if "threads_file" in d else \
                ThreadSpool(items=d["threads"].items() if isinstance(d["threads"], dict) else d["threads"])
            comments = Spool(path.parent / d["comments_file"]) if "comments_file" in d else \
                Spool(items=[tuple(c) for c in d["comments"]])
            return cls(d["pages"], threads, comments)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise CorruptDelta(f"{path}: {exc}") from exc


class CorruptState(RuntimeError):
    pass


class CorruptDelta(ValueError):
    """A saved crawl-state delta that cannot be read (empty, truncated)."""


class CrawlState:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(self.path)
            fresh = self.db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
            if fresh:  # before the first table: fits the pattern of one big write per run and many reads
                self.db.execute("PRAGMA page_size = 4096")
                self.db.execute("PRAGMA auto_vacuum = INCREMENTAL")
            self.db.execute("PRAGMA journal_mode = DELETE")  # one write transaction per run: see dedup_store
            self.db.executescript(SCHEMA)
            fmt = self.db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
            if fmt is None and not fresh and self.db.execute("SELECT 1 FROM pages LIMIT 1").fetchone():
                raise sqlite3.DatabaseError("crawl state of an older format (no format mark)")
            if fmt is None:
                with self.db:
                    self.db.execute("INSERT OR REPLACE INTO meta VALUES ('format', ?)", (STATE_FORMAT,))
            elif fmt[0] != STATE_FORMAT:
                raise sqlite3.DatabaseError(f"crawl state format {fmt[0]}, expected {STATE_FORMAT}")
            self._empty = self._empty_tables()
        except sqlite3.DatabaseError as exc:
            raise CorruptState(f"crawl state {self.path} is unreadable: {exc}") from exc

    def close(self) -> None:
        self.db.close()

    def _empty_tables(self) -> set[str]:
        """Tables with no row (a first run then asks nothing per page); refreshed by :meth:`apply`."""
        return {t for t in ("pages", "threads")
                if self.db.execute(f"SELECT 1 FROM {t} LIMIT 1").fetchone() is None}

    # -- reads ----------------------------------------------------------------------------------------
    def page(self, url: str) -> PageState | None:
        if "pages" in self._empty:
            return None
        row = self.db.execute("SELECT * FROM pages WHERE url = ?", (url,)).fetchone()
        if row is None:
            return None
        (url, aid, etag, lm, chash, pub, first, last, visits, count, nxt, gone, art, kind) = row
        return PageState(url, aid, etag, lm, chash, from_micros(pub), from_micros(first), from_micros(last), visits,
                         count, from_micros(nxt), bool(gone), unpack_identity(url, art), kind)

    def due_pages(self, now: datetime) -> list[tuple[str, str]]:
        """(url, kind) of pages whose revisit is due."""
        rows = self.db.execute("SELECT url, kind FROM pages WHERE gone = 0 AND next_visit IS NOT NULL AND "
                               "next_visit <= ? ORDER BY next_visit", (to_micros(iso(now)),)).fetchall()
        return [(r[0], r[1]) for r in rows]

    def threads_of(self, page_url: str) -> list[dict]:
        if "threads" in self._empty:
            return []
        rows = self.db.execute("SELECT thread_id, platform, host, native_thread_id, article_id, first_requests "
                               "FROM threads WHERE page_url = ?", (page_url,)).fetchall()
        return [dict(thread_id=r[0], platform=r[1], host=r[2], native_thread_id=r[3], article_id=r[4],
                     first_requests=json.loads(r[5])) for r in rows]

    def thread_comments(self, thread_id: str) -> dict[str, str]:
        """native_id -> comment_id of comments committed for the thread and not yet tombstoned."""
        if "threads" in self._empty:
            return {}
        row = self.db.execute("SELECT platform, host, comments FROM threads WHERE thread_id = ?",
                              (thread_id,)).fetchone()
        if row is None:
            return {}
        platform, host, blob = row
        return {n: cid or ids.comment_id(platform, host, n) for n, (gone, cid) in unpack_members(blob).items()
                if not gone}

    def applied_runs(self) -> set[str]:
        """Run ids whose deltas this state holds (see crawler/state/consistency.py)."""
        try:
            return {r[0] for r in self.db.execute("SELECT run_id FROM applied_runs")}
        except sqlite3.DatabaseError as exc:
            raise CorruptState(f"crawl state {self.path} is unreadable: {exc}") from exc

    def mark_applied(self, run_ids) -> None:
        """Record runs as covered (a fresh state that starts from the dataset as it is)."""
        now = iso(datetime.now(timezone.utc))
        with self.db:
            self.db.executemany("INSERT OR IGNORE INTO applied_runs VALUES (?, ?)", [(r, now) for r in run_ids])

    def applied(self, run_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM applied_runs WHERE run_id = ?", (run_id,)).fetchone() is not None

    # -- the one write path ---------------------------------------------------------------------------
    def apply(self, delta: StateDelta, run_id: str) -> None:
        """Apply a committed run's delta in one transaction (idempotent: upserts). Comments are read from the
        delta's spool thread by thread and merged into each thread's blob."""
        if self.applied(run_id):
            return
        with self.db:
            for url, cols in delta.pages.items():
                names = ["url", *cols]
                values = [to_micros(v) if k in TIME_COLUMNS else pack_identity(url, v) if k == "article_json" else v
                          for k, v in cols.items()]
                self.db.execute(
                    f"INSERT INTO pages ({', '.join(names)}) VALUES ({', '.join('?' * len(names))}) "
                    f"ON CONFLICT(url) DO UPDATE SET {', '.join(f'{c}=excluded.{c}' for c in cols)}",
                    [url, *values])
            for tid, t in delta.threads.items():
                self.db.execute(
                    "INSERT INTO threads VALUES (?, ?, ?, ?, ?, ?, ?, NULL) ON CONFLICT(thread_id) DO UPDATE SET "
                    "page_url=excluded.page_url, platform=excluded.platform, host=excluded.host, "
                    "native_thread_id=excluded.native_thread_id, article_id=excluded.article_id, "
                    "first_requests=excluded.first_requests",
                    (tid, t["page_url"], t["platform"], t["host"], t["native_thread_id"], t["article_id"],
                     json.dumps(t["first_requests"])))
            batch: list = []
            for c in delta.comments:
                if batch and c[0] != batch[0][0]:
                    self._merge_comments(batch)
                    batch = []
                batch.append(c)
            if batch:
                self._merge_comments(batch)
            self.db.execute("INSERT INTO applied_runs VALUES (?, ?)", (run_id, iso(datetime.now(timezone.utc))))
        self._empty = self._empty_tables()
        try:  # a commit that grew the file by a quarter: compacted (crawler/state/vacuum.py); it stands either way
            compact_if_grown(self.db)
        except sqlite3.DatabaseError as exc:
            logger.warning("crawl state %s not compacted after the commit (%s)", self.path, exc)

    def _merge_comments(self, rows: list) -> None:
        """Upsert one thread's (thread_id, native_id, comment_id, gone) rows into its blob."""
        tid = rows[0][0]
        row = self.db.execute("SELECT platform, host, comments FROM threads WHERE thread_id = ?", (tid,)).fetchone()
        if row is None:  # comments of a thread the delta does not describe: keep them under a placeholder row
            self.db.execute("INSERT INTO threads VALUES (?, '', '', '', '', '', '[]', NULL)", (tid,))
            row = ("", "", None)
        platform, host, blob = row
        members = unpack_members(blob)
        for _, native_id, cid, gone in rows:
            members[native_id] = (int(gone), None if cid == ids.comment_id(platform, host, native_id) else cid)
        self.db.execute("UPDATE threads SET comments = ? WHERE thread_id = ?", (pack_members(members), tid))

    def size_report(self) -> dict[str, int]:
        """Rows per table (for benchmarks and ``scrapy dataset`` tools)."""
        return {t: self.db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("pages", "threads")}
