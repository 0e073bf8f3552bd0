"""Content kinds: what an item is, set by the manager or guessed from the page. Digests show
it, and drafts adapt to it (a job offer invites people to apply)."""

from __future__ import annotations

ARTICLE = "article"
JOB = "job"
EVENT = "event"
TRAINING = "training"
KINDS = (ARTICLE, JOB, EVENT, TRAINING)

# what a manager may type, in either language
_WORDS = {
    "article": ARTICLE,
    "news": ARTICLE,
    "actualité": ARTICLE,
    "actualite": ARTICLE,
    "job": JOB,
    "offer": JOB,
    "emploi": JOB,
    "offre": JOB,
    "poste": JOB,
    "event": EVENT,
    "événement": EVENT,
    "evenement": EVENT,
    "évènement": EVENT,
    "salon": EVENT,
    "training": TRAINING,
    "course": TRAINING,
    "formation": TRAINING,
}


def parse_kind(word: str) -> str | None:
    """The kind a typed word names, or None."""
    return _WORDS.get(word.strip().lower())
