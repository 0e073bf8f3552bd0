"""What a URL's page says about itself: its preview, fetched safely, or why there is none."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from bot.feedread import FeedDoc, read_feed
from bot.i18n import Translator
from bot.preview import Preview, read_page
from bot.web import Fetcher, Unreadable

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)


@dataclass(frozen=True)
class Problem:
    """Why a feed could not be read, kept as a catalog key so each manager reads it in
    their own language."""

    key: str
    params: dict[str, Any]

    def dump(self) -> str:
        return json.dumps({"key": self.key, "params": self.params}, ensure_ascii=False)[:500]

    @classmethod
    def of(cls, error: Unreadable) -> Problem:
        return cls(error.key, error.params)

    @classmethod
    def load(cls, text: str | None) -> Problem | None:
        if not text:
            return None
        try:
            data = json.loads(text)
            return cls(str(data["key"]), dict(data["params"]))
        except (ValueError, KeyError, TypeError):
            return None

    def said(self, t: Translator) -> str:
        """In words: the catalog's, or a general one for a key it no longer has."""
        try:
            return t(self.key, **self.params)
        except (KeyError, IndexError):
            return t("pages.unknown")


async def look(fetcher: Fetcher | None, url: str) -> tuple[Preview | None, Problem | None]:
    """A page's preview, or why there is none; never raises for the page's sake."""
    if fetcher is None:
        return None, Problem("pages.disabled", {})
    try:
        fetched = await fetcher.get(url)
        # parsing a hostile megabyte takes a good part of a second: not on the event loop
        return await asyncio.to_thread(read_page, fetched), None
    except Unreadable as error:
        return None, Problem.of(error)


async def look_feed(fetcher: Fetcher | None, url: str) -> tuple[FeedDoc | None, Problem | None]:
    """A feed, read, or why it cannot be: what `feed add` checks before following it."""
    if fetcher is None:
        return None, Problem("pages.disabled", {})
    try:
        fetched = await fetcher.get(url, accept=FEED_ACCEPT)
        return await asyncio.to_thread(read_feed, fetched), None
    except Unreadable as error:
        return None, Problem.of(error)
