"""Small argument checks shared by handlers: bad input fails before anything is touched."""

from __future__ import annotations

from bot.commands import Command
from bot.errors import InvalidInput, UsageError


def number(value: str, *, what: str = "number") -> int:
    try:
        parsed = int(value.lstrip("#"))
    except ValueError as exc:
        raise InvalidInput("error.not_a_number", value=value[:20], what=what) from exc
    if parsed < 1 or parsed > 2**31 - 1:
        raise InvalidInput("error.not_a_number", value=value[:20], what=what)
    return parsed


def exactly(command: Command, count: int, usage: str) -> tuple[str, ...]:
    if len(command.args) != count:
        raise UsageError("error.usage_of", usage=usage)
    return command.args


def optional_item(value: str) -> int | None:
    """The pending-claim argument buttons carry ('' when there is none)."""
    return number(value) if value else None


def text_after(command: Command, word: str) -> str | None:
    """What follows `word` on the typed line, as typed (a title, a reason, a "why");
    None when nothing does."""
    start = command.rest.find(word)
    if start < 0:  # a button press: arguments, no typed line
        return None
    return command.rest[start + len(word) :].strip() or None
