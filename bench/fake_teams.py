"""`python -m bench.fake_teams`: the tests' fake Bot Connector in a process of its own.

The Bot Connector is remote in production; in a benchmark its fake must not share an
interpreter (and its lock and garbage collector) with the bot it answers, nor with the load
generator. It prints its service URL and control URL as one JSON line, then serves until
stdin closes or SIGTERM. Control routes:

- `GET /_posts?conversation=C`: the activities the bot has in C now (setup: the digest);
- `GET /_wait?conversation=C&needle=N&count=K&within=S`: the K-th activity (default the
  first) in C whose JSON holds N, as soon as there is one (a long poll on a future, not a
  loop; 504 after S seconds);
- `POST /_watch` with `{"needle": N}`: from now on, note when each conversation first got
  an activity holding N (sent, or an update to one), and every send's time per conversation;
- `GET /_stats`: how many conversations have such an activity, when the last came, and
  how many sends there have been;
- `GET /_report`: per conversation, how many activities holding N it has now (updates
  applied), when the first came, how many sends it got and the most within any one second.
"""

from __future__ import annotations

import asyncio
import bisect
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bench.lifetime import until_told_to_stop
from tests.fakes.teams import (
    SEND_METHODS,
    Call,
    FakeConnector,
    base_conversation,
    personal_conversation_id,
)

SENDS = set(SEND_METHODS) | {m + ":failed" for m in SEND_METHODS}


def holds(activity: dict[str, Any], needle: str) -> bool:
    return needle in json.dumps(activity, ensure_ascii=False)


@dataclass
class TimedConnector(FakeConnector):
    """The fake Connector plus what a benchmark reads from the platform's side, without
    scanning every call again on each question: waiters per conversation, and from
    `watch` on, send times per conversation and the first matching activity's time."""

    needle: str = ""
    watching: bool = False
    send_times: dict[str, list[float]] = field(default_factory=dict)  # conversation -> times
    firsts: dict[str, float] = field(default_factory=dict)  # conversation -> wall clock
    last: float = 0.0
    creates: int = 0
    failed: int = 0
    _waiters: dict[str, list[tuple[str, int, asyncio.Future[dict[str, Any]]]]] = field(
        default_factory=dict
    )

    async def _record(self, call: Call) -> None:
        self.calls.append(call)  # kept for `of` and `max_per_second` (a few per member)
        now = time.time()
        conversation = base_conversation(str(call.conversation or ""))
        if call.method == "create":
            self.creates += 1
        if call.method.endswith(":failed"):
            self.failed += 1
        if self.watching and call.method in SENDS:
            self.send_times.setdefault(conversation, []).append(now)
        if call.method in ("create", "send", "reply", "update"):
            self._settle(call, now)

    def _settle(self, call: Call, now: float) -> None:
        """Wake the waiters whose activity has just arrived; note the first match."""
        conversation = self._conversation_of(call)
        posts = self.history.get(conversation, [])
        waiting = self._waiters.get(conversation)
        if waiting:
            still = []
            for needle, count, future in waiting:
                if future.done():  # timed out
                    continue
                found = _nth(posts, needle, count)
                if found is None:
                    still.append((needle, count, future))
                else:
                    future.set_result(found)
            self._waiters[conversation] = still
        if self.watching and conversation not in self.firsts:
            body = call.body.get("activity") if call.method == "create" else call.body
            if isinstance(body, dict) and holds(body, self.needle):
                self.firsts[conversation] = now
                self.last = now

    @staticmethod
    def _conversation_of(call: Call) -> str:
        if call.method != "create":
            return str(call.conversation or "")
        members = call.body.get("members") or [{}]
        return personal_conversation_id(str(members[0].get("id") or ""))

    async def wait(
        self, conversation: str, needle: str, count: int, within: float
    ) -> dict[str, Any] | None:
        """The `count`-th activity in `conversation` holding `needle`, once there is one."""
        found = _nth(self.history.get(conversation, []), needle, count)
        if found is not None:
            return found
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(conversation, []).append((needle, count, future))
        try:
            async with asyncio.timeout(within):
                return await future
        except TimeoutError:
            return None

    def watch(self, needle: str) -> None:
        self.needle, self.watching = needle, True
        self.send_times, self.firsts, self.last = {}, {}, 0.0

    def report(self) -> dict[str, Any]:
        matching = {
            conversation: sum(1 for p in posts if holds(p, self.needle))
            for conversation, posts in self.history.items()
        }
        busiest = {c: _max_per_second(times) for c, times in self.send_times.items()}
        return {
            "matching": {c: n for c, n in matching.items() if n},
            "firsts": self.firsts,
            "max_per_second": busiest,
            "sends_into": {c: len(t) for c, t in self.send_times.items()},
            "sends": sum(len(t) for t in self.send_times.values()),
            "creates": self.creates,
            "failed": self.failed,
        }

    def controls(self, app: web.Application) -> None:
        async def posts(request: web.Request) -> web.Response:
            return web.json_response(self.posts(request.query.get("conversation", "")))

        async def wait(request: web.Request) -> web.Response:
            query = request.query
            found = await self.wait(
                query.get("conversation", ""),
                query.get("needle", ""),
                int(query.get("count", "1")),
                float(query.get("within", "30")),
            )
            if found is None:
                return web.json_response({"error": "not yet"}, status=504)
            return web.json_response(found)

        async def watch(request: web.Request) -> web.Response:
            body = await request.json()
            self.watch(str(body.get("needle") or ""))
            return web.json_response({"ok": True})

        async def stats(_request: web.Request) -> web.Response:
            sends = sum(len(t) for t in self.send_times.values())
            return web.json_response(
                {"matched": len(self.firsts), "last": self.last, "sends": sends}
            )

        async def report(_request: web.Request) -> web.Response:
            return web.json_response(self.report())

        app.router.add_get("/_posts", posts)
        app.router.add_get("/_wait", wait)
        app.router.add_post("/_watch", watch)
        app.router.add_get("/_stats", stats)
        app.router.add_get("/_report", report)


def _nth(posts: list[dict[str, Any]], needle: str, count: int) -> dict[str, Any] | None:
    matching = [p for p in posts if holds(p, needle)]
    return matching[count - 1] if len(matching) >= count else None


def _max_per_second(times: list[float]) -> int:
    """The most of `times` within any sliding one-second window (Teams allows 7)."""
    ordered = sorted(times)
    return max((bisect.bisect_left(ordered, t + 1.0) - i for i, t in enumerate(ordered)), default=0)


async def serve() -> None:
    fake = TimedConnector()
    control = web.Application()
    fake.controls(control)
    await fake.start()
    runner = web.AppRunner(control, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    print(json.dumps({"url": fake.url, "control": f"http://127.0.0.1:{port}"}), flush=True)
    try:
        await until_told_to_stop()
    finally:
        await runner.cleanup()
        await fake.close()


if __name__ == "__main__":
    asyncio.run(serve())
