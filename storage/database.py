"""Engines and sessions. One `Database` per process, built by the entry point."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.errors import ConfigurationError

SQLITE_BUSY_MS = 10_000


def _url(raw: str) -> URL:
    try:
        url = make_url(raw)
    except Exception as exc:
        raise ConfigurationError("error.database_url", url=raw) from exc
    if url.get_backend_name() not in {"sqlite", "postgresql"}:
        raise ConfigurationError("error.database_url", url=raw)
    return url


def async_url(raw: str) -> URL:
    """The URL with the async driver: aiosqlite for SQLite, psycopg 3 for PostgreSQL."""
    url = _url(raw)
    if url.get_backend_name() == "sqlite":
        return url.set(drivername="sqlite+aiosqlite")
    return url.set(drivername="postgresql+psycopg")


def sync_url(raw: str) -> URL:
    """The same database through a synchronous driver (migrations)."""
    url = _url(raw)
    if url.get_backend_name() == "sqlite":
        return url.set(drivername="sqlite")
    return url.set(drivername="postgresql+psycopg")


def configure_sqlite(engine_sync: Any) -> None:
    """WAL, a busy timeout, foreign keys, and BEGIN IMMEDIATE so writers queue instead of
    failing with 'database is locked' when two transactions upgrade to write at once."""

    @event.listens_for(engine_sync, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine_sync, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """The async engine and a session factory whose sessions are one transaction each."""

    def __init__(self, raw_url: str, *, echo: bool = False) -> None:
        self.raw_url = raw_url
        self.url = async_url(raw_url)
        self.dialect = self.url.get_backend_name()
        kwargs: dict[str, Any] = {"echo": echo}
        if self.dialect == "postgresql":
            kwargs |= {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 10}
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self.dialect == "sqlite":
            configure_sqlite(self.engine.sync_engine)
        self._sessions = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False
        )

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session in one transaction: committed on success, rolled back on any error."""
        async with self._sessions() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()
