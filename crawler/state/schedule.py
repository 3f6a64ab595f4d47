"""When to look at a page or comment thread again (pure functions).

Comment threads grow for days after an article appears, then stop. A page is revisited at fixed
offsets after its anchor time (the later of publication and first sight: an old article found today is
followed from today); after the last offset it is revisited every TAIL only while its comment count
keeps changing, then never again.
"""
from __future__ import annotations

from datetime import datetime, timedelta

REVISIT_OFFSETS = (timedelta(hours=1), timedelta(hours=6), timedelta(days=1), timedelta(days=3), timedelta(days=7))
TAIL = timedelta(days=7)


def anchor(published_at: datetime | None, first_seen: datetime) -> datetime:
    return max(published_at, first_seen) if published_at else first_seen


def next_visit(published_at: datetime | None, first_seen: datetime, visits_done: int, last_visit: datetime,
               count_changed: bool, offsets=REVISIT_OFFSETS, tail=TAIL) -> datetime | None:
    """The next time to revisit, or None when the page is finished.

    ``visits_done`` counts revisits made so far (0 after the first fetch). The next visit is the first
    scheduled offset still ahead of the last visit; once the offsets are used up, a visit that found the
    comment count unchanged ends the schedule.
    """
    start = anchor(published_at, first_seen)
    for offset in offsets[visits_done:]:
        when = start + offset
        if when > last_visit:
            return when
    return last_visit + tail if count_changed else None  # schedule exhausted: go on only while it grows


def is_due(next_at: datetime | None, now: datetime) -> bool:
    return next_at is not None and next_at <= now
