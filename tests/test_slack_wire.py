"""The Slack app over real HTTP: signed requests into `/slack/events`, a fake Web API out."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

from sqlmodel import func, select

from storage.models import Claim, ConsentEntry, ContentItem, Draft
from tests.fakes.slack import Call, button, signed_headers
from tests.slack_world import CHANNEL, MANAGER, SlackWorld


async def count(w: SlackWorld, model: type) -> int:
    async with w.bot.core.database.transaction() as session:
        return int((await session.exec(select(func.count()).select_from(model))).one())


def text_of(call: Call) -> str:
    return call.blocks_text()


async def post_digest(w: SlackWorld) -> Call:
    # what Slack sends when someone types "Our launch <!channel> & <@U123>" as plain text
    await w.slack.command(
        MANAGER, "add https://example.com/launch Our launch &lt;!channel&gt; &amp; &lt;@U123&gt;"
    )
    await w.slack.command(MANAGER, "add https://example.com/jobs We are hiring & growing")
    await w.fake.wait_for("respond", lambda c: "Added item #2" in text_of(c))
    assert await w.slack.command(MANAGER, "digest now") == 200
    (digest,) = await w.fake.wait_for("chat.postMessage", lambda c: c.params["channel"] == CHANNEL)
    return digest


async def test_health_and_signatures(world: SlackWorld) -> None:
    w = world
    async with w.slack.http.get(w.base + "/healthz") as resp:
        assert resp.status == 200
        assert (await resp.json()) == {"status": "ok"}
    body = urlencode(
        {"command": "/ambassador", "text": "add https://x.example/a", "user_id": MANAGER}
    )
    bad = signed_headers(body, secret="wrong")
    async with w.slack.http.post(w.base + "/slack/events", data=body, headers=bad) as resp:
        assert resp.status == 401
    stale = signed_headers(body, timestamp=int(time.time()) - 6 * 60)
    async with w.slack.http.post(w.base + "/slack/events", data=body, headers=stale) as resp:
        assert resp.status == 401
    async with w.slack.http.post(w.base + "/slack/events", data=body) as resp:
        assert resp.status == 401
    assert await count(w, ContentItem) == 0
    assert w.fake.of("respond") == []


async def test_slash_command_answers_ephemerally(world: SlackWorld) -> None:
    w = world
    assert await w.slack.command("UALICE", "help") == 200
    (answer,) = await w.fake.wait_for("respond")
    assert answer.params["response_type"] == "ephemeral"
    assert "/ambassador" not in answer.params.get("channel", "")
    assert "join" in text_of(answer)


async def test_digest_and_claim_button_journey(world: SlackWorld) -> None:
    w = world
    digest = await post_digest(w)
    blocks = text_of(digest)
    assert "&lt;!channel&gt; &amp; &lt;@U123&gt;" in blocks  # escaped: nobody is pinged
    assert "<!channel>" not in blocks
    assert "<@U123>" not in blocks
    assert "&amp; growing" in blocks
    assert "voluntary and unpaid" in blocks
    claim_one = button(digest, "Claim 1")
    assert (
        await w.slack.click("UALICE", claim_one, message_ts=digest.params.get("ts", "1.1")) == 200
    )
    join = await w.fake.wait_for("respond", lambda c: "I agree" in text_of(c))
    assert join[0].params["response_type"] == "ephemeral"
    assert await count(w, ConsentEntry) == 0
    await w.slack.click("UALICE", button(join[0], "I agree"), channel=CHANNEL)
    (dm,) = await w.fake.wait_for("chat.postMessage", lambda c: c.params["channel"] == "DUALICE")
    assert "I work at ACME." in text_of(dm)
    assert "https://example.com/" in text_of(dm)
    share = button(dm, "Share on LinkedIn")
    assert share["url"].startswith("https://www.linkedin.com/sharing/share-offsite/?url=")
    assert button(dm, "Post on X")["url"].startswith("https://x.com/intent/tweet?text=")
    assert await count(w, Claim) == 1
    assert await count(w, Draft) == 1
    assert await count(w, ConsentEntry) == 1
    assert json.dumps(dm.params).count("Charter:") == 1
