"""When the next digest is due: `AMBASSADOR_DIGEST_TIME` on working days, in the programme's
time zone (wall-clock time, so it stays 09:00 across daylight-saving changes)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

WORKING_DAYS = (0, 1, 2, 3, 4)  # Monday to Friday


def next_digest(
    now: datetime, *, tz: ZoneInfo, at: time, days: tuple[int, ...] = WORKING_DAYS
) -> datetime:
    """The first digest moment strictly after `now`."""
    local = now.astimezone(tz)
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        moment = datetime.combine(day, at, tzinfo=tz)
        if day.weekday() in days and moment > local:
            return moment
    raise ValueError("no digest day configured")
