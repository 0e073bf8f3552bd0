"""Pure translators: Teams activities in (Bot Framework JSON), core commands out (or None:
not for us). No I/O and no botbuilder here; the transport looks up what it needs first
(what a replied-to message is about) and passes it in.

Teams delivers a channel message to the bot only when it @mentions the bot, and every
message in the bot's own 1:1 chat; a card's Action.Submit arrives as a message with a
`value` and no text.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from adapters.teams.render import FORM_COMMAND, decode_action, decode_form
from bot.commands import Actor, Command, Via, parse
from bot.i18n import normalise_language
from bot.messages import Anchor

PLATFORM = "teams"
HERE = ("here", "ici")  # `digest here`: this channel gets the digest
_AT = re.compile(r"<at[^>]*>(.*?)</at>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
MAX_TEXT = 4000  # what a person can type is shorter; anything longer is cut

Activity = Mapping[str, Any]


@dataclass(frozen=True)
class Place:
    """Where an activity happened: the conversation (a channel's id without the thread
    suffix), the thread's root message in a channel, and the kind of conversation."""

    conversation: str
    kind: str  # personal | channel | groupChat
    thread: str | None = None
    tenant: str | None = None
    service_url: str = ""

    @property
    def personal(self) -> bool:
        return self.kind == "personal"


def place_of(activity: Activity) -> Place:
    conversation = activity.get("conversation") or {}
    raw = str(conversation.get("id") or "")
    base, _, suffix = raw.partition(";messageid=")
    tenant = conversation.get("tenantId") or (
        (activity.get("channelData") or {}).get("tenant") or {}
    ).get("id")
    return Place(
        conversation=base,
        kind=str(conversation.get("conversationType") or "personal"),
        thread=suffix or None,
        tenant=str(tenant) if tenant else None,
        service_url=str(activity.get("serviceUrl") or ""),
    )


def user_of(activity: Activity) -> str | None:
    sender = activity.get("from") or {}
    user = sender.get("id")
    return str(user) if user else None


def language_of(activity: Activity) -> str | None:
    """The person's Teams language, from the activity's locale (`fr-FR`)."""
    return normalise_language(str(activity.get("locale") or ""), "") or None


def actor(user: str, language: str | None) -> Actor:
    return Actor(PLATFORM, user, language)


def clean_text(activity: Activity, bot_id: str | None) -> str:
    """What the person typed: the bot's own mention removed, another person's mention
    turned into their id (`role add @Ann manager`), tags dropped, entities decoded."""
    text = str(activity.get("text") or "")[:MAX_TEXT]
    names: dict[str, str] = {}
    for entity in activity.get("entities") or []:
        if isinstance(entity, Mapping) and entity.get("type") == "mention":
            mentioned = entity.get("mentioned") or {}
            tagged = _AT.search(str(entity.get("text") or ""))
            if tagged is None or not mentioned.get("id"):
                continue
            bot = bot_id is not None and _same_bot(str(mentioned["id"]), bot_id)
            names[tagged.group(1).strip()] = "" if bot else str(mentioned["id"])
    recipient = str((activity.get("recipient") or {}).get("name") or "")

    def mention(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        if name in names:
            return names[name]
        return "" if name == recipient else name

    text = _AT.sub(mention, text)
    text = _TAG.sub(" ", text)
    return " ".join(html.unescape(text).replace("\xa0", " ").split())


def _same_bot(mentioned: str, bot_id: str) -> bool:
    """Teams names the bot `28:<app id>`; the app id alone is the same bot."""
    return mentioned == bot_id or mentioned.split(":", 1)[-1] == bot_id.split(":", 1)[-1]


def is_install(activity: Activity) -> bool:
    """The bot was added to a personal chat or a team: time to say hello."""
    kind = activity.get("type")
    if kind == "installationUpdate":
        return str(activity.get("action") or "").startswith("add")
    if kind != "conversationUpdate":
        return False
    bot = str((activity.get("recipient") or {}).get("id") or "")
    added = activity.get("membersAdded") or []
    return any(isinstance(m, Mapping) and m.get("id") == bot for m in added)


def command(
    activity: Activity,
    *,
    bot_id: str | None,
    anchor: Anchor | None,
    commands: Callable[[str], bool],
) -> Command | None:
    """The command a message activity asks for, or None (not a message, not a person)."""
    if activity.get("type") != "message":
        return None
    user = user_of(activity)
    if user is None or (activity.get("from") or {}).get("role") == "bot":
        return None
    who = actor(user, language_of(activity))
    value = activity.get("value")
    if value is not None:
        form = decode_form(value)
        if form is not None:  # the "Add content" card, filled in
            return Command(who, FORM_COMMAND, form, via=Via.BUTTON)
        decoded = decode_action(value)
        if decoded is None:
            return None
        name, args = decoded
        return Command(who, name, args, via=Via.BUTTON, anchor=anchor)
    place = place_of(activity)
    text = clean_text(activity, bot_id)
    if not text and not place.personal:
        return parse(who, "")  # a bare @mention: help
    words = text.split()
    if words[:2] and words[0].lower() == "digest" and len(words) == 2 and words[1].lower() in HERE:
        if place.personal:
            return Command(who, "digest", ("here",), text)  # the core explains the usage
        named = ((activity.get("channelData") or {}).get("channel") or {}).get("name")
        shown = str(named or "General").split()[:8]  # the General channel comes unnamed
        return Command(who, "digest", ("channel", place.conversation, *shown), text)
    if place.personal:
        if not text:
            return None
        if commands(words[0].lower()):
            return parse(who, text)
        return Command(who, "revise", tuple(words), text, via=Via.REPLY)
    if anchor is not None and anchor.kind == "digest" and words and words[0].lstrip("#").isdigit():
        return Command(who, "claim", tuple(words), text, via=Via.REPLY, anchor=anchor)
    return parse(who, text)


def activity_key(activity: Activity) -> str | None:
    """The identity Teams keeps when it redelivers an activity: its id, in its
    conversation (hashed, so the table of seen keys names nobody)."""
    identity = f"{(activity.get('conversation') or {}).get('id')}\x1f{activity.get('id')}"
    if not activity.get("id"):
        return None
    return "teams:activity:" + hashlib.sha256(identity.encode()).hexdigest()


def press_key(activity: Activity) -> str | None:
    """A card button press minus its time: the same button on the same card by the same
    person within seconds is one press (each press is a new activity in Teams)."""
    value = activity.get("value")
    user = user_of(activity)
    if value is None or user is None:
        return None
    identity = f"{user}\x1f{value!r}\x1f{activity.get('replyToId')}"
    return "teams:press:" + hashlib.sha256(identity.encode()).hexdigest()
