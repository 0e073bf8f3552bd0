"""The built-in template drafter: no network, catalog fragments only.

Principle 4 says two ambassadors never receive the same text for the same item. Each draft
is built from catalog fragments ("slots": an opening, a middle, a closing, a team line…),
and a draft must not read like one another member already holds: `bot/drafting/distinct.py`
decides, on the measure of `bot/similarity.py`, against the texts in `request.others`
(template drafts or a model's, it does not matter which).

The drafter ranks each network's combinations of fragments, least-used fragments first
(usage read from the variant keys in `request.taken`; ties in random order, from the
injected `rng`), and takes the first candidate whose texts do not clash with the others
(each network's text is compared with the same network's texts only). When every candidate
it has time for clashes, it returns the least similar one rather than fail.

What makes enough distinct texts exist at all:
- the summary is not quoted whole in every draft: a LinkedIn draft quotes one of its first
  sentences, or none and says something of its own instead (a "note"); a quoted paragraph
  is the same in every draft whoever quotes it, so quoting it everywhere made any two drafts
  half alike before a single fragment was chosen;
- the team line, the invitation to comment and the X sign-off come in several wordings;
- an X post has no "layout" variant: moving the disclosure to the front changed the string
  but not a single word of it.

Drafts adapt to what the item is (`request.kind`): a job offer's, an event's or a training's
openings and calls to action come from the catalog table `draft_kind.<kind>`, chosen in the
same slots and the same way; an article is drafted from `draft` exactly as before kinds.
"""

from __future__ import annotations

import itertools
import math
import operator
import random
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache

from bot.drafting.base import (
    LINKEDIN_LIMIT,
    X_LIMIT,
    DraftRequest,
    DraftResult,
    x_length,
)
from bot.drafting.distinct import Distinct
from bot.drafting.instructions import Style
from bot.i18n import Translator
from bot.kinds import ARTICLE
from bot.similarity import THRESHOLD

Combo = tuple[int, ...]

# LinkedIn slots, in the order of the variant key: opening, middle (a bridge before the
# quote, or a note when nothing is quoted), quote (which sentence, or none), closing, team
# line, invitation to comment. A slot that does not apply has one value, 0.
L_OPEN, L_MIDDLE, L_QUOTE, L_CLOSE, L_TEAM, L_INVITE = range(6)
L_SLOTS = 6
# X slots: opening, sign-off, team line.
X_OPEN, X_CLOSE, X_TEAM = range(3)
X_SLOTS = 3

# A kind other than an article has fragments of its own in the catalog table
# `draft_kind.<kind>`: the openings (per tone), the bridges and notes, and its calls to
# action (the LinkedIn closings, the X sign-offs, the invitations of a longer draft). A family
# it leaves out comes from `draft`; the team lines and the disclosure are every kind's.
KIND_TABLE = "draft_kind"
TONES = ("neutral", "casual", "formal")  # Style.tone's values
KIND_FAMILIES = (
    *(f"{network}_open_{tone}" for network in ("linkedin", "x") for tone in TONES),
    "linkedin_bridge",
    "linkedin_note",
    "linkedin_close",
    "x_close",
    "linkedin_invite",
)

QUOTES = 3  # sentences of a summary a draft may quote (each draft quotes one, or none)
SHORT_SENTENCE = 4  # words: a shorter "sentence" ("Mr.", "2.") is joined to the next
RANKED = 1024  # combinations ranked per network and draft (least-used fragments first)
# How many candidates a draft may try: each is compared with every other draft, so the
# budget is in comparisons: 6 candidates with 500 others (~0.6 ms each here), 64 with 46 or
# fewer. Past a few hundred drafts of one item the combinations no longer all differ anyway.
COMPARISONS = 3_000
TRIES = (2, 64)

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_PLACEHOLDER = re.compile(r"\{\w+\}")
_WORD = re.compile(r"\w{4,}")
# Small words an opening and a closing may share without sounding repetitive.
_COMMON = frozenset(
    {"this", "that", "with", "your", "from", "what", "have", "would"}
    | {"vous", "pour", "dans", "avec", "cela", "ceci", "votre", "suis", "sont", "avez"}
)


def _digit_pair(text: str, index: int) -> bool:
    """Whether the space at `index` is inside a number ("2 000", "12 500 €")."""
    return 0 < index < len(text) and text[index - 1].isdigit() and text[index + 1 :][:1].isdigit()


def _clip(text: str, limit: int) -> str:
    """`text` cut at a word boundary to fit `limit` characters with the ellipsis, never
    between two parts of a number: "2 000" cut to "2…" reads as a figure of its own (and
    the charter guardrail flags it)."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    cut = head.rfind(" ")
    while cut > 0 and _digit_pair(text, cut):
        cut = head.rfind(" ", 0, cut)
    if cut <= 0:  # no space to cut at: cut inside the word, still not inside a number
        cut = len(head)
        while cut > 0 and text[cut - 1].isdigit() and text[cut].isdigit():
            cut -= 1
    return head[:cut].rstrip(" ,;:.") + "…"


def _clip_x(text: str) -> str:
    """Cut words off the end until X's own count (not characters) fits."""
    while x_length(text) > X_LIMIT and len(text) > 1:
        text = _clip(text, len(text) - max(1, (x_length(text) - X_LIMIT) // 2))
    return text


def _sentences(summary: str) -> list[str]:
    """The summary's sentences, each once; a very short one is joined to the next."""
    pieces: list[str] = []
    carry = ""
    for piece in _SENTENCE_END.split(summary.strip()):
        carry = f"{carry} {piece}".strip()
        if len(carry.split()) >= SHORT_SENTENCE:
            pieces.append(carry)
            carry = ""
    if carry:
        if pieces:
            pieces[-1] = f"{pieces[-1]} {carry}"
        else:
            pieces.append(carry)
    return list(dict.fromkeys(pieces))


def _quotes(summary: str | None, longer: bool) -> list[str]:
    """What a LinkedIn draft may quote: one sentence (a longer draft: it and the next),
    clipped; at most QUOTES, each text once."""
    if not summary or not summary.strip():
        return []
    sentences = _sentences(summary)
    limit = 600 if longer else 280
    span = 2 if longer else 1
    quotes = [" ".join(sentences[i : i + span]) for i in range(min(QUOTES, len(sentences)))]
    return list(dict.fromkeys(_clip(quote, limit) for quote in quotes))


def _words(fragment: str) -> set[str]:
    return set(_WORD.findall(_PLACEHOLDER.sub(" ", fragment).casefold())) - _COMMON


@cache
def _awkward(language: str, openings: str, closings: str) -> frozenset[tuple[int, int]]:
    """(opening, closing) pairs of two catalog lists that share a word ("Recommended: …
    Recommended."): that reads as a slip, so such pairs are not offered."""
    t = Translator(language)
    closing_words = [_words(closing) for closing in t.choices(closings)]
    return frozenset(
        (o, c)
        for o, opening in enumerate(t.choices(openings))
        for c, words in enumerate(closing_words)
        if _words(opening) & words
    )


@dataclass(frozen=True)
class _Fragments:
    """Everything one request can be drafted from, and how each network's text is put
    together from a combination of slot values."""

    request: DraftRequest
    l_open: list[str]
    bridges: list[str]  # in the middle, before a quote
    notes: list[str]  # in the middle when nothing is quoted
    quotes: list[str]
    l_close: list[str]
    invites: list[str]
    x_open: list[str]
    x_close: list[str]
    teams: list[str]
    disclosure: str
    hashtags: str
    l_awkward: frozenset[tuple[int, int]]  # (opening, closing) pairs not offered
    x_awkward: frozenset[tuple[int, int]]
    kind: str  # the kind whose own fragments were used, "" for an article's

    @classmethod
    def of(cls, request: DraftRequest) -> _Fragments:
        style = request.style
        t = Translator(style.language)
        short = style.length < 0
        family = _Family(t, request.kind)
        l_open, x_open = family(f"linkedin_open_{style.tone}"), family(f"x_open_{style.tone}")
        x_close = family("x_close")
        l_close = x_close if short else family("linkedin_close")
        return cls(
            request=request,
            l_open=t.choices(l_open),
            bridges=t.choices(family("linkedin_bridge")),
            notes=t.choices(family("linkedin_note")),
            # A short draft quotes nothing and signs off with a few words (the X sign-offs).
            quotes=[] if short else _quotes(request.summary, style.length > 0),
            l_close=t.choices(l_close),
            invites=t.choices(family("linkedin_invite")) if style.length > 0 else [],
            x_open=t.choices(x_open),
            x_close=t.choices(x_close),
            teams=_team_lines(t, style),
            disclosure=t("draft.disclosure", company=request.company),
            hashtags=_hashtags(request.company) if style.hashtags else "",
            l_awkward=_awkward(t.language, l_open, l_close),
            x_awkward=_awkward(t.language, x_open, x_close),
            kind=family.kind,
        )

    @property
    def short(self) -> bool:
        return self.request.style.length < 0

    @property
    def longer(self) -> bool:
        return self.request.style.length > 0

    def linkedin_sizes(self) -> Combo:
        # The middle is a bridge or a note (same slot: one of them is used); a short draft
        # has neither. The quote slot's value len(quotes) means "no quote": not offered in
        # a longer draft, whose reader asked for more of the item, not less.
        middle = 1 if self.short else min(len(self.bridges), len(self.notes))
        quotes = len(self.quotes) + (0 if self.longer else 1)
        return (
            len(self.l_open),
            middle,
            max(1, quotes),
            len(self.l_close),
            max(1, len(self.teams)),
            max(1, len(self.invites)),
        )

    def x_sizes(self) -> Combo:
        return (len(self.x_open), len(self.x_close), max(1, len(self.teams)))

    def linkedin_reads_well(self, combo: Combo) -> bool:
        return (combo[L_OPEN], combo[L_CLOSE]) not in self.l_awkward

    def x_reads_well(self, combo: Combo) -> bool:
        return (combo[X_OPEN], combo[X_CLOSE]) not in self.x_awkward

    def linkedin(self, combo: Combo) -> str:
        request = self.request
        opening = self.l_open[combo[L_OPEN]].format(
            title=request.title, company=request.company, url=request.url
        )
        team = self.teams[combo[L_TEAM]] if self.teams else ""
        closing = self.l_close[combo[L_CLOSE]]
        if self.short:
            paragraphs = [" ".join(p for p in (opening, team, closing) if p)]
        else:
            paragraphs = [opening]
            if combo[L_QUOTE] < len(self.quotes):
                quote = self.quotes[combo[L_QUOTE]]
                paragraphs.append(f"{self.bridges[combo[L_MIDDLE]]} {quote}")
            else:
                paragraphs.append(self.notes[combo[L_MIDDLE]])
            paragraphs += [p for p in (team, closing) if p]
            if self.invites:
                paragraphs.append(self.invites[combo[L_INVITE]])
        paragraphs.append(request.url)
        paragraphs.append(" ".join(p for p in (self.disclosure, self.hashtags) if p))
        return _clip("\n\n".join(paragraphs), LINKEDIN_LIMIT)

    def x(self, combo: Combo) -> str:
        """The X post within 280 (URL as 23): drop the team line, then shorten the title."""
        request = self.request
        opening, closing = self.x_open[combo[X_OPEN]], self.x_close[combo[X_CLOSE]]
        team = self.teams[combo[X_TEAM]] if self.teams else ""
        title = request.title
        while True:
            head = opening.format(title=title, company=request.company, url=request.url)
            if head[-1:].isalnum():
                head += "."
            pieces = [head, team, closing, request.url, self.disclosure, self.hashtags]
            text = " ".join(p for p in pieces if p)
            if x_length(text) <= X_LIMIT:
                return text
            if team:
                team = ""
                continue
            if len(title) <= 10:
                return _clip_x(text)  # pathological: the company name alone is huge
            title = _clip(title, max(10, len(title) - max(5, x_length(text) - X_LIMIT)))


class _Family:
    """Where each fragment family of one kind comes from: `draft_kind.<kind>.<family>` when
    the catalog has it (a job offer's openings, its calls to action), else the article's
    `draft.<family>`. An article, or a kind the catalog has nothing for, is drafted from
    `draft` alone, as before kinds existed."""

    def __init__(self, t: Translator, kind: str) -> None:
        self._t = t
        table = f"{KIND_TABLE}.{kind}"
        self._table = table if kind != ARTICLE and _has_table(t, table) else ""
        self.kind = kind if self._table else ""

    def __call__(self, family: str) -> str:
        own = f"{self._table}.{family}"
        return own if self._table and self._t.has(own) else f"draft.{family}"


def _has_table(t: Translator, table: str) -> bool:
    return any(t.has(f"{table}.{family}") for family in KIND_FAMILIES)


def _team_lines(t: Translator, style: Style) -> list[str]:
    if style.team is None:
        return []
    if style.team:
        return [line.format(team=style.team) for line in t.choices("draft.team_named")]
    return t.choices("draft.team")


def _hashtags(company: str) -> str:
    tag = re.sub(r"\W+", "", company)
    return f"#{tag}" if tag else ""


def _tries(others: int) -> int:
    low, high = TRIES
    return max(low, min(high, COMPARISONS // max(1, others)))


class TemplateDrafter:
    """Drafts from catalog fragments; `rng` breaks ties so tests can fix it.

    A variant key names the style and the fragments used: `lang.tone.length.L<open>-<middle>-
    <quote>-<close>-<team>-<invite>.X<open>-<close>-<team>`. Per language and tone there are
    14 LinkedIn openings, 10 middles, up to 4 quote choices, 14 closings (18 sign-offs when
    short), 8 team lines and 8 invitations; 18 X openings, 18 sign-offs and 8 team lines.

    A job offer, an event or a training is drafted from its own fragments (`draft_kind`):
    10 LinkedIn openings, 8 middles, 12 closings and 6 invitations, 14 X openings and 18
    sign-offs, its calls to action among them; its key says so after the length
    (`en.neutral.0.job.L…`), so an article's numbers never count as a job offer's.
    """

    instant = True

    def __init__(self, rng: random.Random | None = None) -> None:
        self._rng = rng or random.Random()  # noqa: S311 - wording variety, not security

    def _ranked(
        self,
        sizes: Combo,
        taken: Sequence[Combo],
        own: set[Combo],
        reads_well: Callable[[Combo], bool],
    ) -> Iterator[Combo]:
        """Combinations nobody holds, least-used fragments first (ties at random); then
        those others hold; never this member's own (unless there is nothing else).

        Only the RANKED combinations made of each slot's least-used values are ranked: the
        full product runs to hundreds of thousands, and the best-ranked are among these."""
        usage = [[0] * size for size in sizes]
        for combo in taken:
            for position, part in enumerate(combo):
                if part < sizes[position]:
                    usage[position][part] += 1
        orders: list[list[int]] = []
        for position, size in enumerate(sizes):
            values = list(range(size))
            self._rng.shuffle(values)
            values.sort(key=usage[position].__getitem__)  # stable: ties stay shuffled
            orders.append(values)
        widths = list(sizes)
        while math.prod(widths) > RANKED:
            widths[widths.index(max(widths))] -= 1
        kept = [order[:width] for order, width in zip(orders, widths, strict=True)]
        combos = list(itertools.product(*kept))
        # An integer score (uses of its fragments) plus a random fraction: least used first,
        # ties in random order. Summed and sorted in C: this runs for every draft.
        uses = itertools.product(*([usage[p][v] for v in k] for p, k in enumerate(kept)))
        noise = [self._rng.random() for _ in combos]
        keys = list(map(operator.add, map(sum, uses), noise))
        held, later, offered = set(taken), [], False
        for index in sorted(range(len(combos)), key=keys.__getitem__):
            combo = combos[index]
            if combo in own or not reads_well(combo):
                continue
            if combo in held:
                later.append(combo)
                continue
            offered = True
            yield combo
        yield from later
        if not offered and not later:  # everything ranked is this member's own
            yield next((c for c in itertools.product(*orders) if c not in own), (0,) * len(sizes))

    @staticmethod
    def _pick(
        linkedin: Iterator[Combo],
        x: Iterator[Combo],
        fragments: _Fragments,
        distinct: Distinct,
        tries: int,
    ) -> tuple[Combo, str, Combo, str]:
        """The first candidate whose texts do not clash, else the least similar one.

        A candidate is the next combination of each network's ranking, the two in step (a
        network that runs out keeps its last one): one check covers both networks, and when
        one of them clashes the other merely moves on to its next-ranked wording, which does
        not clash either as a rule. Checking one network with the other's text left empty
        would cost a second pass over the others per candidate. `worst` is computed for
        every candidate (the fallback needs it); one at or under the threshold is then
        confirmed with `clashes`, the check that decides."""
        best: tuple[float, Combo, str, Combo, str] | None = None
        lc, xc = next(linkedin), next(x)  # each ranking yields at least one combination
        for attempt in range(tries):
            if attempt:
                more_lc, more_xc = next(linkedin, None), next(x, None)
                if more_lc is None and more_xc is None:
                    break
                lc, xc = more_lc or lc, more_xc or xc
            linkedin_text, x_text = fragments.linkedin(lc), fragments.x(xc)
            score = distinct.worst(linkedin_text, x_text)
            if score <= THRESHOLD and not distinct.clashes(linkedin_text, x_text):
                return lc, linkedin_text, xc, x_text
            if best is None or score < best[0]:
                best = (score, lc, linkedin_text, xc, x_text)
        assert best is not None
        return best[1:]

    @staticmethod
    def _parse(variant: str, prefix: str) -> tuple[Combo, Combo] | None:
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

    @staticmethod
    def _held(variants: Sequence[str], prefix: str) -> list[tuple[Combo, Combo]]:
        """Parsed variant keys of this style and of today's shape (keys written before the
        slots changed are left out: their numbers mean other fragments)."""
        parsed = (TemplateDrafter._parse(v, prefix) for v in variants)
        return [p for p in parsed if p and len(p[0]) == L_SLOTS and len(p[1]) == X_SLOTS]

    async def draft(self, request: DraftRequest) -> DraftResult:
        style = request.style
        fragments = _Fragments.of(request)
        prefix = f"{style.language}.{style.tone}.{style.length}"
        if fragments.kind:  # its numbers mean that kind's fragments, not an article's
            prefix += f".{fragments.kind}"
        taken = self._held(request.taken, prefix)
        own = self._held(request.own, prefix)
        distinct = Distinct(request.others, title=request.title, company=request.company)
        lc, linkedin, xc, x = self._pick(
            self._ranked(
                fragments.linkedin_sizes(),
                [t[0] for t in taken],
                {o[0] for o in own},
                fragments.linkedin_reads_well,
            ),
            self._ranked(
                fragments.x_sizes(),
                [t[1] for t in taken],
                {o[1] for o in own},
                fragments.x_reads_well,
            ),
            fragments,
            distinct,
            tries=_tries(len(request.others)),
        )
        variant = f"{prefix}.L{'-'.join(map(str, lc))}.X{'-'.join(map(str, xc))}"
        return DraftResult(linkedin, x, variant, style.language)
