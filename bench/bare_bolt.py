"""`python -m bench.bare_bolt`: the baseline, a slack-bolt AsyncApp whose only listener acks.

It runs in a process of its own, behind the same kind of aiohttp route as the bot's
(`adapters/server.py`), with the same signing secret and request verification, so the
difference between its latency and the bot's is what Ambassador adds on top of Bolt. Like
`bench.slack_server` it prints one JSON line when ready and serves until stdin closes or
SIGTERM; a local fake Web API answers the `auth.test` Bolt makes before the first request.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
from typing import Any

from aiohttp import ClientSession, web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from adapters.server import MAX_BODY, SLACK_PATH
from bench.slack_server import until_told_to_stop
from tests.fakes.slack import SECRET, FakeSlack, SlackClient


def bare_app(api_url: str) -> AsyncApp:
    app = AsyncApp(
        signing_secret=SECRET,
        token="xoxb-bench",
        client=AsyncWebClient(token="xoxb-bench", base_url=api_url),
        request_verification_enabled=True,
    )

    @app.action(re.compile(".*"))
    async def only_ack(ack: Any) -> None:
        await ack()

    return app


def web_app(bolt: AsyncApp) -> web.Application:
    """The route of `adapters.server.build_web_app`, minus everything else."""
    app = web.Application(client_max_size=MAX_BODY)

    async def slack_events(request: web.Request) -> web.Response:
        response = await bolt.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    app.router.add_post(SLACK_PATH, slack_events)
    return app


async def serve() -> None:
    fake = FakeSlack()
    await fake.start()
    runner = web.AppRunner(web_app(bare_app(fake.url)), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    endpoint = f"http://127.0.0.1:{runner.addresses[0][1]}{SLACK_PATH}"
    try:
        async with ClientSession() as http:  # one click first, so auth.test is done
            status = await SlackClient(http, endpoint, fake).click("UWARM", {"action_id": "x"})
        if status != 200:
            raise RuntimeError(f"the bare Bolt app answered {status} to a signed click")
        print(json.dumps({"endpoint": endpoint, "api": fake.url}), flush=True)
        await until_told_to_stop()
    finally:
        await runner.cleanup()
        await fake.close()


if __name__ == "__main__":
    asyncio.run(serve())
    sys.exit(0)
