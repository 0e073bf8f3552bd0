"""The Teams renderer: every view of the core becomes Bot Framework activities whose Adaptive
Cards pass the schema checker, each under Teams' size limit whatever the content, with user
text that can neither format, link nor mention, buttons that decode back to the command they
were built from, and data exports split into chunks that add back up exactly."""

from __future__ import annotations

import json
import re
import string
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, get_args
from urllib.parse import unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.teams.render import (
    ACTION_KEY,
    BUDGET,
    CARD_CONTENT_TYPE,
    CUT_MARKER,
    MAX_ACTIONS,
    MAX_BYTES,
    MAX_SUMMARY,
    MAX_URL,
    activities,
    decode_action,
    escape,
    link,
    payload_bytes,
    text_of,
)
from bot import views
from bot.i18n import Translator
from bot.messages import (
    Actions,
    Anchor,
    Block,
    Button,
    Confirm,
    Data,
    DigestItem,
    DraftJob,
    Heading,
    LinkButton,
    Message,
    Note,
    Paragraph,
    Quote,
    Reply,
    Table,
)
from bot.services.charter import Charter
from bot.services.stats import Week
from storage.models import ContentItem, Draft
from tests.fakes.adaptive_card import validate

Json = dict[str, Any]
NOW = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)
HOSTILE = "**bold** [x](http://evil) <at>All</at> @channel &lt; _i_ `c` ~~s~~ {{DATE(2017)}}"
TRANSLATORS = [Translator("en"), Translator("fr")]


# --- helpers ----------------------------------------------------------------------------


def item(
    number: int, title: str = "An article", summary: str | None = "Worth a read"
) -> ContentItem:
    return ContentItem(
        id=number,
        url=f"https://example.com/news/{number}?utm_source=chat&x=1",
        title=title,
        summary=summary,
        created_at=NOW,
    )


def draft(linkedin: str = "Proud of the team. I work at ACME.", x: str = "New post!") -> Draft:
    return Draft(
        claim_id=7, version=2, language="en", linkedin=linkedin, x=x, variant="v1", created_at=NOW
    )


def card_of(activity: Json) -> Json:
    (attachment,) = activity["attachments"]
    assert attachment["contentType"] == CARD_CONTENT_TYPE
    card: Json = attachment["content"]
    return card


def nodes(obj: Any) -> Iterator[Json]:
    """Every object anywhere in a payload, ShowCard cards included."""
    if isinstance(obj, dict):
        yield obj
        for value in obj.values():
            yield from nodes(value)
    elif isinstance(obj, list):
        for value in obj:
            yield from nodes(value)


def of_type(obj: Any, kind: str) -> list[Json]:
    return [node for node in nodes(obj) if node.get("type") == kind]


def text_runs(obj: Any) -> list[str]:
    return [run["text"] for run in of_type(obj, "TextRun")]


def buttons_of(elements: list[Json]) -> list[Json]:
    """The actions a person sees, in reading order (not those inside a ShowCard's card)."""
    found: list[Json] = []
    for element in elements:
        if element["type"] == "ActionSet":
            found.extend(element["actions"])
        elif element["type"] == "Container":
            found.extend(buttons_of(element["items"]))
    return found


def every_button(rendered: list[Json]) -> list[Json]:
    return [
        action
        for activity in rendered
        if "attachments" in activity
        for action in buttons_of(card_of(activity)["body"])
    ]


def decoded(action: Json) -> tuple[str, tuple[str, ...]] | None:
    if action["type"] == "Action.ShowCard":
        (action,) = action["card"]["actions"]
    return decode_action(action.get("data"))


def check(message: Message) -> list[Json]:
    """Activities Teams takes: valid cards, under the limit (as sent, and as UTF-8), at most
    six actions a set, a one-line summary."""
    rendered = activities(message)
    assert rendered
    for activity in rendered:
        assert activity["type"] == "message"
        assert payload_bytes(activity) <= BUDGET < MAX_BYTES - 1000  # room for the envelope
        assert payload_bytes(activity) == len(json.dumps(activity).encode())
        assert len(json.dumps(activity, ensure_ascii=False).encode("utf-8")) <= BUDGET
        if "attachments" in activity:
            card = card_of(activity)
            assert validate(card) == []
            assert card["version"] == "1.5"
            assert card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
            assert all(1 <= len(s["actions"]) <= MAX_ACTIONS for s in of_type(card, "ActionSet"))
            assert "\n" not in activity.get("summary", "")
            assert len(activity.get("summary", "")) <= MAX_SUMMARY + len(" (9999/9999)")
        else:
            assert activity["textFormat"] == "markdown"
            assert activity["text"].strip()
    return rendered


# A reader of Teams markdown, written apart from the renderer: what in a text would be read as
# markup rather than shown. A backslash before ASCII punctuation shows that character.
PUNCTUATION = set(string.punctuation)
LINK = re.compile(r"(?P<prefix>[^\[]*) \[(?P<label>.*)\]\((?P<target>[^\s()<>\[\]\\]*)\)", re.S)


def live_markup(text: str) -> list[str]:
    found: list[str] = []
    for line in text.split("\n"):
        body = line.lstrip(" \t")
        if body and len(line) - len(body) >= 4:
            found.append("indented code")
        if body[:1] in ("-", "+", "=", "#") and body[:1]:
            found.append(f"line starting {body[0]}")
        if re.match(r"[0-9]+[.)]", body):
            found.append("ordered list")
        index = 0
        while index < len(body):
            char = body[index]
            if char == "\\" and index + 1 < len(body) and body[index + 1] in PUNCTUATION:
                index += 2
                continue
            if char in "*_`~[]<>{":
                found.append(char)
            elif char == "(" and index > 0 and body[index - 1] == "]":
                found.append("](")
            elif char == "&" and re.match(r"&#?[0-9A-Za-z]+;", body[index:]):
                found.append("entity")
            index += 1
    return found


def markdown_texts(rendered: list[Json]) -> Iterator[str]:
    for activity in rendered:
        if "attachments" in activity:
            yield from (block["text"] for block in of_type(card_of(activity), "TextBlock"))
        else:
            yield activity["text"]


def no_markup(rendered: list[Json], urls: tuple[str, ...] = ()) -> None:
    """No text formats, links or mentions, except a digest title's link to its item."""
    for text in markdown_texts(rendered):
        linked = LINK.fullmatch(text)
        if linked and unquote(linked["target"]) in urls:
            assert live_markup(linked["prefix"]) == [], text
            assert live_markup("x " + linked["label"]) == [], text  # mid-line
            assert set(linked["target"]) <= set(
                string.ascii_letters + string.digits + "-./:?#=&%+,@!$'"
            )
        else:
            assert live_markup(text) == [], text


def weeks(count: int) -> list[Week]:
    start = datetime(2025, 1, 6, tzinfo=UTC).date()
    return [
        Week(start + timedelta(weeks=n), n, 1, 20 + n, 3 * n, 2 * n, n, 1000 * n)
        for n in range(count)
    ]


def every_view(t: Translator) -> list[Message]:
    long_items = [item(n, "T" * 300, "S" * 1000) for n in range(1, 11)]
    export = json.dumps({"claims": [{"id": n, "title": f"<b>{n}</b> é"} for n in range(900)]})
    charter = Charter(version=3, text="Be kind.\nKeep *secrets*.", created_at=None)
    job = DraftJob(claim_id=7, language=t.language)
    return [
        views.digest(t, long_items, anchor=Anchor("digest", 3)),
        views.digest(t, [item(1, HOSTILE, HOSTILE)], anchor=None, preview=True),
        views.join_prompt(
            t,
            charter_version=2,
            charter_summary="Be kind.\nKeep secrets.",
            company="A&B",
            pending=4,
        ),
        views.join_prompt(
            t, charter_version=1, charter_summary="Be kind.", company="ACME", pending=None
        ),
        views.ack_prompt(t, version=3, text="Charter v3 text.", pending=None),
        views.ack_prompt(t, version=3, text="Charter v3 text.", pending=12),
        views.draft_message(t, item=item(4, HOSTILE), draft=draft(HOSTILE, HOSTILE), claim_id=7),
        views.drafting_message(t, item=item(4), job=job, key="k"),
        views.write_myself(t, item=item(4), company="ACME", claim_id=7),
        views.weekly_report(t, weeks(8), min_group=5),
        Message("stats", (Heading("52"), *views.figures_blocks(t, weeks(52), min_group=5))),
        views.charter_recall(t, charter, pending=True),
        views.charter_recall(t, charter, pending=False),
        Message("home", (Heading("Your status"), Actions((views.forget_button(t),)))),
        Message(
            t("privacy.export_text"),
            (Paragraph(t("privacy.export_intro")), Data("ambassador-my-data.json", export)),
        ),
        Reply.say(t("privacy.nothing")).messages[0],
    ]


ITEM_URLS = tuple(item(n).url for n in range(1, 11))


# --- the real views ---------------------------------------------------------------------


@pytest.mark.parametrize("t", TRANSLATORS, ids=["en", "fr"])
def test_every_view_renders_valid_cards_within_the_limit_and_without_markup(
    t: Translator,
) -> None:
    for message in every_view(t):
        no_markup(check(message), ITEM_URLS)


@pytest.mark.parametrize("t", TRANSLATORS, ids=["en", "fr"])
def test_core_buttons_decode_to_their_command_and_links_open_their_url(t: Translator) -> None:
    for message in every_view(t):
        rendered = every_button(check(message))
        buttons = message.buttons()
        assert len(rendered) == len(buttons)
        for button, action in zip(buttons, rendered, strict=True):
            if isinstance(button, LinkButton):
                assert action == {
                    "type": "Action.OpenUrl",
                    "title": button.label,
                    "url": button.url,
                }
                assert decoded(action) is None
            else:
                assert decoded(action) == (button.command, button.args)
                assert action["title"] == button.label


def test_digest_item_is_a_container_with_linked_title_summary_and_claim() -> None:
    t = Translator("en")
    (activity,) = check(views.digest(t, [item(1), item(11)], anchor=None))
    assert activity["summary"] == t.plural("digest.text", 2)
    containers = of_type(card_of(activity), "Container")
    assert [c["items"][0]["text"] for c in containers] == [
        "1️⃣ [An article](https://example.com/news/1?utm%5Fsource=chat&x=1)",
        "2️⃣ [An article](https://example.com/news/11?utm%5Fsource=chat&x=1)",
    ]
    label = containers[0]["items"][1]
    assert (label["text"], label["isSubtle"]) == ("Article", True)  # the kind, in small print
    assert containers[0]["items"][2] == {"type": "TextBlock", "text": "Worth a read", "wrap": True}
    claim = containers[1]["items"][3]["actions"][0]
    assert claim["type"] == "Action.Submit"
    assert claim["data"] == {ACTION_KEY: "claim_item", "args": ["11"]}


def test_a_digest_item_shows_its_kind_site_and_https_preview_image_only() -> None:
    t = Translator("fr")
    job = item(1, "Data engineer", None)
    job.kind, job.site_name, job.image_url = (
        "job",
        "ACME *Careers*",
        "https://cdn.example/cover(1).png",
    )
    plain = item(2)
    plain.image_url = "http://cdn.example/insecure.png"
    (activity,) = check(views.digest(t, [job, plain], anchor=None))
    first, second = of_type(card_of(activity), "Container")
    assert first["items"][1]["text"] == r"Offre d'emploi · ACME \*Careers\*"  # escaped
    image = first["items"][2]
    assert (image["type"], image["url"]) == ("Image", "https://cdn.example/cover%281%29.png")
    assert all(element["type"] != "Image" for element in second["items"])


def test_numbers_past_ten_cannot_start_a_list() -> None:
    (activity,) = check(Message("x", (DigestItem(11, "Title", "https://example.com", None),)))
    assert card_of(activity)["body"][0]["items"][0]["text"] == "11\\. [Title](https://example.com)"


def test_ten_items_with_10000_character_texts_all_fit_with_their_claims() -> None:
    t = Translator("fr")
    items = [item(n, f"{n}" + "T" * 10_000, f"{n}" + "S" * 10_000) for n in range(1, 11)]
    (activity,) = check(views.digest(t, items, anchor=None))
    body = card_of(activity)["body"]
    assert body[0]["text"] == t("digest.heading")  # short texts stay whole
    assert body[-2]["text"] == t("digest.footer")
    containers = [e for e in body if e["type"] == "Container"]
    assert len(containers) == 10
    for number, container in enumerate(containers, start=1):
        title, label, summary, claims = container["items"]
        assert label["text"] == t("kinds.article")
        linked = LINK.fullmatch(title["text"])
        assert linked is not None
        assert unquote(linked["target"]) == items[number - 1].url
        assert linked["label"].startswith(f"{number}TTT")
        assert linked["label"].endswith("T…")
        assert len(linked["label"]) > 500  # clipped to share the room, not to nothing
        assert summary["text"].startswith(f"{number}SSS")
        assert summary["text"].endswith("…")
        assert decoded(claims["actions"][0]) == ("claim_item", (str(number),))
    assert [decoded(a) for a in body[-1]["actions"]] == [("join", ()), ("charter", ())]


def test_one_huge_paragraph_is_clipped_and_the_rest_left_whole() -> None:
    message = Message("x", (Heading("Short"), Paragraph("word " * 20_000), Note("note")))
    (activity,) = check(message)
    heading, paragraph, note = card_of(activity)["body"]
    assert (heading["text"], note["text"]) == ("Short", "note")
    assert paragraph["text"].startswith("word word")
    assert paragraph["text"].endswith("…")
    assert payload_bytes(activity) > BUDGET - 100  # the room is used, not wasted


@pytest.mark.parametrize("lines", [450, 900])
def test_a_long_draft_fits_whole_or_starts_as_written(lines: int) -> None:
    t = Translator("en")
    linkedin = "".join(f"Line {n} of my post, with *stars* and <tags>.\n" for n in range(lines))
    assert len(linkedin) > 20_000
    message = views.draft_message(t, item=item(3), draft=draft(linkedin, "Short x"), claim_id=9)
    (activity,) = check(message)
    first, second = text_runs(card_of(activity))
    if lines == 450:  # 20,000 characters: unescaped in a TextRun, it fits whole
        assert first == linkedin
    else:
        assert first.endswith("…")
        assert linkedin.startswith(first[:-1])
        assert len(first) > 20_000
    assert second == "Short x"
    urls = [a["url"] for a in every_button([activity]) if a["type"] == "Action.OpenUrl"]
    assert urls == [views.linkedin_share_url(item(3).url), views.x_share_url("Short x")]


def test_quote_shows_a_hostile_draft_exactly_in_an_emphasis_box() -> None:
    text = f"{HOSTILE}\n# not a heading\n1. not a list\n    not code\r\nend \\ 🎉"
    (activity,) = check(Message("x", (Quote(text, label="Your <draft> *here*"),)))
    label, box = card_of(activity)["body"]
    assert label == {
        "type": "TextBlock",
        "text": "Your \\<draft\\> \\*here\\*",
        "wrap": True,
        "weight": "Bolder",
    }
    assert box == {
        "type": "Container",
        "style": "emphasis",
        "items": [{"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": text}]}],
    }


def test_blank_texts_render_nothing_and_an_empty_card_says_the_message() -> None:
    (activity,) = check(Message("Hello *you*", (Heading(" "), Quote(" \n", label=" "), Note(""))))
    assert card_of(activity)["body"] == [
        {"type": "TextBlock", "text": "Hello \\*you\\*", "wrap": True}
    ]
    (activity,) = check(Message("long " * 20_000, (Heading(" "),)))
    (fallback,) = card_of(activity)["body"]
    assert fallback["text"].startswith("long long")
    assert fallback["text"].endswith("…")


# --- confirmations and buttons ----------------------------------------------------------


@pytest.mark.parametrize("t", TRANSLATORS, ids=["en", "fr"])
def test_confirm_button_is_a_show_card_holding_the_real_submit(t: Translator) -> None:
    button = views.forget_button(t)
    assert button.confirm is not None
    (activity,) = check(Message("x", (Actions((button,)),)))
    (show,) = every_button([activity])
    assert show["type"] == "Action.ShowCard"
    assert show["title"] == button.label
    assert show["style"] == "destructive"
    card = show["card"]
    assert [b["text"] for b in card["body"]] == [
        escape(button.confirm.title),
        escape(button.confirm.text),
    ]
    (submit,) = card["actions"]
    assert submit["type"] == "Action.Submit"
    assert submit["title"] == button.confirm.confirm
    assert submit["style"] == "destructive"
    assert decode_action(submit["data"]) == ("forget", ())


def test_long_confirm_texts_and_labels_are_clipped() -> None:
    confirm = Confirm("T" * 150, "X" * 400, "Y" * 100, "N" * 40)
    button = Button("B" * 100, "forget", style="danger", confirm=confirm)
    (show,) = every_button(check(Message("x", (Actions((button,)),))))
    assert show["title"] == "B" * 74 + "…"
    assert show["card"]["actions"][0]["title"] == "Y" * 74 + "…"


def test_more_than_six_buttons_continue_in_another_action_set() -> None:
    buttons = tuple(Button(f"B{n}", "pick", (str(n),), style="primary") for n in range(14))
    (activity,) = check(Message("x", (Actions(buttons),)))
    sets = card_of(activity)["body"]
    assert [len(s["actions"]) for s in sets] == [6, 6, 2]
    assert [decoded(a) for a in every_button([activity])] == [
        ("pick", (str(n),)) for n in range(14)
    ]
    assert {a["style"] for a in every_button([activity])} == {"positive"}


def test_only_whole_http_links_become_open_url_actions() -> None:
    good = LinkButton("Share", "https://x.com/intent?text=a%20b")
    bad = (
        LinkButton("js", "javascript:alert(1)"),
        LinkButton("ftp", "ftp://example.com/x"),
        LinkButton("blank", ""),
        LinkButton("space", "https://x.com/a b"),
        LinkButton("long", "https://x.com/?t=" + "a" * MAX_URL),
        LinkButton("nohost", "https:///path"),
    )
    (activity,) = check(Message("x", (Actions((*bad, good, Button("Ok", "ok"))),)))
    assert [a["title"] for a in every_button([activity])] == ["Share", "Ok"]


def test_core_button_whose_args_cannot_come_back_is_a_core_bug() -> None:
    with pytest.raises(ValueError, match="go"):
        activities(Message("x", (Actions((Button("Go", "go", ("a" * 2001,)),)),)))
    with pytest.raises(ValueError, match="two words"):
        activities(Message("x", (Actions((Button("Go", "two words"),)),)))


# --- decoding what Teams sends back -----------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        None,
        "claim_item",
        ["claim_item", ["1"]],
        {},
        {ACTION_KEY: "claim_item"},
        {"args": ["1"]},
        {ACTION_KEY: "claim_item", "args": "1"},
        {ACTION_KEY: "claim_item", "args": [1]},
        {ACTION_KEY: "claim_item", "args": [None]},
        {ACTION_KEY: "claim_item", "args": [["1"]]},
        {ACTION_KEY: 1, "args": []},
        {ACTION_KEY: "", "args": []},
        {ACTION_KEY: "claim item", "args": []},
        {ACTION_KEY: "claim\nitem", "args": []},
        {ACTION_KEY: "c" * 65, "args": []},
        {ACTION_KEY: "claim_item", "args": ["1"] * 17},
        {ACTION_KEY: "claim_item", "args": ["1" * 2001]},
        {ACTION_KEY: "claim_item", "args": ["1" * 1000, "2" * 1000]},
        {ACTION_KEY: "claim_item", "args": [], "msteams": {"type": "messageBack"}},
        {"c": "claim_item", "a": ["1"]},
    ],
)
def test_decode_action_refuses_what_is_not_exactly_ours(value: object) -> None:
    assert decode_action(value) is None


def test_decode_action_accepts_our_shape() -> None:
    assert decode_action({ACTION_KEY: "a:b", "args": ["1", ""]}) == ("a:b", ("1", ""))
    assert decode_action(json.loads('{"args": [], "amb": "join"}')) == ("join", ())


# --- tables -----------------------------------------------------------------------------


def test_table_is_an_adaptive_card_table_with_a_header_row_and_escaped_cells() -> None:
    table = Table(("Week", "Note"), (("1", "<at>All</at>"), ("2",)))
    (activity,) = check(Message("x", (table,)))
    (element,) = card_of(activity)["body"]
    assert element["type"] == "Table"
    assert element["firstRowAsHeader"] is True
    assert len(element["columns"]) == 2
    cells = [[c["items"][0]["text"] for c in row["cells"]] for row in element["rows"]]
    assert cells == [["Week", "Note"], ["1", "\\<at\\>All\\</at\\>"], ["2", ""]]


def test_fifty_rows_of_status_stay_a_table() -> None:
    rows = tuple((f"2026-01-{n % 28 + 1:02d} 08:00", "Envoyé à l’heure") for n in range(50))
    (activity,) = check(Message("status", (Heading("État"), Table(("Prévu", "Résultat"), rows))))
    (table,) = of_type(card_of(activity), "Table")
    assert len(table["rows"]) == 51


def test_a_year_of_figures_becomes_aligned_monospace_text_within_the_limit() -> None:
    t = Translator("fr")
    table, _ = views.figures_blocks(t, weeks(52), min_group=5)
    (activity,) = check(Message("stats", (Heading("52"), table)))
    assert of_type(card_of(activity), "Table") == []  # 364 cells would not fit
    (run,) = of_type(card_of(activity), "TextRun")
    assert run["fontType"] == "Monospace"
    lines = run["text"].splitlines()
    assert len(lines) == 52 + 2  # header, rule, one line per week
    assert lines[0].startswith(t("stats.col_week"))
    assert all(
        line.startswith(str(week.week_start))
        for line, week in zip(lines[2:], weeks(52), strict=True)
    )


def test_a_table_too_long_for_any_card_is_clipped_with_a_mark() -> None:
    rows = tuple((str(n), "x" * 30) for n in range(3000))
    (activity,) = check(Message("x", (Table(("n", "x"), rows),)))
    (run,) = text_runs(card_of(activity))
    assert run.startswith("n     x")
    assert run.endswith("…")


# --- data exports -----------------------------------------------------------------------


def test_a_big_export_splits_into_numbered_chunks_that_add_back_up_exactly() -> None:
    t = Translator("fr")
    records = [{"id": n, "title": f'<b>{n}</b> & é \\ "q" 🎉', "tab": "\t"} for n in range(1200)]
    content = json.dumps({"claims": records}, ensure_ascii=False, indent=2)
    assert len(content.encode("utf-8")) > 100_000
    message = Message(
        t("privacy.export_text"),
        (Paragraph(t("privacy.export_intro")), Data("my-*data*.json", content)),
    )
    intro, *chunks = check(message)
    assert intro == {"type": "message", "textFormat": "markdown", "text": escape(intro["text"])}
    total = len(chunks)
    assert total >= 5
    pieces = []
    for number, chunk in enumerate(chunks, start=1):
        heading, body = card_of(chunk)["body"]
        assert heading["text"] == f"📄 my-\\*data\\*.json ({number}/{total})"
        assert chunk["summary"] == f"{text_of(message)} ({number}/{total})"
        (run,) = body["inlines"]
        assert run["fontType"] == "Monospace"
        pieces.append(run["text"])
    assert "".join(pieces) == content
    assert all(piece.endswith("\n") for piece in pieces[:-1])  # cut at line ends


def test_an_export_of_four_byte_characters_still_fits() -> None:
    content = "🎉" * 10_000  # 12 bytes each as sent
    chunks = check(Message("x", (Data("e.txt", content),)))
    assert len(chunks) >= 5
    assert "".join(text_runs(chunks)) == content


def test_a_small_export_is_one_activity_without_numbering_and_keeps_its_place() -> None:
    message = Message("x", (Heading("Before"), Data("d.txt", "tiny"), Paragraph("After")))
    before, data, after = check(message)
    assert card_of(before)["body"][0]["text"] == "Before"
    heading, body = card_of(data)["body"]
    assert heading["text"] == "📄 d.txt"
    assert text_runs(body) == ["tiny"]
    assert after == {"type": "message", "textFormat": "markdown", "text": "After"}


def test_an_empty_export_is_its_name_alone() -> None:
    (activity,) = check(Message("x", (Data("empty.json", ""),)))
    assert [e["type"] for e in card_of(activity)["body"]] == ["TextBlock"]


# --- plain text messages ----------------------------------------------------------------


def test_paragraphs_alone_are_an_escaped_markdown_text_message() -> None:
    (message,) = Reply.say("Hello <at>All</at> **x** &amp;\nline two").messages
    assert check(message) == [
        {
            "type": "message",
            "textFormat": "markdown",
            "text": "Hello \\<at\\>All\\</at\\> \\*\\*x\\*\\* \\&amp;\n\nline two",
        }
    ]
    assert check(Message("Just *this*", ())) == [
        {"type": "message", "textFormat": "markdown", "text": "Just \\*this\\*"}
    ]


def test_thousands_of_paragraphs_are_cut_with_a_marker() -> None:
    message = Message("x", tuple(Paragraph(f"p{n} " * 10) for n in range(5000)))
    (activity,) = check(message)
    parts = activity["text"].split("\n\n")
    assert parts[0] == "p0 " * 10
    assert parts[-1] == CUT_MARKER
    assert 100 < len(parts) < 5000


def test_hundreds_of_elements_are_cut_with_a_marker_after_whole_ones() -> None:
    blocks: tuple[Block, ...] = (Heading("h"), *(Note(f"note {n}") for n in range(2000)))
    (activity,) = check(Message("x", blocks))
    body = card_of(activity)["body"]
    assert [b["text"] for b in body[:3]] == ["h", "note 0", "note 1"]
    assert body[-1] == {"type": "TextBlock", "text": CUT_MARKER, "wrap": True, "isSubtle": True}
    buttons = tuple(Button(f"B{n}", "pick", (str(n),)) for n in range(1000))
    (activity,) = check(Message("x", (Actions(buttons),)))
    shown = [decoded(a) for a in every_button([activity])]
    assert shown == [("pick", (str(n),)) for n in range(len(shown))]
    assert 6 < len(shown) < 1000


def test_every_kind_of_neutral_block_has_a_teams_rendering() -> None:
    samples: list[Block] = [
        Heading("h"),
        Paragraph("p"),
        Quote("q"),
        DigestItem(1, "t", "https://example.com", None),
        Actions((Button("b", "c"),)),
        Note("n"),
        Table(("a",), (("1",),)),
        Data("f.txt", "d"),
    ]
    assert {type(s) for s in samples} == set(get_args(Block))
    empty = activities(Message("x", ()))
    for sample in samples:
        assert check(Message("x", (sample,))) != empty


# --- escaping ---------------------------------------------------------------------------


def test_escape_neutralises_bold_links_mentions_and_entities() -> None:
    assert escape("**bold** [x](http://evil) <at>All</at> @channel &lt;") == (
        "\\*\\*bold\\*\\* \\[x\\]\\(http://evil) \\<at\\>All\\</at\\> @channel \\&lt;"
    )
    assert escape("AT&T & co, (fine) {{DATE(2017-02-14T06:00:00Z)}} a\\b") == (
        "AT&T & co, (fine) \\{\\{DATE(2017-02-14T06:00:00Z)}} a\\\\b"
    )


def test_escape_neutralises_what_only_starts_a_line() -> None:
    text = "1. one\n2) two\n- dash\n+ plus\n# hash\n=== rule\n    four spaces\r\n> quote\rend"
    assert escape(text).split("\n\n") == [
        "1\\. one",
        "2\\) two",
        "\\- dash",
        "\\+ plus",
        "\\# hash",
        "\\=== rule",
        "\u00a0" * 4 + "four spaces",
        "\\> quote",
        "end",
    ]
    assert escape("a - b # c 3. d") == "a - b # c 3. d"  # harmless inside a line


def test_link_keeps_label_and_target_inside_the_link() -> None:
    assert link("https://x.com/a)[b](http://evil", "A [b] <at>x</at>") == (
        "[A \\[b\\] \\<at\\>x\\</at\\>](https://x.com/a%29%5Bb%5D%28http://evil)"
    )
    assert link("https://x.com/a b", "1. Title") == "1\\. Title"  # no usable URL
    assert link("javascript:alert(1)", "Title") == "Title"
    assert link("https://x.com/", " ") == "[https://x.com/](https://x.com/)"


# --- whatever people type ---------------------------------------------------------------

MARKUP = (
    "**",
    "_",
    "`",
    "~~",
    "[x](http://evil)",
    "](",
    "<at>All</at>",
    "@channel",
    "&lt;",
    "&#60;",
    "&",
    "\\",
    "{{DATE(2017-02-14T06:00:00Z)}}",
    "\n",
    "\r\n",
    "\n1. ",
    "\n- ",
    "\n# ",
    "\n    ",
    "\n> ",
    " ",
)
NASTY = st.sampled_from((*MARKUP, "🎉", "👩\u200d💻", "é", "’"))
# Repeated now and then, so texts far past what fits in a card come up often.
TEXT = st.builds(
    lambda pieces, times: "".join(pieces) * times,
    st.lists(st.one_of(NASTY, st.text(max_size=40)), max_size=120),
    st.sampled_from((1, 1, 1, 30, 300)),
)


@settings(deadline=None, max_examples=60)
@given(title=TEXT, summary=st.none() | TEXT, count=st.integers(1, 10), lang=st.sampled_from("ef"))
def test_any_digest_fits_validates_and_shows_text_as_text(
    title: str, summary: str | None, count: int, lang: str
) -> None:
    t = Translator("en" if lang == "e" else "fr")
    items = [item(n, title, summary) for n in range(1, count + 1)]
    rendered = check(views.digest(t, items, anchor=None))
    no_markup(rendered, ITEM_URLS)
    claims = [decoded(a) for a in every_button(rendered)]
    assert claims[:count] == [("claim_item", (str(n),)) for n in range(1, count + 1)]


@settings(deadline=None, max_examples=60)
@given(linkedin=TEXT, x=TEXT, title=TEXT)
def test_any_draft_fits_validates_and_shows_the_draft_as_written(
    linkedin: str, x: str, title: str
) -> None:
    t = Translator("en")
    message = views.draft_message(t, item=item(3, title), draft=draft(linkedin, x), claim_id=9)
    (activity,) = check(message)
    no_markup([activity])
    drafts = [d for d in (linkedin, x) if d.strip()]
    runs = text_runs(card_of(activity))
    assert len(runs) == len(drafts)
    for run, written in zip(runs, drafts, strict=True):
        assert run == written or (run.endswith("…") and written.startswith(run[:-1]))


@settings(deadline=None, max_examples=60)
@given(texts=st.lists(TEXT, min_size=1, max_size=5))
def test_any_paragraphs_fit_and_show_text_as_text(texts: list[str]) -> None:
    rendered = check(Message("x", tuple(Paragraph(text) for text in texts)))
    no_markup(rendered)


@settings(deadline=None, max_examples=100)
@given(url=TEXT, label=TEXT)
def test_link_never_lets_the_label_or_target_escape(url: str, label: str) -> None:
    full = "https://example.com/" + url
    rendered = link(full, label)
    linked = LINK.fullmatch("1 " + rendered)
    if linked is None:  # no usable URL: the label alone, escaped
        assert live_markup(rendered) == []
        return
    assert live_markup("x " + linked["label"]) == []  # the label follows the number
    assert unquote(linked["target"]) == full


# --- the checker itself -----------------------------------------------------------------


def test_validate_finds_what_teams_would_refuse() -> None:
    good: Json = {
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": [{"type": "TextBlock", "text": "hi"}],
        "actions": [
            {"type": "Action.ShowCard", "title": "more", "card": {"type": "AdaptiveCard"}},
        ],
    }
    assert validate(good) == []

    def problems(**change: Any) -> list[str]:
        return validate({**good, **change})

    assert problems(version="1.6") == ["card: version 1.6 is above 1.5"]
    assert problems(version=1.5) != []
    assert problems(type="Card") != []
    assert problems(body=[{"type": "TextBlock"}]) != []
    assert problems(body=[{"type": "Foo", "text": "x"}]) == [
        "card.body[0]: unknown element type 'Foo'"
    ]
    assert problems(body=[{"type": "ActionSet", "actions": []}]) != []
    assert problems(body=[{"type": "Container", "items": [{"type": "TextBlock"}]}]) != []
    assert problems(body=[{"type": "Container", "items": [], "style": "loud"}]) != []
    assert problems(body=[{"type": "Table", "columns": [{}], "rows": [{"type": "TableRow"}]}]) != []
    cell = {"type": "TableCell", "items": []}
    assert (
        problems(
            body=[
                {"type": "Table", "columns": [{}], "rows": [{"type": "TableRow", "cells": [cell]}]}
            ]
        )
        != []
    )
    assert problems(body=[{"type": "RichTextBlock", "inlines": [{"type": "TextRun"}]}]) != []
    assert problems(actions=[{"type": "Action.OpenUrl", "title": "x"}]) != []
    assert problems(actions=[{"type": "Action.Submit", "title": " "}]) != []
    assert problems(actions=[{"type": "Action.Submit", "title": "x", "style": "red"}]) != []
    assert problems(actions=[{"type": "Action.Execute", "title": "x"}]) != []
    inner = {"type": "AdaptiveCard", "body": [{"type": "TextBlock", "wrap": "yes", "text": "x"}]}
    assert problems(actions=[{"type": "Action.ShowCard", "title": "x", "card": inner}]) == [
        "card.actions[0]<Action.ShowCard>.card.body[0]: wrap must be true or false"
    ]
    assert validate({"type": "AdaptiveCard"}) == ["card: version is required"]


def test_commands_are_written_as_a_teams_user_types_them() -> None:
    """No slash commands in Teams: `/ambassador leave` reads `leave`, and the digest channel
    is chosen with `@Ambassador digest here`; a data export is left exactly as it is."""
    t = Translator("en")
    message = Message(
        "x",
        (
            Paragraph(t("join.already")),
            Note(t("digest.no_channel")),
            Data("me.json", '{"note": "`/ambassador leave`"}'),
        ),
    )
    text = json.dumps(activities(message), ensure_ascii=False)
    assert "/ambassador" not in text.split("me.json")[0]
    assert "digest here" in text
    assert "`/ambassador leave`" in text  # inside the export, untouched
