"""The poll scheduler: polls start when slots free, hosts never starve each other."""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import time
from collections.abc import AsyncIterator, Callable
from urllib.parse import urlsplit

import httpx
import pytest

from bot.feeds import HttpFeedFetcher
from bot.services.feeds import FeedService
from bot.storage.database import Database
from bot.storage.entries import EntryRepository
from bot.storage.feeds import FeedRepository
from tests.services.conftest import StepClock


class CountingTransport(httpx.AsyncBaseTransport):
    """Answers 304 at once, or holds a request until released, or (for some hosts) forever."""

    def __init__(self, *, hold: bool = False, hanging: frozenset[str] = frozenset()) -> None:
        self.hold = hold
        self.hanging = hanging
        self.requests: collections.Counter[str] = collections.Counter()
        self.started: list[str] = []
        self.waiting: list[asyncio.Event] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        self.requests[url] += 1
        self.started.append(url)
        if urlsplit(url).hostname in self.hanging:
            await asyncio.Event().wait()
        if self.hold:
            released = asyncio.Event()
            self.waiting.append(released)
            await released.wait()
        return httpx.Response(304)

    def reached(self, urls: str | list[str], count: int) -> Callable[[], bool]:
        """A condition: every URL named has been asked for at least ``count`` times."""
        named = [urls] if isinstance(urls, str) else urls
        return lambda: all(self.requests[url] >= count for url in named)

    def per_host(self) -> collections.Counter[str]:
        return collections.Counter(urlsplit(url).hostname or "" for url in self.started)


async def eventually(condition: Callable[[], bool], *, within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.005)


class Scheduler:
    def __init__(
        self,
        database: Database,
        transport: CountingTransport,
        *,
        clock: StepClock,
        interval: dt.timedelta,
        concurrency: int,
    ) -> None:
        self.clock = clock
        self.feeds = FeedRepository(database)
        self.client = httpx.AsyncClient(transport=transport)
        self.service = FeedService(
            self.feeds,
            EntryRepository(database),
            HttpFeedFetcher(self.client),
            poll_interval=interval,
            retention=dt.timedelta(days=90),
            clock=clock,
            concurrency=concurrency,
        )

    async def add(self, url: str, *, due: dt.datetime | None = None) -> None:
        when = due or self.clock()
        await self.feeds.add(url, now=self.clock(), next_poll_at=when)

    async def close(self) -> None:
        await self.service.close()
        await self.client.aclose()


@pytest.fixture
async def make_scheduler(
    database: Database, clock: StepClock
) -> AsyncIterator[Callable[..., Scheduler]]:
    made: list[Scheduler] = []

    def make(
        transport: CountingTransport,
        *,
        interval: dt.timedelta = dt.timedelta(seconds=60),
        concurrency: int = 64,
        clock: StepClock = clock,
    ) -> Scheduler:
        made.append(
            Scheduler(database, transport, clock=clock, interval=interval, concurrency=concurrency)
        )
        return made[-1]

    yield make
    for scheduler in made:
        await scheduler.close()


async def test_a_poll_starts_as_soon_as_a_slot_frees_not_on_a_tick(
    make_scheduler: Callable[..., Scheduler],
) -> None:
    transport = CountingTransport(hold=True)
    scheduler = make_scheduler(transport, concurrency=2)
    for host in ("a", "b", "c"):
        await scheduler.add(f"https://{host}.example/feed")

    scheduler.service.start()
    await eventually(lambda: len(transport.started) == 2)
    transport.waiting[0].set()
    released = time.monotonic()
    await eventually(lambda: len(transport.started) == 3)

    assert time.monotonic() - released < 0.25
    assert sorted(transport.requests.values()) == [1, 1, 1]


async def test_a_host_whose_feeds_all_hang_never_delays_another_hosts_due_feed(
    make_scheduler: Callable[..., Scheduler], clock: StepClock
) -> None:
    transport = CountingTransport(hanging=frozenset({"slow.example"}))
    scheduler = make_scheduler(transport, concurrency=8)
    for n in range(12):
        # Due before the other host's feed, so a due list read in order starts with them.
        await scheduler.add(f"https://slow.example/{n}", due=clock() - dt.timedelta(seconds=30))
    await scheduler.add("https://fast.example/feed")

    scheduler.service.start()
    await eventually(transport.reached("https://fast.example/feed", 1))
    for polls in (2, 3):
        clock.advance(seconds=60)
        scheduler.service.wake()
        await eventually(transport.reached("https://fast.example/feed", polls))

    assert transport.per_host()["slow.example"] == 2


async def test_200_feeds_on_20_hosts_due_every_2_s_are_each_polled_at_every_due_time(
    make_scheduler: Callable[..., Scheduler], clock: StepClock
) -> None:
    transport = CountingTransport()
    scheduler = make_scheduler(transport, interval=dt.timedelta(seconds=2))
    urls = [f"https://host{n % 20}.example/feed{n}" for n in range(200)]
    for url in urls:
        await scheduler.add(url)

    scheduler.service.start()
    for due_time in range(1, 6):
        await eventually(transport.reached(urls, due_time))
        assert {transport.requests[url] for url in urls} == {due_time}
        clock.advance(seconds=2)
        scheduler.service.wake()

    assert scheduler.service.stats.started == 1000
    assert max(scheduler.service.stats.lateness) == 0.0


class RunningClock(StepClock):
    """A clock that has moved on a little every time it is read, as a busy machine's does."""

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(milliseconds=100)
        return self.now


async def test_a_feed_that_comes_due_while_the_scheduler_looks_is_polled_at_once(
    make_scheduler: Callable[..., Scheduler], clock: StepClock
) -> None:
    transport = CountingTransport()
    scheduler = make_scheduler(transport, clock=RunningClock(clock.now))
    urls = [f"https://host{n}.example/feed" for n in range(5)]
    for n, url in enumerate(urls):
        await scheduler.add(url, due=clock.now + dt.timedelta(milliseconds=150 * (n + 1)))

    scheduler.service.start()

    await eventually(transport.reached(urls, 1), within=2)
