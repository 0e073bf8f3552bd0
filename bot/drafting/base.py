"""The seam every drafter plugs into: the request, the result, the limits of each network."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol

from bot.drafting.instructions import Style
from bot.kinds import ARTICLE

X_LIMIT = 280
X_URL_LENGTH = 23
LINKEDIN_LIMIT = 3_000
_URL = re.compile(r"https?://\S+")


def x_length(text: str) -> int:
    """Length as X counts it: a URL is 23, most scripts 1 per character, CJK and emoji 2."""
    total = 0
    for part_index, part in enumerate(_URL.split(text)):
        if part_index:
            total += X_URL_LENGTH
        for char in part:
            code = ord(char)
            light = code <= 0x10FF or 0x2000 <= code <= 0x200D or 0x2010 <= code <= 0x201F
            light = light or 0x2032 <= code <= 0x2037
            total += 1 if light else 2
    return total


@dataclass(frozen=True)
class Given:
    """A draft someone else already received for the same item: what a new one must not
    resemble (principle 4)."""

    linkedin: str
    x: str


@dataclass(frozen=True)
class DraftRequest:
    title: str
    url: str
    summary: str | None
    company: str
    style: Style
    taken: tuple[str, ...] = ()  # variants other members already hold for this item
    own: tuple[str, ...] = ()  # variants this member already had (revisions move on)
    others: tuple[Given, ...] = ()  # texts other members already hold for this item
    instructions: tuple[str, ...] = ()  # the member's own wishes for this claim, oldest first
    avoid: tuple[str, ...] = ()  # angles already taken, for a drafter that can choose one
    asked_at: float | None = None  # time.monotonic() when the member asked: a slow drafter's
    # deadline counts from it, so asking again for another angle never extends it
    kind: str = ARTICLE  # what the item is (bot/kinds.py): a job offer's draft invites
    # people to apply, an event's to come, a training's to learn; any other value drafts as
    # an article


@dataclass(frozen=True)
class Usage:
    """One model call, for the cost figures: tokens spent and how the call ended."""

    prompt_tokens: int
    completion_tokens: int
    outcome: str  # ok | too_long | invalid | timeout | rate_limited | server_error | error


@dataclass(frozen=True)
class DraftResult:
    linkedin: str
    x: str
    variant: str
    language: str
    notes: tuple[str, ...] = field(default_factory=tuple)  # catalog keys to show alongside
    angle: str = ""  # a short label of the draft's angle (model drafts)
    source: str = "template"  # "template" | "model": who wrote it
    usage: tuple[Usage, ...] = ()  # the model calls behind this result, failed ones included


class Drafter(Protocol):
    """Anything that turns a request into drafts: the template drafter, a model.

    `instant` drafters answer in microseconds, so the bot drafts before it answers; the
    others get a "drafting…" message first, replaced by the draft when it is ready."""

    instant: bool

    async def draft(self, request: DraftRequest) -> DraftResult: ...
