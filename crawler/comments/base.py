"""The one small interface every comment platform adapter implements, and the shared tree builder.

An adapter is pure: it never does I/O. The spider asks it three things:

1. ``detect(url, body, headers) -> ThreadRef | None`` – does this page/response carry a thread of mine?
2. ``first_requests(ref) -> list[str]`` – which URLs to fetch for that thread (may be empty when the
   page itself holds every comment).
3. ``parse_page(url, body, headers, ref) -> CommentPage`` – comments found in one response, follow-up
   URLs (next pages, "load more" batches) and the count the platform reports.

When every page of a thread has arrived, :func:`build_thread` turns the collected
:class:`RawComment` objects into schema rows: stable ids, ``parent_id``, ``depth``, ``position``,
placeholder rows for parents the crawl never received (``is_placeholder``; see :func:`build_thread`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from crawler import ids
from crawler.items import CommentRecord, ThreadRecord


@dataclass
class ThreadRef:
    platform: str
    host: str  # host[:port] the native ids are scoped to
    native_thread_id: str
    article_url: str  # page the thread discusses
    inline_body: bytes | None = None  # the detected page itself, when it also holds comments
    reported_count: int | None = None
    extra: dict = field(default_factory=dict)


@dataclass
class RawComment:
    native_id: str
    parent_native_id: str | None
    author_name: str | None
    body_text: str
    source_url: str
    quoted_text: str | None = None
    published_at: datetime | None = None
    published_at_raw: str | None = None
    edited_at: datetime | None = None
    edited: bool = False  # the platform says the comment was edited (it may not say when: edited_at None)
    score: int | None = None
    is_deleted: bool = False
    order: int = 0  # the platform's own listing order, for ties
    synthetic: bool = False  # placeholder made for a parent the platform did not list
    hidden: bool = False  # flagged/hidden by the community or moderators: not deleted, text not shown


@dataclass
class CommentPage:
    comments: list[RawComment] = field(default_factory=list)
    next_urls: list[str] = field(default_factory=list)
    reported_count: int | None = None
    error: str | None = None  # a reason when the response could not be parsed
    # thread metadata the response states (ThreadRecord columns: title, community, author_name, score,
    # created_at, discussion_url); None when it says nothing about the thread itself
    thread: dict | None = None
    not_comments: int = 0  # posts the platform's count includes that are not comments (Discourse small actions)
    cut_pages: int = 0  # follow-up pages the server claimed beyond MAX_LISTED_PAGES (not listed: thread incomplete)
    malformed: int = 0  # entries the payload lists that are not readable comments (no id, not an object): skipped


# A server states how many pages a thread has (X-WP-TotalPages, a "last page" link, start=N offsets): never
# list more follow-up URLs than this from one such number (X-WP-TotalPages: 1000000000000 must not build a list).
MAX_LISTED_PAGES = 1000


def page_range(first: int, last: int, step: int = 1) -> tuple[range, int]:
    """``range(first, last + 1, step)`` cut to MAX_LISTED_PAGES numbers, and how many numbers were cut
    (``len`` of a range is computed, never materialised)."""
    step = max(1, step)
    count = max(0, (last - first) // step + 1)  # arithmetic: len() of a huge range overflows
    if count <= MAX_LISTED_PAGES:
        return range(first, first + count * step, step), 0
    return range(first, first + MAX_LISTED_PAGES * step, step), count - MAX_LISTED_PAGES


class CommentAdapter(Protocol):
    platform: str
    parser: str  # name@version
    # False when the platform's reported count includes comments its API can no longer return (Reddit's
    # num_comments counts removed comments): completeness is then "every follow-up fetched", not a count.
    reported_count_is_exact: bool

    def detect(self, url: str, body: bytes, headers: dict) -> ThreadRef | None: ...

    def first_requests(self, ref: ThreadRef) -> list[str]: ...

    def parse_page(self, url: str, body: bytes, headers: dict, ref: ThreadRef) -> CommentPage: ...


THREAD_META = ("title", "community", "author_name", "score", "created_at", "discussion_url")


def build_thread(ref: ThreadRef, article_id: str, raw: list[RawComment], *, parser: str, source: str,
                 thread_url: str, complete: bool, reported: int | None, not_comments: int = 0,
                 reported_exact: bool = True, meta: dict | None = None) -> tuple[ThreadRecord, list[CommentRecord]]:
    """Assemble collected comments into a thread row and ordered comment rows (pure).

    A parent that some comment names but that never arrived becomes a **placeholder** row
    (``is_placeholder=True``, no text, author or date) so its replies keep their place. Whether it was
    deleted is only known when every page of the thread was read (``complete``): then the platform no
    longer lists it and ``is_deleted`` is True; on an incomplete crawl it is simply not loaded
    (``is_deleted=False``).

    Completeness: every page fetched (``complete``) and, when the platform's count is exact
    (``reported_exact``), collected comments plus the posts it counts that are not comments
    (``not_comments``) reach ``reported``.
    """
    by_id: dict[str, RawComment] = {}
    for c in raw:  # the same comment seen twice (overlapping pages) is kept once, first wins
        by_id.setdefault(c.native_id, c)
    for c in list(by_id.values()):
        p = c.parent_native_id
        if p and p not in by_id:  # parent not received: keep the tree whole with a placeholder
            by_id[p] = RawComment(native_id=p, parent_native_id=None, author_name=None, body_text="",
                                  source_url=c.source_url, is_deleted=complete, order=c.order, synthetic=True)
    children: dict[str | None, list[RawComment]] = {}
    for c in by_id.values():
        parent = c.parent_native_id if c.parent_native_id in by_id and c.parent_native_id != c.native_id else None
        children.setdefault(parent, []).append(c)

    def sort_key(c: RawComment):
        ts = c.published_at.timestamp() if c.published_at else float("inf")
        return (ts, c.order, c.native_id)

    tid = ids.thread_id(ref.platform, ref.host, ref.native_thread_id)
    rows: list[CommentRecord] = []
    seen: set[str] = set()
    stack = [(c, None, 0) for c in sorted(children.get(None, []), key=sort_key, reverse=True)]
    leftovers = sorted(by_id.values(), key=sort_key, reverse=True)  # members of parent cycles, if any
    while stack or leftovers:  # iterative depth-first walk: no recursion limit on deep threads
        if not stack:
            c = leftovers.pop()
            if c.native_id not in seen:  # a cycle: break it by making this comment top level
                stack.append((c, None, 0))
            continue
        c, parent_cid, depth = stack.pop()
        if c.native_id in seen:
            continue
        seen.add(c.native_id)
        cid = ids.comment_id(ref.platform, ref.host, c.native_id)
        rows.append(CommentRecord(
            comment_id=cid, thread_id=tid, article_id=article_id, parent_id=parent_cid, depth=depth,
            position=len(rows), platform=ref.platform, native_id=c.native_id, author_name=c.author_name,
            body_text=c.body_text, quoted_text=c.quoted_text, published_at=c.published_at,
            published_at_raw=c.published_at_raw, edited_at=c.edited_at, score=c.score, is_deleted=c.is_deleted,
            is_placeholder=c.synthetic, is_edited=None if c.synthetic else bool(c.edited or c.edited_at), source_url=c.source_url, parser=parser,
        ))
        for k in sorted(children.get(c.native_id, []), key=sort_key, reverse=True):
            stack.append((k, cid, depth + 1))
    collected = sum(1 for c in by_id.values() if not c.synthetic and c.native_id in seen)
    thread = ThreadRecord(
        thread_id=tid, platform=ref.platform, article_id=article_id, url=thread_url,
        native_thread_id=ref.native_thread_id, comment_count_reported=reported,
        comment_count_collected=collected,
        is_complete=complete and (not reported_exact or reported is None or collected + not_comments >= reported),
        source=source, parser=parser,
        **{k: v for k, v in (meta or {}).items() if k in THREAD_META},
    )
    return thread, rows
