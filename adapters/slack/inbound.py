"""Pure translators: Slack payloads in, core commands out (or None: not for us).

No I/O here. The transport looks up what it needs first (the person's language, what a
reacted-to message is about) and passes it in.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from typing import Any

from adapters.slack.render import decode_action
from bot.commands import Actor, Command, Via, parse
from bot.messages import Anchor

PLATFORM = "slack"
ADD_FORM = "amb:add_form"  # callback_id of the "Add content" modal
REACTIONS = {
    name: number
    for number, name in enumerate(
        ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "keycap_ten"),
        start=1,
    )
}
_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_CHANNEL = re.compile(r"<#([CG][A-Z0-9]+)(?:\|[^>]*)?>")
_LINK = re.compile(r"<((?:https?|mailto|ftp|[a-z][a-z0-9+.-]*):[^|>]*)(?:\|[^>]*)?>")
_SPECIAL = re.compile(r"<![^>]*>")

Payload = Mapping[str, Any]


def clean_text(text: str) -> str:
    """Slack's markup back to what the person typed: `<@U1|ann>` → `U1`, `<#C1|news>` →
    `C1`, `<https://x|x>` → the URL, `<!here>` dropped, then `&lt; &gt; &amp;` decoded."""
    text = _USER.sub(r"\1", text)
    text = _CHANNEL.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    text = _SPECIAL.sub("", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def actor(user_id: str, language: str | None) -> Actor:
    return Actor(PLATFORM, user_id, language)


def user_of(body: Payload) -> str | None:
    """Who acted, in any payload shape (slash command, interaction, event)."""
    if isinstance(body.get("user_id"), str):
        return str(body["user_id"])
    user = body.get("user")
    if isinstance(user, Mapping) and isinstance(user.get("id"), str):
        return str(user["id"])
    event = body.get("event")
    if isinstance(event, Mapping) and isinstance(event.get("user"), str):
        return str(event["user"])
    return None


def slash_command(body: Payload, language: str | None) -> Command:
    return parse(actor(str(body["user_id"]), language), clean_text(str(body.get("text", ""))))


def block_action(body: Payload, language: str | None) -> Command | None:
    actions = body.get("actions") or []
    if not actions or not isinstance(actions[0], Mapping):
        return None
    first = actions[0]
    decoded = decode_action(str(first.get("action_id", "")), first.get("value"))
    user = user_of(body)
    if decoded is None or user is None:
        return None
    name, args = decoded
    return Command(actor(user, language), name, args, via=Via.BUTTON)


def form_values(body: Payload) -> dict[str, str]:
    """A modal's inputs by action id (block ids are free-form; action ids are ours)."""
    values: dict[str, str] = {}
    state = body.get("view", {}).get("state", {}).get("values", {})
    for block in state.values():
        for action_id, element in block.items():
            value = element.get("value")
            if value is None and element.get("selected_date"):
                value = element["selected_date"]
            if value is None and isinstance(element.get("selected_option"), dict):
                value = element["selected_option"].get("value")
            values[action_id] = str(value or "").strip()
    return values


def view_submission(body: Payload, language: str | None) -> Command | None:
    view = body.get("view", {})
    user = user_of(body)
    if view.get("callback_id") != ADD_FORM or user is None:
        return None
    values = form_values(body)
    args = tuple(values.get(key, "") for key in ("url", "title", "summary", "expires", "kind"))
    return Command(actor(user, language), "add_form", args, via=Via.BUTTON)


def reaction(event: Payload, anchor: Anchor | None, language: str | None) -> Command | None:
    """A keycap reaction on a digest claims that item; anything else is ignored."""
    number = REACTIONS.get(str(event.get("reaction", "")))
    if number is None or anchor is None or anchor.kind != "digest" or not event.get("user"):
        return None
    return Command(
        actor(str(event["user"]), language),
        "claim",
        (str(number),),
        via=Via.REACTION,
        anchor=anchor,
    )


def mention(event: Payload, anchor: Anchor | None, language: str | None) -> Command | None:
    """`@Ambassador 2 make it casual` in a digest's thread: claim item 2 with that wish.
    Elsewhere, the words after the mention are a command, as typed to `/ambassador`."""
    user = event.get("user")
    if not user or event.get("bot_id"):
        return None
    text = clean_text(_USER.sub("", str(event.get("text", "")))).strip()
    who = actor(str(user), language)
    words = text.split()
    if anchor is not None and anchor.kind == "digest" and words and words[0].lstrip("#").isdigit():
        return Command(who, "claim", tuple(words), text, via=Via.REPLY, anchor=anchor)
    return parse(who, text)


def direct_message(
    event: Payload, anchor: Anchor | None, language: str | None, commands: Callable[[str], bool]
) -> Command | None:
    """A message in the bot's DM: a command word (`help`, `leave`…) runs that command;
    other words revise the draft of the thread they are in, or the latest draft."""
    user = event.get("user")
    if not user or event.get("bot_id") or event.get("subtype"):
        return None  # the bot's own posts, edits, joins: nothing a person asked
    text = clean_text(str(event.get("text", ""))).strip()
    if not text:
        return None
    who = actor(str(user), language)
    first = text.split()[0].lower()
    if anchor is None and commands(first):
        return parse(who, text)
    claim_anchor = anchor if anchor is not None and anchor.kind == "claim" else None
    return Command(who, "revise", tuple(text.split()), text, via=Via.REPLY, anchor=claim_anchor)


def event_key(body: Payload) -> str | None:
    """The identity Slack keeps across retries of one event."""
    event_id = body.get("event_id")
    return f"slack:event:{event_id}" if event_id else None


def action_key(body: Payload) -> str | None:
    """The identity of a button press, minus its time: two presses of the same button on
    the same message by the same person within seconds are one press (a double click)."""
    actions = body.get("actions") or []
    user = user_of(body)
    if not actions or user is None:
        return None
    first = actions[0]
    container = body.get("container", {})
    where = container.get("message_ts") or container.get("view_id") or ""
    identity = f"{user}\x1f{first.get('action_id')}\x1f{first.get('value')}\x1f{where}"
    # hashed: the table of seen presses holds no user id, so there is nothing in it to erase
    return "slack:action:" + hashlib.sha256(identity.encode()).hexdigest()
