"""`python -m bench [--quick] [--only core|slack|model|fanout|teams|feeds]`: run the
benchmarks, print the machine and a table per suite (the core through `Ambassador.handle`;
Slack Claim clicks over HTTP; simultaneous claims drafted by a fake language model).
`--only fanout` (charter reminders to every member against a rate-limited fake Slack),
`--only teams` (Teams Claim and "I agree" presses against a fake Bot Connector) and
`--only feeds` (link previews and feed polls against a local web site) are not part of the
default run.

Progress goes to stderr so stdout is exactly what docs/benchmarks.md records. Nothing is
written anywhere else: the SQLite files live in a temporary directory and the PostgreSQL
schemas are dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import date

from bench.core import (
    CONCURRENCY,
    Config,
    Row,
    machine,
    markdown_table,
    postgres_version,
    run_all,
)
from bench.fanout import FanoutConfig, run_fanout
from bench.fanout import table as fanout_table
from bench.feeds import FeedsConfig, run_feeds
from bench.model_claims import GRACE, SETTINGS, ModelConfig, run_model
from bench.slack_clicks import TARGET_P99_MS, TARGET_RATIO, ClickConfig, run_slack
from bench.teams_acks import ITEMS as TEAMS_ITEMS
from bench.teams_acks import PER_SECOND as TEAMS_PER_SECOND
from bench.teams_acks import TeamsConfig, run_teams

HEADERS = ("database", "benchmark", "n", "rate", "p50 ms", "p95 ms", "p99 ms", "max ms", "note")


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


def _cells(row: Row) -> tuple[str, ...]:
    rate = "-" if row.rate is None else f"{row.rate:,.0f} {row.unit}"
    return (
        row.database,
        row.name,
        f"{row.count:,}",
        rate,
        _ms(row.p50),
        _ms(row.p95),
        _ms(row.p99),
        _ms(row.max),
        row.note,
    )


def table(rows: list[Row]) -> str:
    """A Markdown table, padded so it also reads well in a terminal."""
    return markdown_table(HEADERS, [_cells(row) for row in rows], numeric={2, 3, 4, 5, 6, 7})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="100 members instead of 500 (core, fanout, teams), 200 clicks not 1,000, "
        "50 model claims not 200, 10 feeds not 50",
    )
    parser.add_argument(
        "--only",
        choices=("core", "slack", "model", "fanout", "teams", "feeds"),
        help="one suite instead of the first three (the default); fanout, teams and feeds "
        "run only so",
    )
    parser.add_argument("--clicks", type=int, help="Slack: how many Claim clicks")
    parser.add_argument("--rate", type=float, help="Slack: clicks, Teams: Claim presses per second")
    parser.add_argument("--claims", type=int, help="model: how many simultaneous claims")
    parser.add_argument("--members", type=int, help="fanout, teams: how many members")
    parser.add_argument("--limit", type=float, help="fanout: chat.postMessage calls per second")
    args = parser.parse_args(argv)
    config = Config.quick() if args.quick else Config()
    clicks = ClickConfig.quick() if args.quick else ClickConfig()
    clicks = ClickConfig(args.clicks or clicks.clicks, args.rate or clicks.rate)
    claims = ModelConfig.quick() if args.quick else ModelConfig()
    claims = ModelConfig(args.claims or claims.claims, claims.delay)
    fanout = FanoutConfig.quick() if args.quick else FanoutConfig()
    fanout = FanoutConfig(args.members or fanout.members, args.limit or fanout.per_second)
    teams = TeamsConfig.quick() if args.quick else TeamsConfig()
    teams = TeamsConfig(args.members or teams.members, args.rate or teams.rate)
    feeds = FeedsConfig.quick() if args.quick else FeedsConfig()

    def progress(text: str) -> None:
        print(f"... {text}", file=sys.stderr, flush=True)

    pg_version = postgres_version()
    if args.only in (None, "core"):
        print(f"Ambassador core benchmarks, {date.today().isoformat()}")
        print(
            f"{config.members} members, {config.revisions} revisions, "
            f"{config.ledger_entries:,}-entry ledger, {CONCURRENCY} concurrent tasks"
        )
        print()
    for name, value in machine(pg_version):
        print(f"- {name}: {value}")
    print()
    if pg_version is None:
        print("PostgreSQL: no server answered at 127.0.0.1:5432; its benchmarks are skipped.")
        print()
    if args.only in (None, "core"):
        rows = asyncio.run(run_all(config, progress, pg_version))
        print(table(rows))
    if args.only in (None, "slack"):
        if args.only is None:
            print()
        print(f"Ambassador Slack claim clicks, {date.today().isoformat()}")
        print(
            f"{clicks.clicks:,} signed Claim clicks from {clicks.clicks:,} members at "
            f"{clicks.rate:g}/s, open loop; targets: p99 <= {TARGET_P99_MS:g} ms, "
            f"<= {TARGET_RATIO:g}x bare Bolt, zero errors, every claim stored once"
        )
        print()
        results = asyncio.run(run_slack(clicks, progress, pg_version))
        print(table(results.rows))
        print()
        for line in results.verdicts:
            print(f"- {line}")
    if args.only in (None, "model"):
        if args.only is None:
            print()
        print(f"Ambassador model drafting, {date.today().isoformat()}")
        slots = "; ".join(s.label for s in SETTINGS)
        print(
            f"{claims.claims:,} simultaneous signed Claim clicks from {claims.claims:,} members, "
            f"fake model answering after {claims.delay:g} s; {slots}; "
            f"no final draft within the timeout + {GRACE:g} s is an error"
        )
        print()
        found = asyncio.run(run_model(claims, progress, pg_version))
        print(table(found.rows))
        print()
        for line in found.findings:
            print(f"- {line}")
    if args.only == "fanout":
        print(f"Ambassador charter reminder fan-out, {date.today().isoformat()}")
        print(
            f"{fanout.members:,} members due a reminder, one scheduler tick; fake Slack "
            f"chat.postMessage limited to {fanout.per_second:g}/s (429, Retry-After: 1); "
            f"floor {fanout.floor:g} s"
        )
        print()
        fanned = asyncio.run(run_fanout(fanout, progress, pg_version))
        print(fanout_table(fanned.rows))
        print()
        for line in fanned.findings:
            print(f"- {line}")
    if args.only == "teams":
        print(f"Ambassador Teams acknowledgements, {date.today().isoformat()}")
        print(
            f"{teams.members:,} members press Claim on a {TEAMS_ITEMS}-item digest card at "
            f"{teams.rate:g}/s (open loop), then I agree on their join card; AMBASSADOR_TEAMS="
            f"local, fake Bot Connector; one draft each, <= {TEAMS_PER_SECOND} sends/s into "
            "one conversation"
        )
        print()
        acked = asyncio.run(run_teams(teams, progress, pg_version))
        print(table(acked.rows))
        print()
        for line in acked.findings:
            print(f"- {line}")
    if args.only == "feeds":
        print(f"Ambassador feeds and link previews, {date.today().isoformat()}")
        print(
            f"local site in its own process; {feeds.feeds} feeds x {feeds.entries} entries "
            f"(half RSS, half Atom), then +{feeds.new}, +{feeds.raced} (two replicas at once) "
            f"and +{feeds.raced} a feed (a poll outliving its lease); previews {feeds.looks} one "
            f"at a time and {feeds.looks} {feeds.concurrency} at once"
        )
        print()
        polled = asyncio.run(run_feeds(feeds, progress, pg_version))
        print(table(polled.rows))
        print()
        for line in polled.findings:
            print(f"- {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
