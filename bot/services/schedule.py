"""When digests are due: `AMBASSADOR_DIGEST_TIME` on `AMBASSADOR_DIGEST_DAYS`, in the
programme's time zone, unless a manager changed either from chat.

Wall-clock time: 09:00 stays 09:00 across daylight-saving changes. On the day clocks go
forward, a time that does not exist (02:30 in Paris) happens at the same distance after the
jump (03:30); on the day they go back, a time that happens twice is taken the first time.
An occurrence is named by its instant in UTC, which is what replicas agree on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import state
from bot.settings import Settings

WORKING_DAYS = (0, 1, 2, 3, 4)  # Monday to Friday
TIME_KEY = "digest_time"  # HH:MM, set with `digest time`
DAYS_KEY = "digest_days"  # comma-separated weekday numbers, set with `digest days`


def _at(day: datetime, at: time, tz: ZoneInfo) -> datetime:
    """`at` on the local date of `day`, as an instant (see the module docstring for DST)."""
    local = datetime.combine(day.date(), at, tzinfo=tz)  # fold=0: the first of two
    return local.astimezone(UTC).astimezone(tz)  # a time in the gap moves past the jump


def next_digest(
    now: datetime, *, tz: ZoneInfo, at: time, days: tuple[int, ...] = WORKING_DAYS
) -> datetime:
    """The first digest moment strictly after `now`."""
    local = now.astimezone(tz)
    for offset in range(8):
        day = local + timedelta(days=offset)
        moment = _at(day, at, tz)
        if day.weekday() in days and moment > local:
            return moment
    raise ValueError("no digest day configured")


def last_occurrence(
    now: datetime, *, tz: ZoneInfo, at: time, days: tuple[int, ...] = WORKING_DAYS
) -> datetime | None:
    """The latest moment `at` on one of `days`, at or before `now` (None without days)."""
    local = now.astimezone(tz)
    for offset in range(8):
        day = local - timedelta(days=offset)
        moment = _at(day, at, tz)
        if day.weekday() in days and moment <= local:
            return moment
    return None


@dataclass(frozen=True)
class Plan:
    """When digests go out now: the settings, or what a manager chose in chat."""

    at: time
    days: tuple[int, ...]


async def plan(session: AsyncSession, settings: Settings) -> Plan:
    chosen_time = await state.get(session, TIME_KEY)
    chosen_days = await state.get(session, DAYS_KEY)
    at = settings.digest_at
    if chosen_time:
        hours, minutes = chosen_time.split(":")
        at = time(int(hours), int(minutes))
    days = settings.digest_days
    if chosen_days:
        days = tuple(int(day) for day in chosen_days.split(","))
    return Plan(at, days)
