"""The content pipeline from the command line, as the real console script against a local
site: `content add` with a preview, `feed poll` with its progress, `audit export`."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path

import pytest

from tests.fakes.site import JOB_TITLE, Site
from tests.test_cli import ambassador

pytestmark = pytest.mark.slow
FETCHING = {"AMBASSADOR_FETCH": "on", "AMBASSADOR_FETCH_ALLOW_PRIVATE": "1"}


async def run(tmp_path: Path, *args: str, input: str | None = None) -> tuple[int, str, str]:
    """The console script in a thread, so the site keeps answering on this loop."""
    done = await asyncio.to_thread(ambassador, tmp_path, *args, env=FETCHING, input=input)
    return done.returncode, done.stdout, done.stderr


async def test_feed_poll_content_add_and_audit_export(tmp_path: Path, site: Site) -> None:
    assert (await run(tmp_path, "db", "upgrade"))[0] == 0
    code, out, _ = await run(tmp_path, "feed", "poll")
    assert (code, out.strip()) == (
        0,
        "No feeds are followed. Add one with `/ambassador feed add URL [trusted]`.",
    )
    script = (
        f"as mgr\n/ambassador feed add {site.url('/feeds/rss')}\n"
        f"/ambassador feed add {site.url('/feeds/atom')} trusted\n"
    )
    code, out, _ = await run(tmp_path, "console", input=script)
    assert code == 0
    assert out.count("Following") == 2
    site.set_feed("/feeds/atom", [{"id": "a:1", "link": "/event", "title": "Open day"}])
    code, out, err = await run(tmp_path, "feed", "poll")
    assert code == 0, err
    assert "[1/2]" in err  # the progress, one line a feed off a terminal
    assert "[2/2]" in err
    assert "Feed #1: 2 new entries." in out
    assert "Feed #2: 1 new entry." in out
    assert "Feeds read: 2. New entries: 3. Could not be read: 0." in out
    # read again at once: nothing new, and each feed asked conditionally
    code, out, _ = await run(tmp_path, "feed", "poll")
    assert "Feeds read: 2. New entries: 0. Could not be read: 0." in out
    assert site.requests[-1].headers.get("If-None-Match")
    site.feeds.pop("/feeds/rss")  # now 404
    code, out, _ = await run(tmp_path, "feed", "poll")
    assert code == 1
    assert "Feed #1 could not be read" in out

    # independent launches side by side (each costs a couple of seconds)
    job, binary, podcast, bad_since = await asyncio.gather(
        run(tmp_path, "content", "add", site.url("/job?ref=cli")),
        run(tmp_path, "content", "add", site.url("/binary"), "--kind", "event"),
        run(tmp_path, "content", "add", site.url("/og"), "--kind", "podcast"),
        run(tmp_path, "audit", "export", "--since", "yesterday"),
    )
    assert job[0] == 0, job[2]
    assert JOB_TITLE in job[1]
    assert "Job offer" in job[1]
    assert binary[0] == 0
    assert "Event" in binary[1]
    assert "No preview from the page" in binary[1]
    assert podcast[0] == 2
    assert "podcast" in podcast[2]
    assert bad_since[0] == 2
    assert "YYYY-MM-DD" in bad_since[2]

    code, out, _ = await run(tmp_path, "audit", "export")
    events = json.loads(out)
    assert [(e["actor"], e["action"]) for e in events] == [
        ("console:mgr", "feed_add"),
        ("console:mgr", "feed_add"),
        ("feed:1", "queue"),  # an untrusted feed's entries wait for review
        ("feed:1", "queue"),
        ("feed:2", "add"),  # the trusted feed's entry went straight in
        ("cli", "add"),
        ("cli", "add"),
    ]
    code, out, _ = await run(
        tmp_path, "audit", "export", "--format", "csv", "--since", "2999-01-01"
    )
    assert list(csv.reader(io.StringIO(out))) == [
        ["id", "at", "actor", "action", "subject", "detail"]
    ]
