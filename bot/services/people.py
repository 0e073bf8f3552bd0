"""People and roles. Roles come from settings (fixed) and from chat grants (stored)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.commands import Actor
from bot.settings import Settings
from storage.models import Person, RoleGrant

ROLES = ("manager", "admin")


async def find(session: AsyncSession, actor: Actor, *, fresh: bool = False) -> Person | None:
    """The person's row; `fresh` re-reads it from the database (after taking a lock)."""
    query = select(Person).where(Person.platform == actor.platform, Person.user_id == actor.user_id)
    if fresh:
        query = query.execution_options(populate_existing=True)
    result = await session.exec(query)
    return result.first()


async def find_or_create(session: AsyncSession, actor: Actor, now: datetime) -> Person:
    person = await find(session, actor)
    if person is None:
        person = Person(platform=actor.platform, user_id=actor.user_id, created_at=now)
        session.add(person)
        await session.flush()
    return person


def configured_roles(settings: Settings, user_id: str) -> set[str]:
    roles = set()
    if user_id in settings.admins:
        roles.add("admin")
    if user_id in settings.managers:
        roles.add("manager")
    return roles


async def roles_of(session: AsyncSession, settings: Settings, actor: Actor) -> frozenset[str]:
    """Effective roles; an admin can do whatever a manager can."""
    result = await session.exec(
        select(RoleGrant.role).where(
            RoleGrant.platform == actor.platform, RoleGrant.user_id == actor.user_id
        )
    )
    roles = configured_roles(settings, actor.user_id) | set(result.all())
    if "admin" in roles:
        roles.add("manager")
    return frozenset(roles)


async def grant(
    session: AsyncSession, *, platform: str, user_id: str, role: str, now: datetime
) -> bool:
    """Give a role; False when it was already held (a repeat is harmless)."""
    result = await session.exec(
        select(RoleGrant).where(
            RoleGrant.platform == platform, RoleGrant.user_id == user_id, RoleGrant.role == role
        )
    )
    if result.first() is not None:
        return False
    session.add(RoleGrant(platform=platform, user_id=user_id, role=role, granted_at=now))
    await session.flush()
    return True


async def revoke(session: AsyncSession, *, platform: str, user_id: str, role: str) -> bool:
    result = await session.exec(
        select(RoleGrant).where(
            RoleGrant.platform == platform, RoleGrant.user_id == user_id, RoleGrant.role == role
        )
    )
    row = result.first()
    if row is None:
        return False
    await session.delete(row)
    await session.flush()
    return True


async def role_holders(
    session: AsyncSession, settings: Settings, platform: str
) -> dict[str, list[str]]:
    """Who holds each role on this platform: settings first, then chat grants."""
    holders: dict[str, list[str]] = {
        "admin": list(settings.admins),
        "manager": list(settings.managers),
    }
    result = await session.exec(
        select(RoleGrant).where(RoleGrant.platform == platform).order_by(col(RoleGrant.id))
    )
    for grant_row in result.all():
        if grant_row.user_id not in holders[grant_row.role]:
            holders[grant_row.role].append(grant_row.user_id)
    return holders


async def admins(session: AsyncSession, settings: Settings, *, platform: str) -> list[str]:
    """Who holds the admin role on `platform`: from the settings, and granted in chat."""
    result = await session.exec(
        select(RoleGrant.user_id).where(RoleGrant.platform == platform, RoleGrant.role == "admin")
    )
    return list(dict.fromkeys([*settings.admins, *result.all()]))
