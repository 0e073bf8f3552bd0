"""One command router: every adapter's typed commands, buttons, reactions and thread replies
land here, by name. Role checks happen here, before any handler runs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.errors import Forbidden, UsageError

if TYPE_CHECKING:
    from bot.commands import Command
    from bot.context import Context
    from bot.messages import Reply

Handler = Callable[["Context", "Command"], Awaitable["Reply"]]
# the URL whose page a command previews, fetched before its transaction opens (or None)
Previewed = Callable[["Command"], str | None]


@dataclass(frozen=True)
class Route:
    name: str
    handler: Handler
    role: str | None = None  # None: everyone; "manager"; "admin"
    listed: bool = True  # typed commands appear in help; button-only ones do not
    previews: Previewed | None = None
    reads: str = "page"  # what `previews` names: a "page" (its preview) or a "feed"


class Router:
    def __init__(self) -> None:
        self._routes: dict[str, Route] = {}

    def add(
        self,
        name: str,
        handler: Handler,
        *,
        role: str | None = None,
        listed: bool = True,
        aliases: tuple[str, ...] = (),
        previews: Previewed | None = None,
        reads: str = "page",
    ) -> None:
        if name in self._routes:
            raise ValueError(f"command {name!r} registered twice")
        route = Route(name, handler, role, listed, previews, reads)
        self._routes[name] = route
        for alias in aliases:
            self._routes[alias] = Route(alias, handler, role, False, previews, reads)

    def find(self, name: str) -> Route | None:
        return self._routes.get(name)

    def resolve(self, name: str, roles: frozenset[str]) -> Route:
        route = self._routes.get(name)
        if route is None:
            raise UsageError("error.unknown_command", command=name[:40])
        if route.role is not None and route.role not in roles:
            raise Forbidden("error.forbidden_" + route.role)
        return route

    def listed(self, roles: frozenset[str]) -> list[Route]:
        return [
            route
            for route in self._routes.values()
            if route.listed and (route.role is None or route.role in roles)
        ]
