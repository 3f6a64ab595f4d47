"""Date strings → UTC datetimes. Returns None (never a guess) when a string cannot be read."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
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
    dt = _parse_as_written(raw)
    if dt is None:
        return None
    if dt.tzinfo is None:
        if not naive_is_utc:
            return None
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)


def _parse_as_written(raw) -> datetime | None:
    """What :func:`parse_date` reads, before it is moved to UTC: aware in the offset the string states,
    naive when it states none (an epoch number: aware, in UTC)."""
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
        return datetime.fromisoformat(_ISO_Z.sub("+00:00", s.replace(" ", "T", 1) if re.match(r"\d{4}-\d\d-\d\d \d", s) else s))
    except ValueError:
        dt = parse_human_date(s)
        if dt is None and not _MERIDIEM.search(s):  # RFC 822 parsing would silently drop AM/PM
            try:
                dt = parsedate_to_datetime(s)
            except (TypeError, ValueError, IndexError):
                return None
        return dt


def read_date(raw: str | None) -> datetime | None:
    """:func:`parse_date`, else the one day a date text reads as ("Thu, 09/25/2025 - 10:00",
    "13/11/2025"), at midnight UTC; None when neither reads it (a day/month-ambiguous "09/04/2025")."""
    dt = parse_date(raw)
    if dt is not None or raw is None or isinstance(raw, (int, float)):
        return dt
    day = first_day_shown(str(raw))
    return datetime.fromisoformat(day).replace(tzinfo=timezone.utc) if day else None


_UTC_MARK = re.compile(r"\d\d:\d\d(?::\d\d(?:\.\d+)?)?\s*(?:Z|[+-]00:?00)$", re.I)
_OFFSET = re.compile(r"\d\d:\d\d(?::\d\d(?:\.\d+)?)?\s*([+-])(\d\d):?(\d\d)$")


def written_in_utc(raw: str | None) -> bool:
    """A timestamp written with a UTC designator ("…T02:41:41Z", "…+00:00"), not in a local offset."""
    return bool(raw) and bool(_UTC_MARK.search(str(raw).strip()))


_STATED_UTC = re.compile(r"(?:(?<![a-z])(?:Z|UTC|GMT)|[+-]00(?::?00)?)\s*$", re.I)


def stated_offset_minutes(raw: str | None) -> int | None:
    """Minutes east of UTC that a timestamp is written in, read from the same parse that gives its instant
    (:func:`parse_date`): "2026-10-12T11:00:00+02:00" → 120, "…T09:00:00+05" → 300, "…T09:00:00Z" /
    "+00:00" / "… GMT" → 0; None when the string states no offset (a day, a time without one, an epoch
    number: an instant, not a local time) or cannot be read ("+14:75")."""
    if raw is None or isinstance(raw, (int, float)) or re.fullmatch(r"\s*\d{9,11}(\.\d+)?\s*", str(raw)):
        return None
    dt = _parse_as_written(raw)
    offset = dt.utcoffset() if dt is not None else None
    if offset is None or (not offset and not _STATED_UTC.search(str(raw).strip())):
        return None
    return int(offset.total_seconds() // 60)


def own_offset(stamps) -> timezone | None:
    """The first non-zero UTC offset written in a page's timestamps ("2025-12-18T21:46:01-05:00" → UTC−5):
    the offset the site writes its local times in; None when every stamp is in UTC or has none."""
    for raw in stamps:
        m = _OFFSET.search(str(raw or "").strip())
        if m and (m.group(2), m.group(3)) != ("00", "00"):
            minutes = int(m.group(2)) * 60 + int(m.group(3))
            if minutes < 24 * 60:
                return timezone(timedelta(minutes=-minutes if m.group(1) == "-" else minutes))
    return None


def _from_epoch(value: float) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(value), tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


# -- dates a reader sees on a page -------------------------------------------------------------------------
_MONTHS = {m: i + 1 for i, names in enumerate((
    ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",), ("june", "jun"),
    ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
    ("december", "dec"))) for m in names}
MONTH_NAME = r"january|february|march|april|may|june|july|august|september|october|november|december|" \
             r"jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec"  # an English month's name (lower case)
MONTHS = _MONTHS  # lower-case name → month number
_MONTH_RE = r"(" + MONTH_NAME + r")\.?"
_ORD = r"(?:st|nd|rd|th)?"
_SHOWN_PATTERNS = (
    # "September 4, 2025", "Sep. 4th 2025"
    (re.compile(r"\b" + _MONTH_RE + r"\s+(\d{1,2})" + _ORD + r",?\s+(\d{4})\b", re.I), ("m", "d", "y")),
    # "4 September 2025", "04 Sep, 2025", "4th of September 2025", "25.Jun.2019", "3-Mar-2024"
    (re.compile(r"\b(\d{1,2})" + _ORD + r"(?:\s+(?:of\s+)?|[.\-/])" + _MONTH_RE + r"(?:,?\s+|[.\-/]|(?<=\.))(\d{4})\b",
                re.I), ("d", "m", "y")),
    # "2025-09-04", "2025/09/04", "2025.09.04"
    (re.compile(r"\b(\d{4})([-/.])(\d{1,2})\2(\d{1,2})\b"), ("y", None, "n1", "n2")),
    # "09/04/2025", "4.9.2025": day and month order unknown, both read
    (re.compile(r"\b(\d{1,2})([-/.])(\d{1,2})\2(\d{4})\b"), ("a", None, "b", "y")),
)


def days_shown(text: str) -> set[str]:
    """Days (``YYYY-MM-DD``) written in a text the way pages print them: month names in English
    ("September 4, 2025", "4 Sep 2025"), ISO-like ("2025-09-04") and numeric with a four-digit year
    ("09/04/2025", read both day-first and month-first)."""
    return {d for _, _, days in _days_written(text) for d in days}


def first_day_shown(text: str) -> str | None:
    """The first day written in a text that reads one way only ("09/04/2025" does not, "13/04/2025" does)."""
    found = first_date_shown(text)
    return found[1] if found else None


def first_date_shown(text: str) -> tuple[str, str] | None:
    """:func:`first_day_shown` with the date as it is written there: ("Sep. 4th 2025", "2025-09-04")."""
    for start, end, days in sorted(_days_written(text), key=lambda pd: pd[0]):
        if len(days) == 1:
            return text[start:end], next(iter(days))
    return None


def dates_written(text: str) -> list[tuple[int, int, str]]:
    """(start, end, ``YYYY-MM-DD``) of every date written in the text that reads one way only, in order."""
    return [(start, end, next(iter(days))) for start, end, days in sorted(_days_written(text), key=lambda pd: pd[0])
            if len(days) == 1]


_YEAR = re.compile(r"(?<!\d)(?:19|20|21)\d\d(?!\d)")
_AROUND_YEAR = (28, 8)  # characters before / after a year that a date around it can take


def _days_written(text: str) -> list[tuple[int, int, set[str]]]:
    """(start, end, the days a date written there can be) for every date written in the text. Every date
    pattern holds a four-digit year, so only the stretches around years are searched."""
    out: list[tuple[int, int, set[str]]] = []
    if not text:
        return out
    spans: list[list[int]] = []
    for m in _YEAR.finditer(text):
        start, end = max(0, m.start() - _AROUND_YEAR[0]), m.end() + _AROUND_YEAR[1]
        if spans and start <= spans[-1][1]:
            spans[-1][1] = end
        else:
            spans.append([start, end])
    seen: set[int] = set()
    for start, end in spans:
        for pos, stop, days in _days_in(text[start:end]):
            if start + pos not in seen:
                seen.add(start + pos)
                out.append((start + pos, start + stop, days))
    return out


def _days_in(text: str) -> list[tuple[int, int, set[str]]]:
    out: list[tuple[int, int, set[str]]] = []
    found: set[str] = set()

    def add(y: int, m: int, d: int) -> None:
        if 1 <= m <= 12 and 1 <= d <= 31 and 1900 <= y <= 2200:
            found.add(f"{y:04d}-{m:02d}-{d:02d}")

    for pattern, order in _SHOWN_PATTERNS:
        for match in pattern.finditer(text):
            found = set()
            g = match.groups()
            if order == ("m", "d", "y"):
                add(int(g[2]), _MONTHS[g[0].lower()], int(g[1]))
            elif order == ("d", "m", "y"):
                add(int(g[2]), _MONTHS[g[1].lower()], int(g[0]))
            elif order[0] == "y":
                add(int(g[0]), int(g[2]), int(g[3]))
            else:
                add(int(g[3]), int(g[2]), int(g[0]))  # day first
                add(int(g[3]), int(g[0]), int(g[2]))  # month first
            if found:
                out.append((match.start(), match.end(), found))
    return out


def first_day_in(texts, chunk: int = 4000) -> str | None:
    """:func:`first_day_shown` over a sequence of texts (a page's text nodes in order), read a few thousand
    characters at a time so a page whose date sits near the top is not read to the end."""
    found = first_date_in(texts, chunk)
    return found[1] if found else None


def first_date_in(texts, chunk: int = 4000) -> tuple[str, str] | None:
    """:func:`first_day_in` with the date as it is written: (text as written, ``YYYY-MM-DD``)."""
    buf = ""
    for t in texts:
        buf = f"{buf} {t}"
        if len(buf) >= chunk:
            found = first_date_shown(buf)
            if found:
                return found
            buf = buf[-40:]  # a date cut by the chunk's end is read with the next chunk
    return first_date_shown(buf) if buf.strip() else None
