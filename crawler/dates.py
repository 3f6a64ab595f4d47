"""Date strings → UTC datetimes. Returns None (never a guess) when a string cannot be read."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

_ISO_Z = re.compile(r"Z$")
_MERIDIEM = re.compile(r"\b[AaPp]\.?[Mm]\.?$|\b[AaPp]\.?[Mm]\.?\s")
HUMAN_FORMATS = (  # English dates as sites print them; naive, read as UTC by the caller's rule
    "%B %d, %Y at %I:%M %p", "%B %d, %Y, %I:%M:%S %p", "%B %d, %Y, %I:%M %p", "%B %d, %Y %I:%M %p",
    "%b %d, %Y %I:%M %p", "%b %d, %Y, %I:%M %p", "%B %d, %Y at %H:%M", "%d %B %Y at %H:%M", "%B %d, %Y",
    "%b %d, %Y", "%d %B %Y",
)


def parse_human_date(s: str) -> datetime | None:
    """A date in one of HUMAN_FORMATS (month names in English), naive; None when none fits."""
    text = re.sub(r"\s+", " ", s.strip()).replace("a.m.", "AM").replace("p.m.", "PM")
    for fmt in HUMAN_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


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
        dt = parse_human_date(s)
        if dt is None and not _MERIDIEM.search(s):  # RFC 822 parsing would silently drop AM/PM
            try:
                dt = parsedate_to_datetime(s)
            except (TypeError, ValueError, IndexError):
                return None
        if dt is None:
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
