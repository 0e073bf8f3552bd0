"""Command handlers, one module per area; each module's `register(router)` adds its routes."""

from __future__ import annotations

from bot.handlers import (
    admin,
    claims,
    content,
    digest,
    feeds,
    help,
    home,
    membership,
    privacy,
    review,
    status,
)
from bot.router import Router


def build_router() -> Router:
    router = Router()
    modules = (
        help,
        membership,
        claims,
        content,
        review,
        feeds,
        digest,
        privacy,
        admin,
        status,
        home,
    )
    for module in modules:
        module.register(router)
    return router
