"""The migrations build exactly the tables the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel

import storage.models  # noqa: F401 - registers the tables
from storage import migrate
from storage.database import sync_url


def test_upgrade_empty_database_to_head(database_url: str) -> None:
    assert migrate.current_revision(database_url) is None
    migrate.upgrade(database_url)
    assert migrate.current_revision(database_url) == migrate.head_revision()
    assert migrate.is_current(database_url)

    engine = create_engine(sync_url(database_url), poolclass=NullPool)
    try:
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
            diff = compare_metadata(
                MigrationContext.configure(connection, opts={"compare_type": True}),
                SQLModel.metadata,
            )
    finally:
        engine.dispose()
    assert set(SQLModel.metadata.tables) <= tables
    assert diff == [], f"models and migrations disagree: {diff}"


def test_upgrade_twice_is_harmless(database_url: str) -> None:
    migrate.upgrade(database_url)
    migrate.upgrade(database_url)
    assert migrate.is_current(database_url)
