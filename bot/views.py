"""Messages the core sends, built from the neutral blocks. Handlers decide; views word it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from urllib.parse import quote

from bot.guardrail import Finding
from bot.i18n import Translator
from bot.messages import (
    Actions,
    Anchor,
    Audience,
    Block,
    Button,
    Confirm,
    DigestItem,
    DraftJob,
    Heading,
    LinkButton,
    Message,
    Note,
    Paragraph,
    Quote,
    Table,
)
from bot.services.charter import Charter
from bot.services.schedule import Plan
from bot.services.stats import FIGURES, PEOPLE_FIGURES, Week
from storage.models import ContentItem, Draft

KEYCAPS = ("1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣", "6️⃣", "7️⃣", "8️⃣", "9️⃣", "🔟")


def linkedin_share_url(url: str) -> str:
    return "https://www.linkedin.com/sharing/share-offsite/?url=" + quote(url, safe="")


def x_share_url(text: str) -> str:
    return "https://x.com/intent/tweet?text=" + quote(text, safe="")


def charter_reminder(t: Translator) -> Note:
    return Note(t("charter.reminder"))


def item_label(t: Translator, item: ContentItem) -> str:
    """ "Job offer · ACME Careers": what an item is and where it is from."""
    return " · ".join([t(f"kinds.{item.kind}"), *([item.site_name] if item.site_name else [])])


def digest(
    t: Translator,
    items: list[ContentItem],
    *,
    anchor: Anchor | None,
    audience: Audience = Audience.CHANNEL,
    preview: bool = False,
    channel: str | None = None,
) -> Message:
    blocks: list[Block] = [Heading(t("digest.heading"))]
    if preview:
        blocks.append(Note(t("digest.preview_note")))
    for number, item in enumerate(items, start=1):
        assert item.id is not None
        blocks.append(
            DigestItem(
                number=number,
                title=item.title,
                url=item.url,
                summary=item.summary,
                buttons=(Button(t("digest.claim", number=number), "claim_item", (str(item.id),)),),
                label=item_label(t, item),
                image_url=item.image_url,
            )
        )
    keycaps = KEYCAPS[0] if len(items) == 1 else f"{KEYCAPS[0]} … {KEYCAPS[len(items) - 1]}"
    blocks.append(Paragraph(t("digest.how", keycaps=keycaps)))
    blocks.append(Note(t("digest.footer")))
    blocks.append(
        Actions(
            (
                Button(t("digest.join"), "join", style="primary"),
                Button(t("digest.charter"), "charter"),
            )
        )
    )
    return Message(t.plural("digest.text", len(items)), tuple(blocks), audience, anchor, channel)


def join_prompt(
    t: Translator, *, charter_version: int, charter_summary: str, company: str, pending: int | None
) -> Message:
    pending_arg = str(pending) if pending is not None else ""
    blocks: list[Block] = [
        Heading(t("join.heading")),
        Paragraph(t("join.intro", company=company)),
        Quote(charter_summary, label=t("join.charter_label", version=charter_version)),
        Paragraph(t("join.statement", company=company)),
    ]
    if pending is not None:
        blocks.append(Note(t("join.pending")))
    blocks.append(
        Actions(
            (
                Button(t("join.agree"), "agree", (str(charter_version), pending_arg), "primary"),
                Button(t("join.decline"), "decline"),
                Button(t("join.read_charter"), "charter"),
            )
        )
    )
    return Message(t("join.text"), tuple(blocks))


def ack_prompt(t: Translator, *, version: int, text: str, pending: int | None) -> Message:
    pending_arg = str(pending) if pending is not None else ""
    return Message(
        t("charter.ack_text", version=version),
        (
            Heading(t("charter.ack_heading", version=version)),
            Quote(text),
            Paragraph(t("charter.ack_intro")),
            Actions((Button(t("charter.ack"), "ack", (str(version), pending_arg), "primary"),)),
        ),
    )


def days_named(t: Translator, days: Sequence[int]) -> str:
    """Weekdays (Monday 0) as the reader's language names them: "Mon, Wed, Fri"."""
    names = t.choices("digest.day_names")
    return ", ".join(names[day] for day in days)


def schedule_words(t: Translator, plan: Plan, *, zone: str, due: datetime) -> dict[str, str]:
    """The fields of a sentence about the digest's schedule (`digest.schedule_set`,
    `status.schedule`): time, zone, days and the next one."""
    return {
        "time": plan.at.strftime("%H:%M"),
        "zone": zone,
        "days": days_named(t, plan.days),
        "next": due.strftime("%Y-%m-%d %H:%M"),
    }


def figures_blocks(t: Translator, figures: Sequence[Week], *, min_group: int) -> tuple[Table, Note]:
    """Weekly figures as a table; people counts under `min_group` show as "<5"."""

    def shown(name: str, value: int) -> str:
        if name in PEOPLE_FIGURES and 0 < value < min_group:
            return t("stats.few", min=min_group)
        return str(value)

    columns = (t("stats.col_week"), *(t(f"stats.col_{n}") for n in FIGURES))
    rows = tuple(
        (week.week_start.isoformat(), *(shown(n, getattr(week, n)) for n in FIGURES))
        for week in figures
    )
    return Table(columns, rows), Note(t("stats.note", min=min_group))


def weekly_report(t: Translator, figures: Sequence[Week], *, min_group: int) -> Message:
    """Monday's report to each admin: the last weeks, aggregates only (the chart follows)."""
    heading = t("report.heading", weeks=len(figures))
    table, note = figures_blocks(t, figures, min_group=min_group)
    return Message(heading, (Heading(heading), table, note), Audience.DIRECT)


def charter_recall(t: Translator, charter: Charter, *, pending: bool) -> Message:
    """A scheduled charter reminder, by direct message: a version still to acknowledge
    (with the button), or the gentle one that only says where the charter is."""
    if pending:
        message = ack_prompt(t, version=charter.version, text=charter.text, pending=None)
        blocks = (
            Heading(t("charter.recall_heading", version=charter.version)),
            *message.blocks[1:],
        )
        return Message(message.text, blocks, Audience.DIRECT)
    return Message(
        t("charter.gentle_text"),
        (
            Heading(t("charter.gentle_heading")),
            Paragraph(t("charter.gentle", version=charter.version)),
            Quote(charter.text),
            Note(t("charter.gentle_leave")),
        ),
        Audience.DIRECT,
    )


def findings(t: Translator, found: Sequence[Finding]) -> list[Paragraph]:
    """Each charter finding with its reason and its fix: shown, never applied silently."""
    return [Paragraph(f"⚠️ {t(f.key, evidence=f.evidence)} {t(f.fix_key)}") for f in found]


def draft_message(
    t: Translator,
    *,
    item: ContentItem,
    draft: Draft,
    claim_id: int,
    notes: tuple[str, ...] = (),
    flagged: Sequence[Finding] = (),
) -> Message:
    version = t("draft.version", version=draft.version) if draft.version > 1 else t("draft.first")
    blocks: list[Block] = [Heading(t("draft.heading", title=item.title))]
    blocks.extend(Paragraph(t(note)) for note in notes)
    blocks.extend(findings(t, flagged))
    blocks += [
        Paragraph(t("draft.make_it_yours")),
        Quote(draft.linkedin, label=t("draft.linkedin_label")),
        Quote(draft.x, label=t("draft.x_label")),
        Actions(
            (
                LinkButton(t("draft.share_linkedin"), linkedin_share_url(item.url)),
                LinkButton(t("draft.share_x"), x_share_url(draft.x)),
                Button(t("draft.new_version"), "new_version", (str(claim_id),)),
                Button(t("draft.shared"), "shared_claim", (str(claim_id),)),
                Button(t("draft.write_myself"), "write_myself", (str(claim_id),)),
            )
        ),
        Note(t("draft.revise_hint") + " " + version),
        charter_reminder(t),
    ]
    return Message(
        t("draft.text", title=item.title), tuple(blocks), Audience.DIRECT, Anchor("claim", claim_id)
    )


def drafting_message(t: Translator, *, item: ContentItem, job: DraftJob, key: str) -> Message:
    """Shown at once while a model writes; the draft takes its place (same thread, so
    replies to it already reach the claim)."""
    wait = t("drafting.wait") if job.first else t("drafting.wait_revision")
    return Message(
        t("drafting.text", title=item.title),
        (Heading(t("draft.heading", title=item.title)), Paragraph(wait), charter_reminder(t)),
        Audience.DIRECT,
        Anchor("claim", job.claim_id),
        key=key,
    )


def write_myself(t: Translator, *, item: ContentItem, company: str, claim_id: int) -> Message:
    disclosure = t("draft.disclosure", company=company)
    return Message(
        t("draft.myself_text"),
        (
            Paragraph(t("draft.myself", disclosure=disclosure)),
            Actions(
                (
                    LinkButton(t("draft.share_linkedin"), linkedin_share_url(item.url)),
                    LinkButton(t("draft.share_x"), x_share_url(f"{item.url} {disclosure}")),
                    Button(t("draft.shared"), "shared_claim", (str(claim_id),)),
                )
            ),
            charter_reminder(t),
        ),
        Audience.DIRECT,
        Anchor("claim", claim_id),
    )


def forget_button(t: Translator) -> Button:
    """For home tabs and cards: erasure behind a confirmation dialog."""
    return Button(
        t("privacy.forget_button"),
        "forget",
        style="danger",
        confirm=Confirm(
            t("privacy.confirm_title"),
            t("privacy.confirm_text"),
            t("privacy.confirm_yes"),
            t("privacy.confirm_no"),
        ),
    )
