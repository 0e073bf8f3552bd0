"""Pure translators for the console: an input line → a console action, a message → text.

No I/O here: `transport.py` reads lines, keeps the little state a chat client would have
(who is speaking, what each person was last shown) and prints what this module renders.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from bot.i18n import Translator
from bot.messages import (
    Actions,
    AnyButton,
    Audience,
    Data,
    DigestItem,
    Heading,
    LinkButton,
    Message,
    Note,
    Paragraph,
    Quote,
    Table,
)
from bot.views import KEYCAPS

REACTIONS = {
    name: number
    for number, name in enumerate(
        ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "keycap_ten"),
        start=1,
    )
} | {emoji: number for number, emoji in enumerate(KEYCAPS, start=1)}


@dataclass(frozen=True)
class SlashCommand:
    text: str


@dataclass(frozen=True)
class SwitchUser:
    name: str
    language: str | None


@dataclass(frozen=True)
class Click:
    label: str  # a label prefix, or a 1-based number


@dataclass(frozen=True)
class React:
    emoji: str


@dataclass(frozen=True)
class ThreadReply:
    text: str


@dataclass(frozen=True)
class ConsoleHelp:
    pass


@dataclass(frozen=True)
class Blank:
    pass


@dataclass(frozen=True)
class Unknown:
    line: str


Line = SlashCommand | SwitchUser | Click | React | ThreadReply | ConsoleHelp | Blank | Unknown


def _after(word: str, line: str) -> str | None:
    head, _, rest = line.partition(" ")
    return rest.strip() if head.lower() == word else None


def parse_line(raw: str) -> Line:
    """One console line. `#` starts a comment (a `#` inside a command's text is kept)."""
    line = raw.strip()
    if not line or line.startswith("#"):
        return Blank()
    if line.lower() == "help":
        return ConsoleHelp()
    for prefix in ("/ambassador", "/ambassadeur"):
        if line.lower() == prefix or line.lower().startswith(prefix + " "):
            return SlashCommand(line[len(prefix) :].strip())
    if (rest := _after("as", line)) is not None:
        parts = rest.split()
        if len(parts) in (1, 2):
            return SwitchUser(parts[0], parts[1].lower() if len(parts) == 2 else None)
        return Unknown(line)
    if (rest := _after("click", line)) is not None and rest:
        return Click(rest)
    if (rest := _after("react", line)) is not None and rest:
        return React(rest.strip(":").lower())
    if (rest := _after("reply", line)) is not None and rest:
        return ThreadReply(rest)
    return Unknown(line)


def find_button(buttons: list[AnyButton], wanted: str) -> AnyButton | None:
    """`click 2` → the second button; `click claim 2` → exact label first, then prefix."""
    if wanted.isdigit():
        index = int(wanted) - 1
        return buttons[index] if 0 <= index < len(buttons) else None
    folded = wanted.casefold()
    for button in buttons:
        if button.label.casefold() == folded:
            return button
    for button in buttons:
        if button.label.casefold().startswith(folded):
            return button
    return None


def _wrap(text: str, indent: str, width: int | None) -> list[str]:
    """Wrap for a terminal; piped output keeps one line per paragraph (easy to grep)."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        if width is None:
            lines.append((indent + paragraph).rstrip() or indent.rstrip())
            continue
        wrapped = textwrap.wrap(paragraph, width, initial_indent=indent, subsequent_indent=indent)
        lines.extend(wrapped or [indent.rstrip()])
    return lines


def _buttons(buttons: tuple[AnyButton, ...], start: int, t: Translator) -> list[str]:
    parts = []
    for offset, button in enumerate(buttons):
        label = f"[{start + offset}] {button.label}"
        if isinstance(button, LinkButton):
            label += " ↗"
        parts.append(label)
    return ["  " + "   ".join(parts)] if parts else []


def _table(table: Table) -> list[str]:
    rows = [table.columns, *table.rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(table.columns))]
    out = [
        "  " + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip()
        for row in rows
    ]
    out.insert(1, "  " + "  ".join("-" * w for w in widths))
    return out


def render(message: Message, t: Translator, *, recipient: str, width: int | None = None) -> str:
    """A message as readable text, buttons numbered in reading order."""
    where = {
        Audience.REQUESTER: t("console.to_you"),
        Audience.DIRECT: t("console.direct"),
        Audience.CHANNEL: t("console.channel"),
    }[message.audience]
    who = "" if message.audience is Audience.CHANNEL else f" ({recipient})"
    lines = [f"── Ambassador · {where}{who} ──"]
    number = 1
    for block in message.blocks:
        if isinstance(block, Heading):
            lines.append(f"** {block.text} **")
        elif isinstance(block, Paragraph):
            lines.extend(_wrap(block.text, "", width))
        elif isinstance(block, Note):
            lines.extend(_wrap(block.text, "  · ", width))
        elif isinstance(block, Quote):
            if block.label:
                lines.append(f"▸ {block.label}")
            lines.extend(_wrap(block.text, "  │ ", width))
        elif isinstance(block, DigestItem):
            keycap = KEYCAPS[block.number - 1] if block.number <= len(KEYCAPS) else block.number
            lines.append(f"{keycap} {block.title}")
            if block.label:
                lines.append(f"   {block.label}")
            lines.append(f"   {block.url}")
            if block.summary:
                lines.extend(_wrap(block.summary, "   ", width))
            lines.extend(_buttons(block.buttons, number, t))
            number += len(block.buttons)
        elif isinstance(block, Actions):
            lines.extend(_buttons(block.buttons, number, t))
            number += len(block.buttons)
        elif isinstance(block, Table):
            lines.extend(_table(block))
        elif isinstance(block, Data):
            lines.append(f"[{block.filename}]")
            lines.extend(block.content.splitlines())
    return "\n".join(lines)
