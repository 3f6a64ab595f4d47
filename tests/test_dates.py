"""crawler.dates: reading the dates pages write (pure functions, no Scrapy)."""
from __future__ import annotations

from datetime import timedelta, timezone

from crawler.dates import dates_written, days_shown, own_offset, read_date, stated_offset_minutes, written_in_utc


def test_written_in_utc_tells_a_utc_stamp_from_a_local_one():
    assert written_in_utc("2026-02-03T03:10:00Z")
    assert written_in_utc("2026-02-03T03:10:00+00:00")
    assert written_in_utc("2026-02-03T03:10:00.000+0000")
    assert not written_in_utc("2026-02-02T22:10:00-05:00")
    assert not written_in_utc("2026-02-03")
    assert not written_in_utc(None)


def test_own_offset_is_the_first_non_zero_offset_written():
    assert own_offset(["2026-02-03T03:10:00Z", "2026-02-02T22:10:00-05:00", "2026-02-02T23:10:00-04:00"]) == \
        timezone(timedelta(hours=-5))
    assert own_offset(["2026-02-03T09:40:00+05:30"]) == timezone(timedelta(hours=5, minutes=30))
    assert own_offset(["2026-02-03T03:10:00+00:00", "2026-02-03", "Feb 3, 2026"]) is None
    assert own_offset([]) is None


def test_read_date_reads_day_only_formats_and_refuses_ambiguous_ones():
    assert read_date("13/11/2025").date().isoformat() == "2025-11-13"
    assert read_date("09/04/2025") is None
    assert read_date("on Friday") is None


def test_days_shown_reads_dotted_and_dashed_month_names():
    assert days_shown("posted 25.Jun.2019 by the desk") == {"2019-06-25"}
    assert days_shown("3-Mar-2024") == {"2024-03-03"}
    assert days_shown("7 Feb. 2025") == {"2025-02-07"}


def test_first_date_shown_gives_the_date_as_written_with_its_day():
    from crawler.dates import first_date_in, first_date_shown

    assert first_date_shown("Filed Sep. 4th 2025 by the desk") == ("Sep. 4th 2025", "2025-09-04")
    assert first_date_shown("on 09/04/2025, then 13/04/2025") == ("13/04/2025", "2025-04-13")
    assert first_date_shown("no date here, only 2025") is None
    assert first_date_in(["Posted on", "March 2, 2021", "by Jo"]) == ("March 2, 2021", "2021-03-02")


def test_dates_written_gives_each_one_way_date_in_order_with_its_place():
    text = "Published Apr 26, 2023 · Updated 21 August 2025 · seen 09/04/2025"
    found = dates_written(text)
    assert [day for _, _, day in found] == ["2023-04-26", "2025-08-21"]  # 09/04/2025 reads two ways: left out
    assert [text[s:e] for s, e, _ in found] == ["Apr 26, 2023", "21 August 2025"]


def test_stated_offset_minutes_is_the_offset_a_stamp_is_written_in():
    assert stated_offset_minutes("2026-10-12T11:00:00+02:00") == 120
    assert stated_offset_minutes("2021-03-12T22:00:00-0500") == -300
    assert stated_offset_minutes("2026-10-12 09:00:00 +0530") == 330
    assert stated_offset_minutes("2026-10-12T09:00:00.000Z") == 0
    assert stated_offset_minutes("Mon, 12 Oct 2026 09:00:00 GMT") == 0
    for none in ("10-12-2026, 09:00 AM", "2026-10-12", "1760259600", "", None):
        assert stated_offset_minutes(none) is None


def test_stated_offset_minutes_agrees_with_the_instant_parse_date_reads():
    """The offset comes from the same parse as the instant: a stamp parse_date cannot read has no offset, a
    short "+05" offset parse_date applies is the offset."""
    from crawler.dates import parse_date
    assert stated_offset_minutes("2026-10-12T09:00:00+05") == 300
    assert parse_date("2026-10-12T09:00:00+05").hour == 4
    for raw in ("2026-10-12T09:00:00+14:75", "Oct 12, 2026 09:00-10:00"):
        assert stated_offset_minutes(raw) is None or parse_date(raw) is not None
    assert stated_offset_minutes("2026-10-12T09:00:00") is None
