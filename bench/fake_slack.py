"""`python -m bench.fake_slack`: the tests' fake Slack Web API in a process of its own.

Slack's Web API is remote in production; in a benchmark its fake must not share an
interpreter (and its lock and garbage collector) with the bot it answers. It prints its base
URL as one JSON line, then serves until stdin closes or SIGTERM. Three control routes let
the bench see what it received: `GET /_calls?method=M` (recorded calls), `GET /_stats` (DMs
and when), `POST /_quiet` (count from now on, stop keeping every call).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass

from aiohttp import web

from bench.lifetime import until_told_to_stop
from tests.fakes.slack import Call, FakeSlack


@dataclass
class TimedSlack(FakeSlack):
    """The fake, plus a count of DMs and the wall-clock time of the first and last one."""

    dms: int = 0
    first_dm: float = 0.0
    last_dm: float = 0.0
    keep_calls: bool = True

    async def _record(self, call: Call) -> None:
        if self.keep_calls:
            await super()._record(call)
        channel = str(call.params.get("channel", ""))
        if call.method == "chat.postMessage" and channel.startswith("D"):
            now = time.time()
            self.dms += 1
            self.first_dm = self.first_dm or now
            self.last_dm = now

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

        app.router.add_get("/_calls", calls)
        app.router.add_get("/_stats", stats)
        app.router.add_post("/_quiet", quiet)


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
