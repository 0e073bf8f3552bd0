r"""The neutral message model → Bot Framework activities with Adaptive Cards: Teams' twin of
the Slack renderer.

Pure: plain dicts in Bot Framework camelCase, no botbuilder, no I/O. Paragraphs alone are
a markdown text message; anything else is one Adaptive Card 1.5, the highest every Teams
client renders. A `Data` block cannot be a file in chat without the file-consent flow, so
its content goes in monospace chunks, one activity each, numbered " (2/5)".

Escaping. Core texts are plain and may be hostile. Teams reads TextBlock text as a Markdown
subset (bold, italic, lists, links: learn.microsoft.com/microsoftteams/platform/
task-modules-and-cards/cards/cards-format) and formats `{{DATE(…)}}`. Entities are no
escape: the mobile renderer turns `<>&"` into entities before parsing (AdaptiveCards,
shared/cpp/ObjectModel/MarkDownParser.cpp), desktop decodes them. CommonMark backslash
escapes work everywhere since microsoft/Teams-AdaptiveCards-Mobile#58 and #83 (mobile used
to show the backslash: microsoft/AdaptiveCards#5590, MicrosoftDocs/msteams-docs#5793), so
`escape` puts one before what can open markup, and only there: always \ * _ ` ~ [ ] < > {;
`(` after `]` (old mobile parsers link any `](`); `&` starting an entity; at a line start
- + = # and the dot of "1.". Leading spaces become no-break spaces (four make code), a line
break is a blank line (what a TextBlock shows). Mentions need an `msteams.entities` entry,
never emitted. Link targets are percent-encoded down to characters that cannot end them.
Text people must get exactly (a draft to copy, an export) is a TextRun, where "Markdown is
not supported" (Adaptive Cards schema): neither escaped nor read.

Size. Every activity stays within `BUDGET` as `json.dumps` writes it, ASCII escapes and
all: what botframework-connector sends, never less than its UTF-8. What the transport adds
(from, recipient, conversation, serviceUrl) still leaves it under `MAX_BYTES`. A card too
big first shows its tables as monospace text, then clips its longest texts (marked `…`) to
a common length found by bisection, and only then drops its last elements for a
`CUT_MARKER`.
Content never makes this raise; a core button whose command or args could not come back
intact is a bug in the core, and does.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields, is_dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from bot.messages import (
    Actions,
    AnyButton,
    Block,
    Button,
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
from bot.services import content
from bot.views import KEYCAPS

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CARD_VERSION = "1.5"
ACTION_KEY = "amb"  # Action.Submit data: {"amb": command, "args": [...]}
ARGS_KEY = "args"

MAX_BYTES = 27_000  # one activity as JSON, as sent; Teams refuses about 28 KB
ENVELOPE_BYTES = 1_500  # left in MAX_BYTES for what the transport adds: ids, names, URLs
BUDGET = MAX_BYTES - ENVELOPE_BYTES  # what every activity returned here is within
MAX_ACTIONS = 6  # actions Teams shows in one ActionSet
MAX_TITLE = 75  # an action's title
MAX_SUMMARY = 200  # the notification text
MAX_NAME = 200  # a data export's file name
MAX_URL = 3000
MAX_LINK = 1000  # a title's link target: ten of them leave room for the texts
MAX_COMMAND = 64
MAX_ARGS = 16
MAX_DATA = 2000  # an Action.Submit's data, as JSON
MIN_TEXT = 40  # texts are not clipped shorter: elements give way instead
ELLIPSIS = "…"
CUT_MARKER = "✂️ …"  # language-neutral: the catalog has no key for it
DATA_ICON = "📄"
STYLES = {"primary": "positive", "danger": "destructive"}

Json = dict[str, Any]

_COMMAND = re.compile(r"[A-Za-z0-9_.:-]+")


# --- text -------------------------------------------------------------------------------

_ALWAYS = {char: "\\" + char for char in "\\`*_~[]<>{"}
_ENTITY = re.compile(r"&(?=#[0-9]{1,8};|#[xX][0-9a-fA-F]{1,8};|[A-Za-z][A-Za-z0-9]{0,31};)")
_LINE_MARKS = "-+=#"
_ORDERED = re.compile(r"[0-9]{1,9}(?=[.)])")
_NBSP = "\u00a0"


def _escape_inline(text: str) -> str:
    """Markdown for text in the middle of a line: what opens markup gets a backslash."""
    out: list[str] = []
    previous = ""
    for index, char in enumerate(text):
        if char in _ALWAYS:
            out.append(_ALWAYS[char])
        elif (char == "(" and previous == "]") or (char == "&" and _ENTITY.match(text, index)):
            out.append("\\" + char)
        else:
            out.append(char)
        previous = char
    return "".join(out)


def _escape_line(line: str) -> str:
    body = line.lstrip(" \t")
    if not body:
        return ""
    escaped = _escape_inline(body)
    if body[0] in _LINE_MARKS:
        escaped = "\\" + escaped
    elif ordered := _ORDERED.match(body):  # digits are never escaped: same offset
        escaped = escaped[: ordered.end()] + "\\" + escaped[ordered.end() :]
    return _NBSP * (len(line) - len(body)) + escaped


def escape(text: str) -> str:
    """Teams markdown that shows `text` as it is: no formatting, link or mention."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n\n".join(_escape_line(line) for line in lines)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def is_web_url(url: str) -> bool:
    """An http(s) URL within `MAX_URL`, with no space or control character in it."""
    if not url or len(url) > MAX_URL:
        return False
    if any(char.isspace() or ord(char) < 0x20 or ord(char) == 0x7F for char in url):
        return False
    try:
        url.encode("utf-8")
        parts = urlsplit(url)
    except ValueError:  # a lone surrogate, a broken IPv6 host
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


# Kept as they are in a link target; the rest is percent-encoded (`_`, `*`, `~`, `(`, `)`,
# brackets, `;` so no entity forms, non-ASCII), which names the same resource.
_URL_KEEP = frozenset(string.ascii_letters + string.digits + "-./:?#=&%+,@!$'")


def _percent(char: str) -> str:
    """Every byte encoded: `urllib.parse.quote` leaves `_` and `~` as they are."""
    return "".join(f"%{byte:02X}" for byte in char.encode("utf-8"))


def _link_target(url: str) -> str | None:
    if not is_web_url(url):
        return None
    target = "".join(char if char in _URL_KEEP else _percent(char) for char in url)
    return target if len(target) <= MAX_LINK else None


def link(url: str, label: str) -> str:
    """A markdown link whose label and target cannot end it early or format anything; no
    usable URL leaves the label unlinked, a blank label shows the URL."""
    shown = _one_line(label) or url
    target = _link_target(url)
    return f"[{_escape_inline(shown)}]({target})" if target else escape(shown)


def _clip(text: str, cap: int | None) -> str:
    if cap is None or len(text) <= cap:
        return text
    return text[: cap - 1] + ELLIPSIS


def text_of(message: Message) -> str:
    """The message's one-line plain summary: what a Teams notification shows."""
    return _clip(_one_line(message.text), MAX_SUMMARY)


def payload_bytes(activity: Json) -> int:
    """An activity's size as it is sent: json.dumps with its defaults (ASCII escapes)."""
    return len(json.dumps(activity).encode("ascii"))


def _fits(activity: Json) -> bool:
    return payload_bytes(activity) <= BUDGET


# --- Adaptive Card objects --------------------------------------------------------------


@dataclass(frozen=True)
class _Fit:
    """How hard a card is squeezed: texts clipped to `cap`, tables as monospace text."""

    cap: int | None = None
    compact: bool = False


def _text_block(markdown: str, **style: Any) -> Json:
    return {"type": "TextBlock", "text": markdown, "wrap": True, **style}


def _verbatim(text: str, **style: Any) -> Json:
    """Text shown exactly as given: a TextRun reads no markdown."""
    return {"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": text, **style}]}


def _card(body: list[Json], actions: list[Json] | None = None, *, root: bool = True) -> Json:
    card: Json = {"type": "AdaptiveCard", "version": CARD_VERSION, "body": body}
    if actions:
        card["actions"] = actions
    if root:
        card = {"$schema": CARD_SCHEMA, **card, "msteams": {"width": "Full"}}
    return card


def _title(text: str, fit: _Fit) -> str:
    """Action titles are plain text (Teams formats no title): one line, clipped."""
    cap = MAX_TITLE if fit.cap is None else min(MAX_TITLE, fit.cap)
    return _clip(_one_line(text), cap) or ELLIPSIS


def _action_data(button: Button) -> Json:
    data: Json = {ACTION_KEY: button.command, ARGS_KEY: list(button.args)}
    if decode_action(data) != (button.command, button.args):
        # Cutting it would make the button do something else: this is a bug in the core.
        raise ValueError(f"button {button.command!r} cannot carry its command and args")
    return data


def _core_action(button: Button, fit: _Fit) -> Json:
    """Action.Submit; behind a confirmation, an Action.ShowCard holding it, since Adaptive
    Cards have no confirmation dialog."""
    style = STYLES.get(button.style or "")
    submit: Json = {
        "type": "Action.Submit",
        "title": _title(button.label, fit),
        "data": _action_data(button),
    }
    if style:
        submit["style"] = style
    confirm = button.confirm
    if confirm is None:
        return submit
    submit["title"] = _title(confirm.confirm, fit)
    body = []
    if confirm.title.strip():
        body.append(_text_block(escape(_clip(confirm.title, fit.cap)), weight="Bolder"))
    if confirm.text.strip():
        body.append(_text_block(escape(_clip(confirm.text, fit.cap))))
    show: Json = {
        "type": "Action.ShowCard",
        "title": _title(button.label, fit),
        "card": _card(body, [submit], root=False),
    }
    if style:
        show["style"] = style
    return show


def _link_action(button: LinkButton, fit: _Fit) -> Json | None:
    """None for anything but a whole http(s) URL: a cut share link would share a cut text."""
    if not is_web_url(button.url):
        return None
    return {"type": "Action.OpenUrl", "title": _title(button.label, fit), "url": button.url}


def _action_sets(buttons: Iterable[AnyButton], fit: _Fit) -> list[Json]:
    """Teams shows six actions in a set; more continue in the next one."""
    actions = [
        action
        for action in (
            _link_action(b, fit) if isinstance(b, LinkButton) else _core_action(b, fit)
            for b in buttons
        )
        if action is not None
    ]
    return [
        {"type": "ActionSet", "actions": actions[i : i + MAX_ACTIONS]}
        for i in range(0, len(actions), MAX_ACTIONS)
    ]


# --- one renderer per neutral block -----------------------------------------------------


def _heading(block: Heading, fit: _Fit) -> list[Json]:
    if not block.text.strip():
        return []
    return [_text_block(escape(_clip(block.text, fit.cap)), weight="Bolder", size="Medium")]


def _paragraph(block: Paragraph, fit: _Fit) -> list[Json]:
    if not block.text.strip():
        return []
    return [_text_block(escape(_clip(block.text, fit.cap)))]


def _note(block: Note, fit: _Fit) -> list[Json]:
    if not block.text.strip():
        return []
    return [_text_block(escape(_clip(block.text, fit.cap)), size="Small", isSubtle=True)]


def _quote(block: Quote, fit: _Fit) -> list[Json]:
    """The label in bold, the draft in an emphasis box exactly as written, to be copied."""
    elements: list[Json] = []
    if block.label and block.label.strip():
        elements.append(_text_block(escape(_clip(block.label, fit.cap)), weight="Bolder"))
    if block.text.strip():
        box = _verbatim(_clip(block.text, fit.cap))
        elements.append({"type": "Container", "style": "emphasis", "items": [box]})
    return elements


def _number(number: int) -> str:
    return KEYCAPS[number - 1] if 1 <= number <= len(KEYCAPS) else escape(f"{number}.")


def _digest_item(block: DigestItem, fit: _Fit) -> list[Json]:
    """Keycap and linked title, the summary below, then the item's buttons."""
    title = link(block.url, _clip(block.title if block.title.strip() else block.url, fit.cap))
    items = [_text_block(f"{_number(block.number)} {title}", weight="Bolder")]
    if block.label:
        items.append(_text_block(escape(_clip(block.label, fit.cap)), isSubtle=True, size="Small"))
    image = _link_target(block.image_url or "")
    if image and image.startswith("https://"):  # a card shows https images only
        items.append(
            {"type": "Image", "url": image, "size": "Medium", "altText": _clip(block.title, 200)}
        )
    if block.summary and block.summary.strip():
        items.append(_text_block(escape(_clip(block.summary, fit.cap))))
    items.extend(_action_sets(block.buttons, fit))
    return [{"type": "Container", "separator": True, "items": items}]


def _action_row(block: Actions, fit: _Fit) -> list[Json]:
    return _action_sets(block.buttons, fit)


def _table_rows(block: Table) -> tuple[int, list[tuple[str, ...]]]:
    width = max([len(block.columns), *(len(row) for row in block.rows)])
    rows = [block.columns] if block.columns else []
    rows.extend(block.rows)
    return width, [(*row, *("",) * (width - len(row))) for row in rows]


def _aligned(block: Table) -> str:
    """Left-aligned columns and a rule under the header, as the Slack renderer draws them."""
    width, rows = _table_rows(block)
    widths = [max(len(row[i]) for row in rows) for i in range(width)]
    lines = [
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows
    ]
    if block.columns:
        lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _table(block: Table, fit: _Fit) -> list[Json]:
    """A 1.5 Table, header first; when the card is too big, aligned monospace text."""
    width, rows = _table_rows(block)
    if width == 0 or not rows:
        return []
    if fit.compact:
        return [_verbatim(_clip(_aligned(block), fit.cap), fontType="Monospace")]
    return [
        {
            "type": "Table",
            "columns": [{"width": 1} for _ in range(width)],
            "rows": [
                {
                    "type": "TableRow",
                    "cells": [
                        {"type": "TableCell", "items": [_text_block(escape(_clip(cell, fit.cap)))]}
                        for cell in row
                    ],
                }
                for row in rows
            ],
            "firstRowAsHeader": bool(block.columns),
        }
    ]


_RENDERERS: dict[type[Block], Callable[[Any, _Fit], list[Json]]] = {
    Heading: _heading,
    Paragraph: _paragraph,
    Note: _note,
    Quote: _quote,
    DigestItem: _digest_item,
    Actions: _action_row,
    Table: _table,
}  # Data is not among them: `activities` gives it activities of its own


# --- fitting ----------------------------------------------------------------------------

Build = Callable[[int | None, int | None], Json]  # (text cap, elements kept) → an activity


def _largest(low: int, high: int, ok: Callable[[int], bool]) -> int:
    """The largest value in [low, high] that is ok, by bisection; `low` is known to be."""
    while low < high:
        middle = (low + high + 1) // 2
        if ok(middle):
            low = middle
        else:
            high = middle - 1
    return low


def _fitted(build: Build, count: int) -> Json:
    """The activity with the most content within BUDGET: texts clipped to one common
    length first, then elements left out from the end, each step only if needed."""
    whole = build(None, None)
    if _fits(whole):
        return whole
    keep: int | None = None
    if not _fits(build(MIN_TEXT, None)):
        keep = _largest(0, count, lambda k: _fits(build(MIN_TEXT, k)))
    longest = payload_bytes(whole)  # no text is longer than the JSON holding it
    cap = _largest(MIN_TEXT, longest, lambda c: _fits(build(c, keep)))
    return build(cap, keep)


def _cut(elements: list[Json], keep: int | None) -> list[Json]:
    if keep is None or keep >= len(elements):
        return elements
    return [*elements[:keep], _text_block(CUT_MARKER, isSubtle=True)]


def _card_activity(summary: str, body: list[Json]) -> Json:
    activity: Json = {"type": "message"}
    if summary:
        activity["summary"] = summary
    activity["attachments"] = [{"contentType": CARD_CONTENT_TYPE, "content": _card(body)}]
    return activity


def _card_message(message: Message, blocks: list[Block], summary: str) -> Json:
    def body(fit: _Fit) -> list[Json]:
        elements = [element for b in blocks for element in _RENDERERS[type(b)](b, fit)]
        fallback = escape(_clip(message.text, fit.cap)) if message.text.strip() else ELLIPSIS
        return elements or [_text_block(fallback)]

    whole = _card_activity(summary, body(_Fit()))
    if _fits(whole):
        return whole
    count = len(body(_Fit(compact=True)))
    return _fitted(
        lambda cap, keep: _card_activity(summary, _cut(body(_Fit(cap, compact=True)), keep)),
        count,
    )


def _text_message(message: Message, paragraphs: list[Paragraph]) -> Json:
    texts = [p.text for p in paragraphs if p.text.strip()]
    if not texts:
        texts = [message.text if message.text.strip() else ELLIPSIS]

    def build(cap: int | None, keep: int | None) -> Json:
        shown = texts if keep is None else [*texts[:keep], CUT_MARKER]
        text = "\n\n".join(escape(_clip(t, cap)) for t in shown)
        return {"type": "message", "textFormat": "markdown", "text": text}

    return _fitted(build, len(texts))


# --- data exports -----------------------------------------------------------------------


def _json_cost(char: str) -> int:
    """Bytes one character takes inside a JSON string written with ASCII escapes."""
    code = ord(char)
    if 0x20 <= code < 0x7F:
        return 2 if char in '"\\' else 1
    if char in "\n\r\t\b\f":
        return 2
    return 6 if code < 0x10000 else 12


def _split(text: str, limit: int, cost: Callable[[str], int]) -> list[str]:
    """Pieces that concatenate back to `text`, each costing at most `limit`; a piece ends
    after its last line break, else after a space in its second half, else mid-run."""
    pieces: list[str] = []
    start = 0
    while start < len(text):
        end, size = start, 0
        while end < len(text) and size + cost(text[end]) <= limit:
            size += cost(text[end])
            end += 1
        end = max(end, start + 1)  # a limit below one character's cost still progresses
        if end < len(text):
            window = text[start:end]
            newline, space = window.rfind("\n"), window.rfind(" ")
            if newline > 0:
                end = start + newline + 1
            elif space > len(window) // 2:
                end = start + space + 1
        pieces.append(text[start:end])
        start = end
    return pieces


def _data_heading(block: Data, numbering: str) -> Json:
    name = _escape_inline(_clip(_one_line(block.filename), MAX_NAME) or ELLIPSIS)
    return _text_block(f"{DATA_ICON} {name}{numbering}", weight="Bolder")


def _data_activities(block: Data, summary: str) -> list[Json]:
    """The document in monospace chunks, one activity each, numbered when more than one;
    the chunks concatenate back to the content exactly."""
    notice = summary or _clip(_one_line(block.filename), MAX_SUMMARY)

    def activity(numbering: str, chunk: str | None) -> Json:
        body = [_data_heading(block, numbering)]
        if chunk is not None:
            body.append(_verbatim(chunk, fontType="Monospace"))
        return _card_activity(notice + numbering, body)

    widest = "9" * len(str(max(1, len(block.content))))  # no more chunks than characters
    budget = BUDGET - payload_bytes(activity(f" ({widest}/{widest})", ""))
    pieces = _split(block.content, max(1, budget), _json_cost)
    if len(pieces) <= 1:
        return [activity("", block.content or None)]
    total = len(pieces)
    return [activity(f" ({n}/{total})", piece) for n, piece in enumerate(pieces, start=1)]


# --- messages ---------------------------------------------------------------------------


def _render(message: Message, blocks: list[Block], summary: str) -> Json:
    if all(isinstance(block, Paragraph) for block in blocks):
        return _text_message(message, [b for b in blocks if isinstance(b, Paragraph)])
    return _card_message(message, blocks, summary)


_CHOOSE_CHANNEL = re.compile(r"`/ambassador digest (?:channel|canal) #[\w-]+`")
_SLASH_COMMAND = "`/ambassador "


def _teams_text(text: str) -> str:
    """Commands as a Teams user types them: no slash command, just the words to the bot
    (`leave`), and a digest channel is chosen by `digest here` typed in it."""
    if _SLASH_COMMAND not in text:
        return text
    return _CHOOSE_CHANNEL.sub("`@Ambassador digest here`", text).replace(_SLASH_COMMAND, "`")


def teams_words(value: Any) -> Any:
    """`_teams_text` over every text of a message; a data export and the buttons' commands
    are left exactly as they are."""
    if isinstance(value, str):
        return _teams_text(value)
    if isinstance(value, tuple):
        return tuple(teams_words(v) for v in value)
    if is_dataclass(value) and not isinstance(value, Data | Button | LinkButton | type):
        changes = {f.name: teams_words(getattr(value, f.name)) for f in fields(value)}
        return replace(value, **changes)
    return value


def activities(message: Message) -> list[Json]:
    """The Bot Framework message activities for one neutral message, in order, each under
    BUDGET (so under MAX_BYTES once sent): usually one; a Data block adds one per chunk."""
    message = teams_words(message)
    summary = text_of(message)
    found: list[Json] = []
    pending: list[Block] = []
    for block in message.blocks:
        if isinstance(block, Data):
            if pending:
                found.append(_render(message, pending, summary))
                pending = []
            found.extend(_data_activities(block, summary))
        else:
            pending.append(block)
    if pending or not found:
        found.append(_render(message, pending, summary))
    return found


FORM_COMMAND = "add_form"  # the "Add content" card's submit; its inputs come alongside
FORM_FIELDS = (
    ("url", 2000),
    ("title", content.MAX_TITLE),
    ("summary", content.MAX_SUMMARY),
    ("expires", 10),  # YYYY-MM-DD, as Input.Date gives it
    ("kind", 16),  # one of bot.kinds.KINDS, or blank: the page says
)


def add_content_card(
    heading: str, labels: dict[str, str], submit: str, kinds: list[tuple[str, str]]
) -> Json:
    """The "Add content" form as an Adaptive Card (Slack shows a modal): its inputs are
    merged into the Action.Submit's value, which `decode_form` reads back. `kinds` are the
    (value, title) choices of its kind list; `labels["kind_guess"]` its placeholder."""
    body: list[Json] = [_text_block(escape(heading), weight="Bolder", size="Medium")]
    for name, limit in FORM_FIELDS:
        field: Json = {"id": name, "label": labels[name]}
        if name == "expires":
            body.append({"type": "Input.Date", **field})
            continue
        if name == "kind":
            choices = [{"title": title, "value": value} for value, title in kinds]
            body.append(
                {
                    "type": "Input.ChoiceSet",
                    **field,
                    "style": "compact",
                    "placeholder": labels["kind_guess"],
                    "choices": choices,
                }
            )
            continue
        body.append(
            {
                "type": "Input.Text",
                **field,
                "maxLength": limit,
                "isRequired": name == "url",
                "isMultiline": name == "summary",
                **({"style": "Url"} if name == "url" else {}),
            }
        )
    card = {
        "$schema": CARD_SCHEMA,
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "body": body,
        "actions": [
            {
                "type": "Action.Submit",
                "title": _one_line(submit)[:MAX_TITLE],
                "data": {ACTION_KEY: FORM_COMMAND, ARGS_KEY: []},
            }
        ],
    }
    return {
        "type": "message",
        "summary": _one_line(heading)[:MAX_SUMMARY],
        "attachments": [{"contentType": CARD_CONTENT_TYPE, "content": card}],
    }


def decode_form(value: object) -> tuple[str, str, str, str, str] | None:
    """The five answers of a submitted "Add content" card (blank when left empty), or None
    when `value` is not one. Untrusted: every answer is a string, cut to its limit."""
    if not isinstance(value, dict) or value.get(ACTION_KEY) != FORM_COMMAND:
        return None
    if not any(name in value for name, _ in FORM_FIELDS):
        return None
    answers = []
    for name, limit in FORM_FIELDS:
        answer = value.get(name, "")
        if not isinstance(answer, str):
            return None
        answers.append(answer.strip()[:limit])
    return answers[0], answers[1], answers[2], answers[3], answers[4]


def decode_action(value: object) -> tuple[str, tuple[str, ...]] | None:
    """The (command, args) an Action.Submit of ours carries, or None for anything else; it
    comes from the network, so it is checked, never trusted, and never raises."""
    if not isinstance(value, dict) or set(value) != {ACTION_KEY, ARGS_KEY}:
        return None
    command, args = value[ACTION_KEY], value[ARGS_KEY]
    if not isinstance(command, str) or len(command) > MAX_COMMAND:
        return None
    if not _COMMAND.fullmatch(command):
        return None
    if not isinstance(args, list) or len(args) > MAX_ARGS:
        return None
    if not all(isinstance(arg, str) and len(arg) <= MAX_DATA for arg in args):
        return None
    if len(json.dumps(args)) > MAX_DATA:
        return None
    return command, tuple(args)
