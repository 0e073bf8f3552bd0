"""The neutral message model: what the core says, before any platform renders it.

Blocks are intent-level (a paragraph, a digest item, a row of buttons); Slack renders them
as Block Kit, Teams as an Adaptive Card, the console as text. Texts here are plain: the
adapters escape them for their markup.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Audience(StrEnum):
    """Who sees a message."""

    REQUESTER = "requester"  # only the person who acted (Slack: ephemeral)
    DIRECT = "direct"  # a direct message to the person who acted
    CHANNEL = "channel"  # the programme's digest channel, everyone


@dataclass(frozen=True)
class Confirm:
    """A confirmation a platform shows before a destructive button takes effect."""

    title: str
    text: str
    confirm: str
    deny: str


@dataclass(frozen=True)
class Button:
    """A button that sends `command` with `args` back to the router when pressed."""

    label: str
    command: str
    args: tuple[str, ...] = ()
    style: str | None = None  # "primary" | "danger" | None
    confirm: Confirm | None = None


@dataclass(frozen=True)
class LinkButton:
    """A button that opens a web page (share intents); the bot is not told of the click."""

    label: str
    url: str


AnyButton = Button | LinkButton


@dataclass(frozen=True)
class Heading:
    text: str


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Quote:
    """Text meant to be copied as it is (a draft post)."""

    text: str
    label: str | None = None


@dataclass(frozen=True)
class DigestItem:
    number: int
    title: str
    url: str
    summary: str | None
    buttons: tuple[AnyButton, ...] = ()
    label: str | None = None  # what it is and where from: "Job offer · ACME Careers"
    image_url: str | None = None  # the page's own preview image, shown small where it can be


@dataclass(frozen=True)
class Actions:
    buttons: tuple[AnyButton, ...]


@dataclass(frozen=True)
class Note:
    """Small print: the voluntary-and-unpaid footer, charter reminders."""

    text: str


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Data:
    """A document for the person to keep (their data export): a file where the platform can."""

    filename: str
    content: str


Block = Heading | Paragraph | Quote | DigestItem | Actions | Note | Table | Data


@dataclass(frozen=True)
class Anchor:
    """What a message is about, so replies and reactions to it find their way back.

    `kind` is `digest` (id: digest id) or `claim` (id: claim id, the draft thread).
    """

    kind: str
    id: int


@dataclass(frozen=True)
class Message:
    text: str  # a one-line summary: notification text and plain fallback
    blocks: tuple[Block, ...] = ()
    audience: Audience = Audience.REQUESTER
    anchor: Anchor | None = None
    channel: str | None = None  # for CHANNEL messages: where (None: the platform's default)
    key: str | None = None  # names this message, so a later one can take its place
    replaces: str | None = None  # the key of a message this one replaces where it was shown

    def buttons(self) -> list[AnyButton]:
        """Every button in reading order (the console numbers them this way)."""
        found: list[AnyButton] = []
        for block in self.blocks:
            if isinstance(block, DigestItem | Actions):
                found.extend(block.buttons)
        return found


@dataclass(frozen=True)
class DraftJob:
    """A draft the core writes after its reply has been shown (a model takes seconds): the
    adapter hands it back to `Ambassador.finish`, and shows what that returns."""

    claim_id: int
    language: str
    instruction: str | None = None
    first: bool = True  # a first draft: if one exists by then, that one is shown instead
    placeholder: str | None = None  # the key of the "drafting…" message the draft replaces
    confirm: str | None = None  # catalog key of a confirmation to say after the draft
    notes: tuple[str, ...] = ()  # catalog keys to show with the draft
    asked_at: float | None = None  # time.monotonic() when the member asked: the deadline


@dataclass(frozen=True)
class Reply:
    """Everything the core wants said in answer to one command, in order; `later` is work
    still to do once these messages are shown."""

    messages: tuple[Message, ...] = field(default_factory=tuple)
    later: tuple[DraftJob, ...] = field(default_factory=tuple)

    @classmethod
    def say(cls, text: str, *blocks: Block, audience: Audience = Audience.REQUESTER) -> Reply:
        return cls((Message(text, blocks or (Paragraph(text),), audience),))

    def __add__(self, other: Reply) -> Reply:
        return Reply(self.messages + other.messages, self.later + other.later)
