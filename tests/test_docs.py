"""The README documents every setting; the Slack manifest never asks for channel history."""

from __future__ import annotations

from pathlib import Path

from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    names = [field.alias for field in Settings.model_fields.values()]
    assert names
    missing = [name for name in names if name and f"`{name}`" not in readme and name not in readme]
    assert missing == []


def test_manifest_asks_for_no_channel_history() -> None:
    manifest = (ROOT / "manifest.yml").read_text(encoding="utf-8")
    for scope in ("channels:history", "groups:history", "mpim:history", "message.channels"):
        assert scope not in manifest
    assert "command: /ambassador" in manifest
