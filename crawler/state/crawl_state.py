"""What earlier runs fetched: HTTP validators, content hashes, thread membership and revisit times.

SQLite by default (``OUTPUT_DIR/_state/crawl.sqlite``), behind :class:`CrawlState`'s small interface.
A run reads the committed state freely but writes nothing until its output is committed: changes are
collected in a :class:`StateDelta`, saved next to the run's staged files, and applied in one transaction
by :meth:`CrawlState.apply` after the files are in place (and again, idempotently, when a later run
rolls a killed run's commit forward). So a crashed run never marks as seen what it did not write.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS pages (
  url TEXT PRIMARY KEY, article_id TEXT, etag TEXT, last_modified TEXT, content_hash TEXT,
  published_at TEXT, first_seen TEXT NOT NULL, last_visit TEXT NOT NULL, visits INTEGER NOT NULL DEFAULT 0,
  comment_count INTEGER, next_visit TEXT, gone INTEGER NOT NULL DEFAULT 0, article_json TEXT,
  kind TEXT NOT NULL DEFAULT 'article');
CREATE TABLE IF NOT EXISTS threads (
  thread_id TEXT PRIMARY KEY, page_url TEXT NOT NULL, platform TEXT NOT NULL, host TEXT NOT NULL,
  native_thread_id TEXT NOT NULL, article_id TEXT NOT NULL, first_requests TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS thread_comments (
  thread_id TEXT NOT NULL, native_id TEXT NOT NULL, comment_id TEXT NOT NULL, gone INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (thread_id, native_id));
CREATE TABLE IF NOT EXISTS applied_runs (run_id TEXT PRIMARY KEY, applied_at TEXT NOT NULL);
"""


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


@dataclass
class StateDelta:
    """Everything one run learned; applied only when the run's output is committed."""

    pages: dict[str, dict] = field(default_factory=dict)  # url -> column values (iso strings)
    threads: dict[str, dict] = field(default_factory=dict)
    comments: list[tuple[str, str, str, int]] = field(default_factory=list)  # thread_id, native_id, comment_id, gone

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")  # the fields are plain JSON values already: no deep copy (asdict) needed
        tmp.write_text(json.dumps({"pages": self.pages, "threads": self.threads, "comments": self.comments}))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> "StateDelta":
        """Raises CorruptDelta when the file is empty, truncated or not a delta."""
        try:
            d = json.loads(path.read_text())
            return cls(d["pages"], d["threads"], [tuple(c) for c in d["comments"]])
        except (ValueError, KeyError, TypeError) as exc:
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
            self.db.executescript(SCHEMA)
            self.db.execute("SELECT count(*) FROM pages").fetchone()
            self._empty = self._empty_tables()
        except sqlite3.DatabaseError as exc:
            raise CorruptState(f"crawl state {self.path} is unreadable: {exc}") from exc

    def close(self) -> None:
        self.db.close()

    def _empty_tables(self) -> set[str]:
        """Tables with no row (a first run then asks nothing per page); refreshed by :meth:`apply`."""
        return {t for t in ("pages", "thread_comments")
                if self.db.execute(f"SELECT 1 FROM {t} LIMIT 1").fetchone() is None}

    # -- reads ----------------------------------------------------------------------------------------
    def page(self, url: str) -> PageState | None:
        if "pages" in self._empty:
            return None
        row = self.db.execute("SELECT * FROM pages WHERE url = ?", (url,)).fetchone()
        if row is None:
            return None
        (url, aid, etag, lm, chash, pub, first, last, visits, count, nxt, gone, art, kind) = row
        return PageState(url, aid, etag, lm, chash, parse_iso(pub), parse_iso(first), parse_iso(last), visits,
                         count, parse_iso(nxt), bool(gone), art, kind)

    def due_pages(self, now: datetime) -> list[tuple[str, str]]:
        """(url, kind) of pages whose revisit is due."""
        rows = self.db.execute("SELECT url, kind FROM pages WHERE gone = 0 AND next_visit IS NOT NULL AND "
                               "next_visit <= ? ORDER BY next_visit", (iso(now),)).fetchall()
        return [(r[0], r[1]) for r in rows]

    def threads_of(self, page_url: str) -> list[dict]:
        rows = self.db.execute("SELECT thread_id, platform, host, native_thread_id, article_id, first_requests "
                               "FROM threads WHERE page_url = ?", (page_url,)).fetchall()
        return [dict(thread_id=r[0], platform=r[1], host=r[2], native_thread_id=r[3], article_id=r[4],
                     first_requests=json.loads(r[5])) for r in rows]

    def thread_comments(self, thread_id: str) -> dict[str, str]:
        """native_id -> comment_id of comments committed for the thread and not yet tombstoned."""
        if "thread_comments" in self._empty:
            return {}
        rows = self.db.execute("SELECT native_id, comment_id FROM thread_comments WHERE thread_id = ? AND gone = 0",
                               (thread_id,)).fetchall()
        return dict(rows)

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
        """Apply a committed run's delta in one transaction (idempotent: upserts)."""
        if self.applied(run_id):
            return
        with self.db:
            for url, cols in delta.pages.items():
                names = ["url", *cols]
                self.db.execute(
                    f"INSERT INTO pages ({', '.join(names)}) VALUES ({', '.join('?' * len(names))}) "
                    f"ON CONFLICT(url) DO UPDATE SET {', '.join(f'{c}=excluded.{c}' for c in cols)}",
                    [url, *cols.values()])
            for tid, t in delta.threads.items():
                self.db.execute("INSERT OR REPLACE INTO threads VALUES (?, ?, ?, ?, ?, ?, ?)",
                                (tid, t["page_url"], t["platform"], t["host"], t["native_thread_id"],
                                 t["article_id"], json.dumps(t["first_requests"])))
            self.db.executemany("INSERT OR REPLACE INTO thread_comments VALUES (?, ?, ?, ?)", delta.comments)
            self.db.execute("INSERT INTO applied_runs VALUES (?, ?)", (run_id, iso(datetime.now(timezone.utc))))
        self._empty = self._empty_tables()
