"""The rules every model draft leaves through, whatever the model wrote.

A model may forget the URL, drop or reword the disclosure (a content summary may even ask it
to), or overrun a network's limit. These rules are deterministic: the URL and the disclosure
are added when missing, and a text still too long after one more request is trimmed at a
sentence boundary, the URL and disclosure kept.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.drafting.base import LINKEDIN_LIMIT, X_LIMIT, x_length

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_SPACES = re.compile(r"\s+")


def _plain(text: str) -> str:
    return _SPACES.sub(" ", text).strip().casefold().rstrip(".!")


def has_disclosure(text: str, disclosure: str) -> bool:
    """The disclosure sentence is there, as written (case and spacing aside)."""
    return _plain(disclosure) in _SPACES.sub(" ", text).casefold()


def complete(text: str, *, url: str, disclosure: str, separator: str) -> str:
    """`text` with the item URL and the disclosure added if the model left either out."""
    text = text.strip()
    if url not in text:
        text = f"{text}{separator}{url}" if text else url
    if not has_disclosure(text, disclosure):
        text = f"{text}{separator}{disclosure}"
    return text


def linkedin_fits(text: str) -> bool:
    return len(text) <= LINKEDIN_LIMIT


def x_fits(text: str) -> bool:
    return x_length(text) <= X_LIMIT


def _trim(
    text: str,
    *,
    url: str,
    disclosure: str,
    separator: str,
    fits: Callable[[str], bool],
) -> str:
    """Whole sentences from the start while URL and disclosure still fit after them; a
    first sentence too long on its own is cut at a word, with an ellipsis."""
    body = text.replace(url, " ")
    plain_disclosure = _plain(disclosure)
    body = re.sub(re.escape(plain_disclosure) + r"\.?", " ", body, flags=re.IGNORECASE)
    body = _SPACES.sub(" ", body).strip()
    tail = f"{url}{separator}{disclosure}"

    def joined(part: str) -> str:
        return f"{part}{separator}{tail}" if part else tail

    kept = ""
    for sentence in _SENTENCE_END.split(body):
        candidate = f"{kept} {sentence}".strip()
        if not fits(joined(candidate)):
            break
        kept = candidate
    if not kept:
        words = body.split()
        while words and not fits(joined(" ".join(words) + "…")):
            words.pop()
        kept = " ".join(words) + "…" if words else ""
    return joined(kept)


def trim_linkedin(text: str, *, url: str, disclosure: str) -> str:
    return _trim(text, url=url, disclosure=disclosure, separator="\n\n", fits=linkedin_fits)


def trim_x(text: str, *, url: str, disclosure: str) -> str:
    return _trim(text, url=url, disclosure=disclosure, separator=" ", fits=x_fits)
