"""`ambassador …`: run the bot, drive it from a console, and the operator's tools.

Errors print one clear line to stderr and exit non-zero; a traceback only with --verbose.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import io
import json
import logging
import sys
from collections.abc import Callable, Coroutine, Iterable, Iterator, Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, NoReturn, TextIO

from pydantic import ValidationError
from sqlalchemy.exc import DatabaseError

from adapters.cli.progress import Bar
from adapters.cli.serve import serve
from adapters.cli.wiring import create_app, require_current_schema
from adapters.console.translate import render
from adapters.console.transport import ConsoleSession
from adapters.teams.package import DEFAULT_NAME, write_package
from bot import kinds
from bot.errors import AmbassadorError, ConfigurationError, Paused
from bot.feeds import poll
from bot.i18n import Translator
from bot.messages import Anchor, Audience
from bot.pages import look
from bot.services import audit, content, digests, feeds, ledger, state, stats
from bot.settings import Settings
from bot.views import digest as digest_view
from bot.views import item_label
from storage import migrate

log = logging.getLogger("ambassador")
EXIT_ERROR = 1
EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line, not a usage block."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"ambassador: {message} (see `{self.prog} --help`)\n")
        raise SystemExit(EXIT_USAGE)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="ambassador",
        description="Ambassador: an honest employee ambassador programme for Slack and Teams.",
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="log details to stderr")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    sub.add_parser("run", help="start the bot (the console when no chat platform is configured)")

    console = sub.add_parser("console", help="drive the bot from a terminal or a script")
    console.add_argument("--as", dest="user", default="you", help="act as this user (default: you)")
    console.add_argument("--script", type=Path, help="read lines from this file instead of stdin")

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True, parser_class=_Parser)
    db_sub.add_parser("upgrade", help="create or migrate the database to the latest schema")

    st = sub.add_parser("stats", help="weekly programme figures (aggregates only)")
    st.add_argument("--weeks", type=_weeks, default=8, help="how many weeks, 1-104 (default 8)")
    st.add_argument("--format", choices=("table", "json", "csv"), default="table")

    consent = sub.add_parser("consent", help="the consent ledger")
    consent_sub = consent.add_subparsers(
        dest="consent_command", required=True, parser_class=_Parser
    )
    export = consent_sub.add_parser("export", help="print every ledger entry")
    export.add_argument("--format", choices=("json", "csv"), default="json")
    consent_sub.add_parser("verify", help="check the hash chain; exit 1 at the first bad entry")

    cont = sub.add_parser("content", help="shareable content")
    cont_sub = cont.add_subparsers(dest="content_command", required=True, parser_class=_Parser)
    add = cont_sub.add_parser("add", help="add an item")
    add.add_argument("url")
    add.add_argument("--title")
    add.add_argument("--summary")
    add.add_argument("--expires", help="YYYY-MM-DD (end of that day) or an ISO date and time")
    add.add_argument("--kind", choices=kinds.KINDS, help="what it is (default: from the page)")

    feed = sub.add_parser("feed", help="RSS and Atom feeds")
    feed_sub = feed.add_subparsers(dest="feed_command", required=True, parser_class=_Parser)
    feed_sub.add_parser("poll", help="read every followed feed now, with a progress bar")

    aud = sub.add_parser("audit", help="the log of managers' actions on content and feeds")
    aud_sub = aud.add_subparsers(dest="audit_command", required=True, parser_class=_Parser)
    aud_export = aud_sub.add_parser("export", help="print every audit entry")
    aud_export.add_argument("--format", choices=("json", "csv"), default="json")
    aud_export.add_argument("--since", type=_day, help="only entries from this day on (YYYY-MM-DD)")

    dig = sub.add_parser("digest", help="preview or send the digest")
    mode = dig.add_mutually_exclusive_group(required=True)
    mode.add_argument("--preview", action="store_true", help="print it without sending")
    mode.add_argument("--now", action="store_true", help="send it now")

    teams = sub.add_parser("teams", help="Microsoft Teams")
    teams_sub = teams.add_subparsers(dest="teams_command", required=True, parser_class=_Parser)
    package = teams_sub.add_parser("package", help="write the Teams app package (a zip to upload)")
    package.add_argument("--app-id", required=True, help="the bot's Microsoft App ID (a GUID)")
    package.add_argument(
        "--out",
        type=Path,
        default=Path(DEFAULT_NAME),
        help=f"the zip to write (default {DEFAULT_NAME})",
    )
    return parser


def _weeks(value: str) -> int:
    try:
        weeks = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--weeks takes a whole number, not {value!r}") from None
    if not 1 <= weeks <= stats.MAX_WEEKS:
        raise argparse.ArgumentTypeError(f"--weeks must be between 1 and {stats.MAX_WEEKS}")
    return weeks


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--since takes a day as YYYY-MM-DD, not {value!r}"
        ) from None


def _run(settings: Settings, args: argparse.Namespace) -> int:
    """The chat platforms when configured, else the console."""
    if settings.chat_platforms:
        return asyncio.run(serve(settings))
    return _console(settings, user="you", script=None)


def _console(settings: Settings, *, user: str, script: Path | None) -> int:
    """Feed lines from a script, a pipe or a terminal to the core, on one event loop.

    A terminal is read with `input()` in the main thread (line editing, history), so Ctrl-C
    and Ctrl-D end the session at once instead of waiting on a reader thread.
    """
    lines: Iterable[str] = sys.stdin
    if script is not None:
        try:
            lines = script.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise ConfigurationError("cli.script", path=str(script), reason=reason) from exc
    migrate.upgrade(settings.database_url)
    terminal = script is None and sys.stdin.isatty() and sys.stdout.isatty()
    app = create_app(settings)
    session = ConsoleSession(
        app, sys.stdout, user=user, echo=not terminal, width=96 if terminal else None
    )
    loop = asyncio.new_event_loop()
    try:
        if terminal:
            session.intro()
            lines = _prompted(session)
        for line in lines:
            loop.run_until_complete(session.feed(line))
            sys.stdout.flush()
    finally:
        loop.run_until_complete(app.database.dispose())
        loop.close()
    return 0


def _prompted(session: ConsoleSession) -> Iterator[str]:
    with contextlib.suppress(ImportError):  # line editing and history, where available
        import readline  # noqa: F401, PLC0415 - only a terminal session wants it
    while True:
        try:
            yield input(f"{session.actor.user_id}> ")
        except EOFError:
            print()
            return


async def _stats(settings: Settings, args: argparse.Namespace) -> int:
    require_current_schema(settings)
    app = create_app(settings)
    try:
        async with app.database.transaction() as session:
            weeks = await stats.weekly(
                session, weeks=args.weeks, now=app.clock.now(), tz=settings.tz
            )
    finally:
        await app.database.dispose()
    records = [week.as_record() for week in weeks]
    if args.format == "json":
        print(json.dumps(records, indent=2))
    elif args.format == "csv":
        _csv(records, list(records[0]), sys.stdout)
    else:
        t = Translator(settings.locale)
        names = stats.FIGURES
        header = [t("stats.col_week"), *(t(f"stats.col_{n}") for n in names)]
        rows = [[str(r["week_start"]), *(str(r[n]) for n in names)] for r in records]
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
        for row in [header, ["-" * w for w in widths], *rows]:
            print(
                "  ".join(
                    cell.rjust(widths[i]) if i else cell.ljust(widths[i])
                    for i, cell in enumerate(row)
                )
            )
    return 0


def _csv(records: list[dict[str, Any]], fields: list[str], out: TextIO) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    out.write(buffer.getvalue())


async def _consent(settings: Settings, args: argparse.Namespace) -> int:
    require_current_schema(settings)
    app = create_app(settings)
    t = Translator(settings.locale)
    try:
        async with app.database.transaction() as session:
            if args.consent_command == "export":
                records = [ledger.as_record(e) for e in await ledger.entries(session)]
                if args.format == "json":
                    print(json.dumps(records, indent=2, ensure_ascii=False))
                else:
                    fields = ["seq", "at", "platform", "user", "subject_hash", "action",
                              "charter_version", "statement", "prev_hash", "hash"]  # fmt: skip
                    _csv(records, fields, sys.stdout)
                return 0
            count, problem = await ledger.verify(session)
    finally:
        await app.database.dispose()
    if problem is None:
        print(t.plural("ledger.verified", count))
        return 0
    return _fail(t("ledger.broken", problem=t(problem.reason, seq=problem.seq)))


async def _content(settings: Settings, args: argparse.Namespace) -> int:
    require_current_schema(settings)
    app = create_app(settings)
    t = Translator(settings.locale)
    try:
        now = app.clock.now()
        expires = (
            content.parse_expiry(args.expires, tz=settings.tz, now=now) if args.expires else None
        )
        found, problem = await look(app.fetcher, content.normalise_url(args.url))
        async with app.database.transaction() as session:
            item = await content.add(
                session,
                url=args.url,
                title=args.title,
                summary=args.summary,
                expires_at=expires,
                now=now,
                preview=found,
                kind=args.kind,
            )
            await audit.record(
                session, actor="cli", action="add", subject=f"content:{item.id}", now=now,
                url=item.url, title=item.title, kind=item.kind,
            )  # fmt: skip
    finally:
        await app.database.dispose()
    print(t("content.added", id=item.id, title=item.title, url=item.url))
    print(item_label(t, item))
    if problem is not None:
        print(t("content.no_preview", reason=problem.said(t)))
    return 0


async def _feed(settings: Settings, args: argparse.Namespace) -> int:
    """`feed poll`: every followed feed read now, claimed like the scheduler's polls (a
    running bot never reads the same feed at the same moment); managers are told of a
    broken feed once, by the running bot's outbox."""
    require_current_schema(settings)
    app = create_app(settings)
    t = Translator(settings.locale)
    try:
        async with app.database.transaction() as session:
            total = len(await feeds.followed(session))
        if not total:
            print(t("feed.empty"))
            return 0
        bar = Bar(total, sys.stderr)
        assert app.fetcher is not None
        polled = await poll(
            database=app.database,
            settings=settings,
            clock=app.clock,
            fetcher=app.fetcher,
            platforms=[],
            everything=True,
            progress=lambda p: bar.step(p.url),
        )
    finally:
        await app.database.dispose()
    for p in polled:
        if p.outcome == "failed":
            line = t("cli.feed_failed", id=p.feed_id, reason=p.problem.said(t) if p.problem else "")
        elif p.outcome in ("elsewhere", "gone"):
            line = t(f"cli.feed_{p.outcome}", id=p.feed_id)
        else:
            line = t.plural("cli.feed_polled", p.taken, id=p.feed_id)
        print(line)
    taken = sum(p.taken for p in polled)
    failed = sum(p.outcome == "failed" for p in polled)
    read = sum(p.outcome in ("new", "unchanged", "failed") for p in polled)
    print(t("cli.feeds_polled", feeds=read, taken=taken, failed=failed))
    return EXIT_ERROR if failed else 0


async def _audit(settings: Settings, args: argparse.Namespace) -> int:
    require_current_schema(settings)
    app = create_app(settings)
    since = datetime.combine(args.since, time(0), tzinfo=settings.tz) if args.since else None
    try:
        async with app.database.transaction() as session:
            records = [audit.as_record(e) for e in await audit.events(session, since=since)]
    finally:
        await app.database.dispose()
    if args.format == "json":
        print(json.dumps(records, indent=2, ensure_ascii=False))
    else:
        _csv(records, list(audit.FIELDS), sys.stdout)
    return 0


async def _digest(settings: Settings, args: argparse.Namespace) -> int:
    """From the command line with no chat platform, `--now` records the digest for the
    console (so `claim N` there resolves against it) and prints it."""
    require_current_schema(settings)
    app = create_app(settings)
    t = Translator(settings.locale)
    try:
        now = app.clock.now()
        async with app.database.transaction() as session:
            if args.now and await state.is_paused(session):  # the crisis switch holds here too
                raise Paused("error.paused")
            items = await digests.select_items(session, now=now, size=settings.digest_size)
            if not items:
                raise AmbassadorError("digest.empty")
            if args.preview:
                message = digest_view(
                    t, items, anchor=None, audience=Audience.REQUESTER, preview=True
                )
            else:
                record = await digests.record(
                    session, platform="console", channel=None, items=items, now=now
                )
                assert record.id is not None
                message = digest_view(t, items, anchor=Anchor("digest", record.id))
    finally:
        await app.database.dispose()
    print(render(message, t, recipient="cli"))
    return 0


def _teams(settings: Settings, args: argparse.Namespace) -> int:
    path = write_package(args.app_id, args.out)
    print(Translator(settings.locale)("cli.teams_packaged", path=str(path)))
    return 0


async def _db(settings: Settings, args: argparse.Namespace) -> int:
    migrate.upgrade(settings.database_url)
    print(Translator(settings.locale)("cli.upgraded", revision=migrate.head_revision() or "-"))
    return 0


Command = Callable[[Settings, argparse.Namespace], Coroutine[Any, Any, int]]
COMMANDS: dict[str, Command] = {
    "db": _db,
    "stats": _stats,
    "consent": _consent,
    "content": _content,
    "digest": _digest,
    "feed": _feed,
    "audit": _audit,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    t = Translator("en")
    try:
        settings = Settings()
        t = Translator(settings.locale)
        if args.command == "console":
            return _console(settings, user=args.user, script=args.script)
        if args.command == "run":
            return _run(settings, args)
        if args.command == "teams":
            return _teams(settings, args)
        return asyncio.run(COMMANDS[args.command](settings, args))
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(part) for part in first["loc"])
        return _fail(t("cli.bad_setting", name=name.upper(), reason=first["msg"]))
    except AmbassadorError as error:
        return _fail(t(error.key, **error.params))
    except DatabaseError as exc:  # unreachable server, locked or corrupt file…
        log.debug("database error", exc_info=True)
        reason = str(exc.orig).strip().splitlines() or [type(exc.orig).__name__]
        return _fail(t("cli.database", reason=reason[0][:200]))
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        log.debug("internal error", exc_info=True)
        return _fail(t("cli.internal", kind=type(exc).__name__))


def _fail(line: str) -> int:
    sys.stderr.write(f"ambassador: {line}\n")
    return EXIT_ERROR


if __name__ == "__main__":
    raise SystemExit(main())
