"""A second event loop, in a thread of its own, for everything after an acknowledgement.

Slack waits 3 seconds for an acknowledgement; a busy morning (claims, drafts, Web API
calls, database work) must never make the next one wait. The HTTP server's loop only
verifies, acknowledges and hands the work over; the worker loop owns the database engine
and the chat clients' work. Nothing runs on both loops.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import logging
import os
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Job:
    """What an acknowledged request leaves to do: plain JSON, so it can cross to a worker
    thread or a worker process alike."""

    kind: str
    body: dict[str, Any]

    def line(self) -> bytes:
        """One line of the pipe to a worker process."""
        return json.dumps({"kind": self.kind, "body": self.body}).encode() + b"\n"

    @classmethod
    def from_json(cls, line: str) -> Job:
        data = json.loads(line)
        return cls(str(data["kind"]), dict(data["body"]))


class Worker:
    def __init__(self, name: str = "ambassador-worker", *, nice: int = 0) -> None:
        self.nice = nice
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._pending: set[concurrent.futures.Future[Any]] = set()

    def _run(self) -> None:
        if self.nice:
            # Linux schedules threads one by one: a lower priority here means the
            # acknowledging thread gets the CPU first whenever both want it.
            with contextlib.suppress(AttributeError, OSError):
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), self.nice)
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def start(self) -> Worker:
        self._thread.start()
        return self

    def submit(self, work: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Run `work` on the worker loop; failures are logged (handlers answer people)."""
        future = asyncio.run_coroutine_threadsafe(work, self.loop)
        self._pending.add(future)
        future.add_done_callback(self._done)
        return future

    def _done(self, future: concurrent.futures.Future[Any]) -> None:
        self._pending.discard(future)
        if not future.cancelled() and future.exception() is not None:
            log.error("background work failed", exc_info=future.exception())

    async def call(self, work: Coroutine[Any, Any, T]) -> T:
        """Await, from another loop, work that must run on the worker loop."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work, self.loop))

    async def drain(self) -> None:
        """Wait for the work handed over so far (a clean shutdown loses nothing)."""
        pending = list(self._pending)
        if pending:
            await asyncio.wait([asyncio.wrap_future(f) for f in pending], timeout=30)

    def stop(self) -> None:
        if self._thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=10)
        if not self.loop.is_running():
            self.loop.close()
