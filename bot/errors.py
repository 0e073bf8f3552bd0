"""One exception hierarchy. Each error carries a catalog key, so it reaches people translated.

Adapters catch `AmbassadorError` once, in their global handler, and answer with
`error.render(translator)`; anything else is a bug, logged and answered with a generic line.
"""

from __future__ import annotations

from typing import Any


class AmbassadorError(Exception):
    """A problem the person can act on: shown to them as one short sentence."""

    key = "error.generic"

    def __init__(self, key: str | None = None, **params: Any) -> None:
        self.key = key or self.key
        self.params = params
        super().__init__(self.key, params)


class UsageError(AmbassadorError):
    """Unknown command or malformed arguments: answered with a short help."""

    key = "error.usage"


class InvalidInput(AmbassadorError):
    """A value that cannot be accepted (URL, title, date…); nothing was stored."""

    key = "error.invalid"


class NotFound(AmbassadorError):
    key = "error.not_found"


class Forbidden(AmbassadorError):
    """The person lacks the role this needs; nothing changed."""

    key = "error.forbidden"


class Conflict(AmbassadorError):
    """The request collides with what exists (a duplicate URL, a stale button)."""

    key = "error.conflict"


class Paused(AmbassadorError):
    key = "error.paused"


class ConfigurationError(AmbassadorError):
    key = "error.configuration"
