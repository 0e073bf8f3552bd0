"""Schema migrations, run by `ambassador db upgrade` (and by `run`/`console` on start).

On PostgreSQL an advisory lock makes concurrent upgrades from several replicas take turns.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.pool import NullPool

from storage.database import sync_url

_LOCK_KEY = 0x616D6261  # "amba"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
    return config


@contextmanager
def _connection(raw_url: str) -> Iterator[Connection]:
    engine = create_engine(sync_url(raw_url), poolclass=NullPool)
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_config()).get_current_head()


def current_revision(raw_url: str) -> str | None:
    with _connection(raw_url) as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(raw_url: str, revision: str = "head") -> None:
    """Bring the database to `revision`; a no-op when it is there already."""
    config = _config()
    with _connection(raw_url) as connection:
        postgres = connection.dialect.name == "postgresql"
        if postgres:
            connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _LOCK_KEY})
            connection.commit()
        try:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            connection.commit()
        finally:
            if postgres:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _LOCK_KEY})
                connection.commit()


def is_current(raw_url: str) -> bool:
    return current_revision(raw_url) == head_revision()
