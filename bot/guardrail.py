"""Charter guardrail: a deterministic check run on every draft before a member sees it.

It applies to model drafts, template drafts and text members paste alike, and it explains
itself: each finding names a rule and quotes the words that triggered it, so the member is
shown the reason and a fix (catalog keys `guardrail.<rule>` and `guardrail.<rule>_fix`) and
nothing is ever changed or blocked silently. The lists below are short on purpose: this is an
explainable check against the charter, not language understanding. A false alarm costs the
member a glance; a missed gift card costs the programme its honesty.

Matching is case- and accent-insensitive (NFKD, combining marks dropped, typographic
apostrophes made straight), on words: a term must start and end on a word boundary. Term
syntax: words separated by spaces or hyphens match any run of spaces or hyphens ("gift card"
matches "Gift-Card"), and a trailing `*` accepts any word ending ("annonc*" matches
"annonçons"). Evidence is always quoted from the original text, as written.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

RULES = ("confidential", "figure", "announcement", "reward", "hostile")
"""Every rule, in the order findings at the same place are reported."""

EVIDENCE_LIMIT = 60
"""Evidence longer than this is cut (it stays a piece of the text as written)."""

CONFIDENTIAL_TERMS = (
    "confidential",
    "internal only",
    "internal use only",
    "not for distribution",
    "under embargo",
    "embargo*",
    "nda",
    "do not share",
    "don't share",
    "confidentiel*",
    "usage interne",
    "interne uniquement",
    "ne pas diffuser",
    "diffusion restreinte",
    "sous embargo",
)
"""Markers of information that is not the company's to share yet: always flagged."""

ANNOUNCEMENT_TERMS = (
    "announc*",
    "launching soon",
    "coming soon",
    "will launch",
    "exclusiv*",
    "breaking news",
    "breaking:",
    "first to know",
    "annonc*",
    "bientot disponible",
    "avant-premiere",
)
"""News-breaking language. Flagged only when the same term does not occur in the content's
own source: relaying an announcement the company made is fine, making one is not. ("breaking"
alone is left out: "record-breaking" is not news.)"""

REWARD_TERMS = (
    "paid",
    "pay me",
    "bonus",
    "bonuses",
    "gift card",
    "gift cards",
    "voucher*",
    "reward",
    "rewards",
    "rewarded",
    "prize",
    "prizes",
    "points",
    "incentive*",
    "commission*",
    "sponsored by my employer",
    "remunere*",
    "remuneration*",
    "prime",
    "primes",
    "carte cadeau",
    "cartes cadeaux",
    "bon d'achat",
    "bons d'achat",
    "recompense*",
    "cadeau",
    "cadeaux",
)
"""Pay and reward language: the programme is voluntary and unpaid, with no prizes or points.
Whole words only, so "unpaid" and "prepaid" do not match "paid", nor "rewarding" "reward"."""

REWARD_NEGATIONS = (
    "no",
    "not",
    "never",
    "without",
    "zero",
    "non",
    "sans",
    "aucun",
    "aucune",
    "jamais",
    "pas",
    "pas de",
    "pas d'",
    "ni",
)
"""A reward term right after one of these ("not paid", "non rémunéré", "sans récompense",
"pas de prime") states the programme's terms and is not flagged."""

HOSTILE_TERMS = (
    "idiot*",
    "stupid*",
    "liar*",
    "shut up",
    "haters",
    "clowns",
    "pathetic",
    "trolls",
    "shame on",
    "to our critics",
    "to the critics",
    "to the haters",
    "unlike the union*",
    "cretin*",
    "menteur*",
    "menteuse*",
    "nul",
    "nuls",
    "taisez-vous",
    "tais-toi",
    "honte a",
    "honte aux",
    "a nos detracteurs",
    "contrairement au syndicat",
    "contrairement aux syndicats",
)
"""Insults and fighting words: the charter says no insults and no picking fights, and the
comms team answers critics and unions."""

EXCEPTIONS = {
    "reward": (
        "paid attention",
        "paid tribute",
        "paid off",
        "paid leave",
        "paid parental leave",
        "prime minister",
        "prime time",
        "amazon prime",
        "key points",
        "data points",
        "talking points",
        "points of view",
        "european commission",
        "commission europeenne",
    ),
    "hostile": ("nul doute", "nul besoin", "nul ne", "match nul"),
}
"""Everyday phrases that contain a term with another meaning; a match inside one is not
flagged."""

CURRENCIES = "€$£"
"""Symbols kept with a figure's evidence ("$3,000", "2 000 €")."""

_URL = re.compile(r"https?://\S+|www\.\S+")
_DIGITS = re.compile(r"[0-9]+")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})
_EMOJI_MARKS = "\ufe0f\u20e3"  # a digit followed by these is a keycap emoji, not a figure


@dataclass(frozen=True)
class Finding:
    """One thing in a draft that goes against the charter, and the words that show it."""

    rule: str  # one of RULES
    evidence: str  # the words in the text that triggered it, as written (≤ 60 characters)

    @property
    def key(self) -> str:
        """Catalog key of the reason (takes `evidence=`)."""
        return f"guardrail.{self.rule}"

    @property
    def fix_key(self) -> str:
        """Catalog key of what to do about it."""
        return f"guardrail.{self.rule}_fix"


@dataclass(frozen=True)
class _Folded:
    """Text folded for matching, with where each folded character came from."""

    text: str
    origin: tuple[int, ...]  # origin[i]: index in the original text of folded character i

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original text span of a (non-empty) folded span."""
        return self.origin[start], self.origin[end - 1] + 1


def _fold_char(char: str) -> str:
    decomposed = unicodedata.normalize("NFKD", char.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).translate(_APOSTROPHES)


def _fold(text: str) -> _Folded:
    """Fold one character at a time, so any match can be quoted from the original."""
    pieces: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        folded = _fold_char(char)
        pieces.append(folded)
        origin.extend([index] * len(folded))
    return _Folded("".join(pieces), tuple(origin))


def _fold_term(term: str) -> str:
    return "".join(_fold_char(char) for char in term)


def _pattern(term: str) -> re.Pattern[str]:
    """A term of the mini-syntax above as a regex (no nested quantifiers)."""
    folded = _fold_term(term)
    stem = folded.endswith("*")
    words = re.split(r"[\s-]+", folded.removesuffix("*"))
    body = r"[\s-]+".join(re.escape(word) for word in words)
    head = r"\b" if folded[0].isalnum() else ""
    tail = r"\w*" if stem else (r"\b" if body[-1].isalnum() else "")
    return re.compile(head + body + tail)


def _patterns(terms: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    return tuple(_pattern(term) for term in terms)


_TERMS = {
    "confidential": _patterns(CONFIDENTIAL_TERMS),
    "announcement": _patterns(ANNOUNCEMENT_TERMS),
    "reward": _patterns(REWARD_TERMS),
    "hostile": _patterns(HOSTILE_TERMS),
}
_EXCEPTIONS = {rule: _patterns(phrases) for rule, phrases in EXCEPTIONS.items()}
_NEGATED = re.compile(
    r"\b(?:" + "|".join(re.escape(word) for word in REWARD_NEGATIONS) + r")[\s-]*$"
)


@dataclass(frozen=True)
class _Hit:
    start: int  # folded span
    end: int
    rule: str


def _term_hits(rule: str, folded: str, source: str) -> list[_Hit]:
    """Matches of one rule's terms, overlaps resolved (earliest, then longest, wins)."""
    found: list[_Hit] = []
    for pattern in _TERMS[rule]:
        if rule == "announcement" and pattern.search(source):
            continue  # the content itself says it: relaying is fine
        found.extend(_Hit(m.start(), m.end(), rule) for m in pattern.finditer(folded))
    excused = [m.span() for p in _EXCEPTIONS.get(rule, ()) for m in p.finditer(folded)]
    kept: list[_Hit] = []
    for hit in sorted(found, key=lambda h: (h.start, -h.end)):
        if kept and hit.start < kept[-1].end:
            continue
        if any(start <= hit.start and hit.end <= end for start, end in excused):
            continue
        if rule == "reward" and _NEGATED.search(folded, max(0, hit.start - 12), hit.start):
            continue
        kept.append(hit)
    return kept


def _number_spans(folded: str) -> Iterator[tuple[int, int]]:
    """Numbers as written: digit runs joined by one "," or "." (any digits after it) or one
    space (exactly three digits after it, as in "2 000")."""
    runs = list(_DIGITS.finditer(folded))
    index = 0
    while index < len(runs):
        start, end = runs[index].span()
        while index + 1 < len(runs) and _joins(folded, end, runs[index + 1]):
            index += 1
            end = runs[index].end()
        yield start, end
        index += 1


def _joins(folded: str, end: int, following: re.Match[str]) -> bool:
    if following.start() != end + 1 or folded[end] not in " ,.":
        return False
    return folded[end] != " " or len(following.group()) == 3


def _values(number: str) -> set[str]:
    """Every plausible reading of a number: "2,000" is 2000 (English) or 2 (French), "2 000"
    is 2000, "14,5" is 14.5. Two numbers match when any of their readings do."""
    compact = number.replace(" ", "")
    readings = {compact}
    for thousands, decimal in ((",", "."), (".", ",")):
        reading = _reading(compact, thousands, decimal)
        if reading is not None:
            readings.add(reading)
    return readings


def _reading(compact: str, thousands: str, decimal: str) -> str | None:
    whole, _, fraction = compact.partition(decimal)
    if decimal in fraction or thousands in fraction:
        return None
    groups = whole.split(thousands)
    if any(len(group) != 3 for group in groups[1:]):
        return None
    integer = "".join(groups).lstrip("0") or "0"
    fraction = fraction.rstrip("0")
    return f"{integer}.{fraction}" if fraction else integer


def _is_attached(folded: str, start: int, end: int) -> bool:
    """Digits that belong to a word, tag or emoji rather than being a figure: "Q3", "#COP28",
    "@team2", "COVID-19", "1️⃣"."""
    before = folded[start - 1] if start else " "
    if before.isalpha() or before in "_#@":
        return True
    if before == "-" and start >= 2 and folded[start - 2].isalpha():
        return True
    return folded[end : end + 1] in tuple(_EMOJI_MARKS)


def _with_units(folded: str, start: int, end: int) -> tuple[int, int]:
    """Widen a number's span to its currency or unit: "$3,000", "40 %", "5k€", "2 000 €"."""
    if start >= 1 and folded[start - 1] in CURRENCIES:
        start -= 1
    elif start >= 2 and folded[start - 2] in CURRENCIES and folded[start - 1] == " ":
        start -= 2
    if folded[end : end + 1] in ("k", "m") and not folded[end + 1 : end + 2].isalnum():
        end += 1
    if folded[end : end + 1] in tuple("%" + CURRENCIES):
        end += 1
    elif folded[end : end + 1] == " " and folded[end + 1 : end + 2] in tuple("%" + CURRENCIES):
        end += 2
    return start, end


def _figure_hits(folded: str, source: str) -> list[_Hit]:
    """Numbers that do not occur in the source. Numbers inside URLs, hashtags and words are
    ignored; the unit does not count ("40%" is backed by "40"), nor does the way a number is
    grouped ("2 000" is backed by "2,000")."""
    known: set[str] = set()
    for start, end in _number_spans(source):
        known |= _values(source[start:end])
    urls = [m.span() for m in _URL.finditer(folded)]
    hits: list[_Hit] = []
    for start, end in _number_spans(folded):
        if any(url_start <= start < url_end for url_start, url_end in urls):
            continue
        if _is_attached(folded, start, end) or _values(folded[start:end]) & known:
            continue
        hits.append(_Hit(*_with_units(folded, start, end), "figure"))
    return hits


def check(text: str, *, source: str) -> list[Finding]:
    """Everything in `text` that goes against the charter, in text order, each (rule,
    evidence) once. `source` is the content's own title + summary (+ URL): figures and
    announcements that appear there are fine."""
    folded = _fold(text)
    known = _fold(source).text
    hits = _figure_hits(folded.text, known)
    for rule in _TERMS:
        hits.extend(_term_hits(rule, folded.text, known))
    hits.sort(key=lambda hit: (hit.start, RULES.index(hit.rule)))
    findings: list[Finding] = []
    seen: set[tuple[str, str]] = set()
    for hit in hits:
        start, end = folded.span(hit.start, hit.end)
        evidence = text[start:end][:EVIDENCE_LIMIT]
        if (hit.rule, _fold(evidence).text) not in seen:
            seen.add((hit.rule, _fold(evidence).text))
            findings.append(Finding(hit.rule, evidence))
    return findings


def content_source(title: str, summary: str | None = None, url: str = "") -> str:
    """The `source` for `check` from a content item's own fields."""
    return "\n".join(part for part in (title, summary, url) if part)
