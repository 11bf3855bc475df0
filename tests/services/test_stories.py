"""Story clusters: the same story from several outlets reaches a chat once."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.services.stories import StoryWindow
from bot.storage.database import Database
from bot.storage.entries import EntryRepository
from bot.storage.ledger import LedgerRepository
from bot.storage.outbox import OutboxRepository
from tests.services.conftest import StepClock
from tests.services.newsroom import Newsroom

PACT = "Putin and Kim sign mutual defence pact in Pyongyang"
PACT_TEXT = (
    "Russian President Vladimir Putin and North Korean leader Kim Jong Un signed a strategic"
    " partnership treaty on Wednesday that includes a pledge of mutual assistance if either"
    " country is attacked, during Putin's first visit to Pyongyang in 24 years."
)
PACT_AGAIN = "Russia and North Korea sign defence treaty as Putin visits Kim"
PACT_AGAIN_TEXT = (
    "Russian President Vladimir Putin and North Korean leader Kim Jong Un signed a strategic"
    " partnership treaty on Wednesday that includes a pledge of mutual assistance if either"
    " country is attacked."
)
SPACEPORT = "Kim Jong Un meets Putin at Russian space base, talks of 'sacred fight'"
SPACEPORT_TEXT = (
    "North Korea's Kim Jong Un met Vladimir Putin at the Vostochny cosmodrome in Russia's Far"
    " East on Wednesday, pledging support for Moscow as Putin offered to help Pyongyang build"
    " satellites."
)
REUTERS, WIRE = "https://reuters.example/rss", "https://wire.example/rss"


@pytest.fixture
def newsroom(database: Database, clock: StepClock) -> Newsroom:
    return Newsroom(database, clock)


async def story_of(database: Database, entry_id: int) -> str:
    return str(await database.fetchvalue("SELECT story FROM entries WHERE id = ?", (entry_id,)))


async def test_a_republished_story_from_another_feed_alerts_a_chat_once(
    newsroom: Newsroom, database: Database, clock: StepClock
) -> None:
    await newsroom.chat(1, "Putin")
    clock.advance(minutes=1)
    [first] = await newsroom.publish(PACT, feed_url=REUTERS, summary=PACT_TEXT)
    await newsroom.router.route_pending()
    clock.advance(minutes=1)
    [second] = await newsroom.publish(PACT_AGAIN, feed_url=WIRE, summary=PACT_AGAIN_TEXT)
    await newsroom.router.route_pending()

    assert [title for _, title, _ in await newsroom.alerts()] == [PACT]
    assert await story_of(database, second) == await story_of(database, first)


async def test_a_different_event_with_the_same_names_is_alerted_on_its_own(
    newsroom: Newsroom, clock: StepClock
) -> None:
    await newsroom.chat(1, "Putin")
    clock.advance(minutes=1)
    await newsroom.publish(PACT, feed_url=REUTERS, summary=PACT_TEXT)
    await newsroom.router.route_pending()
    clock.advance(minutes=1)
    await newsroom.publish(SPACEPORT, feed_url=WIRE, summary=SPACEPORT_TEXT)
    await newsroom.router.route_pending()

    assert [title for _, title, _ in await newsroom.alerts()] == [PACT, SPACEPORT]


async def test_a_copy_that_arrives_while_the_first_waits_is_not_queued_twice(
    newsroom: Newsroom, clock: StepClock
) -> None:
    await newsroom.chat(1, "Putin")
    clock.advance(minutes=1)
    await newsroom.publish(PACT, feed_url=REUTERS, summary=PACT_TEXT)
    await newsroom.publish(PACT_AGAIN, feed_url=WIRE, summary=PACT_AGAIN_TEXT)
    await newsroom.router.route_pending()

    assert [title for _, title, _ in await newsroom.alerts()] == [PACT]


async def test_a_copy_after_the_window_is_a_story_of_its_own(
    newsroom: Newsroom, clock: StepClock
) -> None:
    await newsroom.chat(1, "Putin")
    clock.advance(minutes=1)
    await newsroom.publish(PACT, feed_url=REUTERS, summary=PACT_TEXT)
    await newsroom.router.route_pending()
    clock.advance(hours=48, minutes=1)
    await newsroom.publish(PACT_AGAIN, feed_url=WIRE, summary=PACT_AGAIN_TEXT)
    await newsroom.router.route_pending()

    assert [title for _, title, _ in await newsroom.alerts()] == [PACT, PACT_AGAIN]


async def test_the_window_is_read_back_from_the_database_after_a_restart(
    newsroom: Newsroom, database: Database, clock: StepClock
) -> None:
    await newsroom.chat(1, "Putin")
    clock.advance(minutes=1)
    [first] = await newsroom.publish(PACT, feed_url=REUTERS, summary=PACT_TEXT)
    await newsroom.router.route_pending()

    restarted = StoryWindow(EntryRepository(database), window=dt.timedelta(hours=48), clock=clock)
    await restarted.refresh()
    clock.advance(minutes=5)
    [second] = await newsroom.publish(PACT_AGAIN, feed_url=WIRE, summary=PACT_AGAIN_TEXT)
    [entry] = await EntryRepository(database).many([second])

    assert len(restarted) == 1
    assert restarted.assign(entry).story == await story_of(database, first)


async def test_a_copy_joins_the_story_of_a_new_feeds_first_poll_and_alerts_who_never_had_it(
    newsroom: Newsroom, database: Database, clock: StepClock
) -> None:
    await newsroom.chat(1, "Putin")
    clock.advance(minutes=1)
    [baseline] = await newsroom.publish(PACT, feed_url=REUTERS, summary=PACT_TEXT, baseline=True)
    await newsroom.router.route_pending()
    clock.advance(minutes=1)
    [copy] = await newsroom.publish(PACT_AGAIN, feed_url=WIRE, summary=PACT_AGAIN_TEXT)
    await newsroom.router.route_pending()

    assert await story_of(database, copy) == await story_of(database, baseline)
    assert [title for _, title, _ in await newsroom.alerts()] == [PACT_AGAIN]


async def test_a_breaking_push_of_a_copy_skips_the_chat_alerted_to_the_story(
    newsroom: Newsroom, database: Database, clock: StepClock
) -> None:
    await newsroom.chat(1, "Putin")
    await newsroom.chat(2, "Vietnam")
    clock.advance(minutes=1)
    [first] = await newsroom.publish(PACT, feed_url=REUTERS, summary=PACT_TEXT)
    await newsroom.router.route_pending()
    outbox = OutboxRepository(database)
    [alert] = await outbox.due_heads(now=clock(), limit=10)
    await outbox.mark_sent([alert.id], now=clock(), message_id=1)
    clock.advance(minutes=1)
    [copy] = await newsroom.publish(PACT_AGAIN, feed_url=WIRE, summary=PACT_AGAIN_TEXT)
    await newsroom.router.route_pending()

    queued, had_it = await outbox.enqueue_breaking(copy, now=clock())

    assert (queued, had_it) == (1, 1)
    assert await LedgerRepository(database).pushed(1, copy)
    assert not await LedgerRepository(database).pushed(2, first)
