"""Pure schedule math: when a channel's daily briefing is due, in its own time zone.

No clock is read here: every function takes `now` (an aware datetime), so tests can walk
across midnight and daylight-saving changes without sleeping.

- A local time skipped by a DST change (02:30 on a spring-forward night) posts at the first
  valid local minute after it (03:00).
- A local time that happens twice (fall-back night) posts at its first occurrence; the
  store's per-(channel, local date) claim makes sure it posts only once.
- A briefing missed (downtime, restart) by less than `LATE_WINDOW` is still due; older is
  skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

LATE_WINDOW = timedelta(hours=6)
_MAX_GAP_MINUTES = 24 * 60

_HHMM = re.compile(r"^(\d{1,2}):(\d{2})$")
_AMPM = re.compile(r"^(\d{1,2})(?:[:.](\d{2}))?\s*([ap])\.?m\.?$", re.IGNORECASE)


class ScheduleInputError(ValueError):
    """A time or zone a user typed cannot be used; the message says what to type instead."""


@dataclass(frozen=True)
class DailyTime:
    """A local wall-clock time in an IANA zone."""

    hour: int
    minute: int
    zone: str

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)

    @property
    def hhmm(self) -> str:
        return f"{self.hour:02d}:{self.minute:02d}"


def parse_hhmm(text: str) -> tuple[int, int]:
    """`08:30` → (8, 30). Rejects 25:00, 8.30pm and friends with a message saying why."""
    text = text.strip()
    match = _HHMM.match(text)
    if match:
        hour, minute = int(match[1]), int(match[2])
        if hour > 23:
            raise ScheduleInputError(f"`{text}` is not a time of day: hours go from 00 to 23.")
        if minute > 59:
            raise ScheduleInputError(f"`{text}` is not a time of day: minutes go from 00 to 59.")
        return hour, minute
    ampm = _AMPM.match(text)
    if ampm and 1 <= int(ampm[1]) <= 12 and int(ampm[2] or 0) <= 59:
        hour = int(ampm[1]) % 12 + (12 if ampm[3].lower() == "p" else 0)
        raise ScheduleInputError(
            f"Write the time as 24-hour HH:MM: `{text}` is `{hour:02d}:{int(ampm[2] or 0):02d}`."
        )
    raise ScheduleInputError(f"`{text}` is not a time: write it as 24-hour HH:MM, e.g. 08:30.")


@cache
def _zones_by_lower_name() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def parse_zone(text: str) -> str:
    """Canonical IANA name for `text` (case-insensitive), or a clear error."""
    name = _zones_by_lower_name().get(text.strip().lower())
    if name is not None:
        try:
            ZoneInfo(name)
            return name
        except (ZoneInfoNotFoundError, ValueError):
            pass
    raise ScheduleInputError(
        f"Unknown time zone `{text}`: use an IANA name such as Europe/Berlin, "
        "America/New_York or UTC."
    )


def _is_valid_local(naive: datetime, tz: ZoneInfo) -> bool:
    """False for a wall time that a DST change skips (it does not survive a UTC round trip)."""
    aware = naive.replace(tzinfo=tz)
    return aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == naive


def post_time(day: date, daily: DailyTime) -> datetime:
    """The UTC instant of the post scheduled for local date `day`.

    A skipped wall time moves to the first valid minute after it; a repeated one takes its
    first occurrence (fold=0).
    """
    tz = daily.tz
    naive = datetime.combine(day, time(daily.hour, daily.minute))
    for _ in range(_MAX_GAP_MINUTES):
        if _is_valid_local(naive, tz):
            return naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
        naive += timedelta(minutes=1)
    raise AssertionError(f"no valid local time after {day} {daily.hhmm} in {daily.zone}")


def local_today(now: datetime, zone: str) -> date:
    return now.astimezone(ZoneInfo(zone)).date()


def next_post_time(now: datetime, daily: DailyTime) -> datetime:
    """The first scheduled post at or after `now` (UTC)."""
    today = local_today(now, daily.zone)
    for offset in range(3):
        at = post_time(today + timedelta(days=offset), daily)
        if at >= now:
            return at
    raise AssertionError("a daily time recurs within three days")


def due_date(
    now: datetime,
    daily: DailyTime,
    *,
    not_before: datetime | None = None,
    late_window: timedelta = LATE_WINDOW,
) -> date | None:
    """The local date whose post is due at `now`, or None.

    Due means scheduled at or before `now` and missed by less than `late_window`. Yesterday's
    local date is checked too (a 23:30 post missed until 01:00 is still yesterday's). Posts
    scheduled before `not_before` (when the subscription was made) are never due.
    """
    today = local_today(now, daily.zone)
    for day in (today, today - timedelta(days=1)):
        at = post_time(day, daily)
        if at <= now:
            if now - at < late_window and (not_before is None or at >= not_before):
                return day
            return None
    return None
