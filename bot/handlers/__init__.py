"""Command handlers, one module per area; each module's `register(router)` adds its routes."""

from __future__ import annotations

from bot.handlers import admin, claims, content, digest, help, home, membership, privacy, status
from bot.router import Router


def build_router() -> Router:
    router = Router()
    for module in (help, membership, claims, content, digest, privacy, admin, status, home):
        module.register(router)
    return router
