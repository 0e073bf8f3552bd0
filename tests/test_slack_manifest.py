"""`manifest.yml` asks for exactly what the code uses: no scope, event or command more, none
less. The code side is read from the adapter's own source, so a new Web API call or event
listener cannot slip past this test."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from adapters.slack import delivery, transport

ROOT = Path(__file__).resolve().parent.parent
SLACK = ROOT / "adapters" / "slack"


def manifest() -> dict[str, object]:
    return dict(yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8")))


def source() -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in SLACK.glob("*.py"))


def test_web_api_calls_all_go_through_the_scope_table() -> None:
    code = source()
    called = set(re.findall(r'_call\(\s*"([a-z]+\.[A-Za-z]+)"', code))
    assert called == set(delivery.SCOPES)
    # no call may bypass _call (the SDK's typed methods or api_call)
    assert not re.search(r"client\.(api_call|[a-z]+_[a-zA-Z]+)\(", code)


def test_events_registered_are_the_events_subscribed() -> None:
    code = (SLACK / "transport.py").read_text(encoding="utf-8")
    registered = set(re.findall(r'app\.event\("([a-z_.]+)"\)', code))
    if '"channel_type": "im"' in code:
        registered.add("message.im")
    assert registered == set(transport.EVENTS)
    settings = manifest()["settings"]
    assert isinstance(settings, dict)
    assert set(settings["event_subscriptions"]["bot_events"]) == set(transport.EVENTS)


def test_commands_match() -> None:
    features = manifest()["features"]
    assert isinstance(features, dict)
    commands = {entry["command"] for entry in features["slash_commands"]}
    assert commands == set(transport.COMMANDS)
    code = (SLACK / "transport.py").read_text(encoding="utf-8")
    assert "app.command(COMMANDS[0])" in code
    assert len(transport.COMMANDS) == 1


def test_scopes_are_exactly_what_is_used() -> None:
    oauth = manifest()["oauth_config"]
    assert isinstance(oauth, dict)
    asked = set(oauth["scopes"]["bot"])
    needed = {scope for scope in delivery.SCOPES.values() if scope}
    needed |= {scope for scope in transport.EVENTS.values() if scope}
    needed |= {"commands"} if transport.COMMANDS else set()
    assert asked == needed
    for forbidden in ("channels:history", "groups:history", "mpim:history", "channels:read"):
        assert forbidden not in asked


def test_manifest_is_complete() -> None:
    data = manifest()
    assert data["display_information"]["name"]  # type: ignore[index]
    features = data["features"]
    assert isinstance(features, dict)
    assert features["app_home"]["home_tab_enabled"] is True
    assert features["bot_user"]["display_name"]
    settings = data["settings"]
    assert isinstance(settings, dict)
    assert settings["interactivity"]["is_enabled"] is True
    urls = {
        settings["interactivity"]["request_url"],
        settings["event_subscriptions"]["request_url"],
        *(entry["url"] for entry in features["slash_commands"]),
    }
    assert len(urls) == 1
    assert next(iter(urls)).endswith("/slack/events")
    assert "socket_mode_enabled" in settings
