"""Message catalogs: every user-facing string lives in `locales/<lang>.toml`, in both languages.

A catalog entry is a string (formatted with `str.format` named fields) or a list of strings
(template fragments the drafter chooses from). A test keeps the two catalogs in step: same
keys, same placeholders.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

LANGUAGES = ("en", "fr")
DEFAULT_LANGUAGE = "en"


def _flatten(prefix: str, table: dict[str, Any], into: dict[str, str | list[str]]) -> None:
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            _flatten(name + ".", value, into)
        else:
            into[name] = value


@cache
def catalog(language: str) -> dict[str, str | list[str]]:
    """The flattened catalog of one language (`section.key` → text)."""
    text = (Path(__file__).parent / "locales" / f"{language}.toml").read_text("utf-8")
    flat: dict[str, str | list[str]] = {}
    _flatten("", tomllib.loads(text), flat)
    return flat


def normalise_language(value: str | None, fallback: str = DEFAULT_LANGUAGE) -> str:
    """Map a platform locale (`fr-FR`, `en_US`, `FR`) to a catalog language."""
    if value:
        short = value.strip().lower().replace("_", "-").split("-")[0]
        if short in LANGUAGES:
            return short
    return fallback


class Translator:
    """Looks strings up in one language's catalog."""

    def __init__(self, language: str) -> None:
        self.language = normalise_language(language)
        self._catalog = catalog(self.language)

    def __call__(self, key: str, **params: Any) -> str:
        value = self._catalog[key]
        if not isinstance(value, str):
            raise TypeError(f"catalog entry {key!r} is a list; use .choices()")
        return value.format(**params) if params else value

    def plural(self, key: str, count: int, **params: Any) -> str:
        """`key.one` or `key.other` by the language's rule (French counts 0 as singular)."""
        singular = count in (0, 1) if self.language == "fr" else count == 1
        return self(f"{key}.{'one' if singular else 'other'}", count=count, **params)

    def choices(self, key: str) -> list[str]:
        value = self._catalog[key]
        if isinstance(value, str):
            return [value]
        return list(value)

    def has(self, key: str) -> bool:
        return key in self._catalog
