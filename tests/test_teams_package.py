"""The Microsoft Teams app package: `ambassador teams package --app-id ID` writes a zip Teams
accepts (every file at its root, a manifest on a current schema, the app id filled in, the
icons Teams asks for) and asks for nothing the bot does not use."""

from __future__ import annotations

import io
import json
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from PIL import Image

from adapters.teams import package
from adapters.teams.package import APP_PACKAGE, DEFAULT_NAME, write_package
from bot.errors import ConfigurationError
from bot.handlers import build_router
from bot.i18n import Translator
from tests.test_cli import ambassador, ok, one_line_error

ROOT = Path(__file__).resolve().parent.parent
APP_ID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
FILES = ["manifest.json", "color.png", "outline.png", "fr.json"]
WHITE = (255, 255, 255, 255)


def build(tmp_path: Path, app_id: str = APP_ID) -> zipfile.ZipFile:
    path = write_package(app_id, tmp_path / "teams.zip")
    assert path == tmp_path / "teams.zip"
    return zipfile.ZipFile(path)


def manifest_of(archive: zipfile.ZipFile) -> dict[str, Any]:
    return dict(json.loads(archive.read("manifest.json").decode("utf-8")))


def commands(manifest: dict[str, Any]) -> list[tuple[int, int, dict[str, str]]]:
    lists = manifest["bots"][0]["commandLists"]
    return [(i, j, c) for i, entry in enumerate(lists) for j, c in enumerate(entry["commands"])]


def test_the_zip_holds_exactly_the_files_teams_wants_at_its_root(tmp_path: Path) -> None:
    with build(tmp_path) as archive:
        assert archive.namelist() == FILES
        assert all("/" not in name and "\\" not in name for name in archive.namelist())
        assert archive.testzip() is None


def test_manifest_fields(tmp_path: Path) -> None:
    with build(tmp_path) as archive:
        manifest = manifest_of(archive)
    version = manifest["manifestVersion"]
    assert re.fullmatch(r"1\.\d+", version)
    assert int(version.split(".")[1]) >= 17  # a current schema
    assert manifest["$schema"] == (
        f"https://developer.microsoft.com/json-schemas/teams/v{version}/MicrosoftTeams.schema.json"
    )
    for key in package.REQUIRED:
        assert manifest[key]
    assert manifest["id"] == APP_ID
    assert "${{" not in json.dumps(manifest)
    assert manifest["name"]["short"] == "Ambassador"
    description = manifest["description"]
    assert len(description["short"]) <= 80
    for word in ("voluntary", "unpaid", "disclosed"):
        assert word in description["short"]
    for words in ("own words", "anonymous weekly figures", "addressed to it"):
        assert words in description["full"]
    developer = manifest["developer"]
    for key in ("websiteUrl", "privacyUrl", "termsOfUseUrl"):
        assert developer[key].startswith("https://ambassador.example.com/")
    slack = yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))
    assert manifest["accentColor"].lower() == slack["display_information"]["background_color"]
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}

    (bot,) = manifest["bots"]
    assert bot["botId"] == APP_ID
    assert set(bot["scopes"]) == {"personal", "team"}
    assert bot["supportsFiles"] is False
    assert bot["isNotificationOnly"] is False
    lists = bot["commandLists"]
    assert sorted(scope for entry in lists for scope in entry["scopes"]) == ["personal", "team"]
    for entry in lists:
        assert 0 < len(entry["commands"]) <= 10
        titles = [command["title"] for command in entry["commands"]]
        assert len(set(titles)) == len(titles)
    for _, _, command in commands(manifest):
        assert 0 < len(command["title"]) <= 32
        assert 0 < len(command["description"]) <= 128


def test_least_privilege(tmp_path: Path) -> None:
    """No permission, resource-specific consent (which would let the bot read every channel
    message), sign-on or domain: the bot hears only what is addressed to it."""
    with build(tmp_path) as archive:
        manifest = manifest_of(archive)
    for key in ("permissions", "devicePermissions", "authorization", "webApplicationInfo",
                "validDomains", "staticTabs", "configurableTabs", "composeExtensions",
                "connectors", "activities"):  # fmt: skip
        assert key not in manifest
    assert "groupChat" not in manifest["bots"][0]["scopes"]


def test_the_commands_listed_are_words_the_bot_understands(tmp_path: Path) -> None:
    with build(tmp_path) as archive:
        manifest = manifest_of(archive)
    router = build_router()
    everything = frozenset({"manager", "admin"})
    by_scope: dict[str, list[str]] = {}
    for entry in manifest["bots"][0]["commandLists"]:
        for scope in entry["scopes"]:
            by_scope[scope] = [command["title"] for command in entry["commands"]]
        for command in entry["commands"]:
            router.resolve(command["title"].split()[0], everything)  # raises if unknown
    assert {"help", "join", "claim", "charter", "mydata", "forget", "leave"} <= set(
        by_scope["personal"]
    )
    assert {"digest here", "digest now", "add", "stats"} <= set(by_scope["team"])
    for _, _, command in commands(manifest):
        first = command["title"].split()[0]
        if first in ("claim", "shared", "check", "add", "stats"):  # they take an argument
            assert command["description"].startswith(first + " ")


def test_french_localisation(tmp_path: Path) -> None:
    with build(tmp_path) as archive:
        manifest = manifest_of(archive)
        french = json.loads(archive.read("fr.json").decode("utf-8"))
    info = manifest["localizationInfo"]
    assert info["defaultLanguageTag"] == "en"
    assert info["additionalLanguages"] == [{"languageTag": "fr", "file": "fr.json"}]
    assert french["$schema"] == (
        "https://developer.microsoft.com/json-schemas/teams/"
        f"v{manifest['manifestVersion']}/MicrosoftTeams.Localization.schema.json"
    )
    assert french["name.short"] == "Ambassador"
    assert len(french["description.short"]) <= 80
    assert "volontaire" in french["description.short"]
    assert "non rémunéré" in french["description.short"]
    for key in ("name.full", "description.short", "description.full"):
        assert french[key] != manifest[key.split(".")[0]][key.split(".")[1]]
    expected = {"$schema", "name.short", "name.full", "description.short", "description.full"}
    for i, j, command in commands(manifest):
        where = f"bots[0].commandLists[{i}].commands[{j}]"
        expected |= {f"{where}.title", f"{where}.description"}
        # The command words are the bot's own in both languages (as in the French help).
        assert french[f"{where}.title"] == command["title"]
        assert french[f"{where}.description"] != command["description"]
        assert len(french[f"{where}.description"]) <= 128
    assert set(french) == expected


def test_icons(tmp_path: Path) -> None:
    with build(tmp_path) as archive:
        color = Image.open(io.BytesIO(archive.read("color.png")))
        outline = Image.open(io.BytesIO(archive.read("outline.png")))
    assert color.format == outline.format == "PNG"
    assert color.size == (192, 192)
    rgb = color.convert("RGB")
    assert rgb.getpixel((0, 0)) == (0x1F, 0x4E, 0x5F)  # the brand colour, full bleed
    assert rgb.getpixel((96, 60)) == (255, 255, 255)  # and a white mark
    assert outline.size == (32, 32)
    assert outline.mode == "RGBA"
    pixels = [rgba(outline, x, y) for x in range(32) for y in range(32)]
    assert all(pixel == WHITE or pixel[3] == 0 for pixel in pixels)
    assert WHITE in pixels
    assert rgba(outline, 0, 0)[3] == 0  # a transparent background


def rgba(image: Image.Image, x: int, y: int) -> tuple[int, ...]:
    pixel = image.getpixel((x, y))
    assert isinstance(pixel, tuple)
    return pixel


def test_the_same_app_id_gives_the_same_bytes(tmp_path: Path) -> None:
    first = write_package(APP_ID, tmp_path / "a.zip").read_bytes()
    second = write_package(APP_ID, tmp_path / "b.zip").read_bytes()
    assert first == second
    with zipfile.ZipFile(tmp_path / "a.zip") as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    other = write_package("a1b2c3d4-0000-4000-8000-00000000beef", tmp_path / "c.zip")
    assert other.read_bytes() != first


def test_a_directory_gets_the_default_name(tmp_path: Path) -> None:
    assert write_package(f"  {APP_ID.upper()}\n", tmp_path) == tmp_path / DEFAULT_NAME
    with zipfile.ZipFile(tmp_path / DEFAULT_NAME) as archive:
        assert manifest_of(archive)["id"] == APP_ID.upper()


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "my-bot",
        "00000000-0000-0000-0000-000000000000",
        "{3f2504e0-4f89-41d3-9a0c-0305e82c3301}",
        "3f2504e0-4f89-41d3-9a0c-0305e82c33011",
        "3f2504e04f8941d39a0c0305e82c3301",
        "Abc8Q~a-secret-that-looks-like-a-password",
    ],
)
def test_a_bad_app_id_is_one_short_line_and_writes_nothing(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        write_package(bad, tmp_path / "teams.zip")
    assert caught.value.key == "cli.teams_app_id"
    assert list(tmp_path.iterdir()) == []
    for language in ("en", "fr"):
        line = Translator(language)(caught.value.key, **caught.value.params)
        assert "\n" not in line
        assert "GUID" in line
        if bad:
            assert bad not in line  # never echoed: it may be the app's password


def test_an_unwritable_target_is_a_short_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as caught:
        write_package(APP_ID, tmp_path / "missing" / "teams.zip")
    assert caught.value.key == "cli.teams_write"
    assert list(tmp_path.iterdir()) == []


def edited(tmp_path: Path, change: str) -> Path:
    """A copy of appPackage/ with one thing wrong in it."""
    source = tmp_path / "appPackage"
    shutil.copytree(APP_PACKAGE, source)
    manifest = json.loads((source / "manifest.json").read_text(encoding="utf-8"))
    french = json.loads((source / "fr.json").read_text(encoding="utf-8"))
    personal = manifest["bots"][0]["commandLists"][0]["commands"]
    if change == "schema":
        manifest["manifestVersion"] = "1.16"
    elif change == "eleven":
        personal.append({"title": "status", "description": "Admins: the programme's state"})
    elif change == "title":
        personal[0]["title"] = "h" * 33
    elif change == "description":
        personal[0]["description"] = "d" * 129
    elif change == "rsc":
        manifest["authorization"] = {"permissions": {"resourceSpecific": []}}
    elif change == "folder":
        manifest["icons"]["color"] = "icons/color.png"
    elif change == "missing":
        del manifest["accentColor"]
    elif change == "french":
        french["bots[0].commandLists[0].commands[12].title"] = "aide"
    (source / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (source / "fr.json").write_text(json.dumps(french), encoding="utf-8")
    return source


@pytest.mark.parametrize(
    "change",
    ["schema", "eleven", "title", "description", "rsc", "folder", "missing", "french"],
)
def test_a_manifest_teams_would_refuse_is_caught_first(tmp_path: Path, change: str) -> None:
    source = edited(tmp_path, change)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(ConfigurationError) as caught:
        write_package(APP_ID, out / "teams.zip", source=source)
    assert caught.value.key == "cli.teams_manifest"
    assert list(out.iterdir()) == []
    assert "\n" not in Translator("en")(caught.value.key, **caught.value.params)


@pytest.mark.slow
def test_the_command_line(tmp_path: Path) -> None:
    line = ok(ambassador(tmp_path, "teams", "package", "--app-id", APP_ID))
    assert line.count("\n") == 1
    assert DEFAULT_NAME in line
    with zipfile.ZipFile(tmp_path / DEFAULT_NAME) as archive:
        assert archive.namelist() == FILES
        assert manifest_of(archive)["bots"][0]["botId"] == APP_ID
    assert not (tmp_path / "a.db").exists()  # no database is needed, none is made

    french = ok(
        ambassador(
            tmp_path,
            *("teams", "package", "--app-id", APP_ID, "--out", "fr.zip"),
            env={"AMBASSADOR_LOCALE": "fr"},
        )
    )
    assert "Paquet d'application Teams" in french
    assert "fr.zip" in french
    assert (tmp_path / "fr.zip").read_bytes() == (tmp_path / DEFAULT_NAME).read_bytes()

    (tmp_path / "bad").mkdir()
    bad = ambassador(tmp_path, "teams", "package", "--app-id", "s3cret~value", "--out", "bad")
    assert "GUID" in one_line_error(bad)
    assert "s3cret" not in bad.stderr
    assert list((tmp_path / "bad").iterdir()) == []

    assert "--app-id" in one_line_error(ambassador(tmp_path, "teams", "package"), 2)
    usage = ok(ambassador(tmp_path, "teams", "package", "--help"))
    assert "usage: ambassador teams package" in usage
    assert "--out" in usage
    assert "teams" in ok(ambassador(tmp_path, "--help"))
