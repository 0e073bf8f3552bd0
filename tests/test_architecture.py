"""Layering: the core (`bot/`) knows no platform SDK, network client or adapter; storage knows
no adapter; and time always comes from a clock, never `datetime.utcnow`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN_IN_CORE = (
    "slack_sdk",
    "slack_bolt",
    "slack",
    "botbuilder",
    "aiohttp",
    "openai",
    "apscheduler",
    "httpx",  # the core reads pages and feeds through `bot.web.Fetcher`; it opens no socket
    "urllib.request",
    "socket",
    "adapters",
)


def python_files(folder: str) -> list[Path]:
    files = sorted((ROOT / folder).rglob("*.py"))
    assert files, f"no Python files under {folder}/: the test is looking in the wrong place"
    return files


def imported_modules(source: str) -> set[str]:
    """Every module an import statement names (absolute imports; relative ones stay inside
    their own package). `import a.b` and `from a.b import c` both give `a.b`."""
    modules: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id)
            in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            modules.add(node.args[0].value)
    return modules


def is_under(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == package or module.startswith(package + ".") for package in packages)


def offending_imports(folder: str, packages: tuple[str, ...]) -> list[str]:
    found = []
    for path in python_files(folder):
        for module in imported_modules(path.read_text("utf-8")):
            if is_under(module, packages):
                found.append(f"{path.relative_to(ROOT)}: {module}")
    return sorted(found)


def utcnow_uses(source: str) -> list[int]:
    """Lines that reach `utcnow` as an attribute (`datetime.utcnow()`, `dt.datetime.utcnow`)
    or import it by name; mentions in docstrings and comments do not count."""
    names = ("utcnow", "utcfromtimestamp")
    lines: list[int] = []
    for node in ast.walk(ast.parse(source)):
        attribute = isinstance(node, ast.Attribute) and node.attr in names
        imported = isinstance(node, ast.ImportFrom) and any(a.name in names for a in node.names)
        if attribute or imported:
            lines.append(getattr(node, "lineno", 0))
    return lines


# --- the checkers themselves catch what they should ----------------------------------------


def test_import_scan_sees_every_import_form() -> None:
    source = """
import slack_sdk.web
from slack_bolt.async_app import AsyncApp
import aiohttp as http
from adapters.console import transport
import importlib
importlib.import_module("openai")
from . import sibling
from bot.errors import UsageError
def later():
    import apscheduler.schedulers
"""
    modules = imported_modules(source)
    assert modules == {
        "slack_sdk.web",
        "slack_bolt.async_app",
        "aiohttp",
        "adapters.console",
        "importlib",
        "openai",
        "bot.errors",
        "apscheduler.schedulers",
    }
    flagged = {m for m in modules if is_under(m, FORBIDDEN_IN_CORE)}
    assert flagged == modules - {"importlib", "bot.errors"}


def test_package_prefix_matching_is_by_whole_name() -> None:
    assert is_under("slack", FORBIDDEN_IN_CORE)
    assert is_under("slack.web.client", FORBIDDEN_IN_CORE)
    assert is_under("adapters", FORBIDDEN_IN_CORE)
    assert not is_under("slackish", FORBIDDEN_IN_CORE)
    assert not is_under("bot.adapters_note", FORBIDDEN_IN_CORE)


def test_utcnow_scan_ignores_docstrings_but_sees_calls() -> None:
    source = '''
"""Never call `datetime.utcnow()`."""
import datetime as dt
from datetime import datetime
# datetime.utcnow() in a comment
a = datetime.utcnow()
b = dt.datetime.utcnow
'''
    assert sorted(utcnow_uses(source)) == [6, 7]
    assert utcnow_uses("from datetime import datetime\nx = datetime.now()\n") == []


# --- the rules ------------------------------------------------------------------------------


def test_core_imports_no_platform_sdk_network_client_or_adapter() -> None:
    assert offending_imports("bot", FORBIDDEN_IN_CORE) == []


def test_storage_imports_no_adapter() -> None:
    assert offending_imports("storage", ("adapters",)) == []


def test_core_and_storage_are_actually_scanned() -> None:
    core = {path.relative_to(ROOT).as_posix() for path in python_files("bot")}
    assert {"bot/drafting/template.py", "bot/router.py", "bot/services/content.py"} <= core
    assert any(path.name == "models.py" for path in python_files("storage"))


@pytest.mark.parametrize("folder", ["bot", "storage", "adapters"])
def test_no_utcnow(folder: str) -> None:
    uses = {
        str(path.relative_to(ROOT)): lines
        for path in python_files(folder)
        if (lines := utcnow_uses(path.read_text("utf-8")))
    }
    assert uses == {}


def test_botbuilder_stays_in_the_teams_adapter() -> None:
    """botbuilder-python is archived (its successor is the Microsoft 365 Agents SDK): a swap
    must touch `adapters/teams/` only."""
    sdk = ("botbuilder", "botframework")
    outside = [
        found
        for folder in ("bot", "storage", "adapters")
        for found in offending_imports(folder, sdk)
        if not found.startswith("adapters/teams/")
    ]
    assert outside == []
    inside = offending_imports("adapters", sdk)
    assert any(found.startswith("adapters/teams/transport.py") for found in inside)
