"""A local Slack: a Web API on 127.0.0.1 (port 0) that records every call and answers like
Slack, can be told to fail, and lets tests wait for a call instead of sleeping; plus really
signed requests for the bot's `/slack/events`."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from aiohttp import ClientSession, web
from slack_sdk.signature import SignatureVerifier

BOT_USER = "UBOT"


@dataclass
class Call:
    method: str
    params: dict[str, Any]

    def blocks_text(self) -> str:
        """Every text in the call's blocks and fallback, for assertions."""
        return json.dumps(self.params, ensure_ascii=False)


@dataclass
class FakeSlack:
    calls: list[Call] = field(default_factory=list)
    locales: dict[str, str] = field(default_factory=dict)
    failures: dict[str, list[tuple[int, dict[str, str], dict[str, Any]]]] = field(
        default_factory=dict
    )
    url: str = ""
    _runner: web.AppRunner | None = None
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # channel -> posts
    stall_after: dict[str, int] = field(default_factory=dict)
    _last_ts: float = 0.0
    _files: dict[str, str] = field(default_factory=dict)  # file id -> name
    _stalled: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)
        app.router.add_post("/respond/{id}", self._respond)
        app.router.add_post("/upload/{id}", self._upload)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/api/"

    async def close(self) -> None:
        self._stalled.set()
        if self._runner is not None:
            await self._runner.cleanup()

    def response_url(self, name: str = "r") -> str:
        return self.url.replace("/api/", f"/respond/{name}")

    def fail(
        self,
        method: str,
        status: int,
        *,
        times: int = 1,
        retry_after: int | None = None,
        error: str = "internal_error",
    ) -> None:
        """The next `times` calls of `method` fail with `status` (429 with Retry-After)."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        body = {"ok": False, "error": "ratelimited" if status == 429 else error}
        self.failures.setdefault(method, []).extend([(status, headers, body)] * times)

    def stall(self, method: str, *, after: int) -> None:
        """After `after` more answered calls of `method`, the next one is carried out
        (recorded, and in the history) but never answered: its caller waits until it is
        killed, as a process dying between Slack's accepting a message and its noting it."""
        self.stall_after[method] = after

    def _ts(self) -> str:
        """Slack's message timestamps: the time, unique and increasing."""
        self._last_ts = max(time.time(), self._last_ts + 0.000001)
        return f"{self._last_ts:.6f}"

    async def _record(self, call: Call) -> None:
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    async def _params(self, request: web.Request) -> dict[str, Any]:
        raw = await request.text()
        if request.content_type == "application/json":
            return dict(json.loads(raw or "{}"))
        params: dict[str, Any] = dict(parse_qsl(raw))
        params.update(request.query)
        for key in ("blocks", "view"):
            if isinstance(params.get(key), str):
                params[key] = json.loads(params[key])
        return params

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        queued = self.failures.get(method)
        if queued:
            status, headers, body = queued.pop(0)
            await self._record(Call(method + ":failed", params))
            return web.json_response(body, status=status, headers=headers)
        answer = self._answer(method, params)  # in the history before waiters look
        await self._record(Call(method, params))
        left = self.stall_after.get(method)
        if left is not None:
            self.stall_after[method] = left - 1
            if left <= 0:
                del self.stall_after[method]  # one call stalls; the ones after are answered
                await self._stalled.wait()
        return web.json_response(answer)

    def _post(self, channel: str, ts: str, **message: Any) -> None:
        self.history.setdefault(channel, []).append({"ts": ts, **message})

    def _history(self, params: dict[str, Any]) -> dict[str, Any]:
        """conversations.history: newest first, after `oldest`, in pages of `limit`."""
        oldest = float(params.get("oldest") or 0)
        posts = [
            m for m in self.history.get(str(params.get("channel")), []) if float(m["ts"]) > oldest
        ]
        posts.reverse()
        start = int(params.get("cursor") or 0)
        limit = int(params.get("limit") or 100)
        page = posts[start : start + limit]
        more = start + limit < len(posts)
        return {
            "messages": page,
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        ts = self._ts()
        if method == "chat.postMessage":
            extra = {"metadata": params["metadata"]} if params.get("metadata") else {}
            self._post(str(params.get("channel")), ts, text=params.get("text"), **extra)
        if method == "files.getUploadURLExternal":
            self._files[f"F{ts}"] = str(params.get("filename"))
        if method == "files.completeUploadExternal":
            files = params.get("files")
            files = json.loads(files) if isinstance(files, str) else files or []
            shared = [{"id": f["id"], "name": self._files.get(f["id"])} for f in files]
            self._post(str(params.get("channel_id")), ts, files=shared)
        answers: dict[str, Callable[[], dict[str, Any]]] = {
            "auth.test": lambda: {"user_id": BOT_USER, "bot_id": "BBOT", "team_id": "T1"},
            "chat.postMessage": lambda: {"channel": params.get("channel"), "ts": ts},
            "chat.postEphemeral": lambda: {"message_ts": ts},
            "chat.update": lambda: {"channel": params.get("channel"), "ts": params.get("ts")},
            "conversations.open": lambda: {"channel": {"id": "D" + str(params.get("users"))}},
            "users.info": lambda: {
                "user": {
                    "id": params.get("user"),
                    "locale": self.locales.get(str(params.get("user")), "en-US"),
                }
            },
            "views.publish": lambda: {"view": {"id": "VHOME"}},
            "files.getUploadURLExternal": lambda: {
                "upload_url": self.url.replace("/api/", f"/upload/F{ts}"),
                "file_id": f"F{ts}",
            },
            "files.completeUploadExternal": lambda: {"files": [{"id": "F"}]},
            "views.open": lambda: {"view": {"id": "VMODAL"}},
            "conversations.history": lambda: self._history(params),
        }
        if method not in answers:
            return {"ok": False, "error": "unknown_method"}
        return {"ok": True, **answers[method]()}

    async def _respond(self, request: web.Request) -> web.Response:
        await self._record(Call("respond", dict(json.loads(await request.text() or "{}"))))
        return web.json_response({"ok": True})

    async def _upload(self, request: web.Request) -> web.Response:
        """Where file upload v2 sends the bytes (not a Web API method)."""
        data = await request.read()
        await self._record(Call("upload", {"id": request.match_info["id"], "data": data}))
        return web.Response(text="OK")

    async def wait_until(self, condition: Callable[[], bool], *, within: float = 15.0) -> None:
        """Wait until `condition` (on the calls or the history) holds, without sleeping."""
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(condition)

    def of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def wait_for(
        self,
        method: str,
        predicate: Callable[[Call], bool] = lambda _c: True,
        *,
        count: int = 1,
        within: float = 15.0,
    ) -> list[Call]:
        """Wait until `count` calls of `method` match; no sleeping, a condition variable."""

        def matching() -> list[Call]:
            return [c for c in self.calls if c.method == method and predicate(c)]

        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(lambda: len(matching()) >= count)
        return matching()


SECRET = "test-signing-secret"


def signed_headers(
    body: str,
    *,
    secret: str = SECRET,
    timestamp: int | None = None,
    content_type: str = "application/x-www-form-urlencoded",
) -> dict[str, str]:
    ts = str(timestamp if timestamp is not None else int(time.time()))
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
        "Content-Type": content_type,
    }


class SlackClient:
    """Sends really signed requests to the bot, as Slack does."""

    def __init__(self, http: ClientSession, endpoint: str, fake: FakeSlack) -> None:
        self.http = http
        self.endpoint = endpoint
        self.fake = fake
        self._ids = itertools.count(1)

    async def post(self, body: str, content_type: str, **extra_headers: str) -> int:
        headers = signed_headers(body, content_type=content_type) | extra_headers
        async with self.http.post(self.endpoint, data=body.encode(), headers=headers) as resp:
            await resp.read()
            return resp.status

    async def command(self, user: str, text: str, *, channel: str = "CGENERAL") -> int:
        body = urlencode(
            {
                "command": "/ambassador",
                "text": text,
                "user_id": user,
                "user_name": user.lower(),
                "channel_id": channel,
                "team_id": "T1",
                "trigger_id": f"trig{next(self._ids)}",
                "response_url": self.fake.response_url(f"cmd{next(self._ids)}"),
            }
        )
        return await self.post(body, "application/x-www-form-urlencoded")

    async def interaction(self, payload: dict[str, Any]) -> int:
        body = urlencode({"payload": json.dumps(payload)})
        return await self.post(body, "application/x-www-form-urlencoded")

    async def click(
        self,
        user: str,
        button: dict[str, Any],
        *,
        message_ts: str = "1.1",
        channel: str = "CDIGEST",
    ) -> int:
        return await self.interaction(
            {
                "type": "block_actions",
                "user": {"id": user},
                "team": {"id": "T1"},
                "api_app_id": "A1",
                "trigger_id": f"trig{next(self._ids)}",
                "container": {"type": "message", "message_ts": message_ts, "channel_id": channel},
                "channel": {"id": channel},
                "response_url": self.fake.response_url(f"act{next(self._ids)}"),
                "actions": [
                    {
                        "type": "button",
                        "action_id": button["action_id"],
                        "value": button.get("value"),
                        "block_id": "b",
                        "action_ts": str(time.time()),
                    }
                ],
            }
        )

    async def event(
        self, event: dict[str, Any], *, event_id: str | None = None, retry: int | None = None
    ) -> int:
        body = json.dumps(
            {
                "type": "event_callback",
                "team_id": "T1",
                "api_app_id": "A1",
                "event": event,
                "event_id": event_id or f"Ev{next(self._ids)}",
                "event_time": int(time.time()),
                "authorizations": [{"user_id": BOT_USER, "is_bot": True, "team_id": "T1"}],
            }
        )
        extra = (
            {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
            if retry
            else {}
        )
        return await self.post(body, "application/json", **extra)


def buttons(call: Call) -> list[dict[str, Any]]:
    """Every button element in a recorded message, in order."""
    found: list[dict[str, Any]] = []
    blocks = call.params.get("blocks") or (call.params.get("view") or {}).get("blocks") or []
    for block in blocks:
        if block.get("accessory", {}).get("type") == "button":
            found.append(block["accessory"])
        found.extend(e for e in block.get("elements", []) if e.get("type") == "button")
    return found


def button(call: Call, label_start: str) -> dict[str, Any]:
    for element in buttons(call):
        if element["text"]["text"].lower().startswith(label_start.lower()):
            return element
    raise AssertionError(
        f"no button {label_start!r} in {[b['text']['text'] for b in buttons(call)]}"
    )
