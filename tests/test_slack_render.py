"""The Slack renderer: every view of the core becomes Block Kit that slack_sdk's own models
accept, within Slack's limits, with user text that can never ping anyone, and buttons that
decode back to the command they were built from."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, get_args

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slack_sdk.models.blocks import Block as SlackBlock
from slack_sdk.models.blocks import ButtonElement, ConfirmObject

from adapters.slack.render import (
    ACTION_PREFIX,
    CUT_MARKER,
    LINK_PREFIX,
    MAX_HOME_BLOCKS,
    MAX_MESSAGE_BLOCKS,
    decode_action,
    escape,
    home_view,
    link,
    message_payload,
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
    Heading,
    LinkButton,
    Message,
    Note,
    Paragraph,
    Quote,
    Table,
)
from storage.models import ContentItem, Draft

Json = dict[str, Any]
PINGS = ("<!channel>", "<@U123>", "<!here>")
NOW = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)


# --- helpers ----------------------------------------------------------------------------


def item(
    number: int, title: str = "An article", summary: str | None = "Worth a read"
) -> ContentItem:
    return ContentItem(
        id=number,
        url=f"https://example.com/news/{number}?utm=chat&x=1",
        title=title,
        summary=summary,
        created_at=NOW,
    )


def draft(linkedin: str = "Proud of the team. I work at ACME.", x: str = "New post!") -> Draft:
    return Draft(
        claim_id=7, version=2, language="en", linkedin=linkedin, x=x, variant="v1", created_at=NOW
    )


def texts(obj: Any, kind: str) -> Iterator[str]:
    """Every text object of one kind (`mrkdwn` or `plain_text`) anywhere in a payload."""
    if isinstance(obj, dict):
        if obj.get("type") == kind and isinstance(obj.get("text"), str):
            yield obj["text"]
        for value in obj.values():
            yield from texts(value, kind)
    elif isinstance(obj, list):
        for value in obj:
            yield from texts(value, kind)


def elements(blocks: list[Json]) -> list[Json]:
    """Interactive elements in reading order: section accessories and actions rows."""
    found: list[Json] = []
    for block in blocks:
        if "accessory" in block:
            found.append(block["accessory"])
        if block["type"] == "actions":
            found.extend(block["elements"])
    return found


def check_blocks(blocks: list[Json], limit: int) -> None:
    """What Slack would refuse: slack_sdk's validators, plus the limits it does not check."""
    assert 1 <= len(blocks) <= limit
    for block in blocks:
        parsed = SlackBlock.parse(block)
        assert parsed is not None, block
        parsed.validate_json()
        assert parsed.to_dict() == block  # to_dict validates nested objects; nothing dropped
        if block["type"] == "section":
            assert 1 <= len(block["text"]["text"]) <= 3000
        if block["type"] == "context":
            assert all(1 <= len(e["text"]) <= 3000 for e in block["elements"])
        if block["type"] == "actions":
            assert 1 <= len(block["elements"]) <= 25
    action_ids = [element["action_id"] for element in elements(blocks)]
    assert len(action_ids) == len(set(action_ids))
    for element in elements(blocks):
        assert len(element.get("value", "")) <= 2000
        assert len(element.get("url", "")) <= 3000
        assert 1 <= len(element["text"]["text"]) <= 75
        ButtonElement(**element).validate_json()


def check_message(message: Message) -> Json:
    payload = message_payload(message)
    check_blocks(payload["blocks"], MAX_MESSAGE_BLOCKS)
    assert 1 <= len(payload["text"]) <= 3000
    assert "\n" not in payload["text"]
    home = home_view(message)
    assert home["type"] == "home"
    check_blocks(home["blocks"], MAX_HOME_BLOCKS)
    return payload


def no_pings(payload: Json) -> None:
    for text in [payload["text"], *texts(payload["blocks"], "mrkdwn")]:
        for ping in PINGS:
            assert ping not in text


def every_view(t: Translator) -> list[Message]:
    long_items = [item(n, "T" * 300, "S" * 1000) for n in range(1, 11)]
    return [
        views.digest(t, long_items, anchor=Anchor("digest", 3)),
        views.digest(t, [item(1)], anchor=None, preview=True),
        views.join_prompt(
            t,
            charter_version=2,
            charter_summary="Be kind.\nKeep secrets.",
            company="ACME",
            pending=4,
        ),
        views.join_prompt(
            t, charter_version=1, charter_summary="Be kind.", company="ACME", pending=None
        ),
        views.ack_prompt(t, version=3, text="Charter v3 text.", pending=None),
        views.ack_prompt(t, version=3, text="Charter v3 text.", pending=12),
        views.draft_message(t, item=item(4), draft=draft(), claim_id=7),
        views.write_myself(t, item=item(4), company="ACME", claim_id=7),
        Message("home", (Heading("Your status"), Actions((views.forget_button(t),)))),
    ]


TRANSLATORS = [Translator("en"), Translator("fr")]


# --- the real views ---------------------------------------------------------------------


@pytest.mark.parametrize("t", TRANSLATORS, ids=["en", "fr"])
def test_every_view_renders_valid_block_kit(t: Translator) -> None:
    for message in every_view(t):
        no_pings(check_message(message))


@pytest.mark.parametrize("t", TRANSLATORS, ids=["en", "fr"])
def test_core_buttons_decode_to_their_command_and_links_do_not(t: Translator) -> None:
    for message in every_view(t):
        rendered = elements(message_payload(message)["blocks"])
        buttons = message.buttons()
        assert len(rendered) == len(buttons)
        for button, element in zip(buttons, rendered, strict=True):
            decoded = decode_action(element["action_id"], element.get("value"))
            if isinstance(button, LinkButton):
                assert decoded is None
                assert element["url"] == button.url
                assert element["action_id"].startswith(f"{LINK_PREFIX}:")
            else:
                assert decoded == (button.command, button.args)
                assert element["action_id"].startswith(f"{ACTION_PREFIX}:{button.command}:")


def test_digest_of_ten_long_items_keeps_every_title_summary_and_claim() -> None:
    t = Translator("en")
    items = [item(n, f"{n}" + "T" * 299, "S" * 1000) for n in range(1, 11)]
    blocks = check_message(views.digest(t, items, anchor=None))["blocks"]
    sections = [b for b in blocks if "accessory" in b]
    assert len(sections) == 10
    for number, (section, source) in enumerate(zip(sections, items, strict=True), start=1):
        text = section["text"]["text"]
        assert text.startswith(f"{views.KEYCAPS[number - 1]} *<{source.url}|{source.title}>*\n")
        assert text.endswith("S" * 1000)  # room for all of it: nothing cut
        claim = section["accessory"]
        assert decode_action(claim["action_id"], claim["value"]) == ("claim_item", (str(number),))


def test_join_prompt_buttons_carry_version_and_pending_and_primary_style() -> None:
    t = Translator("fr")
    message = views.join_prompt(
        t, charter_version=2, charter_summary="Soyez courtois.", company="ACME", pending=4
    )
    agree = elements(check_message(message)["blocks"])[0]
    assert agree["style"] == "primary"
    assert decode_action(agree["action_id"], agree["value"]) == ("agree", ("2", "4"))


def test_confirm_becomes_a_valid_confirm_object_within_its_limits() -> None:
    long = Confirm("T" * 150, "X" * 400, "Y" * 40, "N" * 40)
    message = Message("x", (Actions((Button("Erase", "forget", style="danger", confirm=long),)),))
    button = elements(check_message(message)["blocks"])[0]
    confirm = button["confirm"]
    ConfirmObject.parse(confirm).validate_json()
    assert [len(confirm[k]["text"]) for k in ("title", "text", "confirm", "deny")] == [
        100,
        300,
        30,
        30,
    ]
    assert confirm["title"]["text"].endswith("…")
    assert button["style"] == "danger"

    real = views.forget_button(Translator("fr"))
    rendered = elements(message_payload(Message("x", (Actions((real,)),)))["blocks"])[0]
    assert rendered["confirm"]["title"] == {
        "type": "plain_text",
        "text": real.confirm.title if real.confirm else "",
        "emoji": True,
    }


# --- text: escaping, links, splitting ---------------------------------------------------


def test_escape_handles_ampersand_first() -> None:
    assert escape("<!channel> & <@U123>") == "&lt;!channel&gt; &amp; &lt;@U123&gt;"
    assert escape("&lt;") == "&amp;lt;"


def test_link_escapes_the_label_and_encodes_what_would_break_the_url() -> None:
    assert (
        link("https://x.com/a|b<c>", "A & <@U1>")
        == "<https://x.com/a%7Cb%3Cc%3E|A &amp; &lt;@U1&gt;>"
    )


def test_paragraph_longer_than_a_section_splits_at_line_breaks_and_keeps_every_word() -> None:
    text = "\n".join(f"line {n} <!channel> & more" for n in range(400))
    blocks = check_message(Message("x", (Paragraph(text),)))["blocks"]
    assert len(blocks) > 1
    joined = "".join(b["text"]["text"] for b in blocks)
    assert joined == escape(text)
    assert all(b["text"]["text"].endswith("\n") for b in blocks[:-1])


def test_quote_is_plain_text_reproducing_the_draft_exactly() -> None:
    text = "*Not bold* <!channel> & <@U123> _x_ 🎉\n" * 200  # 8,000 characters
    blocks = check_message(Message("x", (Quote(text, label="Your <draft>"),)))["blocks"]
    assert blocks[0] == {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": "*Your &lt;draft&gt;*", "verbatim": True}],
    }
    assert all(b["text"]["type"] == "plain_text" for b in blocks[1:])
    assert "".join(b["text"]["text"] for b in blocks[1:]) == text


def test_digest_item_gives_up_summary_before_title() -> None:
    long_summary = DigestItem(1, "Title", "https://example.com", "S" * 5000)
    text = check_message(Message("x", (long_summary,)))["blocks"][0]["text"]["text"]
    assert text.startswith("1️⃣ *<https://example.com|Title>*\nSSS")
    assert len(text) == 3000
    assert text.endswith("…")

    long_title = DigestItem(11, "<T>" * 2000, "https://example.com", "summary")
    text = check_message(Message("x", (long_title,)))["blocks"][0]["text"]["text"]
    assert text.startswith("11. *<https://example.com|&lt;T&gt;")
    assert text.endswith("…>*")
    assert "summary" not in text
    assert len(text) <= 3000


def test_long_link_button_url_is_left_out_rather_than_cut() -> None:
    message = Message(
        "x", (Actions((LinkButton("Share", "https://x.com/?t=" + "a" * 3000), Button("Ok", "ok"))),)
    )
    rendered = elements(check_message(message)["blocks"])
    assert [e["text"]["text"] for e in rendered] == ["Ok"]


def test_core_button_whose_args_cannot_fit_is_a_core_bug() -> None:
    message = Message("x", (Actions((Button("Go", "go", ("a" * 2000,)),)),))
    with pytest.raises(ValueError, match="go"):
        message_payload(message)


# --- structure and limits ---------------------------------------------------------------


def test_two_hundred_paragraphs_are_cut_at_fifty_blocks_with_a_marker() -> None:
    message = Message("x", tuple(Paragraph(f"p{n}") for n in range(200)))
    blocks = check_message(message)["blocks"]
    assert len(blocks) == MAX_MESSAGE_BLOCKS
    assert [b["text"]["text"] for b in blocks[:-1]] == [f"p{n}" for n in range(49)]
    assert blocks[-1] == {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": CUT_MARKER, "verbatim": True}],
    }
    home = home_view(message)["blocks"]
    assert len(home) == MAX_HOME_BLOCKS
    assert home[-1]["elements"][0]["text"] == CUT_MARKER


def test_more_than_25_buttons_continue_in_another_actions_block() -> None:
    buttons = tuple(Button(f"B{n}", "pick", (str(n),)) for n in range(30))
    blocks = check_message(Message("x", (Actions(buttons),)))["blocks"]
    assert [len(b["elements"]) for b in blocks] == [25, 5]
    decoded = [decode_action(e["action_id"], e["value"]) for e in elements(blocks)]
    assert decoded == [("pick", (str(n),)) for n in range(30)]


def test_stats_table_of_52_weeks_is_aligned_code_within_the_limit() -> None:
    t = Translator("fr")
    names = ("week", "joins", "leaves", "ambassadors", "claims", "drafts", "shares")
    columns = tuple(t(f"stats.col_{n}") for n in names)
    rows = tuple((f"2025-{w:02d}", *(str(w * k) for k in range(6))) for w in range(1, 53))
    blocks = check_message(Message("stats", (Table(columns, rows),)))["blocks"]
    lines: list[str] = []
    for block in blocks:
        text = block["text"]["text"]
        assert text.startswith("```")
        assert text.endswith("```")
        assert len(text) <= 3000
        lines.extend(text.strip("`").splitlines())
    assert len(lines) == 52 + 2  # header, rule, one line per week
    assert lines[1].startswith("-" * len(columns[0]))
    second_column = lines[0].index(columns[1])
    assert all(line[second_column - 2 : second_column] == "  " for line in lines[2:])


def test_table_cells_are_escaped() -> None:
    blocks = message_payload(Message("x", (Table(("a",), (("<!channel> &",),)),)))["blocks"]
    assert "&lt;!channel&gt; &amp;" in blocks[0]["text"]["text"]


def test_data_is_named_then_shown_in_code_blocks_that_add_back_up() -> None:
    content = json.dumps({"claims": [{"id": n, "title": f"<b>{n}</b> & co"} for n in range(150)]})
    blocks = check_message(Message("export", (Data("my-data.json", content),)))["blocks"]
    assert blocks[0]["type"] == "context"
    assert "my-data.json" in blocks[0]["elements"][0]["text"]
    chunks = [b["text"]["text"].removeprefix("```").removesuffix("```") for b in blocks[1:]]
    unescaped = "".join(chunks).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    assert unescaped == content


def test_message_without_blocks_is_its_escaped_text() -> None:
    payload = check_message(Message("Hello <@U123> & all", ()))
    assert payload == {
        "text": "Hello &lt;@U123&gt; &amp; all",
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "Hello &lt;@U123&gt; &amp; all",
                    "verbatim": True,
                },
            }
        ],
    }


def test_every_kind_of_neutral_block_has_a_slack_rendering() -> None:
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
    for sample in samples:
        blocks = check_message(Message("x", (sample,)))["blocks"]
        assert blocks != message_payload(Message("x", ()))["blocks"]


# --- decoding what Slack sends back -----------------------------------------------------


@pytest.mark.parametrize(
    ("action_id", "value"),
    [
        ("amb:claim_item:0", None),
        ("amb:claim_item:0", "not json"),
        ("amb:claim_item:0", "[1, 2]"),
        ("amb:claim_item:0", '{"c": "other", "a": []}'),
        ("amb:claim_item:0", '{"c": "claim_item", "a": "1"}'),
        ("amb:claim_item:0", '{"c": "claim_item", "a": [1]}'),
        ("amb:claim_item:0", '{"c": "claim_item"}'),
        ("amb:claim_item:0", "[" * 1999),
        ("amb:claim_item:0", '{"c": "claim_item", "a": ["' + "1" * 2000 + '"]}'),
        ("amb:claim_item:x", '{"c": "claim_item", "a": []}'),
        ("amb:claim_item:²", '{"c": "claim_item", "a": []}'),
        ("amb:claim_item", '{"c": "claim_item", "a": []}'),
        ("amb::0", '{"c": "", "a": []}'),
        ("link:0", '{"c": "claim_item", "a": []}'),
        ("other:claim_item:0", '{"c": "claim_item", "a": []}'),
        ("", ""),
    ],
)
def test_decode_action_refuses_what_is_not_a_core_button(action_id: str, value: str | None) -> None:
    assert decode_action(action_id, value) is None


def test_decode_action_accepts_a_command_containing_a_colon() -> None:
    assert decode_action("amb:a:b:3", '{"c": "a:b", "a": ["1", ""]}') == ("a:b", ("1", ""))


# --- whatever people type ---------------------------------------------------------------

MARKUP = ("<!channel>", "<@U123>", "<!here>", "&", "&amp;", "|", ">", "<", "*", "`", "\n", " ")
NASTY = st.sampled_from((*MARKUP, "🎉", "👩\u200d💻", "é", ":rocket:"))
# Repeated now and then, so texts past Slack's 3,000-character limits come up often.
TEXT = st.builds(
    lambda pieces, times: "".join(pieces) * times,
    st.lists(st.one_of(NASTY, st.text(max_size=40)), max_size=120),
    st.sampled_from((1, 1, 1, 30, 150)),
)


@settings(deadline=None, max_examples=100)
@given(title=TEXT, summary=st.none() | TEXT, count=st.integers(1, 10), lang=st.sampled_from("ef"))
def test_any_digest_renders_validates_and_never_pings(
    title: str, summary: str | None, count: int, lang: str
) -> None:
    t = Translator("en" if lang == "e" else "fr")
    items = [item(n, title, summary) for n in range(1, count + 1)]
    payload = check_message(views.digest(t, items, anchor=None))
    no_pings(payload)
    claims = [e for e in elements(payload["blocks"]) if e.get("value")]
    assert [decode_action(e["action_id"], e["value"]) for e in claims[:count]] == [
        ("claim_item", (str(n),)) for n in range(1, count + 1)
    ]


@settings(deadline=None, max_examples=100)
@given(linkedin=TEXT, x=TEXT, title=TEXT)
def test_any_draft_renders_validates_and_reproduces_exactly(
    linkedin: str, x: str, title: str
) -> None:
    t = Translator("en")
    message = views.draft_message(t, item=item(3, title), draft=draft(linkedin, x), claim_id=9)
    payload = check_message(message)
    no_pings(payload)
    plain_sections = [
        b["text"]["text"]
        for b in payload["blocks"]
        if b["type"] == "section" and b["text"]["type"] == "plain_text"
    ]
    assert "".join(plain_sections) == "".join(d for d in (linkedin, x) if d.strip())


@settings(deadline=None, max_examples=100)
@given(url=TEXT, label=TEXT)
def test_link_never_lets_the_label_or_url_escape(url: str, label: str) -> None:
    rendered = link("https://example.com/" + url, label)
    assert rendered.startswith("<https://example.com/")
    assert rendered.endswith(">")
    inner = rendered[1:-1]
    assert "<" not in inner
    assert ">" not in inner
    target, _, shown = inner.partition("|")
    assert shown == escape(label)
    assert target.translate({ord(" "): None, ord("\n"): None}) == target
