"""Date strings → UTC datetimes. Returns None (never a guess) when a string cannot be read."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

_ISO_Z = re.compile(r"Z$")


def parse_date(raw: str | None, *, naive_is_utc: bool = True) -> datetime | None:
    """ISO 8601 (with or without offset), RFC 822 (feeds) or a Unix timestamp → aware UTC datetime."""
    if raw is None:
        return None
    if isinstance(raw, (int, float)):
        return _from_epoch(raw)
    s = str(raw).strip()
    if not s:
        return None
    if re.fullmatch(r"\d{9,11}(\.\d+)?", s):
        return _from_epoch(float(s))
    try:
        dt = datetime.fromisoformat(_ISO_Z.sub("+00:00", s.replace(" ", "T", 1) if re.match(r"\d{4}-\d\d-\d\d \d", s) else s))
    except ValueError:
        try:
            dt = parsedate_to_datetime(s)
        except (TypeError, ValueError, IndexError):
            return None
    if dt.tzinfo is None:
        if not naive_is_utc:
            return None
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)


def _from_epoch(value: float) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(value), tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None
