"""Draft similarity (`bot/similarity.py`): the measure behind principle 4, and what it says
about the template drafter's own drafts for one item claimed by 30 people."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.drafting import DraftRequest, DraftResult, Style, TemplateDrafter
from bot.similarity import THRESHOLD, most_similar, normalise, similarity, too_similar

URL = "https://acme.example/news/warehouse-energy?utm_source=ambassador"
DISCLOSURE = {"en": "I work at ACME.", "fr": "Je travaille chez ACME."}

# --- the measure ----------------------------------------------------------------------------


def test_identical_texts_score_one() -> None:
    text = "Proud of what our logistics team did this year."
    assert similarity(text, text) == 1.0


def test_texts_without_a_shared_word_score_zero() -> None:
    assert similarity("Proud of our logistics team", "Have a look at this article") == 0.0


def test_the_worked_example_of_the_module_docstring() -> None:
    a = "Our team shipped the new release today"
    b = "Our team shipped the new release this week"
    c = "Proud of the people who built this release"
    assert similarity(a, b) == pytest.approx(4 / 7)
    assert too_similar(b, [a])
    assert similarity(a, c) == 0.0  # shared words ("the", "release") but no shared phrasing


def test_similarity_is_symmetric() -> None:
    a = "Worth a read: our new warehouse cuts energy use. Curious to hear what you think."
    b = "Worth a read, and curious to hear your thoughts on our new warehouse."
    assert similarity(a, b) == similarity(b, a)
    assert 0.0 < similarity(a, b) < 1.0


def test_a_change_of_word_order_lowers_the_score() -> None:
    a = "The new warehouse uses a third less energy."
    b = "A third less energy: the new warehouse uses."
    assert sorted(normalise(a)) == sorted(normalise(b))  # the very same words
    assert similarity(a, b) == pytest.approx(4 / 8)  # two of each six 3-grams are new


def test_case_and_punctuation_do_not_count() -> None:
    assert similarity("Worth a read: the gist!", "worth a read -- THE GIST") == 1.0


def test_french_accents_are_folded() -> None:
    assert normalise("équipe") == normalise("equipe") == ["equipe"]
    assert normalise("Œuvre ÉLÈVE naïve") == ["oeuvre", "eleve", "naive"]
    assert (
        similarity(
            "L'équipe a réduit sa facture d'énergie", "L'equipe a reduit sa facture d'energie"
        )
        == 1.0
    )


def test_urls_never_count() -> None:
    text = "Sharing this: our warehouses use a third less energy. {url} I work at ACME."
    original = text.format(url=URL)
    assert similarity(original, text.format(url="https://other.example/x?y=1")) == 1.0
    assert similarity(original, text.format(url="")) == 1.0
    assert "https" not in normalise(original)


def test_an_ignored_disclosure_does_not_count_wherever_it_is() -> None:
    body = "Sharing this: our warehouses use a third less energy. Have a look."
    ignore = ("I work at ACME.", "I work at Globex.")
    with_it = f"{body} {URL} I work at ACME."
    assert similarity(with_it, f"I work at Globex. {body} {URL}", ignore=ignore) == 1.0
    assert similarity(with_it, body, ignore=ignore) == 1.0
    # Not ignored, the disclosure is text like any other: the feature is what makes 1.0.
    assert similarity(with_it, body) < 1.0


def test_an_ignored_title_is_matched_on_words_not_characters() -> None:
    title = "How we cut our warehouse energy use by a third"
    ignore = (title,)
    a = f"Worth a read: {title}. Curious to hear what you think."
    b = f"Worth a read: {title.upper()}! Curious to hear what you think."
    assert similarity(a, b, ignore=ignore) == 1.0
    assert normalise(a, ignore=ignore) == normalise("Worth a read. Curious to hear what you think.")


def test_an_ignored_phrase_is_removed_only_as_whole_words() -> None:
    assert normalise("concatenate the cat, cats and a cat", ignore=("cat",)) == [
        "concatenate",
        "the",
        "cats",
        "and",
        "a",
    ]


def test_texts_shorter_than_three_words_compare_their_words() -> None:
    assert similarity("Recommended. Enjoy.", "Enjoy. Recommended.") == 1.0
    assert similarity("Recommended.", "Thoughts?") == 0.0
    assert similarity("Good one.", "Good read, enjoy.") == pytest.approx(1 / 4)


def test_texts_with_nothing_of_their_own_score_zero() -> None:
    ignore = (DISCLOSURE["en"],)
    assert similarity("", "") == 0.0
    assert similarity(f"{URL} I work at ACME.", f"I work at ACME. {URL}", ignore=ignore) == 0.0
    assert similarity("", "Worth a read, have a look.") == 0.0


def test_most_similar_is_the_highest_score_and_zero_for_none() -> None:
    text = "Worth a read: the warehouse story. Curious to hear what you think."
    others = [
        "Sharing this because it matters to me. Feel free to pass it on.",
        "Worth a read: the warehouse story. Let me know what you make of it.",
        "In case you missed it: the warehouse story. Curious to hear what you think.",
    ]
    scores = [similarity(text, other) for other in others]
    assert most_similar(text, others) == max(scores) > 0.0
    assert most_similar(text, iter(others)) == max(scores)  # a one-pass iterable is enough
    assert most_similar(text, []) == 0.0
    assert not too_similar(text, [])


def test_too_similar_means_strictly_above_the_threshold() -> None:
    # Four 3-grams, two shared: exactly 0.5, which is allowed.
    a = "This caught my eye thoughts"
    b = "This caught my eye recommended"
    assert similarity(a, b) == THRESHOLD
    assert not too_similar(a, [b])
    assert too_similar(a, [b, "This caught my eye, thoughts?"])


# --- properties -----------------------------------------------------------------------------

WORDS = ["worth", "a", "read", "Équipe", "equipe", "the", "gist", "I", "work", "at", "ACME."]
PIECES = [*WORDS, URL, "I work at ACME.", "—", "l'énergie", "😀", "\n\n", "#ACME"]
texts = st.one_of(st.text(), st.lists(st.sampled_from(PIECES), max_size=30).map(" ".join))
ignores = st.lists(st.one_of(st.text(max_size=20), st.sampled_from(PIECES)), max_size=3)


@settings(deadline=None, max_examples=200)
@given(a=texts, b=texts, ignore=ignores)
def test_property_scores_lie_between_zero_and_one(a: str, b: str, ignore: list[str]) -> None:
    assert 0.0 <= similarity(a, b, ignore=ignore) <= 1.0


@settings(deadline=None, max_examples=200)
@given(a=texts, b=texts, ignore=ignores)
def test_property_similarity_is_symmetric(a: str, b: str, ignore: list[str]) -> None:
    assert similarity(a, b, ignore=ignore) == similarity(b, a, ignore=ignore)


@settings(deadline=None, max_examples=200)
@given(text=texts, ignore=ignores)
def test_property_a_text_is_identical_to_itself(text: str, ignore: list[str]) -> None:
    expected = 1.0 if normalise(text, ignore=ignore) else 0.0
    assert similarity(text, text, ignore=ignore) == expected


@settings(deadline=None, max_examples=200)
@given(text=texts, others=st.lists(texts, max_size=5), ignore=ignores)
def test_property_never_raises_and_most_similar_is_the_max(
    text: str, others: list[str], ignore: list[str]
) -> None:
    words = normalise(text, ignore=ignore)
    assert all(word and word == word.strip() for word in words)
    best = most_similar(text, others, ignore=ignore)
    assert best == max((similarity(text, o, ignore=ignore) for o in others), default=0.0)
    assert too_similar(text, others, ignore=ignore) == (best > THRESHOLD)


# --- the template drafter, one item claimed by 30 people --------------------------------------
#
# Measured over seeds 0-9 (title, URL and disclosure ignored), 435 pairs per run:
#   LinkedIn  max 0.76-0.81 (en), 0.78-0.86 (fr); 67-74 (en) and 84-90 (fr) pairs above 0.5,
#             because every draft quotes the same summary word for word: even two drafts that
#             share no fragment reach 0.43 (en) and 0.51 (fr).
#             With the summary ignored as well: max 0.52-0.62 (en), 0.56-0.73 (fr), 2-6 pairs
#             above 0.5, each sharing two of its three fragments (in practice the opening and
#             the closing, the two-word bridge "In short:" / "The gist:" telling them apart).
#   X         0-4 "layout twins" per run score 1.0: the same opening and sign-off with only
#             the disclosure moved from the end to the front. 0-3 more pairs per run are above
#             0.5 (0.56-0.67), the same opening with a different one- or two-word sign-off.
#             Pairs with different openings are at most 0.4.
# These tests pin that state: they fail if it gets worse. Principle 4 is NOT met yet by the
# template drafter; the next piece of work (issue 4) is what brings every pair under 0.5.

ITEM = {
    "en": (
        "How we cut our warehouse energy use by a third",
        "Our logistics team replaced the lighting and heating controls in four warehouses. "
        "The work paid for itself in eighteen months.",
    ),
    "fr": (
        "Comment nous avons réduit d'un tiers l'énergie de nos entrepôts",
        "Notre équipe logistique a remplacé l'éclairage et le chauffage de quatre entrepôts. "
        "Les travaux ont été rentabilisés en dix-huit mois.",
    ),
}
MEMBERS = 30
SEEDS = tuple(range(10))


async def thirty_drafts(language: str, seed: int) -> list[DraftResult]:
    """Drafts for 30 members in turn, each request carrying the variants already given, as
    the bot does for one item."""
    title, summary = ITEM[language]
    drafter = TemplateDrafter(random.Random(seed))
    results: list[DraftResult] = []
    for _ in range(MEMBERS):
        request = DraftRequest(
            title=title,
            url=URL,
            summary=summary,
            company="ACME",
            style=Style(language=language),
            taken=tuple(result.variant for result in results),
        )
        results.append(await drafter.draft(request))
    return results


def fragments(variant: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(LinkedIn opening, bridge, closing), (X opening, closing, layout) of a variant key."""
    linkedin, _, x = variant.rpartition(".L")[2].partition(".X")
    return tuple(linkedin.split("-")), tuple(x.split("-"))


def shared(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    return sum(p == q for p, q in zip(a, b, strict=True))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("language", ["en", "fr"])
async def test_thirty_template_drafts_are_all_different(language: str, seed: int) -> None:
    drafts = await thirty_drafts(language, seed)
    assert len({d.variant for d in drafts}) == MEMBERS
    assert len({d.linkedin for d in drafts}) == MEMBERS
    assert len({d.x for d in drafts}) == MEMBERS  # as strings: the measure says otherwise


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("language", ["en", "fr"])
async def test_thirty_template_x_posts_too_similar_only_with_the_same_opening(
    language: str, seed: int
) -> None:
    drafts = await thirty_drafts(language, seed)
    ignore = (URL, DISCLOSURE[language], ITEM[language][0])
    for a, b in itertools.combinations(drafts, 2):
        score = similarity(a.x, b.x, ignore=ignore)
        (open_a, close_a, _), (open_b, close_b, _) = (
            fragments(a.variant)[1],
            fragments(b.variant)[1],
        )
        if (open_a, close_a) == (open_b, close_b):  # only the disclosure moved: known defect
            assert score == 1.0, (a.x, b.x)
        elif open_a == open_b:  # known defect: a different sign-off is not enough
            assert score <= 2 / 3, (a.x, b.x)
        else:
            assert score <= 0.4, (a.x, b.x)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("language", ["en", "fr"])
async def test_thirty_template_linkedin_drafts_current_bound(language: str, seed: int) -> None:
    drafts = await thirty_drafts(language, seed)
    title, summary = ITEM[language]
    ignore = (URL, DISCLOSURE[language], title)
    worst = max(
        similarity(a.linkedin, b.linkedin, ignore=ignore)
        for a, b in itertools.combinations(drafts, 2)
    )
    assert worst <= 0.87  # the true current bound, far above THRESHOLD: the shared summary

    # The summary discounted too, what is left above THRESHOLD is pairs that share two of
    # their three fragments.
    without_summary = (*ignore, summary)
    worst = 0.0
    for a, b in itertools.combinations(drafts, 2):
        score = similarity(a.linkedin, b.linkedin, ignore=without_summary)
        worst = max(worst, score)
        if score > THRESHOLD:
            assert shared(fragments(a.variant)[0], fragments(b.variant)[0]) >= 2, (a, b)
    assert worst <= 0.75  # the true current bound, still above THRESHOLD
