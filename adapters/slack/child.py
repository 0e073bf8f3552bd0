"""`python -m adapters.slack.child`: the worker process of `ambassador run`.

The server process verifies and acknowledges; this process does everything after (database,
core, Slack's Web API and Teams' Bot Connector calls), reading one JSON job per line on
stdin. Two processes share no
interpreter lock and no garbage collector pauses, so acknowledgements stay fast however
busy the drafting gets. Settings come from the environment, as for the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import sys

from adapters.cli.serve import GC_THRESHOLDS, OUTBOX_EVERY, WORKER_NICE, worker_side
from adapters.cli.wiring import create_app
from adapters.scheduler import Pump, Scheduler
from adapters.worker import Job
from bot.settings import Settings

log = logging.getLogger("ambassador.worker")
EXIT_WITHIN = 10.0  # seconds the tasks still running at exit get to end once cancelled


async def main() -> None:
    settings = Settings()
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICE)  # acknowledgements, in the server process, come first
    core = create_app(settings)
    worker = await worker_side(core, settings)  # made on this loop, here
    pump = Pump(worker.retry_due, every=OUTBOX_EVERY).start()
    core.connect(worker.outbound, wake=pump.wake)
    scheduler = Scheduler(core, worker.outbound, send=pump.wake).start()
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=2**24)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    pending: set[asyncio.Task[None]] = set()
    while line := await reader.readline():
        try:
            job = Job.from_json(line.decode())
        except (ValueError, KeyError, TypeError):
            log.exception("unreadable job")
            continue
        task = asyncio.create_task(worker.process(job))
        pending.add(task)
        task.add_done_callback(pending.discard)
    scheduler.stop()
    if pending:  # the server is stopping: finish what was acknowledged
        await asyncio.wait(pending, timeout=30)
    await pump.stop()  # the row in hand is settled, the rest handed back
    await _cancel_the_rest()
    await worker.session.close()
    await core.database.dispose()


async def _cancel_the_rest() -> None:
    """Whatever is still running (a tick, a request past its 30 s) is cancelled while the
    database is still open, so its transaction rolls back; cancelled after the engine is
    disposed, it would wait for ever on a connection that is gone. Bounded all the same:
    the process must end, or the server waiting on it never stops."""
    others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in others:
        task.cancel()
    if not others:
        return
    _, stuck = await asyncio.wait(others, timeout=EXIT_WITHIN)
    if stuck:
        names = ", ".join(sorted(t.get_coro().__qualname__ for t in stuck))  # type: ignore[union-attr]
        log.error("still running after cancel, exiting anyway: %s", names)
        logging.shutdown()
        os._exit(1)


if __name__ == "__main__":
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("ambassador.scheduler").setLevel(logging.INFO)  # what ran, what not
    asyncio.run(main())
