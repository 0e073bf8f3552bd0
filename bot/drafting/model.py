"""Drafts written by a language model (any OpenAI-compatible Chat Completions server).

Never slower, never stuck: each draft has one deadline (`timeout`), counted from the moment
it is asked for, queueing included. Rate limits are waited out when their Retry-After fits
in what is left, a server error is tried once more, and anything else — a timeout, a reply
that is not the JSON asked for — hands the request to the template drafter, whose draft
says it is a simpler suggestion. Failures are logged by kind only: never the prompt, which
holds the member's own words.

At most `concurrency` calls are in flight; the others wait in arrival order (`Slots`).
The model itself is behind `ChatModel` (the openai client lives in `adapters/model/`).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any, Protocol

from pydantic import ValidationError

from bot.drafting import finish, prompt
from bot.drafting.base import Drafter, DraftRequest, DraftResult, Usage, x_length
from bot.i18n import Translator

log = logging.getLogger(__name__)

SERVER_ERROR_PAUSE = 0.5  # seconds before the one retry of a 5xx or a dropped connection
MAX_ATTEMPTS = 4  # calls per draft at most: rate-limit waits, one server retry, one re-ask
SIMPLER = "drafting.simpler"  # the note on a template draft standing in for the model's
_SLUG = re.compile(r"[^a-z0-9]+")


class Slots:
    """At most `size` holders at once; the rest are served strictly in arrival order."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._free = size
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    @property
    def in_use(self) -> int:
        return self.size - self._free

    @property
    def waiting(self) -> int:
        return sum(not waiter.done() for waiter in self._waiters)

    @contextlib.asynccontextmanager
    async def hold(self) -> AsyncIterator[None]:
        if self._free and not self._waiters:
            self._free -= 1
        else:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._release()  # the slot came just as the wait was given up
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
                raise
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot passes straight to the next in line
                return
        self._free += 1


@dataclass(frozen=True)
class Completion:
    """What a model answered: its text, and the tokens the call cost."""

    content: str | None
    prompt_tokens: int = 0
    completion_tokens: int = 0


class ModelUnavailable(Exception):
    """A call that produced no completion. `kind`: rate_limited (with `retry_after`
    seconds when the server said), server_error, timeout or error."""

    def __init__(self, kind: str, retry_after: float | None = None) -> None:
        super().__init__(kind)
        self.kind = kind
        self.retry_after = retry_after


class ChatModel(Protocol):
    """One Chat Completions call asking for JSON of `response_format`'s schema."""

    async def complete(
        self, messages: list[dict[str, str]], *, response_format: dict[str, Any], time_left: float
    ) -> Completion: ...


class _Failed(Exception):
    """One draft's model calls gave up; `outcome` says how (for logs and figures)."""

    def __init__(self, outcome: str) -> None:
        super().__init__(outcome)
        self.outcome = outcome


class ModelDrafter:
    """A `Drafter` backed by a Chat Completions model, with `fallback` for every failure."""

    instant = False

    def __init__(
        self,
        model: ChatModel,
        *,
        timeout: float,
        concurrency: int,
        fallback: Drafter,
        monotonic: Any = time.monotonic,
    ) -> None:
        self.model = model
        self.timeout = timeout
        self.slots = Slots(concurrency)
        self.fallback = fallback
        self._monotonic = monotonic

    async def draft(self, request: DraftRequest) -> DraftResult:
        started = self._monotonic() if request.asked_at is None else request.asked_at
        calls: list[Usage] = []
        try:
            async with asyncio.timeout(max(0.0, started + self.timeout - self._monotonic())):
                async with self.slots.hold():
                    return await self._ask(request, calls, started)
        except TimeoutError:
            outcome = "timeout"
            calls.append(Usage(0, 0, outcome))
        except _Failed as failure:
            outcome = failure.outcome
        log.warning(
            "model draft failed (%s) after %.1f s; the template drafter answered",
            outcome,
            self._monotonic() - started,
        )
        simpler = await self.fallback.draft(request)
        return replace(simpler, notes=(*simpler.notes, SIMPLER), usage=tuple(calls))

    async def _ask(self, request: DraftRequest, calls: list[Usage], started: float) -> DraftResult:
        t = Translator(request.style.language)
        disclosure = t("draft.disclosure", company=request.company)
        conversation = prompt.messages(request, disclosure=disclosure)
        server_retried = asked_shorter = False
        for _ in range(MAX_ATTEMPTS):
            left = self.timeout - (self._monotonic() - started)
            try:
                answer = await self.model.complete(
                    conversation, response_format=prompt.RESPONSE_FORMAT, time_left=max(0.1, left)
                )
            except ModelUnavailable as error:
                calls.append(Usage(0, 0, error.kind))
                left = self.timeout - (self._monotonic() - started)
                if error.kind == "rate_limited" and error.retry_after is not None:
                    if error.retry_after >= left:
                        raise _Failed(error.kind) from None
                    await asyncio.sleep(error.retry_after)
                    continue
                if error.kind == "server_error" and not server_retried:
                    server_retried = True
                    await asyncio.sleep(SERVER_ERROR_PAUSE)
                    continue
                raise _Failed(error.kind) from None
            suggestion = self._parse(answer.content)
            if suggestion is None:
                calls.append(Usage(answer.prompt_tokens, answer.completion_tokens, "invalid"))
                raise _Failed("invalid")
            linkedin = finish.complete(
                suggestion.linkedin, url=request.url, disclosure=disclosure, separator="\n\n"
            )
            x = finish.complete(suggestion.x, url=request.url, disclosure=disclosure, separator=" ")
            fits = finish.linkedin_fits(linkedin) and finish.x_fits(x)
            if not fits and not asked_shorter:
                calls.append(Usage(answer.prompt_tokens, answer.completion_tokens, "too_long"))
                asked_shorter = True
                conversation = [
                    *conversation,
                    {"role": "assistant", "content": answer.content or ""},
                    {"role": "user", "content": prompt.too_long(linkedin, x_length(x))},
                ]
                continue
            calls.append(Usage(answer.prompt_tokens, answer.completion_tokens, "ok"))
            if not fits:
                linkedin = finish.trim_linkedin(linkedin, url=request.url, disclosure=disclosure)
                x = finish.trim_x(x, url=request.url, disclosure=disclosure)
            angle = suggestion.angle[:60]
            return DraftResult(
                linkedin=linkedin,
                x=x,
                variant=f"model.{request.style.language}.{_SLUG.sub('-', angle.lower())}"[:64],
                language=request.style.language,
                angle=angle,
                source="model",
                usage=tuple(calls),
            )
        raise _Failed("rate_limited")

    @staticmethod
    def _parse(content: str | None) -> prompt.Suggestion | None:
        try:
            return prompt.Suggestion.model_validate(json.loads(content or ""))
        except (TypeError, ValueError, ValidationError):
            return None
