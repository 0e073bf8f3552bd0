"""The Microsoft Teams app package: `appPackage/` filled in with the bot's app id, checked,
and zipped the way Teams wants it (every file at the zip's root, no folder).

`manifest.json` holds `${{MICROSOFT_APP_ID}}` where the app id goes: the manifest `id` and
`bots[0].botId`, the same GUID as is usual for a single-bot app. The package holds exactly
the files the manifest names (its icons and its localisation files), and the same inputs
always give the same bytes (fixed timestamps and permissions, a fixed order).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import zipfile
from pathlib import Path
from typing import Any, NoReturn

from bot.errors import ConfigurationError

APP_PACKAGE = Path(__file__).resolve().parent / "appPackage"
MANIFEST = "manifest.json"
DEFAULT_NAME = "ambassador-teams.zip"
APP_ID_PLACEHOLDER = "${{MICROSOFT_APP_ID}}"

GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_NIL_GUID = "00000000-0000-0000-0000-000000000000"
_SCHEMA_URL = re.compile(
    r"https://developer\.microsoft\.com/(?:[a-z]{2}-[a-z]{2}/)?json-schemas/teams/"
    r"v(\d+\.\d+)/MicrosoftTeams\.schema\.json"
)
_LOCALISATION_SCHEMA = "MicrosoftTeams.Localization.schema.json"
_HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
_SEMVER = re.compile(r"(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)")
_LANGUAGE_TAG = re.compile(r"[A-Za-z0-9]{1,8}(?:-[A-Za-z0-9]{1,8}){0,2}")
_COMMAND_KEY = re.compile(
    r"bots\[0\]\.commandLists\[(\d+)\]\.commands\[(\d+)\]\.(title|description)"
)

REQUIRED = ("manifestVersion", "version", "id", "developer", "name", "description", "icons",
            "accentColor")  # fmt: skip
# Limits of the manifest schema, at their strictest across versions: older schemas cap a bot
# command's title at 32 characters, its description at 128 and a list at 10 commands.
MAX_COMMANDS = 10
MAX_TITLE = 32
MAX_DESCRIPTION = 128
BOT_SCOPES = frozenset({"personal", "team", "groupChat"})
TEXT_LIMITS = {"name.short": 30, "name.full": 100, "description.short": 80,
               "description.full": 4000, "developer.name": 32}  # fmt: skip
# What a bot that reads only what is addressed to it never needs: no permissions, no
# resource-specific consent (it would let the bot read every channel message), no sign-on.
NOT_NEEDED = ("permissions", "devicePermissions", "authorization", "webApplicationInfo",
              "validDomains")  # fmt: skip
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest a zip can hold: the same bytes every time


def write_package(app_id: str, out: Path, *, source: Path = APP_PACKAGE) -> Path:
    """Write the Teams app package for `app_id` to `out` (a directory: `ambassador-teams.zip`
    inside it) and return the path written. Nothing is written if anything is wrong."""
    app_id = check_app_id(app_id)
    files = package_files(app_id, source)
    target = out / DEFAULT_NAME if out.is_dir() else out
    try:
        _write_zip(target, files)
    except OSError as exc:
        raise ConfigurationError(
            "cli.teams_write", path=str(target), reason=exc.strerror or str(exc)
        ) from exc
    return target


def check_app_id(value: str) -> str:
    """The bot's Microsoft App ID: a GUID (and not the all-zero placeholder). A wrong value
    is not repeated back: the usual mistake is pasting the app's password here."""
    app_id = value.strip()
    if not GUID.fullmatch(app_id) or app_id == _NIL_GUID:
        raise ConfigurationError("cli.teams_app_id")
    return app_id


def package_files(app_id: str, source: Path = APP_PACKAGE) -> dict[str, bytes]:
    """The package's files, by name, in zip order: the filled-in manifest first."""
    text = _read(source / MANIFEST).replace(APP_ID_PLACEHOLDER, app_id)
    manifest = _load(source / MANIFEST, text=text)
    check_manifest(manifest)
    files = {MANIFEST: _dump(manifest)}
    icons = manifest["icons"]
    for name in (icons["color"], icons["outline"]):
        files[_at_root(name)] = _read_bytes(source / name)
    for language in manifest.get("localizationInfo", {}).get("additionalLanguages", []):
        name = _at_root(language["file"])
        localisation = _load(source / name)
        check_localisation(localisation, manifest, name)
        files[name] = _dump(localisation)
    return files


def _at_root(name: str) -> str:
    """Teams rejects a package with folders: every file it names sits at the root."""
    if not name or "/" in name or "\\" in name or name.startswith(".") or name == MANIFEST:
        _invalid(f"{name!r}: every file must be a distinct name at the package's root")
    return name


def check_manifest(manifest: dict[str, Any]) -> None:
    """What Teams refuses outright, checked before anything is written."""
    missing = [key for key in REQUIRED if not manifest.get(key)]
    if missing:
        _invalid("missing " + ", ".join(missing))
    match = _SCHEMA_URL.fullmatch(str(manifest.get("$schema", "")))
    if match is None or match.group(1) != manifest["manifestVersion"]:
        _invalid("$schema and manifestVersion name different schema versions")
    if not _SEMVER.fullmatch(str(manifest["version"])):
        _invalid("version must be MAJOR.MINOR.PATCH")
    if APP_ID_PLACEHOLDER in json.dumps(manifest) or not GUID.fullmatch(str(manifest["id"])):
        _invalid("id must be the app's GUID")
    _check_texts(manifest)
    if not _HEX_COLOUR.fullmatch(str(manifest["accentColor"])):
        _invalid("accentColor must be #RRGGBB")
    if not manifest["icons"].get("color") or not manifest["icons"].get("outline"):
        _invalid("icons needs color and outline")
    for key in NOT_NEEDED:
        if key in manifest:
            _invalid(f"{key} is not needed: leave it out")
    _check_bots(manifest)
    info = manifest.get("localizationInfo", {})
    tags = [info.get("defaultLanguageTag", "")] + [
        entry.get("languageTag", "") for entry in info.get("additionalLanguages", [])
    ]
    if info and not all(_LANGUAGE_TAG.fullmatch(tag) for tag in tags):
        _invalid("localizationInfo has a bad language tag")


def _check_texts(manifest: dict[str, Any]) -> None:
    for path, limit in TEXT_LIMITS.items():
        section, key = path.split(".")
        text = manifest[section].get(key)
        optional = path == "name.full"
        if not (optional and text is None) and not 0 < len(str(text or "")) <= limit:
            _invalid(f"{path} must be 1 to {limit} characters")
    for key in ("websiteUrl", "privacyUrl", "termsOfUseUrl"):
        if not str(manifest["developer"].get(key, "")).startswith("https://"):
            _invalid(f"developer.{key} must be an https:// URL")


def _check_bots(manifest: dict[str, Any]) -> None:
    bots = manifest.get("bots")
    if not isinstance(bots, list) or len(bots) != 1:
        _invalid("bots must hold exactly one bot")
    bot = bots[0]
    if bot.get("botId") != manifest["id"]:
        _invalid("bots[0].botId must be the app id")
    scopes = set(bot.get("scopes", []))
    if not scopes or not scopes <= BOT_SCOPES:
        _invalid("bots[0].scopes must be personal, team or groupChat")
    for i, entry in enumerate(bot.get("commandLists", [])):
        where = f"bots[0].commandLists[{i}]"
        if not set(entry.get("scopes", [])) <= scopes or not entry.get("scopes"):
            _invalid(f"{where}.scopes must be among the bot's scopes")
        commands = entry.get("commands", [])
        if not 0 < len(commands) <= MAX_COMMANDS:
            _invalid(f"{where} must hold 1 to {MAX_COMMANDS} commands")
        titles = [command.get("title", "") for command in commands]
        if len(set(titles)) != len(titles):
            _invalid(f"{where} names a command twice")
        for j, command in enumerate(commands):
            _check_command(f"{where}.commands[{j}]", command)


def _check_command(where: str, command: dict[str, Any]) -> None:
    if not 0 < len(command.get("title", "")) <= MAX_TITLE:
        _invalid(f"{where}.title must be 1 to {MAX_TITLE} characters")
    if not 0 < len(command.get("description", "")) <= MAX_DESCRIPTION:
        _invalid(f"{where}.description must be 1 to {MAX_DESCRIPTION} characters")


def check_localisation(strings: dict[str, Any], manifest: dict[str, Any], name: str) -> None:
    """A localisation file translates what the manifest has, within the same limits."""
    if not str(strings.get("$schema", "")).endswith(_LOCALISATION_SCHEMA):
        _invalid(f"{name}: $schema must be the localisation schema")
    lists = manifest["bots"][0].get("commandLists", [])
    for key, value in strings.items():
        if key == "$schema":
            continue
        if not isinstance(value, str) or not value.strip():
            _invalid(f"{name}: {key} is empty")
        if key in TEXT_LIMITS and key != "developer.name":
            limit = TEXT_LIMITS[key]
        elif match := _COMMAND_KEY.fullmatch(key):
            i, j, field = int(match.group(1)), int(match.group(2)), match.group(3)
            if i >= len(lists) or j >= len(lists[i]["commands"]):
                _invalid(f"{name}: {key} translates no command of the manifest")
            limit = MAX_TITLE if field == "title" else MAX_DESCRIPTION
        else:
            _invalid(f"{name}: {key} is not a key Teams translates")
        if len(value) > limit:
            _invalid(f"{name}: {key} is longer than {limit} characters")
    for key in ("name.short", "description.short", "description.full"):
        if key not in strings:
            _invalid(f"{name}: missing {key}")


def _invalid(problem: str) -> NoReturn:
    raise ConfigurationError("cli.teams_manifest", problem=problem)


def _read(path: Path) -> str:
    return _read_bytes(path).decode("utf-8")


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigurationError(
            "cli.teams_manifest", problem=f"{path.name}: {exc.strerror or exc}"
        ) from exc


def _load(path: Path, *, text: str | None = None) -> dict[str, Any]:
    try:
        data = json.loads(_read(path) if text is None else text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigurationError("cli.teams_manifest", problem=f"{path.name}: {exc}") from exc
    if not isinstance(data, dict):
        _invalid(f"{path.name} must hold a JSON object")
    return data


def _dump(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _write_zip(target: Path, files: dict[str, bytes]) -> None:
    """Into a temporary file beside the target, then renamed: a failure leaves nothing."""
    handle, temporary = tempfile.mkstemp(prefix=".ambassador-teams-", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as raw, zipfile.ZipFile(raw, "w") as archive:
            for name, data in files.items():
                info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, data, compresslevel=9)
        Path(temporary).chmod(0o644)
        Path(temporary).replace(target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
