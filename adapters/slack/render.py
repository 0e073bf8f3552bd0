"""The neutral message model → Block Kit: Slack's twin of the console renderer.

Pure: plain dicts in, plain dicts out, no Slack client. Every text the core gives is plain,
so it is escaped wherever Slack reads mrkdwn (a title "<!channel>" is shown, never pings) and
every Block Kit length limit is kept here, so a long title or draft degrades, never fails.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from itertools import count
from typing import Any

from bot.messages import (
    Actions,
    AnyButton,
    Block,
    Button,
    Confirm,
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

ACTION_PREFIX = "amb"
LINK_PREFIX = "link"
MAX_MESSAGE_BLOCKS = 50
MAX_HOME_BLOCKS = 100

MAX_TEXT = 3000  # section and context text, message fallback text
MAX_HEADER = 150
MAX_BUTTON_TEXT = 75
MAX_VALUE = 2000
MAX_URL = 3000
MAX_ACTIONS = 25  # elements in one actions block
CONFIRM_LIMITS = {"title": 100, "text": 300, "confirm": 30, "deny": 30}
ELLIPSIS = "…"
CUT_MARKER = "✂️ …"  # language-neutral: the catalog has no key for it
FENCE = "```"
STYLES = ("primary", "danger")

Json = dict[str, Any]
Numbering = Iterator[int]  # a running button index, unique within one message

# Characters that would end a `<url|label>` link early, or break it.
_URL_UNSAFE = str.maketrans(
    {"|": "%7C", "<": "%3C", ">": "%3E", " ": "%20", "\n": "%0A", "\r": "%0D", "\t": "%09"}
)


# --- text -------------------------------------------------------------------------------


def escape(text: str) -> str:
    """Slack's three control characters, `&` first so the others are not escaped twice."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _link(url: str, escaped_label: str) -> str:
    """A link from an already escaped label; no URL means plain text, no label the URL."""
    if not url:
        return escaped_label
    safe = url.translate(_URL_UNSAFE)
    return f"<{safe}|{escaped_label}>" if escaped_label else f"<{safe}>"


def link(url: str, label: str) -> str:
    """A mrkdwn link whose label and URL cannot close it early or inject a mention."""
    return _link(url, escape(label))


def _clip(text: str, limit: int) -> str:
    """Plain text cut to `limit` with an ellipsis; Slack refuses blank text, so `…` then."""
    if not text.strip():
        return ELLIPSIS
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def _fit_escaped(text: str, limit: int) -> str:
    """Escaped text cut to `limit` without splitting an entity such as `&amp;`."""
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    pieces: list[str] = []
    size = 0
    for char in text:
        piece = escape(char)
        if size + len(piece) > limit - 1:
            break
        pieces.append(piece)
        size += len(piece)
    return "".join(pieces) + ELLIPSIS


def _escaped_cost(char: str) -> int:
    return len(escape(char))


def _split(text: str, limit: int, cost: Callable[[str], int] = len) -> list[str]:
    """Pieces that concatenate back to `text`, each costing at most `limit`.

    A piece ends after its last line break, else after a space in its second half, so long
    texts split where a reader would; only an unbroken run is cut mid-word.
    """
    pieces: list[str] = []
    start = 0
    while start < len(text):
        end, size = start, 0
        while end < len(text) and size + cost(text[end]) <= limit:
            size += cost(text[end])
            end += 1
        end = max(end, start + 1)  # a limit below one character's cost still progresses
        if end < len(text):
            end = _break_point(text, start, end)
        pieces.append(text[start:end])
        start = end
    return pieces


def _break_point(text: str, start: int, end: int) -> int:
    window = text[start:end]
    newline = window.rfind("\n")
    if newline > 0:
        return start + newline + 1
    space = window.rfind(" ")
    if space > len(window) // 2:
        return start + space + 1
    return end


def _escaped_pieces(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Escaped mrkdwn pieces of at most `limit` characters; blank ones are dropped."""
    return [escape(p) for p in _split(text, limit, _escaped_cost) if p.strip()]


# --- Block Kit objects ------------------------------------------------------------------


def _plain(text: str) -> Json:
    return {"type": "plain_text", "text": text, "emoji": True}


def _mrkdwn(text: str) -> Json:
    """Verbatim: Slack must not turn words of the text into links or mentions of its own."""
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _section(text: Json) -> Json:
    return {"type": "section", "text": text}


def _context(mrkdwn: str) -> Json:
    return {"type": "context", "elements": [_mrkdwn(mrkdwn)]}


def _confirm(confirm: Confirm) -> Json:
    return {
        field: _plain(_clip(getattr(confirm, field), limit))
        for field, limit in CONFIRM_LIMITS.items()
    }


def _core_button(button: Button, index: int) -> Json:
    """The command travels in `value`; `action_id` only needs to be unique and ours."""
    value = json.dumps({"c": button.command, "a": list(button.args)})
    if len(value) > MAX_VALUE:
        # Truncating would make the button do something else: this is a bug in the core.
        raise ValueError(f"button {button.command!r} carries {len(value)} characters of args")
    element: Json = {
        "type": "button",
        "action_id": f"{ACTION_PREFIX}:{button.command}:{index}",
        "text": _plain(_clip(button.label, MAX_BUTTON_TEXT)),
        "value": value,
    }
    if button.style in STYLES:
        element["style"] = button.style
    if button.confirm is not None:
        element["confirm"] = _confirm(button.confirm)
    return element


def _link_button(button: LinkButton, index: int) -> Json | None:
    """None when the URL is over Slack's limit: a cut share link would post a cut text."""
    if not button.url or len(button.url) > MAX_URL:
        return None
    return {
        "type": "button",
        "action_id": f"{LINK_PREFIX}:{index}",
        "text": _plain(_clip(button.label, MAX_BUTTON_TEXT)),
        "url": button.url,
    }


def _elements(buttons: tuple[AnyButton, ...], numbering: Numbering) -> list[Json]:
    elements: list[Json] = []
    for button in buttons:
        if isinstance(button, LinkButton):
            element = _link_button(button, next(numbering))
        else:
            element = _core_button(button, next(numbering))
        if element is not None:
            elements.append(element)
    return elements


def _actions(elements: list[Json]) -> list[Json]:
    """Slack takes 25 elements per actions block; more continue in the next one."""
    return [
        {"type": "actions", "elements": elements[i : i + MAX_ACTIONS]}
        for i in range(0, len(elements), MAX_ACTIONS)
    ]


def _code_sections(text: str) -> list[Json]:
    """Monospace sections (tables, documents), escaped, fences included in the limit."""
    budget = MAX_TEXT - 2 * len(FENCE)
    return [
        _section(_mrkdwn(f"{FENCE}{escape(piece)}{FENCE}"))
        for piece in _split(text, budget, _escaped_cost)
        if piece.strip()
    ]


# --- one renderer per neutral block -----------------------------------------------------


def _heading(block: Heading, numbering: Numbering) -> list[Json]:
    if not block.text.strip():
        return []
    return [{"type": "header", "text": _plain(_clip(block.text, MAX_HEADER))}]


def _paragraph(block: Paragraph, numbering: Numbering) -> list[Json]:
    return [_section(_mrkdwn(piece)) for piece in _escaped_pieces(block.text)]


def _note(block: Note, numbering: Numbering) -> list[Json]:
    return [_context(piece) for piece in _escaped_pieces(block.text)]


def _quote(block: Quote, numbering: Numbering) -> list[Json]:
    """plain_text, so the draft people copy shows exactly as written, no markup read."""
    blocks: list[Json] = []
    if block.label and block.label.strip():
        blocks.append(_context(f"*{_fit_escaped(block.label, MAX_TEXT - 2)}*"))
    if block.text.strip():
        blocks.extend(_section(_plain(piece)) for piece in _split(block.text, MAX_TEXT))
    return blocks


def _keycap(number: int) -> str:
    return KEYCAPS[number - 1] if 1 <= number <= len(KEYCAPS) else f"{number}."


def _item_text(item: DigestItem) -> str:
    """Keycap, linked bold title, summary: within the limit, the summary gives way first."""
    keycap = _keycap(item.number)
    head = f"{keycap} *{link(item.url, item.title)}*"
    if len(head) > MAX_TEXT:
        return _short_head(keycap, item)
    room = MAX_TEXT - len(head) - 1  # after the line break
    if not item.summary or not item.summary.strip() or room < 1:
        return head
    return f"{head}\n{_fit_escaped(item.summary, room)}"


def _short_head(keycap: str, item: DigestItem) -> str:
    """The title cut to fit beside its link; a URL too long to fit leaves the title unlinked."""
    frame = len(keycap) + len(" **")
    budget = MAX_TEXT - frame - (len(_link(item.url, "x")) - 1)
    if budget >= 1:
        return f"{keycap} *{_link(item.url, _fit_escaped(item.title, budget))}*"
    return f"{keycap} *{_fit_escaped(item.title, MAX_TEXT - frame)}*"


def _digest_item(block: DigestItem, numbering: Numbering) -> list[Json]:
    """The first button sits beside the item (its accessory); what it is (kind, site) in
    small print below it, then any other buttons. No preview image: Slack refuses a whole
    message when it cannot download one, and one broken site must not stop a digest."""
    section = _section(_mrkdwn(_item_text(block)))
    elements = _elements(block.buttons, numbering)
    if elements:
        section["accessory"] = elements[0]
    label = [_context(_fit_escaped(block.label, MAX_TEXT))] if block.label else []
    return [section, *label, *_actions(elements[1:])]


def _action_row(block: Actions, numbering: Numbering) -> list[Json]:
    return _actions(_elements(block.buttons, numbering))


def _table(block: Table, numbering: Numbering) -> list[Json]:
    """Left-aligned columns in a code block, which every Slack client shows aligned."""
    width = max([len(block.columns), *(len(row) for row in block.rows)])
    rows = [(*row, *("",) * (width - len(row))) for row in (block.columns, *block.rows)]
    widths = [max(len(row[i]) for row in rows) for i in range(width)]
    lines = [
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return _code_sections("\n".join(lines))


def _data(block: Data, numbering: Numbering) -> list[Json]:
    """A document shown in chat; the transport may upload it as a file instead."""
    name = _context(f"📄 *{_fit_escaped(block.filename, MAX_TEXT - 10)}*")
    return [name, *_code_sections(block.content)]


_RENDERERS: dict[type[Block], Callable[[Any, Numbering], list[Json]]] = {
    Heading: _heading,
    Paragraph: _paragraph,
    Note: _note,
    Quote: _quote,
    DigestItem: _digest_item,
    Actions: _action_row,
    Table: _table,
    Data: _data,
}


# --- messages ---------------------------------------------------------------------------


def _fallback(text: str) -> str:
    """The one-line text notifications and old clients show."""
    return _fit_escaped(" ".join(text.split()), MAX_TEXT) or ELLIPSIS


def _blocks(message: Message, limit: int) -> list[Json]:
    """Every block in order, cut to `limit` with a marker saying something was left out."""
    numbering = count()
    blocks = [
        rendered
        for block in message.blocks
        for rendered in _RENDERERS[type(block)](block, numbering)
    ]
    if not blocks:
        blocks = [_section(_mrkdwn(_fallback(message.text)))]
    if len(blocks) > limit:
        blocks = [*blocks[: limit - 1], _context(CUT_MARKER)]
    return blocks


def message_payload(message: Message) -> dict[str, Any]:
    """Keyword arguments for chat.postMessage, chat.postEphemeral or respond()."""
    return {"text": _fallback(message.text), "blocks": _blocks(message, MAX_MESSAGE_BLOCKS)}


def home_view(message: Message) -> dict[str, Any]:
    """The view for views.publish: the App Home tab holds twice as many blocks."""
    return {"type": "home", "blocks": _blocks(message, MAX_HOME_BLOCKS)}


def decode_action(action_id: str, value: str | None) -> tuple[str, tuple[str, ...]] | None:
    """The (command, args) a core button carries, or None for anything else; never raises,
    since the payload comes from outside."""
    prefix, _, rest = action_id.partition(":")
    command, _, index = rest.rpartition(":")
    if prefix != ACTION_PREFIX or not command or not (index.isascii() and index.isdigit()):
        return None
    if value is None or len(value) > MAX_VALUE:
        return None
    try:
        payload = json.loads(value)
    except (ValueError, RecursionError):
        return None
    if not isinstance(payload, dict) or payload.get("c") != command:
        return None
    args = payload.get("a")
    if not isinstance(args, list) or not all(isinstance(arg, str) for arg in args):
        return None
    return command, tuple(args)
