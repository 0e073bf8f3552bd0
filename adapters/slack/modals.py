"""The "Add content" modal: Slack's form for what `/ambassador add` does, with inline errors."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from adapters.slack.inbound import ADD_FORM
from bot import kinds
from bot.errors import AmbassadorError
from bot.i18n import Translator
from bot.services import content

_FIELDS = (
    ("url", "slack.form_url", False, 2000),
    ("title", "slack.form_title", True, content.MAX_TITLE),
    ("summary", "slack.form_summary", True, content.MAX_SUMMARY),
)


def _input(t: Translator, name: str, label: str, optional: bool, limit: int) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "plain_text_input", "action_id": name, "max_length": limit}
    if name == "summary":
        element["multiline"] = True
    if name == "url":
        element["placeholder"] = {"type": "plain_text", "text": "https://"}
    return {
        "type": "input",
        "block_id": name,
        "optional": optional,
        "label": {"type": "plain_text", "text": t(label)},
        "element": element,
    }


def add_content(t: Translator) -> dict[str, Any]:
    blocks = [_input(t, *field) for field in _FIELDS]
    blocks.append(
        {
            "type": "input",
            "block_id": "expires",
            "optional": True,
            "label": {"type": "plain_text", "text": t("slack.form_expires")},
            "element": {"type": "datepicker", "action_id": "expires"},
        }
    )
    options = [
        {"text": {"type": "plain_text", "text": t(f"kinds.{kind}")}, "value": kind}
        for kind in kinds.KINDS
    ]
    blocks.append(
        {
            "type": "input",
            "block_id": "kind",
            "optional": True,  # left empty: the page says what it is
            "label": {"type": "plain_text", "text": t("slack.form_kind")},
            "element": {
                "type": "static_select",
                "action_id": "kind",
                "placeholder": {"type": "plain_text", "text": t("slack.form_kind_guess")[:150]},
                "options": options,
            },
        }
    )
    return {
        "type": "modal",
        "callback_id": ADD_FORM,
        "title": {"type": "plain_text", "text": t("slack.form_heading")[:24]},
        "submit": {"type": "plain_text", "text": t("slack.form_submit")[:24]},
        "close": {"type": "plain_text", "text": t("slack.form_cancel")[:24]},
        "blocks": blocks,
    }


def errors(values: dict[str, str], t: Translator, *, tz: ZoneInfo, now: datetime) -> dict[str, str]:
    """Inline errors for the modal (block id → message), checked before it closes."""
    found: dict[str, str] = {}
    checks = (
        ("url", content.normalise_url),
        ("title", content.clean_title),
        ("summary", content.clean_summary),
        ("expires", lambda v: content.parse_expiry(v, tz=tz, now=now) if v else None),
    )
    for name, check in checks:
        try:
            check(values.get(name, ""))
        except AmbassadorError as error:
            found[name] = t(error.key, **error.params)[:150]
    return found
