"""Inbound, platform-neutral: who acts (`Actor`) and what they asked for (`Command`)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.errors import UsageError
from bot.messages import Anchor

MAX_COMMAND_LENGTH = 4_000


@dataclass(frozen=True)
class Actor:
    """A person on one platform. `language` is what the platform says of them, if anything."""

    platform: str
    user_id: str
    language: str | None = None


class Via(StrEnum):
    TEXT = "text"  # typed: `/ambassador …` or a message to the bot
    BUTTON = "button"
    REACTION = "reaction"
    REPLY = "reply"  # a reply in a thread the bot started


@dataclass(frozen=True)
class Command:
    """One request to the router: a name, its arguments and the raw text after the name."""

    actor: Actor
    name: str
    args: tuple[str, ...] = ()
    rest: str = ""
    via: Via = Via.TEXT
    anchor: Anchor | None = None


def parse(actor: Actor, text: str, *, anchor: Anchor | None = None) -> Command:
    """Parse what follows `/ambassador` (or what was typed to the bot) into a command.

    Blank input means `help`. The name is case-insensitive; `rest` keeps the original
    spacing and case of everything after it, for titles and charter texts.
    """
    if len(text) > MAX_COMMAND_LENGTH:
        raise UsageError("error.too_long", limit=MAX_COMMAND_LENGTH)
    stripped = text.strip()
    if not stripped:
        return Command(actor, "help", anchor=anchor)
    # Any whitespace ends the name ("claim\t2", "add\nURL"), not only a space.
    head, *after = stripped.split(maxsplit=1)
    rest = after[0] if after else ""
    return Command(actor, head.lower(), tuple(rest.split()), rest, Via.TEXT, anchor)
