"""The composition root: settings in, a ready core out. Nothing is built at import time."""

from __future__ import annotations

import random

from bot.app import Ambassador
from bot.clock import Clock, SystemClock
from bot.drafting import Drafter, TemplateDrafter
from bot.errors import ConfigurationError
from bot.settings import Settings
from storage import migrate
from storage.database import Database


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    drafter: Drafter | None = None,
    rng: random.Random | None = None,
) -> Ambassador:
    """Build the core for these settings (clock, drafter and randomness can be injected)."""
    return Ambassador(
        settings=settings,
        database=Database(settings.database_url),
        clock=clock or SystemClock(),
        drafter=drafter or TemplateDrafter(rng),
    )


def require_current_schema(settings: Settings) -> None:
    """Commands other than `run`, `console` and `db upgrade` need a migrated database."""
    path = settings.sqlite_path()
    if path is not None and not path.exists():
        raise ConfigurationError("cli.no_database", url=settings.database_url)
    if not migrate.is_current(settings.database_url):
        raise ConfigurationError("cli.old_database", url=settings.database_url)
