"""`ambassador run` as people start it: a real process serving Slack and /healthz, stopping
cleanly on SIGTERM; and refusing, in one line, to run Slack it could not verify."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

from aiohttp import ClientSession

from tests.fakes.slack import SECRET, FakeSlack, SlackClient, button

AMBASSADOR = str(Path(sys.executable).with_name("ambassador"))


def _env(tmp_path: Path, **values: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AMBASSADOR_", "SLACK_", "MICROSOFT_", "OPENAI_"))
        and k != "DATABASE_URL"
    }
    env |= {"DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}", "AMBASSADOR_FETCH": "off"}
    env |= values
    return env


async def test_run_serves_slack_and_stops_on_sigterm(tmp_path: Path) -> None:
    """The production path end to end: this process acknowledges, a worker process does the
    rest; a manager posts a digest, a member claims and gets a draft, SIGTERM stops both."""
    fake = FakeSlack()
    await fake.start()
    env = _env(
        tmp_path,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=fake.url,
        AMBASSADOR_PORT="0",
        AMBASSADOR_HOST="127.0.0.1",
        AMBASSADOR_MANAGERS="UMGR",
        AMBASSADOR_DIGEST_CHANNEL="CDIGEST",
    )
    process = await asyncio.create_subprocess_exec(
        AMBASSADOR, "run", env=env, cwd=tmp_path, stderr=asyncio.subprocess.PIPE
    )
    try:
        assert process.stderr is not None
        match = None
        for _ in range(20):  # the ready line, after any library warnings
            line = (await asyncio.wait_for(process.stderr.readline(), 60)).decode()
            if match := re.search(r"running on port (\d+)", line):
                break
        assert match
        base = f"http://127.0.0.1:{match[1]}"
        async with ClientSession() as http:
            async with http.get(f"{base}/healthz") as resp:
                assert resp.status == 200
            slack = SlackClient(http, f"{base}/slack/events", fake)
            await slack.command("UMGR", "add https://example.com/a Alpha")
            await fake.wait_for("respond", lambda c: "Added item #1" in c.blocks_text(), within=60)
            await slack.command("UMGR", "digest now")
            await fake.wait_for("respond", lambda c: "Digest sent" in c.blocks_text())
            (digest,) = fake.of("chat.postMessage")
            await slack.click("UALICE", button(digest, "Claim 1"))
            (prompt,) = await fake.wait_for("respond", lambda c: "I agree" in c.blocks_text())
            await slack.click("UALICE", button(prompt, "I agree"))
            (dm,) = await fake.wait_for(
                "chat.postMessage", lambda c: c.params["channel"] == "DUALICE"
            )
            assert "I work at ACME." in dm.blocks_text()
            # the worker process dies: a new one takes over and nothing later is lost
            children = (await asyncio.to_thread(_children, process.pid)).split()
            assert len(children) == 1
            os.kill(int(children[0]), signal.SIGKILL)
            await _until_generation(http, base, 2)
            await slack.click("UBOB", button(digest, "Join"))
            (prompt,) = await fake.wait_for(
                "respond", lambda c: "I agree" in c.blocks_text() and c not in [prompt], within=60
            )
            await slack.click("UBOB", button(prompt, "I agree"))
            # joined before the claim: the new worker handles presses side by side
            await fake.wait_for("respond", lambda c: "Welcome, and thank you" in c.blocks_text())
            await slack.click("UBOB", button(digest, "Claim 1"))
            await fake.wait_for(
                "chat.postMessage", lambda c: c.params["channel"] == "DUBOB", within=60
            )
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0
        rest = (await asyncio.wait_for(process.stderr.read(), 30)).decode()
        assert "Traceback" not in rest
        assert "still running after cancel" not in rest, rest
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await fake.close()


def _children(pid: int) -> str:
    return Path(f"/proc/{pid}/task/{pid}/children").read_text()


async def _until_generation(http: ClientSession, base: str, generation: int) -> None:
    """Another process: no event to wait on, so ask its health endpoint (30 s at most)."""
    async with asyncio.timeout(30):
        while True:
            async with http.get(f"{base}/healthz") as resp:
                state = await resp.json()
            if state.get("generation") == generation and state.get("worker") == "running":
                return
            await asyncio.sleep(0.05)


async def test_run_refuses_slack_without_a_signing_secret(tmp_path: Path) -> None:
    env = _env(tmp_path, SLACK_BOT_TOKEN="xoxb-test")
    process = await asyncio.create_subprocess_exec(
        AMBASSADOR,
        "run",
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 1
    lines = err.decode().strip().splitlines()
    assert len(lines) == 1
    assert "SLACK_SIGNING_SECRET" in lines[0]
    assert "xoxb-test" not in err.decode() + out.decode()
