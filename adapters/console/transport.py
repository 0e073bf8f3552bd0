"""The console transport: read lines, keep what a chat client would remember, print replies.

It remembers, like a chat client, who is typing, which message each person saw last (for
`click`), the latest digest (for `react`) and each person's latest draft message (for
`reply`). Everything else is the core's business.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TextIO

from adapters.console.translate import (
    REACTIONS,
    Blank,
    Click,
    ConsoleHelp,
    React,
    SlashCommand,
    SwitchUser,
    ThreadReply,
    Unknown,
    find_button,
    parse_line,
    render,
)
from bot.app import Ambassador
from bot.commands import Actor, Command, Via, parse
from bot.errors import AmbassadorError
from bot.i18n import LANGUAGES, Translator
from bot.messages import Anchor, Audience, LinkButton, Message, Reply

log = logging.getLogger(__name__)
PLATFORM = "console"


@dataclass
class _Shown:
    message: Message
    recipient: str | None  # None: everyone (the digest channel)


class ConsoleSession:
    """One console conversation with the core; `feed` takes one input line."""

    def __init__(
        self,
        core: Ambassador,
        out: TextIO,
        *,
        user: str = "you",
        echo: bool = False,
        width: int | None = None,
    ) -> None:
        self.core = core
        self.out = out
        self.echo = echo
        self.width = width
        self.actor = Actor(PLATFORM, user)
        self.shown: list[_Shown] = []
        self.latest_digest: Anchor | None = None
        self.latest_draft: dict[str, Anchor] = {}

    @property
    def t(self) -> Translator:
        return self.core.translator(self.actor.language)

    def _notice(self, key: str, **params: str) -> None:
        self.out.write(f"(console) {self.t(key, **params)}\n\n")

    def intro(self) -> None:
        self.out.write(self.t("console.intro", user=self.actor.user_id) + "\n")
        if not (self.core.settings.admins or self.core.settings.managers):
            self.out.write(self.t("console.no_roles") + "\n")
        self.out.write("\n")

    async def run(self, lines: Iterable[str]) -> None:
        for line in lines:
            await self.feed(line)

    async def feed(self, raw: str) -> None:
        if self.echo and raw.strip():
            self.out.write(f"{self.actor.user_id}> {raw.rstrip()}\n")
        try:
            await self._dispatch(raw)
        except AmbassadorError as error:
            self.out.write(self.t(error.key, **error.params) + "\n\n")
        except Exception:
            log.exception("console line failed")
            self._notice("console.internal")

    async def _dispatch(self, raw: str) -> None:
        line = parse_line(raw)
        match line:
            case Blank():
                return
            case ConsoleHelp():
                self.out.write(self.t("console.help") + "\n\n")
            case SwitchUser(name=name, language=language):
                if language is not None and language not in LANGUAGES:
                    self._notice("console.user_error")
                    return
                self.actor = Actor(PLATFORM, name, language)
            case SlashCommand(text=text):
                await self._send(parse(self.actor, text))
            case Click(label=label):
                await self._click(label)
            case React(emoji=emoji):
                await self._react(emoji)
            case ThreadReply(text=text):
                await self._reply(text)
            case Unknown():
                self._notice("console.unknown")

    def _visible(self) -> list[Message]:
        """Messages this person was shown, newest first."""
        return [
            shown.message
            for shown in reversed(self.shown)
            if shown.recipient in (None, self.actor.user_id)
        ]

    async def _click(self, label: str) -> None:
        """Press a button in the newest message that has one matching, as a person
        scrolling up would; `click N` counts in the newest message with buttons."""
        with_buttons = [m for m in self._visible() if m.buttons()]
        if not with_buttons:
            self._notice("console.no_buttons")
            return
        candidates = with_buttons[:1] if label.isdigit() else with_buttons
        button = next(
            (found for m in candidates if (found := find_button(m.buttons(), label))), None
        )
        if button is None:
            self._notice("console.no_button", label=label)
        elif isinstance(button, LinkButton):
            self._notice("console.opens", url=button.url)
        else:
            await self._send(Command(self.actor, button.command, button.args, via=Via.BUTTON))

    async def _react(self, emoji: str) -> None:
        number = REACTIONS.get(emoji)
        if number is None:
            self._notice("console.bad_emoji")
        elif self.latest_digest is None:
            self._notice("console.no_digest")
        else:
            command = Command(
                self.actor, "claim", (str(number),), via=Via.REACTION, anchor=self.latest_digest
            )
            await self._send(command)

    async def _reply(self, text: str) -> None:
        anchor = self.latest_draft.get(self.actor.user_id)
        if anchor is None:
            self._notice("console.no_draft")
            return
        command = Command(
            self.actor, "revise", tuple(text.split()), text, via=Via.REPLY, anchor=anchor
        )
        await self._send(command)

    async def _send(self, command: Command) -> None:
        await self.core.run(command, self._show)

    async def _show(self, reply: Reply) -> None:
        self.show(reply)

    def show(self, reply: Reply) -> None:
        user = self.actor.user_id
        for message in reply.messages:
            everyone = message.audience is Audience.CHANNEL
            self.shown.append(_Shown(message, None if everyone else user))
            if message.anchor is not None and message.anchor.kind == "digest":
                self.latest_digest = message.anchor
            if message.anchor is not None and message.anchor.kind == "claim":
                self.latest_draft[user] = message.anchor
            t = self.t if not everyone else self.core.translator(None)
            self.out.write(render(message, t, recipient=user, width=self.width) + "\n\n")
