"""Weekly programme figures: aggregates only, computed from the ledger and anonymous events.

Weeks start on Monday in the programme's time zone. `ambassadors` is the number of members
at the end of the week, replayed from the ledger (join makes a member; leave and erase end
it), so erasing a person keeps past figures unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.drafting.base import Usage
from storage.models import ActivityEvent, ConsentEntry, ModelCall

MAX_WEEKS = 104
PEOPLE_FIGURES = ("joins", "leaves", "ambassadors")
FIGURES = (*PEOPLE_FIGURES, "claims", "drafts", "shares", "model_tokens")
"""Every weekly figure, in the order tables show them."""


@dataclass(frozen=True)
class Week:
    week_start: date
    joins: int
    leaves: int
    ambassadors: int
    claims: int
    drafts: int
    shares: int
    model_tokens: int  # prompt and completion tokens of every model call: the cost

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
            # time order (replicas' clocks may interleave numbers a little), then number
            .order_by(col(ConsentEntry.at), col(ConsentEntry.seq))
        )
    ).all()
    bounds = [_bounds(start, tz) for start in starts]
    activity = await _activity(session, bounds)
    tokens = await _tokens(session, bounds)
    members: set[tuple[str, str]] = set()
    index = 0
    result: list[Week] = []
    for week_index, (start, (begin, end)) in enumerate(zip(starts, bounds, strict=True)):
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
        counts = {kind: per_week[week_index] for kind, per_week in activity.items()}
        result.append(
            Week(
                week_start=start,
                joins=joins,
                leaves=leaves,
                ambassadors=len(members),
                claims=counts.get("claim", 0),
                drafts=counts.get("draft", 0),
                shares=counts.get("share", 0),
                model_tokens=tokens[week_index],
            )
        )
    return result


async def _activity(
    session: AsyncSession, bounds: list[tuple[datetime, datetime]]
) -> dict[str, list[int]]:
    """Per kind, the count in each week: one query, a column per week."""
    at = col(ActivityEvent.at)
    columns = [func.sum(case((and_(at >= b, at < e), 1), else_=0)) for b, e in bounds]
    rows = await session.exec(
        select(col(ActivityEvent.kind), *columns)
        .where(at >= bounds[0][0], at < bounds[-1][1])
        .group_by(col(ActivityEvent.kind))
    )
    return {row[0]: [int(n or 0) for n in row[1:]] for row in rows.all()}


async def _tokens(session: AsyncSession, bounds: list[tuple[datetime, datetime]]) -> list[int]:
    """Model tokens spent in each week: one query, a column per week."""
    at = col(ModelCall.at)
    spent = col(ModelCall.prompt_tokens) + col(ModelCall.completion_tokens)
    columns = [func.sum(case((and_(at >= b, at < e), spent), else_=0)) for b, e in bounds]
    # a leading count keeps the answer a row, however many weeks there are
    query = select(func.count(), *columns).where(at >= bounds[0][0], at < bounds[-1][1])
    row: Sequence[Any] = (await session.exec(query)).one()  # type: ignore[assignment]
    return [int(n or 0) for n in row[1:]]


async def record_calls(
    session: AsyncSession, *, model: str, usage: Iterable[Usage], at: datetime
) -> None:
    """Store each model call's cost, anonymously (no person, no text)."""
    for call in usage:
        session.add(
            ModelCall(
                at=at,
                model=model[:128],
                outcome=call.outcome,
                prompt_tokens=call.prompt_tokens,
                completion_tokens=call.completion_tokens,
            )
        )
    await session.flush()


async def count(session: AsyncSession, *, kind: str, at: datetime) -> None:
    """Record one anonymous event for the figures."""
    session.add(ActivityEvent(kind=kind, at=at))
    await session.flush()
