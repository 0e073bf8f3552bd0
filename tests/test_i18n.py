"""The message catalogs (`bot/locales/*.toml`) stay in step, and the code only asks for keys
that exist."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from bot.drafting import Style
from bot.handlers import build_router
from bot.handlers.help import ORDER
from bot.i18n import DEFAULT_LANGUAGE, LANGUAGES, Translator, catalog, normalise_language

ROOT = Path(__file__).resolve().parent.parent
SOURCE_DIRS = (ROOT / "bot", ROOT / "adapters")
EN = catalog("en")
FR = catalog("fr")
SECTIONS = frozenset(key.split(".", 1)[0] for key in EN)
# A quoted `section.key` (dots allowed further in, for nested keys) whose section is a catalog
# section. Literals ending in "_" or "." are prefixes completed at run time (checked below).
_KEY_LITERAL = re.compile(r"""(?<![\w.])["']([a-z_]+)\.([a-z0-9_.]+)["']""")


def placeholders(value: str | list[str]) -> set[str]:
    texts = [value] if isinstance(value, str) else value
    return {name for text in texts for _, name, _, _ in string.Formatter().parse(text) if name}


def entries(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def source_files() -> list[Path]:
    files = [path for folder in SOURCE_DIRS for path in sorted(folder.rglob("*.py"))]
    assert files, "no source found: the test is looking in the wrong place"
    return files


def keys_in(source: str) -> list[tuple[int, str]]:
    """The `"section.key"` literals of one source text, with their line numbers."""
    found = []
    for number, line in enumerate(source.splitlines(), start=1):
        for match in _KEY_LITERAL.finditer(line):
            section, rest = match.groups()
            if section in SECTIONS and not rest.endswith(("_", ".")):
                found.append((number, f"{section}.{rest}"))
    return found


def literal_keys() -> dict[str, list[str]]:
    """Every `"section.key"` literal in the code, with where it was found."""
    found: dict[str, list[str]] = {}
    for path in source_files():
        for number, key in keys_in(path.read_text("utf-8")):
            found.setdefault(key, []).append(f"{path.relative_to(ROOT)}:{number}")
    return found


def known(key: str) -> bool:
    """A key the code may ask for: an entry, or the stem of a plural (`.one`/`.other`)."""
    return key in EN or (f"{key}.one" in EN and f"{key}.other" in EN)


def test_catalogs_are_not_trivially_small() -> None:
    assert len(EN) > 100
    assert {"error", "help", "join", "draft", "content"} <= SECTIONS


def test_both_catalogs_have_the_same_keys() -> None:
    assert sorted(set(EN) - set(FR)) == []
    assert sorted(set(FR) - set(EN)) == []


@pytest.mark.parametrize("key", sorted(EN))
def test_same_placeholders_in_both_languages(key: str) -> None:
    assert placeholders(EN[key]) == placeholders(FR[key])


@pytest.mark.parametrize("key", sorted(EN))
def test_same_shape_in_both_languages(key: str) -> None:
    en, fr = EN[key], FR[key]
    assert isinstance(en, str) == isinstance(fr, str)
    if isinstance(en, list):
        assert len(en) == len(fr)
        assert en, "an empty fragment list"


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_empty_strings(language: str) -> None:
    empty = [
        key
        for key, value in catalog(language).items()
        for text in entries(value)
        if not isinstance(text, str) or not text.strip()
    ]
    assert empty == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_fragment_lists_have_no_duplicates(language: str) -> None:
    repeated = [
        key
        for key, value in catalog(language).items()
        if isinstance(value, list) and len(set(value)) != len(value)
    ]
    assert repeated == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_entry_formats(language: str) -> None:
    """No stray brace: every entry formats once its own placeholders are given."""
    for value in catalog(language).values():
        for text in entries(value):
            text.format(**dict.fromkeys(placeholders(text), "X"))


@pytest.mark.parametrize("key", sorted(k for k in EN if k.endswith(".one")))
def test_plural_forms_come_in_pairs(key: str) -> None:
    stem = key.removesuffix(".one")
    assert f"{stem}.other" in EN
    assert "count" in placeholders(EN[f"{stem}.other"])


def test_the_key_scan_finds_keys() -> None:
    found = literal_keys()
    # Known uses in the code; if the scan finds none of these, the scan is broken.
    assert {"error.usage_of", "draft.disclosure", "content.error_url"} <= set(found)
    assert len(found) > 50


def test_the_key_scan_sees_every_way_a_key_is_used() -> None:
    source = """
        ctx.t("join.welcome")
        self.t('console.intro', user=user)
        t("digest.sent", count=2)
        raise Conflict("roles.error_configured", user=user)
        return Problem(seq, "ledger.problem_missing")
        key = "roles.granted" if granted else "roles.nope"
        raise Forbidden("error.forbidden_" + route.role)
        import bot.handlers; path = "storage.models"; name = "x.toml"
    """
    keys = [key for _, key in keys_in(source)]
    assert keys == [
        "join.welcome",
        "console.intro",
        "digest.sent",
        "roles.error_configured",
        "ledger.problem_missing",
        "roles.granted",
        "roles.nope",
    ]
    assert [key for key in keys if not known(key)] == ["roles.nope"]


def test_every_literal_key_in_the_code_exists() -> None:
    missing = {key: where for key, where in literal_keys().items() if not known(key)}
    assert missing == {}


def test_router_role_errors_exist() -> None:
    """The router raises `"error.forbidden_" + role`."""
    router = build_router()
    roles = {route.role for route in router._routes.values() if route.role}
    assert roles == {"manager", "admin"}
    for role in roles:
        assert f"error.forbidden_{role}" in EN


def test_every_listed_command_has_a_help_line() -> None:
    router = build_router()
    everything = frozenset({"manager", "admin"})
    names = {route.name for route in router.listed(everything)}
    assert names <= set(ORDER), "a listed command missing from the help order"
    for name in ORDER:
        assert f"help.{name}" in EN


@pytest.mark.parametrize("tone", sorted({Style("en").tone, "casual", "formal"}))
def test_drafter_fragment_families_exist_for_every_tone(tone: str) -> None:
    for language in LANGUAGES:
        t = Translator(language)
        assert t.choices(f"draft.linkedin_open_{tone}")
        assert t.choices(f"draft.x_open_{tone}")


def test_dynamic_stats_and_role_keys_exist() -> None:
    for name in ("week", "joins", "leaves", "ambassadors", "claims", "drafts", "shares"):
        assert f"stats.col_{name}" in EN
    for role in ("manager", "admin"):
        assert f"roles.{role}" in EN


def test_disclosure_names_the_company_in_both_languages() -> None:
    assert Translator("en")("draft.disclosure", company="ACME") == "I work at ACME."
    assert Translator("fr")("draft.disclosure", company="ACME") == "Je travaille chez ACME."


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("fr-FR", "fr"),
        ("fr_CA", "fr"),
        ("FR", "fr"),
        (" fr ", "fr"),
        ("en-US", "en"),
        ("en_GB", "en"),
        ("en", "en"),
    ],
)
def test_normalise_language_known(value: str, expected: str) -> None:
    assert normalise_language(value) == expected


@pytest.mark.parametrize("value", [None, "", "de-DE", "es", "zz", "-", "french"])
def test_normalise_language_unknown_falls_back(value: str | None) -> None:
    assert normalise_language(value) == DEFAULT_LANGUAGE == "en"
    assert normalise_language(value, fallback="fr") == "fr"


def test_translator_uses_the_normalised_language() -> None:
    assert Translator("fr-FR").language == "fr"
    assert Translator("de").language == "en"


def test_translator_formats_and_refuses_lists_as_strings() -> None:
    t = Translator("en")
    assert t("error.too_long", limit=7) == EN["error.too_long"].format(limit=7)  # type: ignore[union-attr]
    with pytest.raises(TypeError):
        t("draft.linkedin_close")
    assert t.choices("error.usage") == [EN["error.usage"]]


@pytest.mark.parametrize(("count", "form"), [(0, "other"), (1, "one"), (2, "other")])
def test_english_plural(count: int, form: str) -> None:
    text = Translator("en").plural("digest.sent", count)
    assert text == EN[f"digest.sent.{form}"].format(count=count)  # type: ignore[union-attr]


@pytest.mark.parametrize(("count", "form"), [(0, "one"), (1, "one"), (2, "other")])
def test_french_plural_counts_zero_as_singular(count: int, form: str) -> None:
    text = Translator("fr").plural("digest.sent", count)
    assert text == FR[f"digest.sent.{form}"].format(count=count)  # type: ignore[union-attr]
