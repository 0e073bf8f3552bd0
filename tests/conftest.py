"""Shared fixtures: a real database (SQLite file, and the PostgreSQL server of this machine),
a fixed clock, seeded randomness, and a console driving the real core.

PostgreSQL tests get a schema of their own, dropped afterwards. Where no server answers they
skip with a one-line reason, except under CI=true, where that fails the run: CI always proves
both databases.
"""

from __future__ import annotations

import io
import os
import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from adapters.cli.wiring import create_app
from adapters.console.transport import ConsoleSession
from bot.app import Ambassador
from bot.clock import FixedClock
from bot.settings import Settings
from storage import migrate
from tests.fakes.openai import Answer, FakeOpenAI, Recorded
from tests.fakes.site import Site

pytest_plugins = ["tests.slack_world"]

POSTGRES_URL = os.environ.get(
    "AMBASSADOR_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
# A Monday morning in Paris: week boundaries are easy to reason about.
START = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)
_ENV_PREFIXES = ("AMBASSADOR_", "SLACK_", "MICROSOFT_", "OPENAI_", "AZURE_OPENAI_")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests never see the developer's own settings or .env file."""
    for name in list(os.environ):
        if name.startswith(_ENV_PREFIXES) or name == "DATABASE_URL":
            monkeypatch.delenv(name, raising=False)
    # Tests never reach the internet: the bot fetches no page or feed, except in the
    # content pipeline's tests, which turn it back on for their local site.
    monkeypatch.setenv("AMBASSADOR_FETCH", "off")
    monkeypatch.chdir(tmp_path)


def _postgres_schema_url(schema: str) -> str:
    return f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"


def _plain_postgres_dsn() -> str:
    return POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")


@pytest.fixture(scope="session")
def postgres_available() -> bool:
    try:
        with psycopg.connect(_plain_postgres_dsn(), connect_timeout=3):
            return True
    except psycopg.OperationalError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required under CI and did not answer: {exc}")
        return False


@pytest.fixture
def postgres_url(postgres_available: bool) -> Iterator[str]:
    """A fresh, empty PostgreSQL schema of this test's own."""
    if not postgres_available:
        pytest.skip("no PostgreSQL server at 127.0.0.1:5432 (CI=true makes this a failure)")
    schema = "t_" + uuid.uuid4().hex[:16]
    with psycopg.connect(_plain_postgres_dsn(), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield _postgres_schema_url(schema)
    finally:
        with psycopg.connect(_plain_postgres_dsn(), autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Both databases: tests using this run twice."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ambassador.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ambassador.db'}"


@pytest.fixture
def migrated(database_url: str) -> str:
    migrate.upgrade(database_url)
    return database_url


def make_settings(database_url: str, **values: Any) -> Settings:
    base: dict[str, Any] = {
        "DATABASE_URL": database_url,
        "AMBASSADOR_MANAGERS": "mgr",
        "AMBASSADOR_ADMINS": "boss",
        "AMBASSADOR_COMPANY": "ACME",
    }
    base.update(values)
    return Settings(_env_file=None, **base)  # type: ignore[call-arg]


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    """The local web site of the content pipeline's tests (pages and feeds, 127.0.0.1)."""
    async with Site() as running:
        yield running


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
async def make_app(migrated: str, clock: FixedClock) -> AsyncIterator[Callable[..., Ambassador]]:
    """Builds the real core on the test database; settings can be overridden per call."""
    built: list[Ambassador] = []

    def factory(**values: Any) -> Ambassador:
        app = create_app(make_settings(migrated, **values), clock=clock, rng=random.Random(42))
        built.append(app)
        return app

    yield factory
    for app in built:
        await app.database.dispose()


@pytest.fixture
async def app(make_app: Callable[..., Ambassador]) -> Ambassador:
    return make_app()


class Console:
    """Feeds console lines to the real core and returns what was printed."""

    def __init__(self, app: Ambassador) -> None:
        self.out = io.StringIO()
        self.session = ConsoleSession(app, self.out)

    async def __call__(self, script: str) -> str:
        start = self.out.tell()
        for line in script.strip().splitlines():
            await self.session.feed(line)
        return self.out.getvalue()[start:]


@pytest.fixture
def console(app: Ambassador) -> Console:
    return Console(app)


RunScript = Callable[[str], Awaitable[str]]


def answer(recorded: Recorded) -> Answer:
    """A model answer that differs with the prompt, so drafts of one item differ."""
    n = len(recorded.prompt_text) % 7
    return Answer(
        {
            "linkedin": f"The roofers of team {n} did something quietly remarkable here.",
            "x": f"Quietly remarkable work by team {n}.",
            "angle": "the people behind it",
        }
    )


@pytest.fixture
async def fake_model() -> AsyncIterator[FakeOpenAI]:
    server = FakeOpenAI(answer)
    await server.start()
    yield server
    await server.close()
