"""`ambassador run` with a chat platform: the HTTP server, Socket Mode, and the outbox loop.

`start_bot` builds and starts everything and returns a handle; tests use it directly (on
port 0, against a local fake Web API) and `serve` wraps it with signal handling.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import logging
import random
import signal
import sys
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

from aiohttp import ClientSession, web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from adapters.cli.wiring import create_app, slack_client
from adapters.server import SLACK_PATH, build_web_app, start
from adapters.slack.delivery import SlackDelivery
from adapters.slack.transport import build_slack
from adapters.worker import Worker
from bot.app import Ambassador
from bot.clock import Clock
from bot.errors import ConfigurationError
from bot.settings import Settings
from storage import delivery, migrate

log = logging.getLogger(__name__)
OUTBOX_EVERY = 5.0  # seconds between outbox sweeps
SWITCH_INTERVAL = 0.001  # seconds; the interpreter's default is 0.005
GC_THRESHOLDS = (20_000, 20, 100)  # fewer, not longer, young-generation passes under load
WORKER_NICE = 19  # the worker thread yields the CPU to acknowledgements
T = TypeVar("T")
SEEN_KEPT = timedelta(days=1)  # Slack stops retrying an event after minutes


@dataclass
class RunningBot:
    """The started bot. The core, its database and the Slack delivery live on the worker
    loop: reach them from elsewhere through `call`."""

    core: Ambassador
    slack: SlackDelivery
    worker: Worker
    port: int
    runner: web.AppRunner
    session: ClientSession  # the delivery's pooled connections, on the worker loop
    sweeps: list[concurrent.futures.Future[None]] = field(default_factory=list)
    socket: AsyncSocketModeHandler | None = None

    async def call(self, work: Coroutine[Any, Any, T]) -> T:
        return await self.worker.call(work)

    async def close(self) -> None:
        for sweep in self.sweeps:
            sweep.cancel()
        if self.socket is not None:
            await self.socket.close_async()  # type: ignore[no-untyped-call]
        await self.runner.cleanup()  # no new requests
        await self.worker.drain()  # finish what was acknowledged
        await self.worker.call(self.session.close())
        await self.worker.call(self.core.database.dispose())
        self.worker.stop()


async def _sweep(bot: RunningBot, every: float) -> None:
    """Retry what the outbox holds, forever; forget old dedupe keys now and then."""
    rounds = 0
    while True:
        await asyncio.sleep(every)
        try:
            await bot.slack.retry_due()
            rounds += 1
            if rounds % 720 == 0:
                async with bot.core.database.transaction() as session:
                    before = bot.core.clock.now() - SEEN_KEPT
                    await delivery.forget_seen_before(session, before=before)
        except Exception:
            log.exception("outbox sweep failed")


async def _pooled_session() -> ClientSession:
    """Made on the worker loop, where every delivery runs."""
    return ClientSession()


async def start_bot(
    settings: Settings,
    *,
    clock: Clock | None = None,
    rng: random.Random | None = None,
    sweep_every: float | None = OUTBOX_EVERY,
) -> RunningBot:
    """Start everything; `sweep_every=None` leaves outbox sweeps to the caller (tests)."""
    if "teams" in settings.chat_platforms:
        raise ConfigurationError("cli.platform_not_built", platforms="teams")
    secret = (
        settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    )
    socket_mode = settings.slack_app_token is not None
    if not socket_mode and not secret:
        raise ConfigurationError("cli.slack_secret")
    await asyncio.to_thread(migrate.upgrade, settings.database_url)
    # Switch threads more often than the default 5 ms: acknowledgements wait less for the GIL.
    sys.setswitchinterval(SWITCH_INTERVAL)
    worker = Worker(nice=WORKER_NICE).start()
    core = create_app(settings, clock=clock, rng=rng)
    session = await worker.call(_pooled_session())
    bolt, slack = build_slack(
        core,
        slack_client(settings),
        signing_secret=None if socket_mode else secret,
        hand_off=worker.submit,
        delivery_client=slack_client(settings, session),
    )
    web_app = build_web_app(slack=None if socket_mode else bolt)
    runner, port = await start(web_app, host=settings.host, port=settings.port)
    bot = RunningBot(core, slack, worker, port, runner, session)
    if socket_mode and settings.slack_app_token is not None:
        bot.socket = AsyncSocketModeHandler(bolt, settings.slack_app_token.get_secret_value())
        await bot.socket.connect_async()  # type: ignore[no-untyped-call]
    if sweep_every is not None:
        bot.sweeps.append(worker.submit(_sweep(bot, sweep_every)))
    # Everything built so far lives as long as the process: keep it out of the collector's
    # full passes, whose pauses hold the interpreter lock and so delay acknowledgements.
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    return bot


async def serve(settings: Settings) -> int:
    bot = await start_bot(settings)
    t = bot.core.translator(None)
    mode = "Socket Mode" if bot.socket else f"http://{settings.host}:{bot.port}{SLACK_PATH}"
    print(t("cli.listening", port=bot.port, slack=mode), file=sys.stderr, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await bot.close()
    return 0
