"""What members ask of a draft in plain words, understood in English and French, and the
requests the bot never drafts (replies to critics, the press, unions, strikes).

`Style` is the state their instructions build up; `parse_instruction` reads one.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Style:
    """What the member has asked for so far, replayed from their revision instructions."""

    language: str
    length: int = 0  # -1 shorter, 0 normal, +1 longer
    tone: str = "neutral"  # neutral | casual | formal
    team: str | None = None  # "" means "my team" without a name
    hashtags: bool = False


@dataclass(frozen=True)
class Revision:
    """One instruction, understood (or not) by the parser below."""

    language: str | None = None
    length: int | None = None
    tone: str | None = None
    team: str | None = None
    hashtags: bool | None = None
    understood: bool = False

    def apply(self, style: Style) -> Style:
        changes: dict[str, object] = {}
        if self.language:
            changes["language"] = self.language
        if self.length is not None:
            changes["length"] = max(-1, min(1, style.length + self.length))
        if self.tone:
            changes["tone"] = self.tone
        if self.team is not None:
            changes["team"] = self.team
        if self.hashtags is not None:
            changes["hashtags"] = self.hashtags
        return replace(style, **changes)  # type: ignore[arg-type]


def _fold(text: str) -> str:
    """Lower case without accents, for matching instructions in either language."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


_RULE_TEXT: tuple[tuple[str, dict[str, object]], ...] = (
    (r"\b(in|into|to) french\b|\ben francais\b|^francais$|^french$", {"language": "fr"}),
    (r"\b(in|into|to) english\b|\ben anglais\b|^anglais$|^english$", {"language": "en"}),
    (
        r"\bshort(er)?\b|\bbrief(er)?\b|\bconcise\b|\bcourt\b|\bplus court|\braccourci",
        {"length": -1},
    ),
    (r"\blong(er)?\b|\bmore detail|\bplus long|\bdevelopp", {"length": 1}),
    (
        r"\bcasual\b|\brelaxed\b|\bfriendl|\bdecontract|\bmoins formel|\bdetendu",
        {"tone": "casual"},
    ),
    (r"\bformal\b|\bprofessional\b|\bformel\b|\bprofessionnel", {"tone": "formal"}),
    (r"\bno hashtags?\b|\bwithout hashtags?\b|\bsans hashtags?\b", {"hashtags": False}),
    (r"\bhashtags?\b", {"hashtags": True}),
    (r"\b(another|different|new) (version|one|angle)\b|\bautre (version|angle)\b", {}),
)
_RULES = tuple((re.compile(pattern), effect) for pattern, effect in _RULE_TEXT)
_TEAM = re.compile(
    r"\b(?:mention|tag|thank|cite[rz]?|mentionne[rz]?|remercie[rz]?)\s+"
    r"(?:my|our|mon|notre)\s+(?:team|[eé]quipe)\b[\s:,-]*(?P<name>.*)$",
    re.IGNORECASE | re.DOTALL,
)
_SENSITIVE = re.compile(
    r"\b(critic|critics|criticism|critique|critiques|detracteurs?|haters?|unions?|unionis|"
    r"syndica\w*|strikes?|striking|greves?|grevistes?|journalists?|reporters?|press|presse|"
    r"journalistes?|labou?r dispute|conflit social|conflits sociaux|walkout|picket)\b"
)


def parse_instruction(text: str) -> Revision:
    """Understand a plain-words revision request ("shorter", "en français", "mention my
    team Data") in English or French. Unknown wording is not an error: it yields a fresh
    version and the member is told what the simple drafter understands."""
    stripped = text.strip()
    effects: dict[str, object] = {}
    understood = False
    team = _TEAM.search(stripped)  # on the original text, so the name keeps its spelling
    if team:
        effects["team"] = team.group("name").strip(" .!,;:")[:60]
        understood = True
        stripped = stripped[: team.start()]
    folded = _fold(stripped)
    for pattern, effect in _RULES:
        if pattern.search(folded):
            understood = True
            for key, value in effect.items():
                effects.setdefault(key, value)
    return Revision(understood=understood, **effects)  # type: ignore[arg-type]


def is_sensitive(text: str) -> bool:
    """A request that touches critics, the press, unions, strikes or labour disputes:
    the bot never drafts those (the comms team answers them)."""
    return bool(_SENSITIVE.search(_fold(text)))
