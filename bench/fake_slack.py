"""`python -m bench.fake_slack`: the tests' fake Slack Web API in a process of its own.

Slack's Web API is remote in production; in a benchmark its fake must not share an
interpreter (and its lock and garbage collector) with the bot it answers. It prints its base
URL as one JSON line, then serves until stdin closes or SIGTERM. Control routes let the
bench see what it received: `GET /_calls?method=M` (recorded calls), `GET /_stats` (DMs
and when), `POST /_quiet` (count from now on, stop keeping every call), and for the model
benchmark `POST /_watch` then `GET /_dm_times` (when each DM's first and final message came).
For the fan-out benchmark, `POST /_limit` with `{"method": M, "per_second": R}` (or the
`limits` field) makes M answer 429 with `Retry-After: 1` beyond R calls a second across the
workspace (a token bucket holding one second's worth); `GET /_limited` counts those 429s,
and `GET /_dm_posts` the `chat.postMessage` calls into each DM channel since `/_watch`.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bench.lifetime import until_told_to_stop
from tests.fakes.slack import Call, FakeSlack


@dataclass
class TimedSlack(FakeSlack):
    """The fake, plus a count of DMs and the wall-clock time of the first and last one.

    While watching (`POST /_watch`), also when each DM channel got its first message and
    its final one (the first `chat.update`, or a second post if an update failed), which
    `needles` the final one contains, and the first call of each method per user or
    channel: per-member timings from the platform's side, without keeping every call."""

    dms: int = 0
    first_dm: float = 0.0
    last_dm: float = 0.0
    keep_calls: bool = True
    watching: bool = False
    needles: dict[str, str] = field(default_factory=dict)  # name -> text to look for
    firsts: dict[str, dict[str, float]] = field(default_factory=dict)  # method -> who -> t
    dm_posts: dict[str, int] = field(default_factory=dict)
    finals: dict[str, float] = field(default_factory=dict)
    final_has: dict[str, list[str]] = field(default_factory=dict)
    limits: dict[str, float] = field(default_factory=dict)  # method -> calls per second
    limited: dict[str, int] = field(default_factory=dict)  # method -> 429s answered
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)  # tokens, when

    def limit(self, method: str, per_second: float) -> None:
        """At most `per_second` calls of `method` a second from now on (0: no limit); a
        full bucket to start with, as a quiet workspace has."""
        if per_second <= 0:
            self.limits.pop(method, None)
            self._buckets.pop(method, None)
            return
        self.limits[method] = per_second
        self._buckets[method] = (per_second, time.monotonic())
        self.limited[method] = 0

    def _take(self, method: str) -> bool:
        """A token for one call of `method`, or False: over the limit."""
        rate = self.limits.get(method)
        if rate is None:
            return True
        now = time.monotonic()
        tokens, then = self._buckets.get(method, (rate, now))
        tokens = min(rate, tokens + (now - then) * rate)
        if tokens < 1:
            self._buckets[method] = (tokens, now)
            self.limited[method] = self.limited.get(method, 0) + 1
            return False
        self._buckets[method] = (tokens - 1, now)
        return True

    async def _api(self, request: web.Request) -> web.Response:
        if self._take(request.match_info["method"]):
            return await super()._api(request)
        await request.read()
        body = {"ok": False, "error": "ratelimited"}
        return web.json_response(body, status=429, headers={"Retry-After": "1"})

    async def _record(self, call: Call) -> None:
        if self.keep_calls:
            await super()._record(call)
        now = time.time()
        channel = str(call.params.get("channel", ""))
        if call.method == "chat.postMessage" and channel.startswith("D"):
            self.dms += 1
            self.first_dm = self.first_dm or now
            self.last_dm = now
        if self.watching:
            self._watch(call, channel, now)

    def _watch(self, call: Call, channel: str, now: float) -> None:
        params = call.params
        who = str(channel or params.get("users") or params.get("user") or "")
        if who:
            self.firsts.setdefault(call.method, {}).setdefault(who, now)
        if not channel.startswith("D"):
            return
        final = call.method == "chat.update"
        if call.method == "chat.postMessage":
            self.dm_posts[channel] = self.dm_posts.get(channel, 0) + 1
            final = self.dm_posts[channel] == 2  # the update failed: the draft came anew
        if final and channel not in self.finals:
            self.finals[channel] = now
            text = call.blocks_text()
            self.final_has[channel] = [name for name, n in self.needles.items() if n in text]

    def watch(self, needles: dict[str, str]) -> None:
        """Start the per-DM timings afresh."""
        self.watching, self.needles = True, dict(needles)
        self.firsts, self.dm_posts, self.finals, self.final_has = {}, {}, {}, {}

    def dm_times(self) -> dict[str, Any]:
        return {"firsts": self.firsts, "finals": self.finals, "final_has": self.final_has}

    def controls(self, app: web.Application) -> None:
        async def calls(request: web.Request) -> web.Response:
            method = request.query.get("method", "")
            return web.json_response([c.params for c in self.calls if c.method == method])

        async def stats(_request: web.Request) -> web.Response:
            return web.json_response(
                {"dms": self.dms, "first_dm": self.first_dm, "last_dm": self.last_dm}
            )

        async def quiet(_request: web.Request) -> web.Response:
            self.keep_calls = False
            self.calls.clear()
            return web.json_response({"ok": True})

        async def watch(request: web.Request) -> web.Response:
            body = await request.json()
            self.watch({str(k): str(v) for k, v in (body.get("needles") or {}).items()})
            return web.json_response({"ok": True})

        async def dm_times(_request: web.Request) -> web.Response:
            return web.json_response(self.dm_times())

        app.router.add_get("/_calls", calls)
        app.router.add_get("/_stats", stats)
        app.router.add_post("/_quiet", quiet)
        app.router.add_post("/_watch", watch)
        app.router.add_get("/_dm_times", dm_times)

        async def limit(request: web.Request) -> web.Response:
            body = await request.json()
            self.limit(str(body["method"]), float(body["per_second"]))
            return web.json_response({"ok": True})

        async def limited(_request: web.Request) -> web.Response:
            return web.json_response(self.limited)

        async def dm_posts(_request: web.Request) -> web.Response:
            return web.json_response(self.dm_posts)

        app.router.add_post("/_limit", limit)
        app.router.add_get("/_limited", limited)
        app.router.add_get("/_dm_posts", dm_posts)


async def serve() -> None:
    fake = TimedSlack()
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
