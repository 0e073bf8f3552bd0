"""`ambassador run` with a chat platform: the HTTP server, Socket Mode, and the outbox loop.

`start_bot` builds and starts everything and returns a handle; tests use it directly (on
port 0, against a local fake Web API) and `serve` wraps it with signal handling.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import random
import signal
import sys
from collections import deque
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any, TypeVar

from aiohttp import ClientSession, web
from pydantic import SecretStr
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from adapters.cli.wiring import create_app, slack_client
from adapters.scheduler import Pump, Scheduler, drain
from adapters.server import SLACK_PATH, build_web_app, start
from adapters.slack.delivery import SlackDelivery
from adapters.slack.transport import SlackWorker, build_slack, build_worker
from adapters.teams.delivery import TeamsDelivery
from adapters.teams.transport import JOB as TEAMS_JOB
from adapters.teams.transport import TEAMS_PATH, TeamsWorker, messages_handler
from adapters.teams.transport import build_adapter as build_teams_adapter
from adapters.teams.transport import build_worker as build_teams_worker
from adapters.worker import Job, Worker
from bot.app import Ambassador
from bot.clock import Clock
from bot.errors import ConfigurationError
from bot.settings import DAY_NAMES, Settings
from storage import migrate

log = logging.getLogger(__name__)
OUTBOX_EVERY = 5.0  # seconds between outbox sweeps
SWITCH_INTERVAL = 0.001  # seconds; the interpreter's default is 0.005
GC_THRESHOLDS = (20_000, 20, 100)  # fewer, not longer, young-generation passes under load
MAX_WAITING = 10_000  # requests kept while a worker process is replaced
RESTART_DELAY = 1.0  # seconds before a dead worker process is replaced
WORKER_NICE = 19  # the worker thread yields the CPU to acknowledgements
T = TypeVar("T")


@dataclass
class RunningBot:
    """The started bot. With a worker thread, the core, its database and the Slack delivery
    live on that thread's loop: reach them through `call`. With a worker process, they live
    there and this process only verifies and acknowledges."""

    core: Ambassador
    port: int
    runner: web.AppRunner
    worker: Worker | None = None
    side: WorkerSide | None = None  # the working side, when it runs on `worker`
    scheduler: Scheduler | None = None  # on the worker thread's loop (tests call its tick)
    session: ClientSession | None = None
    child: asyncio.subprocess.Process | None = None
    supervisor: asyncio.Task[None] | None = None
    generation: int = 0  # how many worker processes have been started
    waiting: deque[Job] = field(default_factory=lambda: deque(maxlen=MAX_WAITING))
    pump: Pump | None = None  # the outbox sender on the worker thread's loop
    socket: AsyncSocketModeHandler | None = None

    @property
    def slack(self) -> SlackDelivery:
        """The worker thread's Slack delivery (tests call its outbox sweep)."""
        assert self.side is not None, "the delivery lives in the worker process"
        assert self.side.slack is not None, "Slack is not configured"
        return self.side.slack.slack

    @property
    def teams(self) -> TeamsDelivery:
        """The worker thread's Teams delivery."""
        assert self.side is not None, "the delivery lives in the worker process"
        assert self.side.teams is not None, "Teams is not configured"
        return self.side.teams.teams

    async def call(self, work: Coroutine[Any, Any, T]) -> T:
        assert self.worker is not None, "no worker thread: the work runs in another process"
        return await self.worker.call(work)

    def hand_off(self, job: Job) -> None:
        """Give an acknowledged request to the worker (thread or process)."""
        if self.child is not None:
            if self.child.stdin is None or self.child.returncode is not None:
                self.waiting.append(job)  # the next worker process takes it
                return
            self.child.stdin.write(job.line())
            return
        assert self.worker is not None
        assert self.side is not None
        self.worker.submit(self.side.process(job))

    def health(self) -> dict[str, object]:
        if self.child is None:
            return {"worker": "thread"}
        alive = self.child.returncode is None
        return {"worker": "running" if alive else "restarting", "generation": self.generation}

    async def close(self) -> None:
        if self.scheduler is not None and self.worker is not None:
            self.worker.loop.call_soon_threadsafe(self.scheduler.stop)
        if self.pump is not None and self.worker is not None:
            await self.worker.call(self.pump.stop())
        if self.socket is not None:
            await self.socket.close_async()  # type: ignore[no-untyped-call]
        await self.runner.cleanup()  # no new requests
        if self.supervisor is not None:
            self.supervisor.cancel()
        if self.child is not None and self.child.stdin is not None:
            self.child.stdin.close()  # the worker finishes what was acknowledged, then exits
            await asyncio.wait_for(self.child.wait(), 60)
        if self.worker is not None:
            await self.worker.drain()  # finish what was acknowledged
            if self.session is not None:
                await self.worker.call(self.session.close())
            await self.worker.call(self.core.database.dispose())
            self.worker.stop()
        else:
            await self.core.database.dispose()


async def _start(scheduler: Scheduler, pump: Pump) -> None:
    pump.start()  # on the loop this runs on: the worker's
    scheduler.start()


@dataclass
class WorkerSide:
    """Everything after the acknowledgement, for each connected platform: made on the loop
    it runs on (a worker thread's, or the worker process's)."""

    session: ClientSession  # the Slack client's pooled connections
    slack: SlackWorker | None
    teams: TeamsWorker | None

    @property
    def outbound(self) -> list[SlackDelivery | TeamsDelivery]:
        """The platforms the scheduled jobs send to."""
        found: list[SlackDelivery | TeamsDelivery] = []
        if self.slack is not None:
            found.append(self.slack.slack)
        if self.teams is not None:
            found.append(self.teams.teams)
        return found

    async def process(self, job: Job) -> None:
        worker = self.teams if job.kind == TEAMS_JOB else self.slack
        if worker is None:
            log.error("a %s job, and that platform is not configured", job.kind)
            return
        await worker.process(job)

    async def retry_due(self, stop: asyncio.Event | None = None) -> int:
        """One outbox sweep per platform."""
        sent = 0
        for outbound in self.outbound:
            sent += await outbound.retry_due(stop)
        return sent


async def worker_side(core: Ambassador, settings: Settings) -> WorkerSide:
    """Made on the worker loop, where every delivery runs (pooled connections)."""
    session = ClientSession()
    platforms = settings.chat_platforms
    slack = build_worker(core, slack_client(settings, session)) if "slack" in platforms else None
    teams = build_teams_worker(core, settings) if "teams" in platforms else None
    return WorkerSide(session, slack, teams)


def _as_env(value: object) -> str:
    """A setting's value written back the way the environment gives it."""
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, list):
        return ",".join(value)
    if isinstance(value, tuple):  # weekdays
        return ",".join(DAY_NAMES[day][0] for day in value)
    if isinstance(value, timedelta):
        return f"{value.total_seconds():g}s"
    return str(value)


def child_environment(settings: Settings) -> dict[str, str]:
    """The settings, as environment variables, for the worker process: exactly this
    process's settings (a blank value is "not set"), not whatever else the environment or
    a .env file holds."""
    env = dict(os.environ)
    for name, field_info in Settings.model_fields.items():
        value = getattr(settings, name)
        if field_info.alias is None:
            continue
        if value is None:  # unset here means unset there, whatever the environment says
            env[field_info.alias] = ""
            continue
        env[field_info.alias] = _as_env(value)
    return env


async def _spawn_child(settings: Settings) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "adapters.slack.child",
        stdin=asyncio.subprocess.PIPE, env=child_environment(settings),
    )  # fmt: skip


async def _supervise(bot: RunningBot, settings: Settings) -> None:
    """If the worker process dies, start another; what arrived meanwhile goes to it."""
    while True:
        assert bot.child is not None
        code = await bot.child.wait()
        log.error("the worker process exited (%s); starting a new one", code)
        await asyncio.sleep(RESTART_DELAY)
        child = await _spawn_child(settings)
        assert child.stdin is not None
        while bot.waiting:
            child.stdin.write(bot.waiting.popleft().line())
        bot.child = child
        bot.generation += 1


async def start_bot(
    settings: Settings,
    *,
    clock: Clock | None = None,
    rng: random.Random | None = None,
    sweep_every: float | None = OUTBOX_EVERY,
    worker_process: bool = False,
) -> RunningBot:
    """Start everything. The work after acknowledgements runs in a worker process
    (`worker_process`, as `ambassador run` does) or on a worker thread (tests: the clock
    and randomness can be injected there). `sweep_every=None` leaves outbox sweeps and
    scheduler ticks to the caller."""
    platforms = settings.chat_platforms
    secret = (
        settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    )
    socket_mode = settings.slack_app_token is not None
    if "slack" in platforms and not socket_mode and not secret:
        raise ConfigurationError("cli.slack_secret")
    if settings.teams_mode == "local" and settings.microsoft_app_id:
        raise ConfigurationError("cli.teams_local_and_id")
    await asyncio.to_thread(migrate.upgrade, settings.database_url)
    # Switch threads more often than the default 5 ms: acknowledgements wait less for the GIL.
    sys.setswitchinterval(SWITCH_INTERVAL)
    core = create_app(settings, clock=clock, rng=rng)
    handle: list[RunningBot] = []

    def hand_off(job: Job) -> None:  # the bot exists by the time a request arrives
        handle[0].hand_off(job)

    bolt = (
        build_slack(
            core,
            slack_client(settings),
            signing_secret=None if socket_mode else secret,
            hand_off=hand_off,
        )
        if "slack" in platforms
        else None
    )
    teams = (
        messages_handler(build_teams_adapter(settings), hand_off) if "teams" in platforms else None
    )
    if settings.teams_mode == "local":
        log.warning("Teams authentication is OFF (AMBASSADOR_TEAMS=local): for one machine only")

    def health() -> dict[str, object]:
        return handle[0].health()

    web_app = build_web_app(slack=None if socket_mode else bolt, teams=teams, health=health)
    runner, port = await start(web_app, host=settings.host, port=settings.port)
    bot = RunningBot(core, port, runner)
    handle.append(bot)
    if worker_process:
        bot.child = await _spawn_child(settings)
        bot.generation = 1
        bot.supervisor = asyncio.create_task(_supervise(bot, settings))
    else:
        bot.worker = Worker(nice=WORKER_NICE).start()
        side = await bot.worker.call(worker_side(core, settings))
        bot.session, bot.side = side.session, side
        if sweep_every is None:  # the caller ticks; a tick sends what it queued at once
            send = partial(drain, side.retry_due)
            core.connect(side.outbound, wake=send)
            bot.scheduler = Scheduler(core, side.outbound, send=send)
        else:
            bot.pump = Pump(side.retry_due, every=sweep_every)
            core.connect(side.outbound, wake=bot.pump.wake)
            bot.scheduler = Scheduler(core, side.outbound, send=bot.pump.wake)
            await bot.worker.call(_start(bot.scheduler, bot.pump))
    if bolt is not None and socket_mode and settings.slack_app_token is not None:
        bot.socket = AsyncSocketModeHandler(bolt, settings.slack_app_token.get_secret_value())
        await bot.socket.connect_async()  # type: ignore[no-untyped-call]
    # Everything built so far lives as long as the process: keep it out of the collector's
    # full passes, whose pauses hold the interpreter lock and so delay acknowledgements.
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    return bot


async def serve(settings: Settings) -> int:
    bot = await start_bot(settings, worker_process=True)
    t = bot.core.translator(None)
    base = f"http://{settings.host}:{bot.port}"
    if "slack" in settings.chat_platforms:
        mode = "Socket Mode" if bot.socket else base + SLACK_PATH
        print(t("cli.listening", port=bot.port, slack=mode), file=sys.stderr, flush=True)
    if "teams" in settings.chat_platforms:
        print(t("cli.listening_teams", url=base + TEAMS_PATH), file=sys.stderr, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await bot.close()
    return 0
