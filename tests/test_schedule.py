"""Schedule math with an injected clock: midnight, both DST changes, several zones, late window."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.schedule import (
    DailyTime,
    ScheduleInputError,
    due_date,
    next_post_time,
    parse_hhmm,
    parse_zone,
    post_time,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def local(zone: str, *args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone), fold=fold).astimezone(UTC)  # type: ignore[misc]


def walk(daily: DailyTime, start: datetime, hours: int) -> list[tuple[datetime, date]]:
    """Tick every minute like the scheduler, claiming each local date once."""
    claimed: dict[date, datetime] = {}
    for minute in range(hours * 60):
        now = start + timedelta(minutes=minute)
        day = due_date(now, daily)
        if day is not None and day not in claimed:
            claimed[day] = now
    return [(at, day) for day, at in claimed.items()]


@pytest.mark.parametrize(("text", "expected"), [("08:30", (8, 30)), ("0:05", (0, 5)),
                                                ("23:59", (23, 59)), (" 7:00 ", (7, 0))])
def test_parse_hhmm(text: str, expected: tuple[int, int]) -> None:
    assert parse_hhmm(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("25:00", "hours go from 00 to 23"),
    ("12:60", "minutes go from 00 to 59"),
    ("8.30pm", "`8.30pm` is `20:30`"),
    ("12am", "`12am` is `00:00`"),
    ("noon", "24-hour HH:MM"),
    ("08:30:00", "24-hour HH:MM"),
])
def test_parse_hhmm_explains_bad_times(text: str, message: str) -> None:
    with pytest.raises(ScheduleInputError, match=message):
        parse_hhmm(text)


def test_parse_zone() -> None:
    assert parse_zone("Europe/Berlin") == "Europe/Berlin"
    assert parse_zone("america/new_york") == "America/New_York"
    assert parse_zone("UTC") == "UTC"
    for bad in ("Mars/Olympus", "../../etc/passwd", ""):
        with pytest.raises(ScheduleInputError, match="Unknown time zone"):
            parse_zone(bad)


# (zone, local date, HH, MM) skipped by spring-forward → first valid minute after, in UTC.
SKIPPED = [
    ("Europe/Berlin", date(2024, 3, 31), 2, 30, utc(2024, 3, 31, 1, 0)),  # 03:00 CEST
    ("America/New_York", date(2024, 3, 10), 2, 0, utc(2024, 3, 10, 7, 0)),  # 03:00 EDT
    ("Australia/Sydney", date(2024, 10, 6), 2, 15, utc(2024, 10, 5, 16, 0)),  # 03:00 AEDT
]

# (zone, local date, HH, MM) repeated by fall-back → its first occurrence, in UTC.
REPEATED = [
    ("Europe/Berlin", date(2024, 10, 27), 2, 30, utc(2024, 10, 27, 0, 30)),  # 02:30 CEST
    ("America/New_York", date(2024, 11, 3), 1, 30, utc(2024, 11, 3, 5, 30)),  # 01:30 EDT
    ("Australia/Sydney", date(2024, 4, 7), 2, 30, utc(2024, 4, 6, 15, 30)),  # 02:30 AEDT
]


@pytest.mark.parametrize(("zone", "day", "hh", "mm", "expected"), SKIPPED + REPEATED)
def test_post_time_across_dst(zone: str, day: date, hh: int, mm: int, expected: datetime) -> None:
    assert post_time(day, DailyTime(hh, mm, zone)) == expected


@pytest.mark.parametrize(("zone", "day", "hh", "mm", "expected"), SKIPPED + REPEATED)
def test_dst_night_posts_once_at_the_right_minute(
    zone: str, day: date, hh: int, mm: int, expected: datetime
) -> None:
    """Ticking every minute through the change night posts exactly once, at `expected`."""
    daily = DailyTime(hh, mm, zone)
    start = local(zone, day.year, day.month, day.day) - timedelta(hours=1)
    posts = walk(daily, start, hours=26)
    assert posts == [(expected, day)]


@pytest.mark.parametrize(("zone", "spring", "autumn"), [
    ("Europe/Berlin", date(2024, 3, 31), date(2024, 10, 27)),
    ("America/New_York", date(2024, 3, 10), date(2024, 11, 3)),
    ("Australia/Sydney", date(2024, 10, 6), date(2024, 4, 7)),
])
def test_ordinary_time_keeps_its_local_time_across_dst(
    zone: str, spring: date, autumn: date
) -> None:
    """08:30 stays 08:30 local on the days either side of both changes."""
    daily = DailyTime(8, 30, zone)
    for change in (spring, autumn):
        start = local(zone, change.year, change.month, change.day) - timedelta(days=1)
        posts = walk(daily, start, hours=72)
        assert [day for _, day in posts] == [change - timedelta(days=1), change,
                                             change + timedelta(days=1)]
        for at, day in posts:
            assert at == local(zone, day.year, day.month, day.day, 8, 30)


def test_kolkata_half_hour_offset_and_midnight() -> None:
    midnight = DailyTime(0, 0, "Asia/Kolkata")
    # 00:00 IST on 5 March is 18:30 UTC on 4 March.
    assert post_time(date(2024, 3, 5), midnight) == utc(2024, 3, 4, 18, 30)
    assert due_date(utc(2024, 3, 4, 18, 29), midnight) is None  # 23:59 IST, 4 March's is old
    assert due_date(utc(2024, 3, 4, 18, 30), midnight) == date(2024, 3, 5)
    assert next_post_time(utc(2024, 3, 4, 18, 29, 30), midnight) == utc(2024, 3, 4, 18, 30)


def test_late_evening_post_missed_past_midnight_is_yesterdays() -> None:
    daily = DailyTime(23, 30, "Europe/Berlin")
    # Down from 23:00 to 01:10 local: the 23:30 post of 4 March is still due, as 4 March's.
    assert due_date(local("Europe/Berlin", 2024, 3, 5, 1, 10), daily) == date(2024, 3, 4)
    assert next_post_time(local("Europe/Berlin", 2024, 3, 5, 1, 10), daily) == local(
        "Europe/Berlin", 2024, 3, 5, 23, 30)


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York", "Australia/Sydney",
                                  "Asia/Kolkata"])
def test_missed_window(zone: str) -> None:
    daily = DailyTime(8, 30, zone)
    at = local(zone, 2024, 6, 12, 8, 30)
    assert due_date(at - timedelta(minutes=1), daily) is None
    assert due_date(at, daily) == date(2024, 6, 12)
    assert due_date(at + timedelta(hours=5, minutes=59), daily) == date(2024, 6, 12)
    assert due_date(at + timedelta(hours=6), daily) is None
    assert due_date(at + timedelta(hours=20), daily) is None


def test_not_before_subscription() -> None:
    """Subscribing at 10:00 for 08:30 does not post a 'late' briefing for this morning."""
    daily = DailyTime(8, 30, "UTC")
    subscribed = utc(2024, 3, 4, 10, 0)
    assert due_date(utc(2024, 3, 4, 10, 1), daily, not_before=subscribed) is None
    assert due_date(utc(2024, 3, 5, 8, 30), daily, not_before=subscribed) == date(2024, 3, 5)


def test_next_post_time() -> None:
    daily = DailyTime(8, 30, "America/New_York")
    assert next_post_time(utc(2024, 3, 9, 12, 0), daily) == utc(2024, 3, 9, 13, 30)  # EST
    assert next_post_time(utc(2024, 3, 9, 13, 30), daily) == utc(2024, 3, 9, 13, 30)
    assert next_post_time(utc(2024, 3, 9, 13, 31), daily) == utc(2024, 3, 10, 12, 30)  # EDT
    gap = DailyTime(2, 30, "America/New_York")
    assert next_post_time(utc(2024, 3, 10, 0, 0), gap) == utc(2024, 3, 10, 7, 0)
