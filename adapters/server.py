"""One aiohttp server for every HTTP endpoint of the bot: `/slack/events`, Teams'
`/api/messages`, and `GET /healthz` for load balancers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

SLACK_PATH = "/slack/events"
MAX_BODY = 1024 * 1024  # Slack payloads are small; anything larger is not Slack


Health = Callable[[], dict[str, object]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
TEAMS_PATH = "/api/messages"


def build_web_app(
    *, slack: AsyncApp | None = None, teams: Handler | None = None, health: Health | None = None
) -> web.Application:
    """`health` adds details (the worker's state) to `/healthz`."""
    app = web.Application(client_max_size=MAX_BODY)

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", **(health() if health else {})})

    app.router.add_get("/healthz", healthz)
    if slack is not None:

        async def slack_events(request: web.Request) -> web.Response:
            response = await slack.async_dispatch(await to_bolt_request(request))
            return await to_aiohttp_response(response)

        app.router.add_post(SLACK_PATH, slack_events)
    if teams is not None:
        app.router.add_post(TEAMS_PATH, teams)
    return app


async def start(app: web.Application, *, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Listen; returns the runner (to clean up) and the port actually bound (port 0 picks)."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    addresses = runner.addresses
    bound = addresses[0][1] if addresses else port
    return runner, int(bound)
