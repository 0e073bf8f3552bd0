"""The built-in template drafter: no network, catalog fragments only.

It builds each draft from catalog fragments (opening, body, closing for LinkedIn; opening for
X) and picks, per item, the combination that shares the fewest fragments with the drafts
other people already hold, so two ambassadors never receive the same text for the same item
(until the combinations run out: LinkedIn × X gives several hundred per language).
"""

from __future__ import annotations

import itertools
import random
import re

from bot.drafting.base import (
    LINKEDIN_LIMIT,
    X_LIMIT,
    DraftRequest,
    DraftResult,
    x_length,
)
from bot.drafting.instructions import Style
from bot.i18n import Translator


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:.")
    return cut + "…"


def _clip_x(text: str) -> str:
    """Cut words off the end until X's own count (not characters) fits."""
    while x_length(text) > X_LIMIT and " " in text.strip():
        text = text.rstrip(" …").rsplit(" ", 1)[0] + "…"
    while x_length(text) > X_LIMIT:
        text = text[:-2] + "…"
    return text


class TemplateDrafter:
    """Drafts from catalog fragments; `rng` breaks ties so tests can fix it.

    A variant key names the style and the fragments used: `lang.tone.length.L<open>-<bridge>-
    <close>.X<open>-<close>-<layout>`. LinkedIn and X parts are chosen separately: each is a
    combination nobody else holds for this item in that style (while any is left, per
    language and tone: 8×6×6 LinkedIn texts with a summary, 8×6 without, 8×8 short ones, and
    8×8×2 X texts), made of the fragments used least so far.
    """

    instant = True

    def __init__(self, rng: random.Random | None = None) -> None:
        self._rng = rng or random.Random()  # noqa: S311 - wording variety, not security

    def _choose(
        self, sizes: tuple[int, ...], taken: list[tuple[int, ...]], own: set[tuple[int, ...]]
    ) -> tuple[int, ...]:
        """The unused combination whose fragments others used least (ties: at random)."""
        used = set(taken) | own
        usage = [dict.fromkeys(range(size), 0) for size in sizes]
        for combo in taken:
            for position, part in enumerate(combo):
                if part in usage[position]:
                    usage[position][part] += 1
        best: list[tuple[int, ...]] = []
        best_score: int | None = None
        for combo in itertools.product(*(range(size) for size in sizes)):
            if combo in used:
                continue
            score = sum(usage[position][part] for position, part in enumerate(combo))
            if best_score is None or score < best_score:
                best, best_score = [combo], score
            elif score == best_score:
                best.append(combo)
        if not best:  # every combination is in use: repeat one, but not this member's own
            best = [c for c in itertools.product(*(range(s) for s in sizes)) if c not in own]
        return self._rng.choice(best or [tuple(0 for _ in sizes)])

    @staticmethod
    def _parse(variant: str, prefix: str) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
        head, _, tail = variant.rpartition(".L")
        if head != prefix or ".X" not in tail:
            return None
        linkedin, _, x = tail.partition(".X")
        try:
            return (
                tuple(int(p) for p in linkedin.split("-")),
                tuple(int(p) for p in x.split("-")),
            )
        except ValueError:
            return None

    async def draft(self, request: DraftRequest) -> DraftResult:
        style = request.style
        t = Translator(style.language)
        short = style.length < 0
        prefix = f"{style.language}.{style.tone}.{style.length}"
        others = [p for v in request.taken if (p := self._parse(v, prefix))]
        mine = [p for v in request.own if (p := self._parse(v, prefix))]
        l_open = t.choices(f"draft.linkedin_open_{style.tone}")
        l_bridge, l_close = t.choices("draft.linkedin_bridge"), t.choices("draft.linkedin_close")
        x_open, x_close = t.choices(f"draft.x_open_{style.tone}"), t.choices("draft.x_close")
        # A short LinkedIn draft has no summary and signs off with a few words (the X
        # sign-offs) instead of a closing sentence; X posts are short already and keep their
        # shape. Without a summary there is no bridge, so choosing one would change nothing.
        if short:
            l_close = x_close
        bridges = len(l_bridge) if request.summary and not short else 1
        l_sizes = (len(l_open), bridges, len(l_close))
        x_sizes = (len(x_open), len(x_close), 2)
        lc = self._choose(l_sizes, [o[0] for o in others], {m[0] for m in mine})
        xc = self._choose(x_sizes, [o[1] for o in others], {m[1] for m in mine})
        fields = {"title": request.title, "company": request.company, "url": request.url}
        disclosure = t("draft.disclosure", company=request.company)
        team_line = self._team_line(t, style)
        hashtags = self._hashtags(request.company) if style.hashtags else ""

        opening = l_open[lc[0]].format(**fields)
        paragraphs = [f"{opening} {l_close[lc[2]]}" if short else opening]
        if request.summary and not short:
            limit = 600 if style.length > 0 else 280
            paragraphs.append(l_bridge[lc[1]] + " " + _clip(request.summary, limit))
        if team_line:
            paragraphs.append(team_line)
        if not short:
            paragraphs.append(l_close[lc[2]].format(**fields))
        if style.length > 0:
            paragraphs.append(t("draft.linkedin_invite"))
        paragraphs.append(request.url)
        paragraphs.append(" ".join(p for p in (disclosure, hashtags) if p))
        linkedin = _clip("\n\n".join(paragraphs), LINKEDIN_LIMIT)

        x = self._x_text(
            request,
            opening=x_open[xc[0]],
            closing=x_close[xc[1]],
            layout=xc[2],
            team=team_line,
            disclosure=disclosure,
            hashtags=hashtags,
        )
        variant = f"{prefix}.L{'-'.join(map(str, lc))}.X{'-'.join(map(str, xc))}"
        return DraftResult(linkedin, x, variant, style.language)

    @staticmethod
    def _team_line(t: Translator, style: Style) -> str:
        if style.team is None:
            return ""
        if style.team:
            return t("draft.team_named", team=style.team)
        return t("draft.team")

    @staticmethod
    def _hashtags(company: str) -> str:
        tag = re.sub(r"\W+", "", company)
        return f"#{tag}" if tag else ""

    @staticmethod
    def _x_text(
        request: DraftRequest,
        *,
        opening: str,
        closing: str,
        layout: int,
        team: str,
        disclosure: str,
        hashtags: str,
    ) -> str:
        """The X post within 280 (URL as 23): drop the team line, then shorten the title."""
        title = request.title
        while True:
            head = opening.format(title=title, company=request.company, url=request.url)
            if closing and head[-1:].isalnum():
                head += "."
            if layout == 0:
                pieces = [head, closing, team, request.url, disclosure, hashtags]
            else:
                pieces = [disclosure, head, closing, team, request.url, hashtags]
            text = " ".join(p for p in pieces if p)
            if x_length(text) <= X_LIMIT:
                return text
            if team:
                team = ""
                continue
            if len(title) <= 10:
                return _clip_x(text)  # pathological: the company name alone is huge
            title = _clip(title, max(10, len(title) - max(5, x_length(text) - X_LIMIT)))
