"""The composition root: settings in, a ready core out. Nothing is built at import time."""

from __future__ import annotations

import random

from aiohttp import ClientSession
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from adapters.model.openai_chat import OpenAIChat, model_client
from adapters.web.fetch import SafeFetcher
from bot.app import Ambassador
from bot.clock import Clock, SystemClock
from bot.drafting import Drafter, TemplateDrafter
from bot.drafting.model import ModelDrafter
from bot.errors import ConfigurationError
from bot.settings import Settings
from bot.web import Fetcher
from storage import migrate
from storage.database import Database


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    drafter: Drafter | None = None,
    rng: random.Random | None = None,
    fetcher: Fetcher | None = None,
) -> Ambassador:
    """Build the core for these settings (clock, drafter, randomness and the web can be
    injected). With a model configured, it writes the drafts and the template drafter
    stands in."""
    template = TemplateDrafter(rng)
    return Ambassador(
        settings=settings,
        database=Database(settings.database_url),
        clock=clock or SystemClock(),
        drafter=drafter or model_drafter(settings, template) or template,
        fallback=template,
        fetcher=fetcher or web_fetcher(settings),
    )


def web_fetcher(settings: Settings) -> Fetcher | None:
    """Pages and feeds, from public addresses only (unless the test-only
    `AMBASSADOR_FETCH_ALLOW_PRIVATE`); none at all with `AMBASSADOR_FETCH=off`."""
    if not settings.fetch:
        return None
    return SafeFetcher(allow_private=settings.fetch_allow_private)


def model_drafter(settings: Settings, fallback: Drafter) -> ModelDrafter | None:
    """The model drafter when a model is configured (see `model_client`)."""
    client = model_client(settings)
    if client is None:
        return None
    return ModelDrafter(
        OpenAIChat(client, model=settings.llm_model),
        timeout=settings.llm_timeout,
        concurrency=settings.llm_concurrency,
        fallback=fallback,
    )


def slack_client(settings: Settings, session: ClientSession | None = None) -> AsyncWebClient:
    """The Web API client: `SLACK_API_URL` (a local fake in tests), and retries on 429
    (honouring Retry-After), 5xx and connection errors before anything reaches the outbox.
    With a `session`, connections are pooled (it belongs to the loop it was made on)."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    base_url = (
        settings.slack_api_url
        if settings.slack_api_url.endswith("/")
        else settings.slack_api_url + "/"
    )
    return AsyncWebClient(
        token=token,
        base_url=base_url,
        timeout=10,
        session=session,
        retry_handlers=[
            AsyncRateLimitErrorRetryHandler(max_retry_count=2),
            AsyncServerErrorRetryHandler(max_retry_count=2),
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
        ],
    )


def require_current_schema(settings: Settings) -> None:
    """Commands other than `run`, `console` and `db upgrade` need a migrated database."""
    path = settings.sqlite_path()
    if path is not None and not path.exists():
        raise ConfigurationError("cli.no_database", url=settings.database_url)
    if not migrate.is_current(settings.database_url):
        raise ConfigurationError("cli.old_database", url=settings.database_url)
