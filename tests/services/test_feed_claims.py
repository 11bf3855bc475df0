"""Several Herald processes on one database share its feed polls: each due poll once."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from bot.feeds import HttpFeedFetcher
from bot.sandbox.feedserver import FeedItem, FeedServer
from bot.services.feeds import FeedService
from bot.storage.database import Database
from bot.storage.entries import EntryRepository
from bot.storage.feeds import FeedRepository
from tests.conftest import OpenAgain
from tests.services.conftest import StepClock
from tests.services.test_polling import eventually

INTERVAL = dt.timedelta(seconds=120)


class Process:
    """One Herald process's feed watcher: its own connections to the store, its own client."""

    def __init__(self, database: Database, clock: StepClock) -> None:
        self.database = database
        self.feeds = FeedRepository(database)
        # trust_env=False: a proxy set in the environment must not see loopback traffic.
        self.client = httpx.AsyncClient(trust_env=False)
        self.service = FeedService(
            self.feeds,
            EntryRepository(database),
            HttpFeedFetcher(self.client),
            poll_interval=INTERVAL,
            retention=dt.timedelta(days=90),
            clock=clock,
        )

    async def stop(self) -> None:
        await self.service.close()
        await self.client.aclose()
        await self.database.close()

    async def die(self) -> None:
        """End as a killed process does: its connections go first, so it frees nothing."""
        await self.database.close()
        await self.service.close()
        await self.client.aclose()


StartProcess = Callable[[], Awaitable[Process]]


@pytest.fixture
async def start_process(open_again: OpenAgain, clock: StepClock) -> AsyncIterator[StartProcess]:
    started: list[Process] = []

    async def start() -> Process:
        started.append(Process(await open_again(), clock))
        return started[-1]

    yield start
    for process in started:
        await process.service.close()
        await process.client.aclose()


async def poll_until_nothing_is_due(*processes: Process) -> None:
    """Let every process start every poll due now, together, and wait for them to end."""
    while True:
        started = await asyncio.gather(*(process.service.poll_due() for process in processes))
        await asyncio.gather(*(process.service.wait_idle() for process in processes))
        if not any(started):
            return


def publish(feed_server: FeedServer, paths: list[str]) -> list[str]:
    for path in paths:
        feed_server.publish_rss(
            path, [FeedItem(f"Story on {path}", f"https://news.example{path}")]
        )
    return [feed_server.url(path) for path in paths]


async def test_two_processes_poll_each_due_feed_once_at_every_due_time(
    start_process: StartProcess, feed_server: FeedServer, clock: StepClock
) -> None:
    paths = [f"/feed{n}.xml" for n in range(6)]
    urls = publish(feed_server, paths)
    first, second = await start_process(), await start_process()
    await first.service.ensure(urls)
    await second.service.ensure(urls)

    hits = []
    for _ in range(3):
        # Past every feed's time, however ensure() spread them out at start-up.
        clock.advance(seconds=INTERVAL.total_seconds())
        await poll_until_nothing_is_due(first, second)
        hits.append([feed_server.hits(path) for path in paths])

    assert hits == [[1] * 6, [2] * 6, [3] * 6]
    assert [feed.polls for feed in await first.feeds.all()] == [3] * 6
    assert first.service.stats.started + second.service.stats.started == 18


async def test_a_feed_whose_poller_died_mid_poll_is_taken_over_once_its_claim_runs_out(
    start_process: StartProcess, feed_server: FeedServer, clock: StepClock
) -> None:
    feed_server.hang("/world.xml")
    url = feed_server.url("/world.xml")
    dying, survivor = await start_process(), await start_process()
    await dying.service.ensure([url])
    await dying.service.poll_due()
    await eventually(lambda: feed_server.hits("/world.xml") == 1)
    await dying.die()
    feed_server.publish_rss("/world.xml", [FeedItem("Back", "https://news.example/back")])

    await poll_until_nothing_is_due(survivor)
    while_claimed = feed_server.hits("/world.xml")
    clock.advance(seconds=survivor.service.claim_lease.total_seconds())
    await poll_until_nothing_is_due(survivor)

    assert while_claimed == 1
    assert feed_server.hits("/world.xml") == 2
    feed = await survivor.feeds.by_url(url)
    assert feed is not None
    assert (feed.last_success_at, feed.claimed_until) == (clock.now, None)


async def test_a_feed_added_through_one_process_is_polled_by_another_once_the_first_is_gone(
    start_process: StartProcess, feed_server: FeedServer, clock: StepClock
) -> None:
    [url] = publish(feed_server, ["/world.xml"])
    first, second = await start_process(), await start_process()
    await second.service.poll_due()  # it has read the feeds: there were none

    await first.service.add(url)
    await first.stop()
    clock.advance(seconds=INTERVAL.total_seconds())
    await poll_until_nothing_is_due(second)

    assert feed_server.hits("/world.xml") == 2
    feed = await second.feeds.by_url(url)
    assert feed is not None
    assert (feed.polls, feed.last_polled_at) == (2, clock.now)  # the add, then the poll


async def test_a_poll_asked_for_is_made_though_another_process_polled_the_feed_lately(
    start_process: StartProcess, feed_server: FeedServer, clock: StepClock
) -> None:
    [url] = publish(feed_server, ["/world.xml"])
    first, second = await start_process(), await start_process()
    await first.service.ensure([url])
    await poll_until_nothing_is_due(first, second)
    feed = await first.feeds.by_url(url)
    assert feed is not None

    await second.service.poll_soon(feed.id)
    await poll_until_nothing_is_due(first, second)

    assert feed_server.hits("/world.xml") == 2
