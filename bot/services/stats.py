"""Weekly programme figures: aggregates only, computed from the ledger and anonymous events.

Weeks start on Monday in the programme's time zone. `ambassadors` is the number of members
at the end of the week, replayed from the ledger (join makes a member; leave and erase end
it), so erasing a person keeps past figures unchanged.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import ActivityEvent, ConsentEntry

MAX_WEEKS = 104
PEOPLE_FIGURES = ("joins", "leaves", "ambassadors")


@dataclass(frozen=True)
class Week:
    week_start: date
    joins: int
    leaves: int
    ambassadors: int
    claims: int
    drafts: int
    shares: int

    def as_record(self) -> dict[str, object]:
        record = asdict(self)
        record["week_start"] = self.week_start.isoformat()
        return record


def week_start(moment: datetime, tz: ZoneInfo) -> date:
    local = moment.astimezone(tz).date()
    return local - timedelta(days=local.weekday())


def _bounds(start: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    begin = datetime.combine(start, time(0), tzinfo=tz)
    end = datetime.combine(start + timedelta(days=7), time(0), tzinfo=tz)
    return begin, end


async def weekly(session: AsyncSession, *, weeks: int, now: datetime, tz: ZoneInfo) -> list[Week]:
    """The last `weeks` weeks, oldest first, the current (partial) week last."""
    weeks = max(1, min(weeks, MAX_WEEKS))
    last = week_start(now, tz)
    starts = [last - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]

    ledger = (
        await session.exec(
            select(
                ConsentEntry.at,
                ConsentEntry.platform,
                ConsentEntry.subject_hash,
                ConsentEntry.action,
            )
            .where(col(ConsentEntry.action).in_(("join", "leave", "erase")))
            .order_by(col(ConsentEntry.seq))
        )
    ).all()
    members: set[tuple[str, str]] = set()
    index = 0
    result: list[Week] = []
    for start in starts:
        begin, end = _bounds(start, tz)
        joins = leaves = 0
        while index < len(ledger) and ledger[index][0] < end:
            at, platform, subject, action = ledger[index]
            key = (platform, subject)
            if action == "join":
                members.add(key)
                joins += at >= begin
            else:
                # a leave counts in the figures; an erase only ends membership if still on
                leaves += action == "leave" and at >= begin
                if action == "erase" and key in members and at >= begin:
                    leaves += 1
                members.discard(key)
            index += 1
        counts = await _activity(session, begin, end)
        result.append(
            Week(
                week_start=start,
                joins=joins,
                leaves=leaves,
                ambassadors=len(members),
                claims=counts.get("claim", 0),
                drafts=counts.get("draft", 0),
                shares=counts.get("share", 0),
            )
        )
    return result


async def _activity(session: AsyncSession, begin: datetime, end: datetime) -> dict[str, int]:
    rows = await session.exec(
        select(ActivityEvent.kind, func.count())
        .where(ActivityEvent.at >= begin, ActivityEvent.at < end)
        .group_by(ActivityEvent.kind)
    )
    return {kind: int(count) for kind, count in rows.all()}


async def count(session: AsyncSession, *, kind: str, at: datetime) -> None:
    """Record one anonymous event for the figures."""
    session.add(ActivityEvent(kind=kind, at=at))
    await session.flush()
