"""How alike two drafts are: principle 4 says two ambassadors never get the same text.

The measure
-----------
Each text is first normalised (`normalise`): lower-cased (Unicode case folding), accents
folded ("équipe" → "equipe", "œ" → "oe"), URLs removed, every `ignore` phrase removed,
punctuation dropped, then split on whitespace into words. The similarity of two texts is
the Jaccard index of their sets of word 3-grams (runs of `N` consecutive words):

    similarity(a, b) = |grams(a) ∩ grams(b)| / |grams(a) ∪ grams(b)|

It is symmetric, 1.0 for texts that normalise to the same words, 0.0 when they share no
three-word run. If either text has fewer than `N` words, both are compared as sets of single
words instead (a two-word text has no 3-gram, yet "Recommended. Enjoy." and "Enjoy.
Recommended." are the same text). Two texts that are both empty after normalising score 0.0:
nothing of their own was written, so there is nothing to be alike.

What is ignored, and why
------------------------
Every draft of an item carries the same URL, the same disclosure ("I work at ACME." /
"Je travaille chez ACME.") and usually the same title: they are shared by design and may
not be reworded away. Counting them would make every pair of drafts look alike, and would
make a pair of short X posts look almost identical however differently they are worded.
So the URL is always removed and the caller passes the disclosure and the title as
`ignore`; what is left is the wording the drafter chose, which is what must differ. (The
template drafter also quotes the item's summary word for word in LinkedIn drafts: that is
item text too, and whether it counts is the caller's choice, made by passing it or not.)
An ignored phrase is matched on normalised words (so case, accents and punctuation do not
hide it); the words either side of it then become neighbours, so the fragments that frame
a title ("Worth a read: {title}. Curious to hear…") still count.

Why 3-grams
-----------
Single words (or pairs) measure topic, not wording: two drafts about the same article share
its vocabulary and the small words of the language ("of the", "de la") whatever their
phrasing, and a reordered copy would score 1.0. A shared run of three words is a copied
piece of phrasing. Longer runs would miss a copy with one word changed every few words (one
changed word breaks `N` runs). Three is a common shingle size for near-duplicate detection
of short texts, and it keeps a reordered copy visibly below an exact one.

What 0.5 means
--------------
`THRESHOLD` = 0.5: a draft is too similar when the 3-grams it shares with another draft are
more than half of all the distinct 3-grams of the two. For two texts of equal length that is
two thirds of each text's three-word runs appearing in the other: a copy with a word or two
changed, not a different text on the same subject. Worked example:

    a = "Our team shipped the new release today"      5 grams: our team shipped, team
        shipped the, shipped the new, the new release, new release today
    b = "Our team shipped the new release this week"  6 grams: the first four, then new
        release this, release this week
    shared 4, union 7: similarity 4/7 ≈ 0.57, too similar (only the ending was changed)
    c = "Proud of the people who built this release"  shares no 3-gram with a: 0.0

How the bot uses it: `bot/drafting/distinct.py` compares each new draft with every draft
other members hold for the item (LinkedIn with LinkedIn, X with X), ignoring the title, the
company's name and the disclosure in either language; the summary counts, so quoting the
same paragraph makes two drafts alike. Above `THRESHOLD` a model is asked once for another
angle, then a differently worded template is used; the template drafter itself tries its
least-used wordings until one passes. Two drafts whose reused pieces make exactly half of
their 3-grams score 0.5 and pass: that is the closest the template drafter gets.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import TypeAlias

THRESHOLD = 0.5  # more than half the distinct 3-grams of a pair shared: one is a copy
N = 3  # word n-gram size: a shared three-word run is copied phrasing, not a shared topic

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_NON_WORD = re.compile(r"[\W_]+")  # punctuation, symbols, emoji, apostrophes: word breaks
_LIGATURES = {"œ": "oe", "æ": "ae", "ø": "o", "đ": "d", "ł": "l"}  # no NFKD decomposition
_LIGATURE = re.compile("[" + "".join(_LIGATURES) + "]")

Grams: TypeAlias = frozenset[tuple[str, ...]]


# The combining diacritical mark blocks: what NFKD splits off accented letters. A regex
# class of a few ranges deletes them in C (every Unicode combining class: 3x slower).
_ACCENTS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")


def _fold(text: str) -> str:
    """Case-folded, accents and ligatures folded; ASCII text skips the Unicode work."""
    text = text.casefold()
    if text.isascii():
        return text
    text = _LIGATURE.sub(lambda match: _LIGATURES[match.group()], text)
    return _ACCENTS.sub("", unicodedata.normalize("NFKD", text))


def _words(text: str) -> list[str]:
    """Folded words of `text` with URLs and punctuation gone (no phrase removal)."""
    return _NON_WORD.sub(" ", _fold(_URL.sub(" ", text))).split()


def _needles(ignore: Sequence[str]) -> list[str]:
    """Each ignored phrase as ` w1 w2 … ` (longest first, so a title containing the
    company name is removed whole before the disclosure is looked for)."""
    phrases = {" ".join(words) for phrase in ignore if (words := _words(phrase))}
    return [f" {p} " for p in sorted(phrases, key=len, reverse=True)]


def _normalise(text: str, needles: Sequence[str]) -> list[str]:
    joined = f" {' '.join(_words(text))} "
    for needle in needles:
        while needle in joined:  # again: a removal can bring two halves together
            joined = joined.replace(needle, " ")
    return joined.split()


def normalise(text: str, *, ignore: Sequence[str] = ()) -> list[str]:
    """Lower-case, accents folded, URLs removed, each `ignore` phrase (the disclosure, the
    title: text every draft must share) removed, punctuation dropped, whitespace split."""
    return _normalise(text, _needles(ignore))


def _grams(words: Sequence[str], size: int) -> Grams:
    return frozenset(zip(*(words[i:] for i in range(size)), strict=False))


def _jaccard(a: Grams, b: Grams) -> float:
    if not a and not b:
        return 0.0
    shared = len(a & b)
    return shared / (len(a) + len(b) - shared)


class _Profile:
    """A normalised text with its n-gram set computed once and its word set on demand."""

    __slots__ = ("_unigrams", "grams", "short", "words")

    def __init__(self, words: list[str]) -> None:
        self.words = words
        self.short = len(words) < N
        self.grams = _grams(words, N)
        self._unigrams: Grams | None = None

    @property
    def unigrams(self) -> Grams:
        if self._unigrams is None:
            self._unigrams = _grams(self.words, 1)
        return self._unigrams

    def compare(self, other: _Profile) -> float:
        if self.short or other.short:  # no 3-gram on one side: compare the word sets
            return _jaccard(self.unigrams, other.unigrams)
        return _jaccard(self.grams, other.grams)


def similarity(a: str, b: str, *, ignore: Sequence[str] = ()) -> float:
    """Jaccard index of the two texts' word N-gram sets after `normalise` (for texts shorter
    than N words, the word sets); 0.0 when both are empty after normalising."""
    needles = _needles(ignore)
    return _Profile(_normalise(a, needles)).compare(_Profile(_normalise(b, needles)))


def most_similar(text: str, others: Iterable[str], *, ignore: Sequence[str] = ()) -> float:
    """The highest similarity to any of `others` (0.0 for none): what the drafter compares
    to THRESHOLD. `text` and the ignored phrases are prepared once, not once per other."""
    needles = _needles(ignore)
    mine = _Profile(_normalise(text, needles))
    best = 0.0
    for other in others:
        score = mine.compare(_Profile(_normalise(other, needles)))
        if score > best:
            best = score
            if best >= 1.0:
                break
    return best


PROFILES_KEPT = 2_048  # normalised texts remembered: two busy items' windows (500 drafts × 2)


@functools.lru_cache(maxsize=PROFILES_KEPT)
def _profile(text: str, needles: tuple[str, ...]) -> _Profile:
    """A text's profile, remembered: every claim of an item compares with the same few
    hundred drafts, so each is normalised once, not once per claim."""
    return _Profile(_normalise(text, needles))


class Corpus:
    """Texts to compare new ones against, normalised once (and remembered, see `_profile`):
    checking many candidates against the same few hundred drafts costs one normalisation
    per candidate, not per pair; `too_similar` stops at the first text above the line."""

    def __init__(self, texts: Iterable[str], *, ignore: Sequence[str] = ()) -> None:
        self._needles = tuple(_needles(ignore))
        self._profiles = [_profile(text, self._needles) for text in texts]

    def most_similar(self, text: str) -> float:
        mine = _profile(text, self._needles)
        return max((mine.compare(other) for other in self._profiles), default=0.0)

    def too_similar(self, text: str) -> bool:
        mine = _profile(text, self._needles)
        return any(mine.compare(other) > THRESHOLD for other in self._profiles)


def too_similar(text: str, others: Iterable[str], *, ignore: Sequence[str] = ()) -> bool:
    """Whether `text` is above THRESHOLD against any of `others`: the drafter must reword."""
    return most_similar(text, others, ignore=ignore) > THRESHOLD
