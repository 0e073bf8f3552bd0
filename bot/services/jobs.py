"""Occurrences of scheduled jobs: claimed in the database before anything is done, so each
happens once whatever the number of replicas, restarts or ticks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import JobRun


async def claim(
    session: AsyncSession, *, job: str, scheduled_at: datetime, now: datetime
) -> JobRun | None:
    """The occurrence's row if this call claimed it; None if it was claimed already (by
    another replica, or before a restart). Concurrent claims: one insert wins."""
    if await session.get(JobRun, (job, scheduled_at)) is not None:
        return None
    run = JobRun(job=job, scheduled_at=scheduled_at, claimed_at=now)
    try:
        async with session.begin_nested():
            session.add(run)
            await session.flush()
    except IntegrityError:
        return None
    return run


def settle(run: JobRun, outcome: str, detail: str | None = None) -> None:
    """What the occurrence did, kept with its claim (for logs and `status`)."""
    run.outcome = outcome
    run.detail = detail[:200] if detail else None


async def recent(session: AsyncSession, *, job: str, limit: int = 5) -> list[JobRun]:
    """The job's latest occurrences, newest first."""
    result = await session.exec(
        select(JobRun)
        .where(JobRun.job == job)
        .order_by(col(JobRun.scheduled_at).desc())
        .limit(limit)
    )
    return list(result.all())
