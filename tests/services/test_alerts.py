"""Routing new entries to chats by their topics, against a real SQLite outbox."""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import pytest

from bot.domain import InactiveReason, ParsedEntry, TopicMode
from bot.services.alerts import AlertRouter
from bot.services.topics import MAX_TOPICS, TopicError
from bot.storage.database import Database
from bot.storage.entries import EntryRepository
from bot.storage.interfaces import PollSuccess
from bot.storage.postgres.database import PostgresDatabase
from bot.storage.topics import TopicRepository
from bot.topics import InvalidQueryError
from tests.services.conftest import StepClock
from tests.services.newsroom import Newsroom


@pytest.fixture
def newsroom(database: Database, clock: StepClock) -> Newsroom:
    return Newsroom(database, clock)


async def test_each_matched_chat_gets_one_alert_listing_its_matched_topics(
    newsroom: Newsroom, clock: StepClock
) -> None:
    await newsroom.chat(1, "Kim Jong Un", "North Korea")
    await newsroom.chat(2, "Putin OR Kremlin")
    await newsroom.chat(3, "sanctions -Iran")
    clock.advance(minutes=1)
    await newsroom.publish(
        "Kim Jong-un inspects North Korea's missiles",
        "Kremlin denies the report",
        "Iran hit by new sanctions",
    )

    queued = await newsroom.router.route_pending()

    assert queued == 2
    assert await newsroom.alerts() == [
        (1, "Kim Jong-un inspects North Korea's missiles", '["Kim Jong Un","North Korea"]'),
        (2, "Kremlin denies the report", '["Putin OR Kremlin"]'),
    ]
    assert newsroom.wakes == 2


async def test_the_first_poll_and_older_entries_alert_nobody(
    newsroom: Newsroom, clock: StepClock
) -> None:
    await newsroom.publish("Putin speaks in Moscow", baseline=True)
    await newsroom.chat(1, "Putin")
    await newsroom.router.route_pending()
    before_topic = clock() - dt.timedelta(minutes=5)
    clock.now = before_topic
    await newsroom.publish("Putin's earlier speech, found late")

    await newsroom.router.route_pending()

    assert await newsroom.alerts() == []


async def test_digest_only_topics_and_inactive_chats_get_no_alerts(
    newsroom: Newsroom, clock: StepClock
) -> None:
    await newsroom.chat(1, "Gaza")
    [topic] = await newsroom.topics.list(1)
    await newsroom.topics.set_mode(1, topic.id, TopicMode.DIGEST)
    await newsroom.chat(2, "Gaza")
    await newsroom.chats.deactivate(2, InactiveReason.BLOCKED)
    await newsroom.chat(3, "Gaza")
    clock.advance(minutes=1)
    await newsroom.publish("Aid trucks enter Gaza")

    await newsroom.router.route_pending()

    assert [chat for chat, _, _ in await newsroom.alerts()] == [3]


async def test_an_edited_entry_is_not_alerted_again(newsroom: Newsroom, clock: StepClock) -> None:
    await newsroom.chat(1, "ceasefire")
    clock.advance(minutes=1)
    await newsroom.publish("Ceasefire talks begin")
    await newsroom.router.route_pending()
    feed = await newsroom.feeds.by_url("https://news.example/rss")
    assert feed is not None
    await newsroom.feeds.record_success(
        feed,
        PollSuccess(etag=None, last_modified=None, next_poll_at=clock()),
        [
            ParsedEntry(
                key="1",
                title="Ceasefire talks begin, ceasefire expected",
                summary="",
                link="https://news.example/1",
                published=clock(),
                author="",
            )
        ],
        now=clock(),
        keep_after=clock() - dt.timedelta(days=90),
    )

    await newsroom.router.route_pending()

    assert len(await newsroom.alerts()) == 1


async def test_a_stopped_chat_leaves_the_index_and_a_moved_one_is_alerted_at_its_new_id(
    newsroom: Newsroom, clock: StepClock
) -> None:
    await newsroom.chat(1, "Gaza")
    await newsroom.chat(-100, "Gaza")
    await newsroom.chats.stop(1)
    await newsroom.chats.move(-100, -1001)
    clock.advance(minutes=1)
    await newsroom.publish("Gaza crossing reopens")

    await newsroom.router.route_pending()

    assert [chat for chat, _, _ in await newsroom.alerts()] == [-1001]


async def test_a_chat_follows_at_most_fifty_topics(newsroom: Newsroom) -> None:
    await newsroom.chat(1, *(f"topic{n}" for n in range(MAX_TOPICS)))

    with pytest.raises(TopicError, match="50 topics"):
        await newsroom.topics.add(1, "one more")

    assert len(await newsroom.topics.list(1)) == MAX_TOPICS


async def test_a_topic_over_200_characters_is_refused_and_nothing_stored(
    newsroom: Newsroom,
) -> None:
    await newsroom.chat(1)

    with pytest.raises(InvalidQueryError, match="200 characters"):
        await newsroom.topics.add(1, "x" * 201)

    assert await newsroom.topics.list(1) == []


async def test_the_index_is_rebuilt_from_the_database_at_start_up(
    newsroom: Newsroom, database: Database, clock: StepClock
) -> None:
    await newsroom.chat(1, "Gaza", "Putin")
    restarted = Newsroom(database, clock)

    loaded = await restarted.topics.load_index()
    clock.advance(minutes=1)
    await restarted.publish("Putin in Gaza talks")
    await restarted.router.route_pending()

    assert loaded == 2
    assert await restarted.alerts() == [(1, "Putin in Gaza talks", '["Gaza","Putin"]')]


async def test_the_same_story_from_two_feeds_reaches_a_chat_once(
    newsroom: Newsroom, clock: StepClock
) -> None:
    await newsroom.chat(1, "Gaza")
    await newsroom.chat(2, "Gaza")
    await newsroom.chats.deactivate(2, InactiveReason.BLOCKED)
    await newsroom.chat(3, "convoy reaches")
    clock.advance(minutes=1)
    story = "https://wire.example/gaza-aid"
    await newsroom.publish("Gaza aid convoy arrives", link=story)
    await newsroom.router.route_pending()
    await newsroom.chats.reactivate(2)

    await newsroom.publish(
        "Aid convoy reaches Gaza", feed_url="https://other.example/rss", link=story
    )
    await newsroom.router.route_pending()

    assert sorted((chat, title) for chat, title, _ in await newsroom.alerts()) == [
        (1, "Gaza aid convoy arrives"),
        (2, "Aid convoy reaches Gaza"),
        (3, "Aid convoy reaches Gaza"),
    ]


async def test_the_routing_worker_routes_when_woken_and_carries_on_after_an_error(
    newsroom: Newsroom, database: Database, clock: StepClock
) -> None:
    await newsroom.chat(1, "Putin")
    clock.advance(minutes=1)
    await newsroom.publish("Putin speaks in Moscow", "Putin flies to Hanoi")
    errors = [RuntimeError("the sender could not be woken")]

    def wake_sender() -> None:
        if errors:
            raise errors.pop()

    router = AlertRouter(
        EntryRepository(database),
        TopicRepository(database),
        newsroom.index,
        clock=clock,
        wake=wake_sender,
        retry_after=0.01,
    )
    router.start()
    try:
        router.wake()
        deadline = time.monotonic() + 5
        while len(await newsroom.alerts()) < 2:
            assert time.monotonic() < deadline, "entries not routed in time"
            await asyncio.sleep(0.01)
    finally:
        await router.close()

    assert [title for _, title, _ in await newsroom.alerts()] == [
        "Putin speaks in Moscow",
        "Putin flies to Hanoi",
    ]
    assert errors == []


@pytest.mark.parametrize(
    "text", ["<b>Putin</b>", 'Gaza <a href="x">ceasefire</a>', "<br/> Kremlin"]
)
async def test_a_topic_with_markup_is_refused_and_nothing_stored(
    newsroom: Newsroom, text: str
) -> None:
    await newsroom.chat(1)

    with pytest.raises(TopicError, match="words, not markup"):
        await newsroom.topics.add(1, text)

    assert await newsroom.topics.list(1) == []


async def test_angle_brackets_that_are_no_markup_are_words(newsroom: Newsroom) -> None:
    await newsroom.chat(1)

    await newsroom.topics.add(1, "AT&T < Verizon")

    assert [topic.query for topic in await newsroom.topics.list(1)] == ["AT&T < Verizon"]


class Processes:
    """Two processes on one database: ``leader`` routes, people talk to ``other``, and
    ``told`` holds the topic ids ``other`` announced."""

    def __init__(self, database: Database, clock: StepClock) -> None:
        self.told: list[int] = []
        self.leader = Newsroom(database, clock)
        self.other = Newsroom(database, clock, announce=self.told.extend)


async def test_a_topic_added_through_another_process_gets_what_was_routed_before_it_knew(
    database: Database, clock: StepClock
) -> None:
    processes = Processes(database, clock)
    told, leader, other = processes.told, processes.leader, processes.other
    await leader.publish("Gaza ceasefire talks resume")  # before the topic: not for it
    clock.advance(minutes=1)
    await other.chat(1, "Gaza")
    clock.advance(seconds=1)
    await leader.publish("Aid reaches Gaza", "Markets rally")
    await leader.router.route_pending()  # the leader has not heard of the topic yet
    assert await leader.alerts() == []

    learned = await leader.topics.sync(told)
    queued = await leader.router.reroute(learned)
    again = await leader.router.reroute(learned)

    assert [topic.query for topic in learned] == ["Gaza"]
    assert queued == 1
    assert again == 0
    assert await leader.alerts() == [(1, "Aid reaches Gaza", '["Gaza"]')]


async def test_a_topic_removed_through_another_process_leaves_every_index(
    database: Database, clock: StepClock
) -> None:
    processes = Processes(database, clock)
    told, leader, other = processes.told, processes.leader, processes.other
    await other.chat(1, "Gaza")
    await leader.topics.sync(told)
    told.clear()

    await other.topics.remove(1, "1")
    await leader.topics.sync(told)
    clock.advance(minutes=1)
    await leader.publish("Aid reaches Gaza")
    await leader.router.route_pending()

    assert told
    assert await leader.alerts() == []


async def test_after_a_break_the_index_is_compared_with_the_stored_topics(
    database: Database, clock: StepClock
) -> None:
    leader = Newsroom(database, clock)
    other = Newsroom(database, clock)
    await leader.chat(2, "Kremlin")
    await other.chat(1, "Gaza")  # announced while the leader wasn't listening
    await other.topics.remove(2, "1")

    learned = await leader.topics.reload_index()
    clock.advance(minutes=1)
    await leader.publish("Aid reaches Gaza", "Kremlin says no")
    await leader.router.route_pending()

    assert [topic.query for topic in learned] == ["Gaza"]
    assert await leader.alerts() == [(1, "Aid reaches Gaza", '["Gaza"]')]


async def test_an_entry_another_process_is_routing_right_now_is_not_routed_again(
    postgres_url: str, clock: StepClock
) -> None:
    # A leader that lost the lead may still be routing an entry while the next one starts.
    database = await PostgresDatabase.connect(postgres_url)
    elsewhere = await PostgresDatabase.connect(postgres_url)
    try:
        newsroom = Newsroom(database, clock)
        for chat_id in range(1, 6):
            await newsroom.chat(chat_id, "Gaza")
        clock.advance(minutes=1)
        [entry_id] = await newsroom.publish("Aid reaches Gaza")
        [entry] = await newsroom.entries.unrouted(limit=10)
        async with elsewhere.session() as connection, connection.transaction():
            # The other process has taken the entry and is queuing its alerts.
            await connection.execute(
                "UPDATE entries SET routed = 1 WHERE id = %s AND routed = 0", (entry_id,)
            )
            here = asyncio.create_task(
                newsroom.topic_repository.route(entry, newsroom.index_ids(), now=clock())
            )
            await asyncio.sleep(0.3)
            assert not here.done()  # waiting for the other's transaction
        sent, held = await here
        alerts = await newsroom.alerts()
    finally:
        await elsewhere.close()
        await database.close()

    assert (sent, held) == (0, 0)
    assert alerts == []
