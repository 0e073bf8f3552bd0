"""Drafting: turning a claimed item into personal draft posts.

`base` is the seam (request, result, the `Drafter` protocol, network limits);
`instructions` reads members' plain-words wishes; `template` is the built-in drafter.
"""

from bot.drafting.base import (
    LINKEDIN_LIMIT,
    X_LIMIT,
    X_URL_LENGTH,
    Drafter,
    DraftRequest,
    DraftResult,
    Given,
    Usage,
    x_length,
)
from bot.drafting.instructions import Revision, Style, is_sensitive, parse_instruction
from bot.drafting.template import TemplateDrafter

__all__ = [
    "LINKEDIN_LIMIT",
    "X_LIMIT",
    "X_URL_LENGTH",
    "DraftRequest",
    "DraftResult",
    "Drafter",
    "Given",
    "Revision",
    "Style",
    "TemplateDrafter",
    "Usage",
    "is_sensitive",
    "parse_instruction",
    "x_length",
]
