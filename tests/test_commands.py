"""Parsing typed commands (`bot/commands.py`) and routing them (`bot/router.py`)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.commands import MAX_COMMAND_LENGTH, Actor, Command, Via, parse
from bot.errors import Forbidden, UsageError
from bot.handlers import build_router
from bot.router import Router

ALICE = Actor("console", "alice")


@pytest.mark.parametrize("text", ["", " ", "   \t ", "\n", " \n\t "])
def test_blank_input_means_help(text: str) -> None:
    command = parse(ALICE, text)
    assert command.name == "help"
    assert command.args == ()
    assert command.rest == ""
    assert command.actor == ALICE


def test_name_is_lower_cased() -> None:
    assert parse(ALICE, "JOIN").name == "join"
    assert parse(ALICE, "Claim 2").name == "claim"
    assert parse(ALICE, "  HeLp  ").name == "help"


def test_args_are_split_on_whitespace() -> None:
    command = parse(ALICE, "role  add   @bob \t manager")
    assert command.name == "role"
    assert command.args == ("add", "@bob", "manager")


def test_rest_keeps_original_case_and_inner_spacing() -> None:
    command = parse(ALICE, "ADD https://example.com/A   The  Big   News ")
    assert command.name == "add"
    assert command.rest == "https://example.com/A   The  Big   News"
    assert command.args == ("https://example.com/A", "The", "Big", "News")


def test_rest_keeps_line_breaks_of_a_multi_line_text() -> None:
    command = parse(ALICE, "charter set First line.\nSecond LINE.")
    assert command.name == "charter"
    assert command.rest == "set First line.\nSecond LINE."


def test_command_without_arguments() -> None:
    command = parse(ALICE, "leave")
    assert command == Command(ALICE, "leave", (), "", Via.TEXT, None)


def test_typed_commands_come_via_text() -> None:
    assert parse(ALICE, "claim 1").via is Via.TEXT


def test_text_of_the_maximum_length_is_accepted() -> None:
    text = "add " + "x" * (MAX_COMMAND_LENGTH - 4)
    assert len(text) == MAX_COMMAND_LENGTH
    assert parse(ALICE, text).name == "add"


def test_over_long_text_is_a_usage_error() -> None:
    with pytest.raises(UsageError) as raised:
        parse(ALICE, "add " + "x" * MAX_COMMAND_LENGTH)
    assert raised.value.key == "error.too_long"
    assert raised.value.params == {"limit": MAX_COMMAND_LENGTH}


def test_over_long_blank_text_is_still_refused() -> None:
    with pytest.raises(UsageError):
        parse(ALICE, " " * (MAX_COMMAND_LENGTH + 1))


@given(st.text(max_size=MAX_COMMAND_LENGTH + 50))
@settings(max_examples=200, deadline=None)
def test_parse_returns_a_clean_command_or_a_usage_error(text: str) -> None:
    try:
        command = parse(ALICE, text)
    except UsageError:
        assert len(text) > MAX_COMMAND_LENGTH
        return
    assert isinstance(command, Command)
    assert command.name
    assert not any(char.isspace() for char in command.name)
    assert command.name == command.name.lower()
    assert command.rest == command.rest.strip()
    assert command.args == tuple(command.rest.split())


@given(st.text())
@settings(max_examples=200, deadline=None)
def test_parse_never_raises_anything_but_a_usage_error(text: str) -> None:
    try:
        command = parse(ALICE, text)
    except UsageError:
        return
    assert not any(char.isspace() for char in command.name)


# --- the router -----------------------------------------------------------------------------


@pytest.fixture
def router() -> Router:
    return build_router()


def test_unknown_command_is_a_usage_error(router: Router) -> None:
    with pytest.raises(UsageError) as raised:
        router.resolve("frobnicate", frozenset())
    assert raised.value.key == "error.unknown_command"
    assert raised.value.params == {"command": "frobnicate"}


def test_unknown_command_name_is_cut_short_in_the_error(router: Router) -> None:
    with pytest.raises(UsageError) as raised:
        router.resolve("x" * 500, frozenset())
    assert raised.value.params["command"] == "x" * 40


@pytest.mark.parametrize("name", ["add", "list", "remove", "expire", "digest", "pause"])
def test_manager_route_needs_the_manager_role(router: Router, name: str) -> None:
    with pytest.raises(Forbidden) as raised:
        router.resolve(name, frozenset())
    assert raised.value.key == "error.forbidden_manager"
    assert router.resolve(name, frozenset({"manager"})).name == name


@pytest.mark.parametrize("name", ["stats", "role", "roles"])
def test_admin_route_needs_the_admin_role(router: Router, name: str) -> None:
    for roles in (frozenset(), frozenset({"manager"})):
        with pytest.raises(Forbidden) as raised:
            router.resolve(name, roles)
        assert raised.value.key == "error.forbidden_admin"
    assert router.resolve(name, frozenset({"admin"})).role == "admin"


@pytest.mark.parametrize("name", ["help", "join", "leave", "charter", "claim", "mydata"])
def test_everyone_routes_need_no_role(router: Router, name: str) -> None:
    assert router.resolve(name, frozenset()).role is None


@pytest.mark.parametrize(
    ("alias", "name"),
    [("aide", "help"), ("rejoindre", "join"), ("quitter", "leave"), ("ajouter", "add")],
)
def test_french_aliases_reach_the_same_handler(router: Router, alias: str, name: str) -> None:
    roles = frozenset({"manager", "admin"})
    assert router.resolve(alias, roles).handler is router.resolve(name, roles).handler


def test_aliases_keep_the_role_check(router: Router) -> None:
    with pytest.raises(Forbidden):
        router.resolve("ajouter", frozenset())
    with pytest.raises(Forbidden):
        router.resolve("statistiques", frozenset({"manager"}))


def test_listed_hides_button_only_routes_and_aliases(router: Router) -> None:
    everyone = {route.name for route in router.listed(frozenset({"manager", "admin"}))}
    for hidden in ("agree", "claim_item", "ack", "decline", "revise", "new_version", "aide"):
        assert hidden not in everyone
        router.resolve(hidden, frozenset({"manager", "admin"}))  # still routable
    assert {"help", "join", "leave", "claim", "add", "stats"} <= everyone


def test_listed_shows_only_what_the_roles_allow(router: Router) -> None:
    guest = {route.name for route in router.listed(frozenset())}
    manager = {route.name for route in router.listed(frozenset({"manager"}))}
    admin = {route.name for route in router.listed(frozenset({"admin"}))}
    assert "add" not in guest
    assert "stats" not in guest
    assert "add" in manager
    assert "stats" not in manager
    assert "stats" in admin
    assert {"help", "join", "leave"} <= guest <= manager
    assert all(route.role is None for route in router.listed(frozenset()))


def test_a_name_cannot_be_registered_twice() -> None:
    router = build_router()

    async def handler(ctx: object, command: object) -> object:
        raise AssertionError("never called")

    with pytest.raises(ValueError, match="join"):
        router.add("join", handler)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["claim\t2", "claim\n2", "CLAIM \t 2", "claim\u00a02"])
def test_any_whitespace_ends_the_name(text: str) -> None:
    command = parse(ALICE, text)
    assert command.name == "claim"
    assert command.args == ("2",)
    assert command.rest == "2"
