"""Feeds and link previews: the content pipeline against a local web site.

The site is the tests' (`tests/fakes/site.py`), in a process of its own
(`python -m bench.feeds site`), so its CPU does not share this interpreter: pages with Open
Graph tags, JSON-LD job, event and course pages, a 5 MB page, and feeds at any path set
through a control route (RSS, or Atom when "atom" is in the path), answering 304 to
`If-None-Match`. It counts its answers by path and status (`GET /_answers`).

Measured, once: `read_page` on the site's pages as fetched and on a 1 MB page whose
`<title>` comes last; `read_feed` on a 20-entry RSS and Atom feed; `look()` (fetch, then
preview) over HTTP, one at a time and 8 at once. Then, on SQLite and on PostgreSQL, N feeds
of 20 entries (each entry's link a site page with a query string of its own) are followed
through the core (`feed add URL`) and polled with `bot.feeds.poll`: the first poll (5
entries taken per feed), a second one where every feed answers 304, one after 10 new entries
a feed, two replicas (two cores on one database, each its own engine and fetcher) polling
the same due feeds at once after 5 more entries a feed, and a poll that outlives its claims'
lease (`bot.services.feeds.HOLD`): after 5 more entries a feed, replica 1 polls; once it has
done a fifth of the feeds, the clock moves past the lease and replica 2 polls what is due.
The fixed clock moves by `AMBASSADOR_FEED_INTERVAL` between polls, so each poll finds every
feed due. The site's counts tell how often each feed was fetched; the database, whether any
item was stored twice.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager, asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from time import perf_counter, process_time
from typing import Any

from aiohttp import ClientSession, web
from sqlalchemy import event, func
from sqlmodel import col, select

from adapters.cli.wiring import create_app
from adapters.web.fetch import SafeFetcher
from bench.core import (
    Progress,
    Row,
    UrlFactory,
    latency_row,
    make_settings,
    postgres_databases,
    sqlite_databases,
)
from bench.lifetime import until_told_to_stop
from bench.model_claims import cpu_seconds
from bench.teams_acks import postgres_cpu
from bot.app import Ambassador
from bot.clock import FixedClock
from bot.commands import Actor, Command
from bot.feedread import read_feed
from bot.feeds import FIRST_TAKE, PREVIEWS_AT_ONCE, Polled, poll
from bot.pages import FEED_ACCEPT, look
from bot.preview import NoPreview, read_page
from bot.services.feeds import HOLD
from bot.settings import Settings
from bot.web import MAX_BYTES, Fetched
from storage import migrate
from storage.models import ContentItem, Feed, FeedEntry
from tests.fakes.site import Site

START = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)
MANAGER = Actor("console", "mgr")
INTERVAL_MINUTES = 60
PAGES = ("/og", "/job", "/event", "/training", "/plain", "/twitter")  # what entries link to
HUGE = "/huge"  # 5 MB: the fetcher reads the first MB
PAGE_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"  # the Fetcher's default
LATE_TITLE = "The title comes last"


def read(polled: list[Polled]) -> list[Polled]:
    """The feeds one replica's poll read: not those it found claimed by the other."""
    return [p for p in polled if p.outcome != "elsewhere"]


@dataclass(frozen=True)
class FeedsConfig:
    feeds: int = 50
    entries: int = 20  # in each feed at the first poll
    new: int = 10  # new entries a feed before the third poll
    raced: int = 5  # new entries a feed before the two replicas poll
    parses: int = 200  # read_page runs per page set
    looks: int = 200  # look() calls, sequential and concurrent each
    concurrency: int = 8
    huge_looks: int = 20

    @classmethod
    def quick(cls) -> FeedsConfig:
        return cls(feeds=10, parses=50, looks=50, huge_looks=5)


# -- the site, in a process of its own --------------------------------------------------------


class CountingSite(Site):
    """The tests' site, counting its answers by path (with the query) and status instead
    of keeping every request."""

    def __init__(self) -> None:
        super().__init__()
        self.answers: Counter[tuple[str, int]] = Counter()

    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        try:
            response: web.StreamResponse = await handler(request)
        except web.HTTPException as exc:
            self.answers[(request.path_qs, exc.status)] += 1
            raise
        self.answers[(request.path_qs, response.status)] += 1
        return response


def _entry_from_json(entry: dict[str, Any]) -> dict[str, Any]:
    published = entry.get("published")
    if isinstance(published, str):
        return {**entry, "published": datetime.fromisoformat(published)}
    return entry


async def serve_site() -> None:
    """Serve the site and its control routes; print both URLs as one JSON line."""
    site = CountingSite()
    async with site:

        async def feeds(request: web.Request) -> web.Response:
            body = await request.json()
            for path, entries in body.items():
                site.set_feed(str(path), [_entry_from_json(e) for e in entries])
            return web.json_response({"ok": True})

        async def answers(_request: web.Request) -> web.Response:
            rows = [[path, status, n] for (path, status), n in site.answers.items()]
            return web.json_response(rows)

        async def reset(_request: web.Request) -> web.Response:
            site.answers.clear()
            return web.json_response({"ok": True})

        control = web.Application()
        control.router.add_post("/_feeds", feeds)
        control.router.add_get("/_answers", answers)
        control.router.add_post("/_reset", reset)
        runner = web.AppRunner(control, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        port = runner.addresses[0][1]
        ready = {"url": site.url(""), "control": f"http://127.0.0.1:{port}"}
        print(json.dumps(ready), flush=True)
        try:
            await until_told_to_stop()
        finally:
            await runner.cleanup()


@dataclass(frozen=True)
class Answers:
    """What the site answered since the last reset: (path with query, status) -> count."""

    counts: Counter[tuple[str, int]]

    def feeds(self) -> Counter[str]:
        found: Counter[str] = Counter()
        for (path, _), n in self.counts.items():
            if path.startswith("/feeds/"):
                found[path] += n
        return found

    def status(self, status: int, *, feeds: bool) -> int:
        return sum(
            n
            for (path, code), n in self.counts.items()
            if code == status and path.startswith("/feeds/") == feeds
        )

    def not_ok(self) -> dict[str, int]:
        found: Counter[str] = Counter()
        for (path, code), n in self.counts.items():
            if code not in (200, 304):
                found[f"{code} {path}"] += n
        return dict(found)


@dataclass
class RemoteSite:
    process: asyncio.subprocess.Process
    url: str  # the site's origin, without a trailing slash
    control: str
    http: ClientSession

    @classmethod
    async def start(cls, http: ClientSession) -> RemoteSite:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.feeds", "site",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert process.stdout is not None
        ready = json.loads(await asyncio.wait_for(process.stdout.readline(), 60))
        return cls(process, str(ready["url"]).rstrip("/"), str(ready["control"]), http)

    def page(self, path: str) -> str:
        return self.url + path

    async def set_feeds(self, feeds: dict[str, list[dict[str, Any]]]) -> None:
        async with self.http.post(f"{self.control}/_feeds", json=feeds) as resp:
            resp.raise_for_status()

    async def answers(self) -> Answers:
        async with self.http.get(f"{self.control}/_answers") as resp:
            rows = await resp.json()
        return Answers(Counter({(str(p), int(s)): int(n) for p, s, n in rows}))

    async def reset(self) -> None:
        async with self.http.post(f"{self.control}/_reset") as resp:
            resp.raise_for_status()

    def cpu(self) -> float:
        return cpu_seconds(self.process.pid) or 0.0

    async def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        await asyncio.wait_for(self.process.wait(), 30)


@asynccontextmanager
async def remote_site() -> AsyncIterator[RemoteSite]:
    async with ClientSession() as http:
        site = await RemoteSite.start(http)
        try:
            yield site
        finally:
            await site.close()


# -- feeds on the site ----------------------------------------------------------------------


def feed_path(i: int, name: str = "bench") -> str:
    """Every other feed is Atom."""
    return f"/feeds/{name}-atom-{i}" if i % 2 else f"/feeds/{name}-rss-{i}"


def entry(feed: int, n: int) -> dict[str, Any]:
    """Entry n of a feed: a link of its own (a site page and a query string), newer as n
    grows."""
    return {
        "id": f"tag:bench.example,2026:feed-{feed}:entry-{n}",
        "link": f"{PAGES[n % len(PAGES)]}?story={feed}-{n}",
        "title": f"Story {n} of feed {feed}",
        "summary": f"What happened in story {n}, as feed {feed} tells it.",
        "published": (START - timedelta(days=30) + timedelta(hours=n)).isoformat(),
    }


def feed_contents(made: list[int], name: str = "bench") -> dict[str, list[dict[str, Any]]]:
    """Each feed's entries so far, newest first as feeds usually list them."""
    return {
        feed_path(i, name): [entry(i, n) for n in reversed(range(count))]
        for i, count in enumerate(made)
    }


# -- in process: previews and feeds read from bytes ------------------------------------------


def late_title_page() -> Fetched:
    """MAX_BYTES of an ordinary-looking article whose only title is its last element:
    the parser reads all of it (it stops early only once the head is done and a title is
    known)."""
    head = (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width">\n</head>\n<body>\n<main>\n'
    )
    tail = f"</main>\n<title>{LATE_TITLE}</title>\n</body>\n</html>\n"
    paragraph = (
        '<p class="lead">Our crews kept <a href="/stories/{n}">working through the rain</a>, '
        "and the <em>roofs</em> held: {n} of them this winter, across the region.</p>\n"
    )
    parts = [head]
    size = len(head) + len(tail)
    n = 0
    while True:
        piece = paragraph.format(n=n)
        if size + len(piece) > MAX_BYTES:
            break
        parts.append(piece)
        size += len(piece)
        n += 1
    parts.append(" " * (MAX_BYTES - size))
    parts.append(tail)
    body = "".join(parts).encode()
    assert len(body) == MAX_BYTES, len(body)
    return Fetched("http://127.0.0.1/late-title", 200, "text/html", "utf-8", body, False)


def dense_tags_page() -> Fetched:
    """MAX_BYTES of `<b>x</b>` and no title: about as many parser events as the preview's
    bound lets through (`bot.preview._MAX_EVENTS`), and no preview at the end."""
    head = '<!doctype html>\n<html><head><meta charset="utf-8"></head><body>\n'
    body = (head + "<b>x</b>" * MAX_BYTES)[:MAX_BYTES].encode()
    return Fetched("http://127.0.0.1/dense", 200, "text/html", "utf-8", body, False)


def no_preview(fetched: Fetched) -> None:
    try:
        read_page(fetched)
    except NoPreview:
        return
    raise RuntimeError(f"a preview of {fetched.url}")


def timed(runs: int, work: Callable[[int], object]) -> list[float]:
    seconds = []
    for i in range(runs):
        began = perf_counter()
        work(i)
        seconds.append(perf_counter() - began)
    return seconds


async def parse_rows(site: RemoteSite, config: FeedsConfig, progress: Progress) -> list[Row]:
    """read_page and read_feed on bytes fetched once: no network in what is timed."""
    progress("read_page and read_feed, in process")
    await site.set_feeds(feed_contents([20, 20], "parse"))
    async with SafeFetcher(allow_private=True) as fetcher:
        pages = [await fetcher.get(site.page(path)) for path in PAGES]
        huge = await fetcher.get(site.page(HUGE))
        rss = await fetcher.get(site.page(feed_path(0, "parse")), accept=FEED_ACCEPT)
        atom = await fetcher.get(site.page(feed_path(1, "parse")), accept=FEED_ACCEPT)
    late, dense = late_title_page(), dense_tags_page()
    assert read_page(late).title == LATE_TITLE
    assert huge.truncated
    assert len(read_feed(rss).entries) == 20
    assert len(read_feed(atom).entries) == 20
    feed_runs = max(20, config.parses // 4)
    small = timed(config.parses, lambda i: read_page(pages[i % len(pages)]))
    return [
        latency_row(
            "-",
            f"read_page, {len(pages)} site pages",
            small,
            rate=len(small) / sum(small),
            unit="pages/s",
            note=f"{min(len(p.body) for p in pages):,}-{max(len(p.body) for p in pages):,} bytes",
        ),
        latency_row(
            "-",
            "read_page, /huge (first 1 MB)",
            timed(config.parses, lambda _: read_page(huge)),
            note="title in the head: decoded, then the parse stops at the body",
        ),
        latency_row(
            "-",
            "read_page, 1 MB, title last",
            timed(config.parses, lambda _: read_page(late)),
            note="the whole megabyte parsed",
        ),
        latency_row(
            "-",
            "read_page, 1 MB of tiny tags",
            timed(max(5, config.parses // 10), lambda _: no_preview(dense)),
            note="bold x, repeated; no title, so no preview; near the event bound",
        ),
        latency_row(
            "-",
            "read_feed, 20-entry RSS",
            timed(feed_runs, lambda _: read_feed(rss)),
            note=f"{len(rss.body):,} bytes",
        ),
        latency_row(
            "-",
            "read_feed, 20-entry Atom",
            timed(feed_runs, lambda _: read_feed(atom)),
            note=f"{len(atom.body):,} bytes",
        ),
    ]


async def look_rows(site: RemoteSite, config: FeedsConfig, progress: Progress) -> list[Row]:
    """look(): fetch and preview over HTTP, one at a time and `concurrency` at once."""
    rows = []
    async with SafeFetcher(allow_private=True) as fetcher:

        async def one(i: int, path: str | None = None) -> float:
            url = site.page(path or f"{PAGES[i % len(PAGES)]}?look={i}")
            began = perf_counter()
            found, problem = await look(fetcher, url)
            elapsed = perf_counter() - began
            if found is None:
                raise RuntimeError(f"no preview of {url}: {problem}")
            return elapsed

        for path in PAGES:  # warm up: the first GET sets up what the later ones reuse
            await one(0, path)
        await site.reset()
        progress(f"look(): {config.looks} one at a time")
        cpu, site_cpu = process_time(), site.cpu()
        began = perf_counter()
        seconds = [await one(i) for i in range(config.looks)]
        wall = perf_counter() - began
        cpu, site_cpu = process_time() - cpu, site.cpu() - site_cpu
        rows.append(
            latency_row(
                "-",
                "look(), one at a time",
                seconds,
                rate=len(seconds) / wall,
                unit="pages/s",
                note=f"CPU per look: bench {cpu / len(seconds) * 1000:.1f} ms, "
                f"site {site_cpu / len(seconds) * 1000:.1f} ms",
            )
        )
        progress(f"look(): {config.looks}, {config.concurrency} at once")
        todo = iter(range(config.looks))
        seconds = []

        async def worker() -> None:
            for i in todo:
                seconds.append(await one(i))

        cpu, site_cpu = process_time(), site.cpu()
        began = perf_counter()
        await asyncio.gather(*(worker() for _ in range(config.concurrency)))
        wall = perf_counter() - began
        cpu, site_cpu = process_time() - cpu, site.cpu() - site_cpu
        rows.append(
            latency_row(
                "-",
                f"look(), {config.concurrency} at once",
                seconds,
                rate=len(seconds) / wall,
                unit="pages/s",
                note=f"CPU per look: bench {cpu / len(seconds) * 1000:.1f} ms, "
                f"site {site_cpu / len(seconds) * 1000:.1f} ms",
            )
        )
        progress(f"look(): {HUGE}, {config.huge_looks} times")
        seconds = [await one(0, HUGE) for _ in range(config.huge_looks)]
        rows.append(
            latency_row(
                "-",
                f"look(), {HUGE} (5 MB, 1 MB read)",
                seconds,
                rate=len(seconds) / sum(seconds),
                unit="pages/s",
            )
        )
        answers = await site.answers()
        if answers.not_ok():
            raise RuntimeError(f"the site answered: {answers.not_ok()}")
    return rows


# -- polls ----------------------------------------------------------------------------------


class TimingFetcher:
    """The real fetcher, noting when each GET began and ended: where a poll's time goes."""

    def __init__(self, inner: SafeFetcher) -> None:
        self.inner = inner
        self.calls: list[tuple[str, float, float]] = []  # url, began, ended

    async def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str = PAGE_ACCEPT,
    ) -> Fetched:
        began = perf_counter()
        try:
            return await self.inner.get(url, etag=etag, last_modified=last_modified, accept=accept)
        finally:
            self.calls.append((url, began, perf_counter()))


class Warnings(logging.Handler):
    """What the bot logs at WARNING or above during the polls."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.name}: {record.getMessage()}"[:300])


def feed_settings(url: str) -> Settings:
    """The core benchmark's settings, with fetching on and allowed to reach the local site."""
    return make_settings(url).model_copy(
        update={"fetch": True, "fetch_allow_private": True, "feed_interval": INTERVAL_MINUTES}
    )


@dataclass
class Replica:
    """One core with its own engine and fetcher, counting the SQL statements it runs."""

    app: Ambassador
    fetcher: TimingFetcher
    statements: int = 0

    @classmethod
    def make(cls, settings: Settings, clock: FixedClock) -> Replica:
        fetcher = TimingFetcher(SafeFetcher(allow_private=True))
        replica = cls(create_app(settings, clock=clock, fetcher=fetcher), fetcher)

        def counted(*_args: object) -> None:
            replica.statements += 1

        event.listen(replica.app.database.engine.sync_engine, "after_cursor_execute", counted)
        return replica

    async def close(self) -> None:
        await self.fetcher.inner.aclose()
        await self.app.database.dispose()


@dataclass
class PollRun:
    """One poll (or several at once): what it did and what it cost."""

    wall: float
    per_feed: list[float]  # seconds from one feed's end to the next (the first: from the start)
    polled: list[list[Polled]]  # by replica
    cpu: float  # this process
    site_cpu: float
    database_cpu: float | None  # the PostgreSQL server's processes
    answers: Answers
    items: int  # content items created
    feed_fetch: float  # seconds spent in feed GETs, summed
    previews: float  # seconds from each feed's first preview GET to its last, summed
    preview_gets: int
    statements: int  # SQL statements, every replica's

    @property
    def feeds(self) -> int:
        """Feeds this poll read (a feed another replica had claimed is not counted)."""
        return sum(len(read(p)) for p in self.polled)

    def outcomes(self) -> Counter[str]:
        return Counter(p.outcome for polled in self.polled for p in polled)

    def taken(self) -> int:
        return sum(p.taken for polled in self.polled for p in polled)


async def count(app: Ambassador, model: type[Any]) -> int:
    async with app.database.transaction() as session:
        return int((await session.exec(select(func.count()).select_from(model))).one())


def fetch_split(calls: list[tuple[str, float, float]]) -> tuple[float, float, int]:
    """Seconds in feed GETs; seconds of each feed's preview phase (its first page GET's
    start to its last one's end, between two feed GETs); page GETs."""
    feed_seconds = previews = 0.0
    gets = 0
    window: list[tuple[float, float]] = []

    def close_window() -> None:
        nonlocal previews
        if window:
            previews += max(e for _, e in window) - min(b for b, _ in window)
            window.clear()

    for url, began, ended in sorted(calls, key=lambda c: c[1]):
        if "/feeds/" in url:
            close_window()
            feed_seconds += ended - began
        else:
            window.append((began, ended))
            gets += 1
    close_window()
    return feed_seconds, previews, gets


async def timed_poll(
    replicas: list[Replica],
    site: RemoteSite,
    database: str,
    *,
    everything: bool = False,
    late: tuple[Replica, int] | None = None,
) -> PollRun:
    """Every replica polls at once (usually just one); the site's answers, the CPU and the
    items created are counted around it. `late` = (replica, k): once the first replica has
    polled k feeds, the clock moves past the claims' lease and that replica polls too, as
    another replica would when a poll outlives its lease."""
    app = replicas[0].app
    everyone = [*replicas, late[0]] if late else replicas
    items_before = await count(app, ContentItem)
    await site.reset()
    marks = [len(r.fetcher.calls) for r in everyone]
    statements = sum(r.statements for r in everyone)
    per_feed: list[float] = []
    started: list[asyncio.Task[list[Polled]]] = []
    cpu, site_cpu = process_time(), site.cpu()
    database_cpu = postgres_cpu() if database == "PostgreSQL" else None
    began = perf_counter()

    async def one(replica: Replica, *, first: bool = False) -> list[Polled]:
        last = perf_counter()
        done = 0

        def step(polled: Polled) -> None:
            nonlocal last, done
            now = perf_counter()
            if polled.outcome != "elsewhere":  # the time a read took, not a refused claim
                per_feed.append(now - last)
            last = now
            done += 1
            if first and late is not None and done == late[1]:
                clock = replica.app.clock
                assert isinstance(clock, FixedClock)
                clock.advance(seconds=HOLD.total_seconds() + 1)
                started.append(asyncio.create_task(one(late[0])))

        return await poll(
            database=replica.app.database,
            settings=replica.app.settings,
            clock=replica.app.clock,
            fetcher=replica.fetcher,
            platforms=[],
            everything=everything,
            progress=step,
        )

    polled = list(await asyncio.gather(*(one(r, first=i == 0) for i, r in enumerate(replicas))))
    polled += [await task for task in started]
    wall = perf_counter() - began
    cpu, site_cpu = process_time() - cpu, site.cpu() - site_cpu
    if database_cpu is not None:
        after = postgres_cpu()
        # a backend that ended meanwhile takes its CPU with it: never below zero
        database_cpu = None if after is None else max(0.0, after - database_cpu)
    calls = [c for r, mark in zip(everyone, marks, strict=True) for c in r.fetcher.calls[mark:]]
    feed_fetch, previews, gets = fetch_split(calls)
    return PollRun(
        wall=wall,
        per_feed=per_feed,
        polled=polled,
        cpu=cpu,
        site_cpu=site_cpu,
        database_cpu=database_cpu,
        answers=await site.answers(),
        items=await count(app, ContentItem) - items_before,
        feed_fetch=feed_fetch,
        previews=previews,
        preview_gets=gets,
        statements=sum(r.statements for r in everyone) - statements,
    )


def poll_row(database: str, name: str, run: PollRun, expected: int, feeds: int) -> Row:
    per = run.items / feeds if feeds else 0
    cpu = f"CPU {run.cpu:.1f} s bench, {run.site_cpu:.1f} s site"
    if run.database_cpu is not None:
        cpu += f", {run.database_cpu:.1f} s PostgreSQL"
    ok = "" if run.items == expected else f" (expected {expected:,})"
    not_modified = run.answers.status(304, feeds=True)
    answered = f"{not_modified} feeds 304; " if not_modified else ""
    note = (
        f"wall {run.wall:.2f} s; {run.items:,} items{ok} ({per:g}/feed); "
        f"{run.preview_gets:,} previews; {answered}{run.statements:,} SQL "
        f"({run.statements / feeds:.0f}/feed); {cpu}"
    )
    if not run.per_feed:
        return Row(database, name, 0, note=note)
    return latency_row(
        database, name, run.per_feed, rate=run.feeds / run.wall, unit="feeds/s", note=note
    )


async def duplicates(app: Ambassador) -> int:
    """Item URLs held more than once."""
    async with app.database.transaction() as session:
        held = select(col(ContentItem.url)).group_by(col(ContentItem.url))
        found = await session.exec(held.having(func.count() > 1))
        return len(found.all())


async def follow(app: Ambassador, site: RemoteSite, feeds: int) -> None:
    """The manager follows every feed through the core (`feed add URL`, which reads it)."""
    for i in range(feeds):
        url = site.page(feed_path(i))
        reply = await app.handle(Command(MANAGER, "feed", ("add", url), rest=f"add {url}"))
        text = " ".join(m.text for m in reply.messages)
        if f"#{i + 1}" not in text:
            raise RuntimeError(f"feed add {url}: {text}")
    if await count(app, Feed) != feeds:
        raise RuntimeError("not every feed was added")


@dataclass
class DatabaseRun:
    rows: list[Row]
    findings: list[str] = field(default_factory=list)


def where_time_goes(database: str, name: str, run: PollRun) -> str:
    rest = run.wall - run.feed_fetch - run.previews
    return (
        f"{database}, {name}: of {run.wall:.2f} s, feed GETs {run.feed_fetch:.2f} s, "
        f"preview GETs ({PREVIEWS_AT_ONCE} at once within a feed, one feed after another) "
        f"{run.previews:.2f} s, the rest (claims, reading the feeds, the database) {rest:.2f} s"
    )


async def replicas_check(
    database: str,
    name: str,
    run: PollRun,
    main: Replica,
    made: list[int],
    *,
    new: int,
    initial: int,
) -> tuple[Row, str]:
    """Two replicas polled: did each feed get fetched once, and each entry taken once?
    `made`: entries each feed has shown so far; `initial` of them at the first poll."""
    n = len(made)
    row = poll_row(database, name, run, new * n, n)
    by_feed = run.answers.feeds()
    once = sum(1 for i in range(n) if by_feed.get(feed_path(i), 0) == 1)
    twice = sum(1 for k in by_feed.values() if k > 1)
    missing = sum(1 for i in range(n) if feed_path(i) not in by_feed)
    shares = " + ".join(str(len(read(p))) for p in run.polled)
    dupes = await duplicates(main.app)
    items = await count(main.app, ContentItem)
    entries = await count(main.app, FeedEntry)
    expected_items = FIRST_TAKE * n + sum(m - initial for m in made)
    note = (
        f"feeds polled by each replica: {shares}; fetched once: {once}/{n}, twice or more: "
        f"{twice}; items with the same URL: {dupes}; {row.note}"
    )
    finding = (
        f"{database}, {name}: feeds polled {shares} (replica 1 + replica 2); {run.taken()} "
        f"entries taken; feed GETs {sum(by_feed.values())} for {n} feeds (once: {once}, "
        f"twice or more: {twice}, not at all: {missing}); preview GETs {run.preview_gets} for "
        f"{run.items} new items; items now {items:,} (expected {expected_items:,}), duplicate "
        f"URLs {dupes}; {entries:,} feed entries remembered (expected {2 * sum(made):,}: the "
        "id and link of each)"
    )
    return replace(row, note=note), finding


async def run_database(
    database: str, fresh: UrlFactory, site: RemoteSite, config: FeedsConfig, progress: Progress
) -> DatabaseRun:
    url = fresh()
    await asyncio.to_thread(migrate.upgrade, url)
    clock = FixedClock(START)
    settings = feed_settings(url)
    main = Replica.make(settings, clock)
    other: Replica | None = None
    warnings = Warnings()
    logging.getLogger("ambassador").addHandler(warnings)
    n = config.feeds
    out = DatabaseRun([])
    try:
        made = [config.entries] * n
        await site.set_feeds(feed_contents(made))
        progress(f"{database}: following {n} feeds (feed add)")
        await follow(main.app, site, n)

        progress(f"{database}: first poll of {n} feeds x {config.entries} entries")
        first = await timed_poll([main], site, database, everything=True)
        out.rows.append(
            poll_row(database, f"first poll, {n} x {config.entries}", first, FIRST_TAKE * n, n)
        )
        out.findings.append(where_time_goes(database, "first poll", first))

        clock.advance(minutes=INTERVAL_MINUTES)
        progress(f"{database}: second poll, nothing new")
        second = await timed_poll([main], site, database)
        out.rows.append(poll_row(database, "second poll, all 304", second, 0, n))

        made = [m + config.new for m in made]
        await site.set_feeds(feed_contents(made))
        clock.advance(minutes=INTERVAL_MINUTES)
        progress(f"{database}: poll after {config.new} new entries a feed")
        third = await timed_poll([main], site, database)
        out.rows.append(
            poll_row(database, f"poll, {config.new} new a feed", third, config.new * n, n)
        )
        out.findings.append(where_time_goes(database, f"{config.new} new a feed", third))

        made = [m + config.raced for m in made]
        await site.set_feeds(feed_contents(made))
        clock.advance(minutes=INTERVAL_MINUTES)
        other = Replica.make(settings, clock)
        progress(f"{database}: two replicas poll the same {n} due feeds at once")
        raced = await timed_poll([main, other], site, database)
        name = f"2 replicas, {config.raced} new a feed"
        row, finding = await replicas_check(
            database, name, raced, main, made, new=config.raced, initial=config.entries
        )
        out.rows.append(row)
        out.findings.append(finding)

        made = [m + config.raced for m in made]
        await site.set_feeds(feed_contents(made))
        clock.advance(minutes=INTERVAL_MINUTES)
        after = max(1, n // 5)
        progress(f"{database}: a poll outlives its lease after {after} feeds")
        outlived = await timed_poll([main], site, database, late=(other, after))
        name = f"lease out after {after}, {config.raced} new"
        row, finding = await replicas_check(
            database, name, outlived, main, made, new=config.raced, initial=config.entries
        )
        out.rows.append(row)
        out.findings.append(finding)
        polls = (
            ("first", first),
            ("second", second),
            ("third", third),
            ("replicas", raced),
            ("lease", outlived),
        )
        for name, run in polls:
            outcomes = dict(run.outcomes())
            failed = [p for polled in run.polled for p in polled if p.outcome == "failed"]
            if failed or set(outcomes) - {"new", "unchanged", "elsewhere"} or run.answers.not_ok():
                problems = [f"#{p.feed_id}: {p.problem}" for p in failed[:3]]
                out.findings.append(
                    f"{database}, {name} poll: outcomes {outcomes}; site answered "
                    f"{run.answers.not_ok()}; {problems}"
                )
        if warnings.lines:
            out.findings.append(
                f"{database}: {len(warnings.lines)} warnings logged, first: {warnings.lines[:3]}"
            )
    finally:
        logging.getLogger("ambassador").removeHandler(warnings)
        if other is not None:
            await other.close()
        await main.close()
    return out


@dataclass
class FeedsResults:
    rows: list[Row]
    findings: list[str]


async def run_feeds(
    config: FeedsConfig, progress: Progress, pg_version: str | None
) -> FeedsResults:
    runs: list[tuple[str, Callable[[], AbstractContextManager[UrlFactory]]]] = [
        ("SQLite", sqlite_databases)
    ]
    if pg_version is not None:
        runs.append(("PostgreSQL", postgres_databases))
    rows: list[Row] = []
    findings: list[str] = []
    async with remote_site() as site:
        rows += await parse_rows(site, config, progress)
        rows += await look_rows(site, config, progress)
        for database, databases in runs:
            with databases() as fresh:
                done = await run_database(database, fresh, site, config, progress)
            rows += done.rows
            findings += done.findings
    return FeedsResults(rows, findings)


if __name__ == "__main__":
    if sys.argv[1:] != ["site"]:
        sys.exit("usage: python -m bench.feeds site")
    asyncio.run(serve_site())
