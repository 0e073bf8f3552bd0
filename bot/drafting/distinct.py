"""Principle 4, applied: a new draft must not read like one already given to someone else
for the same item (the measure is `bot/similarity.py`, its threshold 0.5).

What every draft of an item may share is not counted: the URL, the item's title, the
company's name and the disclosure in either language. The item's summary *is* counted: two
posts quoting the same paragraph read alike, whoever quotes it.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.drafting.base import Given
from bot.i18n import LANGUAGES, Translator
from bot.similarity import Corpus


def shared_phrases(*, title: str, company: str) -> tuple[str, ...]:
    """Text every draft of one item may contain without being a copy."""
    disclosures = (Translator(lang)("draft.disclosure", company=company) for lang in LANGUAGES)
    return (title, company, *disclosures)


class Distinct:
    """The drafts others hold for one item, prepared once, so many candidates can be
    checked cheaply (the template drafter tries several)."""

    def __init__(self, others: Sequence[Given], *, title: str, company: str) -> None:
        ignore = shared_phrases(title=title, company=company)
        self._linkedin = Corpus([o.linkedin for o in others], ignore=ignore)
        self._x = Corpus([o.x for o in others], ignore=ignore)

    def clashes(self, linkedin: str, x: str) -> bool:
        """Whether either text is too similar to the same network's text of another draft."""
        return self._linkedin.too_similar(linkedin) or self._x.too_similar(x)

    def worst(self, linkedin: str, x: str) -> float:
        """The highest similarity of either text to the others (for logs and tests)."""
        return max(self._linkedin.most_similar(linkedin), self._x.most_similar(x))
