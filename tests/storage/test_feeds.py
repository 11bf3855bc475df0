"""Feed claims on both backends: one poller a feed at a time, whatever process asks."""

from __future__ import annotations

import asyncio
import datetime as dt

from bot.storage.database import Database
from bot.storage.feeds import FeedRepository
from bot.storage.interfaces import PollSuccess
from tests.conftest import NOW, OpenAgain

LEASE = dt.timedelta(seconds=100)
KEEP_AFTER = NOW - dt.timedelta(days=90)


async def _feed_ids(feeds: FeedRepository, count: int) -> list[int]:
    return [
        (await feeds.add(f"https://news.example/{n}.xml", now=NOW, next_poll_at=NOW)).id
        for n in range(count)
    ]


async def test_of_two_processes_claiming_a_feed_at_once_exactly_one_wins(
    database: Database, open_again: OpenAgain
) -> None:
    mine, theirs = FeedRepository(database), FeedRepository(await open_again())
    feed_ids = await _feed_ids(mine, 20)

    rounds = [
        await asyncio.gather(
            mine.claim(feed_id, now=NOW, until=NOW + LEASE),
            theirs.claim(feed_id, now=NOW, until=NOW + LEASE),
        )
        for feed_id in feed_ids
    ]

    assert [sum(claimed is not None for claimed in pair) for pair in rounds] == [1] * 20
    winners = [claimed for pair in rounds for claimed in pair if claimed is not None]
    assert [feed.id for feed in winners] == feed_ids
    assert {feed.claimed_until for feed in winners} == {NOW + LEASE}


async def test_a_claim_returns_the_row_as_another_process_left_it(
    database: Database, open_again: OpenAgain
) -> None:
    mine, theirs = FeedRepository(database), FeedRepository(await open_again())
    [feed_id] = await _feed_ids(mine, 1)
    await theirs.record_failure(
        feed_id, "timed out", now=NOW, next_poll_at=NOW + dt.timedelta(minutes=4)
    )

    claimed = await mine.claim(feed_id, now=NOW, until=NOW + LEASE)

    assert claimed is not None
    assert claimed.next_poll_at == NOW + dt.timedelta(minutes=4)
    assert claimed.last_error == "timed out"


async def test_a_claim_is_refused_until_it_runs_out_then_taken_over(database: Database) -> None:
    feeds = FeedRepository(database)
    [feed_id] = await _feed_ids(feeds, 1)
    await feeds.claim(feed_id, now=NOW, until=NOW + LEASE)

    held = await feeds.claim(feed_id, now=NOW + LEASE - dt.timedelta(seconds=1), until=NOW)
    taken = await feeds.claim(feed_id, now=NOW + LEASE, until=NOW + 2 * LEASE)

    assert held is None
    assert taken is not None
    assert taken.claimed_until == NOW + 2 * LEASE


async def test_an_unknown_feed_cannot_be_claimed(database: Database) -> None:
    assert await FeedRepository(database).claim(404, now=NOW, until=NOW + LEASE) is None


async def test_every_recorded_poll_outcome_frees_the_claim(database: Database) -> None:
    feeds = FeedRepository(database)
    ok, unchanged, failed = await _feed_ids(feeds, 3)
    later = NOW + dt.timedelta(minutes=2)
    for feed_id in (ok, unchanged, failed):
        await feeds.claim(feed_id, now=NOW, until=NOW + LEASE)

    for feed_id, not_modified in ((ok, False), (unchanged, True)):
        feed = await feeds.get(feed_id)
        assert feed is not None
        success = PollSuccess(
            etag='"1"', last_modified=None, next_poll_at=later, not_modified=not_modified
        )
        await feeds.record_success(feed, success, (), now=NOW, keep_after=KEEP_AFTER)
    await feeds.record_failure(failed, "HTTP 500", now=NOW, next_poll_at=later)

    assert [feed.claimed_until for feed in await feeds.all()] == [None, None, None]
    for feed_id in (ok, unchanged, failed):
        assert await feeds.claim(feed_id, now=NOW, until=NOW + LEASE) is not None


async def test_releasing_frees_only_the_claim_it_names(database: Database) -> None:
    feeds = FeedRepository(database)
    [feed_id] = await _feed_ids(feeds, 1)
    await feeds.claim(feed_id, now=NOW, until=NOW + LEASE)
    # The claim ran out and another process took the feed over.
    await feeds.claim(feed_id, now=NOW + LEASE, until=NOW + 2 * LEASE)

    stale = await feeds.release(feed_id, until=NOW + LEASE)
    current = await feeds.release(feed_id, until=NOW + 2 * LEASE)

    assert (stale, current) == (False, True)
    assert [feed.claimed_until for feed in await feeds.all()] == [None]
