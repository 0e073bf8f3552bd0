"""A local OpenAI: Chat Completions on 127.0.0.1 (port 0) in the real wire format, so the real
`openai` client (OpenAI and Azure shapes) talks to it unchanged. It records every request on
arrival, answers, fails or hangs on demand, counts requests in flight exactly, and lets tests
wait for a request instead of sleeping. `python -m tests.fakes.openai` serves a benchmark."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web


class _Headers(dict[str, str]):
    """Headers as received, looked up case-insensitively, as HTTP means them."""

    def _key(self, key: object) -> str:
        return next((k for k in self.keys() if k.lower() == str(key).lower()), str(key))

    def __missing__(self, key: str) -> str:
        if (found := self._key(key)) == key:
            raise KeyError(key)
        return self[found]

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self, self._key(key))

    def get(self, key: str, default: Any = None) -> Any:
        return dict.get(self, self._key(key), default)


@dataclass
class Recorded:
    """One request as it arrived, so tests can assert on what the bot really sent."""

    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages") or [])

    @property
    def prompt_text(self) -> str:
        """Every message's text (string or text parts) joined, for assertions and responders."""
        texts: list[str] = []
        for message in self.messages:
            content = message.get("content")
            if isinstance(content, list):
                texts.extend(str(p.get("text", "")) for p in content if isinstance(p, dict))
            elif content is not None:
                texts.append(str(content))
        return "\n".join(texts)


@dataclass(frozen=True)
class Answer:
    """A 200 chat.completion; dict content is sent as JSON text, as a JSON-mode model does."""

    content: str | dict[str, Any]
    prompt_tokens: int = 100
    completion_tokens: int = 50
    delay: float = 0.0
    finish_reason: str = "stop"


@dataclass(frozen=True)
class Failure:
    """An HTTP error in OpenAI's own body shape, so the client raises its real exception."""

    status: int
    retry_after: float | None = None
    message: str = "fake failure"
    delay: float = 0.0


@dataclass(frozen=True)
class Hang:
    """No answer until release() or close(): for client timeouts."""


Behaviour = Answer | Failure | Hang
Responder = Callable[[Recorded], Behaviour]
_ERROR_KINDS = {429: ("requests", "rate_limit_exceeded"), 503: ("server_error", "overloaded")}


class FakeOpenAI:
    """The server; `responder` answers whatever `script()` has not claimed."""

    def __init__(self, responder: Responder | None = None) -> None:
        self.responder: Responder = responder or (lambda _r: Answer("{}"))
        self.url = ""
        self.azure_endpoint = ""
        self.requests: list[Recorded] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._scripted: deque[Behaviour] = deque()
        self._changed = asyncio.Condition()
        self._released = asyncio.Event()  # replaced on each release(): later hangs hang again
        self._gate = asyncio.Event()
        self._gate.set()
        self._closing = asyncio.Event()
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None

    def script(self, *behaviours: Behaviour) -> None:
        """The next requests get these, in arrival order; then the responder again."""
        self._scripted.extend(behaviours)

    async def start(self, port: int = 0) -> None:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/openai/deployments/{deployment}/chat/completions", self._chat)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        # A deep backlog: a benchmark opens hundreds of connections at the same instant.
        await web.TCPSite(self._runner, "127.0.0.1", port, backlog=1024).start()
        bound = self._runner.addresses[0][1]
        self.azure_endpoint = f"http://127.0.0.1:{bound}"
        self.url = f"{self.azure_endpoint}/v1"

    async def close(self) -> None:
        """Ends hangs, the gate and delays first, so stopping never waits on a test's setup."""
        self._closing.set()
        self.release()
        self.open_gate()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def release(self) -> None:
        """Every Hang that has arrived gets a 503; hangs arriving later hang again."""
        self._released.set()
        self._released = asyncio.Event()

    def hold(self) -> None:
        self._gate.clear()

    def open_gate(self) -> None:
        self._gate.set()

    async def wait_for(
        self,
        count: int = 1,
        predicate: Callable[[Recorded], bool] = lambda _r: True,
        *,
        within: float = 15.0,
    ) -> list[Recorded]:
        """Wait until `count` requests match; a condition variable, never a sleep."""

        def matching() -> list[Recorded]:
            return [r for r in self.requests if predicate(r)]

        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(lambda: len(matching()) >= count)
        return matching()

    async def wait_in_flight(self, n: int, *, within: float = 15.0) -> None:
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(lambda: self.in_flight >= n)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _pause(self, seconds: float) -> None:
        """A behaviour's delay, cut short by close()."""
        if seconds > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), seconds)

    async def _chat(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = None
        body = body if isinstance(body, dict) else {}
        recorded = Recorded(request.path, dict(request.query), _Headers(request.headers), body)
        self.requests.append(recorded)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        released = self._released  # a release() after arrival ends it, even behind the gate
        try:
            await self._notify()
            behaviour = self._scripted.popleft() if self._scripted else self.responder(recorded)
            await self._gate.wait()
            return await self._behave(behaviour, recorded, released)
        finally:  # before aiohttp sends: a client holding its answer sees it uncounted
            self.in_flight -= 1
            await self._notify()

    async def _behave(
        self, behaviour: Behaviour, recorded: Recorded, released: asyncio.Event
    ) -> web.Response:
        n = next(self._ids)
        headers = {"x-request-id": f"req_fake{n:06d}"}
        if isinstance(behaviour, Hang):
            if not self._closing.is_set():
                await released.wait()
            behaviour = Failure(503, message="released hang")
        await self._pause(behaviour.delay)
        if isinstance(behaviour, Failure):
            if behaviour.retry_after is not None:
                headers["Retry-After"] = f"{behaviour.retry_after:g}"
            fallback = "server_error" if behaviour.status >= 500 else "invalid_request_error"
            kind, code = _ERROR_KINDS.get(behaviour.status, (fallback, fallback))
            error = {"message": behaviour.message, "type": kind, "param": None, "code": code}
            return web.json_response({"error": error}, status=behaviour.status, headers=headers)
        content = behaviour.content
        text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
        message = {"role": "assistant", "content": text, "refusal": None}
        choice = {"index": 0, "message": message, "logprobs": None}
        prompt, completion = behaviour.prompt_tokens, behaviour.completion_tokens
        usage = {"prompt_tokens": prompt, "completion_tokens": completion}
        answer = {
            "id": f"chatcmpl-fake{n:06d}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": recorded.body.get("model", "fake-model"),
            "choices": [choice | {"finish_reason": behaviour.finish_reason}],
            "usage": usage | {"total_tokens": prompt + completion},
            "system_fingerprint": None,
        }
        return web.json_response(answer, headers=headers)


_URL = re.compile(r"https?://\S+")


def numbered_drafts(delay: float) -> Responder:
    """Answers, after `delay`, drafts unique per request that quote the prompt's first URL."""
    counter = itertools.count(1)

    def respond(recorded: Recorded) -> Behaviour:
        n = next(counter)
        found = _URL.search(recorded.prompt_text)
        url = found.group(0) if found else ""
        drafts = {
            "linkedin": f"Draft {n} for LinkedIn: worth a read, {url}",
            "x": f"Draft {n} for X: {url}",
            "angle": f"angle {n}",
        }
        return Answer(drafts, delay=delay)

    return respond


def run_forever(port: int, delay: float, port_file: str | None = None) -> None:
    """Serves `numbered_drafts(delay)` until killed; writes the bound port once listening."""

    async def serve() -> None:
        fake = FakeOpenAI(numbered_drafts(delay))
        await fake.start(port)
        bound = fake.azure_endpoint.rsplit(":", 1)[1]
        if port_file:
            partial = f"{port_file}.partial"
            with open(partial, "w") as out:  # noqa: ASYNC230 - once, before serving
                out.write(bound)
            os.replace(partial, port_file)  # a reader never sees half a port
        print(f"fake OpenAI on {fake.url}", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await fake.close()

    asyncio.run(serve())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay", type=float, default=2.0)
    parser.add_argument("--port-file")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C ends a manual run quietly
        run_forever(args.port, args.delay, args.port_file)
