"""The `ambassador` command line, run as the real console script in subprocesses.

Each process gets an explicit environment (none of the developer's settings), a SQLite file
under the test's tmp_path, and cwd=tmp_path (so no stray .env is read). Checks are grouped
into a few journeys, and independent launches run side by side, to keep the file quick.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

AMBASSADOR = Path(sys.executable).with_name("ambassador")
STATS_KEYS = [
    "week_start",
    "joins",
    "leaves",
    "ambassadors",
    "claims",
    "drafts",
    "shares",
    "model_tokens",
]
LEDGER_KEYS = {
    "seq",
    "at",
    "platform",
    "user",
    "action",
    "charter_version",
    "statement",
    "prev_hash",
    "hash",
}
_ENV_PREFIXES = ("AMBASSADOR_", "SLACK_", "MICROSOFT_", "OPENAI_")
ROLES = {"AMBASSADOR_MANAGERS": "mgr", "AMBASSADOR_ADMINS": "boss"}


@dataclass(frozen=True)
class Call:
    args: Sequence[str]
    db: str = "a.db"
    env: dict[str, str] | None = None
    input: str | None = None


def environment(tmp_path: Path, db: str = "a.db", **extra: str) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(_ENV_PREFIXES) and name != "DATABASE_URL"
    }
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / db}"
    env["AMBASSADOR_FETCH"] = "off"  # never the internet
    env.update(ROLES)
    env.update(extra)
    return env


def ambassador(
    tmp_path: Path,
    *args: str,
    db: str = "a.db",
    env: dict[str, str] | None = None,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(AMBASSADOR), *args],
        env=environment(tmp_path, db, **(env or {})),
        cwd=tmp_path,
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def in_parallel(tmp_path: Path, calls: Sequence[Call]) -> list[subprocess.CompletedProcess[str]]:
    """Independent launches side by side (each process costs about a second)."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [
            pool.submit(ambassador, tmp_path, *c.args, db=c.db, env=c.env, input=c.input)
            for c in calls
        ]
        return [future.result() for future in futures]


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, (result.args, result.stdout, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    return result.stdout


def one_line_error(result: subprocess.CompletedProcess[str], code: int = 1) -> str:
    """Exit `code`, exactly one non-empty line on stderr, never a traceback."""
    assert result.returncode == code, (result.args, result.stdout, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].strip()
    return lines[0]


def sql(path: Path, query: str) -> list[tuple[object, ...]]:
    connection = sqlite3.connect(path)
    try:
        rows = connection.execute(query).fetchall()
        connection.commit()
    finally:
        connection.close()
    return rows


def copy_database(source: Path, target: Path) -> None:
    """A consistent copy even if a WAL file is still around."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


def tamper(path: Path, script: str) -> None:
    connection = sqlite3.connect(path)
    try:
        connection.executescript(script)
        connection.commit()
    finally:
        connection.close()


HELP = {
    "run": ["run"],
    "console": ["console"],
    "db upgrade": ["db", "upgrade"],
    "stats": ["stats"],
    "consent export": ["consent", "export"],
    "consent verify": ["consent", "verify"],
    "content add": ["content", "add"],
    "digest": ["digest"],
}


def test_help_of_every_command(tmp_path: Path) -> None:
    calls = [Call(["--help"])] + [Call([*words, "--help"]) for words in HELP.values()]
    top, *results = in_parallel(tmp_path, calls)
    out = ok(top)
    assert "usage: ambassador" in out
    for name in ("run", "console", "db", "stats", "consent", "content", "digest"):
        assert name in out
    for (name, _), result in zip(HELP.items(), results, strict=True):
        out = ok(result)
        assert f"usage: ambassador {name}" in out, out
    stats_help = ok(results[list(HELP).index("stats")])
    assert "--weeks" in stats_help
    assert "--format" in stats_help
    assert "--script" in ok(results[list(HELP).index("console")])
    assert "--expires" in ok(results[list(HELP).index("content add")])
    digest_help = ok(results[list(HELP).index("digest")])
    assert "--preview" in digest_help
    assert "--now" in digest_help
    assert not (tmp_path / "a.db").exists()  # --help touches no database


JOURNEY = """\
# the whole programme in one script
as mgr
/ambassador add https://example.com/a First item
/ambassador digest now
as alice
/ambassador claim 1
click I agree
/ambassador shared 1
as bob
/ambassador claim 1
click I agree
/ambassador leave
"""


def test_journey_stats_and_consent_ledger(tmp_path: Path) -> None:
    assert "Database ready" in ok(ambassador(tmp_path, "db", "upgrade"))
    script = tmp_path / "journey.txt"
    script.write_text(JOURNEY, encoding="utf-8")
    out = ok(ambassador(tmp_path, "console", "--script", str(script)))
    assert "Digest sent" in out
    assert out.count("Welcome") == 2
    assert "I work at ACME." in out
    assert "You have left the programme" in out

    stats_json, stats_csv, stats_table, export_json, export_csv, verify = in_parallel(
        tmp_path,
        [
            Call(["stats", "--format", "json", "--weeks", "3"]),
            Call(["stats", "--format", "csv", "--weeks", "3"]),
            Call(["stats", "--format", "table"]),
            Call(["consent", "export", "--format", "json"]),
            Call(["consent", "export", "--format", "csv"]),
            Call(["consent", "verify"]),
        ],
    )

    weeks = json.loads(ok(stats_json))
    assert isinstance(weeks, list)
    assert len(weeks) == 3
    for week in weeks:
        assert list(week) == STATS_KEYS
        assert date.fromisoformat(week["week_start"]).weekday() == 0
    starts = [date.fromisoformat(week["week_start"]) for week in weeks]
    assert starts == sorted(starts)
    assert all((b - a).days == 7 for a, b in itertools.pairwise(starts))
    this_week = weeks[-1]
    assert {k: this_week[k] for k in ("joins", "leaves", "ambassadors", "claims", "shares")} == {
        "joins": 2,
        "leaves": 1,
        "ambassadors": 1,
        "claims": 2,
        "shares": 1,
    }
    assert this_week["drafts"] >= 2

    rows = list(csv.reader(io.StringIO(ok(stats_csv))))
    assert rows[0] == STATS_KEYS
    assert len(rows) == 4
    assert rows[-1][0] == this_week["week_start"]

    table = ok(stats_table)
    assert "Week of" in table
    assert this_week["week_start"] in table

    entries = json.loads(ok(export_json))
    assert [entry["seq"] for entry in entries] == [1, 2, 3]
    assert [entry["action"] for entry in entries] == ["join", "join", "leave"]
    assert [entry["user"] for entry in entries] == ["alice", "bob", "bob"]
    previous = "0" * 64
    for entry in entries:
        assert set(entry) >= LEDGER_KEYS
        assert entry["platform"] == "console"
        assert entry["at"].endswith(("Z", "+00:00"))
        assert entry["prev_hash"] == previous
        assert len(entry["hash"]) == 64
        previous = entry["hash"]
    assert entries[0]["charter_version"] == 1
    assert "voluntary and unpaid" in entries[0]["statement"]

    records = list(csv.DictReader(io.StringIO(ok(export_csv))))
    assert set(records[0]) >= LEDGER_KEYS
    assert [r["seq"] for r in records] == ["1", "2", "3"]
    assert [r["hash"] for r in records] == [e["hash"] for e in entries]
    assert records[0]["statement"] == entries[0]["statement"]

    assert "3 entries" in ok(verify)

    # Tamper with copies of the database: an edit, a deleted middle entry, a deleted last one.
    tampering = {
        "edited.db": "UPDATE consent_entry SET statement='x' WHERE seq=2",
        "middle.db": "DELETE FROM consent_entry WHERE seq=2",
        "last.db": "DELETE FROM consent_entry WHERE seq=3",
        # swap entries 2 and 3
        "reordered.db": "UPDATE consent_entry SET seq = -seq WHERE seq IN (2, 3);"
        "UPDATE consent_entry SET seq = 5 + seq WHERE seq < 0;",
    }
    for name, query in tampering.items():
        copy_database(tmp_path / "a.db", tmp_path / name)
        tamper(tmp_path / name, query)
    edited, middle, last, reordered = in_parallel(
        tmp_path, [Call(["consent", "verify"], db=name) for name in tampering]
    )
    assert "entry 2" in one_line_error(edited)
    assert "entry 2" in one_line_error(middle)
    assert "entry 3" in one_line_error(last)
    assert "entry 2" in one_line_error(reordered)


def content_rows(tmp_path: Path) -> list[tuple[object, ...]]:
    return sql(tmp_path / "a.db", "SELECT id, url, title FROM content_item ORDER BY id")


def test_content_digest_and_console(tmp_path: Path) -> None:
    ok(ambassador(tmp_path, "db", "upgrade"))
    line = one_line_error(ambassador(tmp_path, "digest", "--preview"))
    assert "no live content" in line

    bad_scheme = one_line_error(ambassador(tmp_path, "content", "add", "ftp://x"))
    assert "ftp://x" in bad_scheme
    long_title = one_line_error(
        ambassador(tmp_path, "content", "add", "https://example.com/t", "--title", "t" * 301)
    )
    assert "301" in long_title
    past = one_line_error(
        ambassador(tmp_path, "content", "add", "https://example.com/p", "--expires", "2001-01-01")
    )
    assert "2001-01-01" in past
    assert content_rows(tmp_path) == []

    added = ok(
        ambassador(
            tmp_path,
            "content",
            "add",
            "https://example.com/a",
            "--title",
            "First item",
            "--summary",
            "Why it matters",
            "--expires",
            "2099-12-31",
        )
    )
    assert "#1" in added
    duplicate = one_line_error(ambassador(tmp_path, "content", "add", "HTTPS://Example.com/a#x"))
    assert "#1" in duplicate
    assert "First item" in duplicate
    assert [row[1:] for row in content_rows(tmp_path)] == [("https://example.com/a", "First item")]

    preview = ok(ambassador(tmp_path, "digest", "--preview"))
    assert "Preview" in preview
    assert "First item" in preview
    assert sql(tmp_path / "a.db", "SELECT count(*) FROM digest") == [(0,)]
    sent = ok(ambassador(tmp_path, "digest", "--now"))
    assert "Claim 1" in sent
    assert "https://example.com/a" in sent
    assert "Why it matters" in sent
    assert sql(tmp_path / "a.db", "SELECT count(*) FROM digest") == [(1,)]

    # `claim 1` in the console resolves against the digest sent from the command line.
    script = tmp_path / "claim.txt"
    script.write_text("as alice\n/ambassador claim 1\nclick I agree\n", encoding="utf-8")
    out = ok(ambassador(tmp_path, "console", "--script", str(script)))
    assert "You claimed “First item”" in out
    assert "I work at ACME." in out

    # Piped stdin, in French; the process ends cleanly (exit 0) at the end of the input.
    piped = "\n".join(
        [
            "help",
            "# a comment",
            "as marie fr",
            "/ambassador claim 1",
            "click J'accepte",
            "as boss",
            "/ambassador stats 1",
            "as mgr",
            "/ambassador pause",
        ]
    )
    out = ok(ambassador(tmp_path, "console", "--as", "marie", input=piped + "\n"))
    assert "Console words" in out
    assert "Je travaille chez ACME." in out
    assert "Vous avez choisi « First item »" in out
    assert "Week of" in out
    assert "paused" in out

    # The crisis switch holds for the command line too: no digest goes out while paused.
    assert "paused" in one_line_error(ambassador(tmp_path, "digest", "--now"))
    assert sql(tmp_path / "a.db", "SELECT count(*) FROM digest") == [(1,)]

    users = sql(tmp_path / "a.db", "SELECT user, action FROM consent_entry ORDER BY seq")
    assert users == [("alice", "join"), ("marie", "join")]


def test_one_line_errors(tmp_path: Path) -> None:
    (tmp_path / "garbage.db").write_text("not a database\n", encoding="utf-8")
    results = in_parallel(
        tmp_path,
        [
            Call(["stats", "--weeks", "0"]),
            Call(["stats", "--weeks", "abc"]),
            Call(["stats"], db="never.db"),
            Call(["stats"], env={"AMBASSADOR_DIGEST_TIME": "25:99"}),
            Call(["stats"], env={"AMBASSADOR_TIMEZONE": "Mars/Base"}),
            Call(["run"], env={"SLACK_BOT_TOKEN": "xoxb-test"}),
            Call(["console", "--script", "missing.txt"]),
            Call(["stats"], db="garbage.db"),
        ],
    )
    weeks_zero, weeks_abc, never, digest_time, timezone, run, script, garbage = results

    assert "--weeks" in one_line_error(weeks_zero, 2)
    assert "abc" in one_line_error(weeks_abc, 2)
    assert "ambassador db upgrade" in one_line_error(never)
    assert not (tmp_path / "never.db").exists()  # stats does not create a database
    assert "AMBASSADOR_DIGEST_TIME" in one_line_error(digest_time)
    assert "AMBASSADOR_TIMEZONE" in one_line_error(timezone)
    line = one_line_error(run)
    assert "slack" in line.lower()
    assert "xoxb" not in line  # the token itself is never printed
    assert "missing.txt" in one_line_error(script)
    assert "not a database" in one_line_error(garbage)
