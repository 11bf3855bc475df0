"""Every story an alert rule selects reaches its chat once: alerts, holds, digests, pushes."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.delivery.worker import GIVE_UP_AFTER, MAX_ATTEMPTS, ThreadGoneError, TransientError
from bot.domain import ChatKind, ParsedEntry
from bot.formatting import plain_text
from bot.storage.database import Database
from bot.storage.interfaces import PollSuccess
from tests.conftest import failing_updates
from tests.services.conftest import StepClock
from tests.services.newsdesk import Newsdesk


@pytest.fixture
def desk(database: Database, clock: StepClock) -> Newsdesk:
    return Newsdesk(database, clock, admin_ids=(99,))


# 1. The alert rule: first stored after the topic was added, whatever date the feed claims.


async def test_a_story_dated_before_its_topic_but_first_seen_after_it_is_alerted(
    desk: Newsdesk, clock: StepClock
) -> None:
    await desk.publish(baseline=True)
    await desk.chat(1, "Vietnam")
    dated = clock() - dt.timedelta(seconds=50)
    clock.advance(seconds=20)
    await desk.publish("Vietnam and Russia sign a deal", dated=dated)

    await desk.deliver()

    [alert] = desk.sender.texts(1)
    assert "Vietnam and Russia sign a deal" in alert


async def test_a_thousand_chats_adding_a_topic_in_the_second_a_story_is_stamped_all_get_it(
    desk: Newsdesk, clock: StepClock
) -> None:
    await desk.publish(baseline=True)
    stamped = clock().replace(microsecond=0)  # RFC 822 dates have no fractions
    for chat in range(1, 1001):
        clock.now = stamped + dt.timedelta(microseconds=999 * chat)
        await desk.chat(chat, "Russia")
    clock.now = stamped + dt.timedelta(seconds=90)
    await desk.publish("Russia expels diplomats", dated=stamped)

    queued = await desk.router.route_pending()

    assert queued == 1000


async def test_an_entry_dated_days_before_first_sight_is_stored_but_alerts_nobody(
    desk: Newsdesk, clock: StepClock
) -> None:
    await desk.publish(baseline=True)
    await desk.chat(1, "Kremlin")
    clock.advance(minutes=5)
    await desk.publish("Kremlin archive: the 2019 summit", dated=clock() - dt.timedelta(days=3))
    await desk.publish("Kremlin denies the report", dated=clock() - dt.timedelta(hours=40))

    await desk.deliver()

    [alert] = desk.sender.texts(1)
    assert "Kremlin denies the report" in alert
    assert len(await desk.entries.latest(limit=10)) == 2


# 2. A catch-up keeps the record of what it delivered.


async def test_a_story_in_a_catch_up_is_not_pushed_again_by_breaking_or_another_feed(
    desk: Newsdesk, clock: StepClock
) -> None:
    await desk.publish(baseline=True)
    chat = await desk.subscriber_muted(1, "Gaza")
    story = "https://wire.example/gaza-convoy"
    [entry] = await desk.publish("Gaza convoy arrives", link=story)
    await desk.deliver()
    await desk.quiet.unmute(chat)
    await desk.deliver()

    breaking = await desk.broadcasts.breaking(str(entry))
    await desk.publish("Convoy reaches Gaza", feed_url="https://other.example/rss", link=story)
    await desk.deliver()

    [catch_up] = desk.sender.texts(1)
    assert "While alerts were paused" in catch_up
    assert (breaking.queued, breaking.already_had_it) == (0, 1)
    assert desk.sender.links(1) == [story]
    assert await desk.ledger.deliveries(1) == [(entry, "push", "catchup")]


# 3. Merging never drops an alert.


async def test_waiting_alerts_too_long_to_list_together_each_arrive_once(
    desk: Newsdesk, clock: StepClock
) -> None:
    await desk.publish(baseline=True)
    await desk.chat(1, "tariffs")
    clock.advance(minutes=1)
    tracking = "?utm_source=feed&ref=" + "x" * 1800
    links = [f"https://news.example/tariffs-{n}{tracking}" for n in range(3)]
    for n, link in enumerate(links):
        await desk.publish(f"Tariffs round {n}", link=link)

    await desk.deliver()

    assert sorted(desk.sender.links(1)) == sorted(link.replace("&", "&amp;") for link in links)
    assert [state for _, state in await desk.states(1)] == ["sent"] * 3


# 4. A send Telegram confirmed is never sent again while recording it fails.


@pytest.fixture
async def impatient_database(tmp_path: Path) -> AsyncIterator[Database]:
    """A database that gives up on a lock at once, so a locked file fails writes quickly."""
    database = await Database.open(tmp_path / "herald.db", busy_timeout=0.05)
    try:
        yield database
    finally:
        await database.close()


async def test_a_confirmed_send_is_not_repeated_while_the_database_refuses_to_record_it(
    impatient_database: Database,
    clock: StepClock,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    desk = Newsdesk(impatient_database, clock)
    await desk.publish(baseline=True)
    await desk.chat(1, "sanctions")
    clock.advance(minutes=1)
    await desk.publish("New sanctions on Iran")
    await desk.router.route_pending()
    other = sqlite3.connect(tmp_path / "herald.db", isolation_level=None)
    locked = False

    def lock_after_sending(chat_id: int, text: str) -> None:
        # Telegram takes the message; meanwhile another writer holds the database.
        nonlocal locked
        if not locked:
            other.execute("BEGIN IMMEDIATE")
            locked = True

    desk.sender.answer = lock_after_sending
    for _ in range(5):
        await desk.deliverer.drain()
        clock.advance(seconds=2)
    while_locked = list(desk.sender.texts(1))
    other.execute("COMMIT")
    await desk.deliverer.drain()

    assert len(while_locked) == 1
    assert len(desk.sender.texts(1)) == 1
    assert [state for _, state in await desk.states(1)] == ["sent"]
    assert len(await desk.ledger.deliveries(1)) == 1
    warnings = [record for record in caplog.records if "could not record" in record.message]
    assert len(warnings) == 1
    assert warnings[0].exc_info is None
    other.close()


# 5. Attempts are bounded; a failing message never blocks its chat.


async def test_a_message_failing_for_a_day_is_given_up_reported_once_and_blocks_nothing(
    desk: Newsdesk, clock: StepClock
) -> None:
    await desk.chats.start(99, ChatKind.PRIVATE, "Admin")
    await desk.publish(baseline=True)
    await desk.chat(1, "Sudan")
    clock.advance(minutes=1)
    await desk.publish("Sudan talks collapse")
    start = clock()
    desk.sender.answer = lambda chat_id, text: (
        TransientError("HTTP 502") if "Sudan talks collapse" in text else None
    )
    await desk.deliver()
    clock.advance(minutes=30)
    await desk.publish("Sudan ceasefire announced")
    await desk.deliver()
    ceasefire_arrived = any("ceasefire" in text for text in desk.sender.texts(1))

    attempts = 1
    while (await desk.states(1))[0][1] == "pending":
        clock.advance(minutes=10)
        await desk.deliverer.drain()
        attempts += 1
        assert attempts < 500
    await desk.minute_job()
    await desk.minute_job()
    await desk.deliverer.drain()

    assert ceasefire_arrived
    assert (await desk.states(1))[0] == ("alert", "failed")
    assert clock() - start >= GIVE_UP_AFTER
    row = await desk.database.fetchone("SELECT attempts FROM outbox WHERE chat_id = 1")
    assert row is not None
    assert row[0] >= MAX_ATTEMPTS
    [notice] = desk.sender.texts(99)
    assert "1 message was given up on" in notice


# 6. Holds take effect at once.


async def test_mute_holds_alerts_already_queued_and_those_routed_after_it(
    desk: Newsdesk, clock: StepClock
) -> None:
    await desk.publish(baseline=True)
    chat = await desk.chat(1, "Taiwan")
    clock.advance(minutes=1)
    await desk.publish("Taiwan strait drills", "Taiwan election called")
    await desk.router.route_pending()
    subscriber = await desk.chats.get(chat)
    assert subscriber is not None

    await desk.quiet.mute(subscriber, "2h")
    await desk.publish("Taiwan responds")
    await desk.deliver()

    assert desk.sender.texts(1) == []
    assert [state for _, state in await desk.states(1)] == ["held"] * 3


async def test_quiet_hours_hold_alerts_from_their_first_second_not_the_next_job(
    desk: Newsdesk, clock: StepClock
) -> None:
    clock.now = dt.datetime(2026, 3, 14, 21, 59, 50, tzinfo=dt.UTC)
    await desk.publish(baseline=True)
    await desk.chat(1, "Iran")
    subscriber = await desk.chats.get(1)
    assert subscriber is not None
    await desk.quiet.set_quiet_hours(subscriber, "22:00-07:00")
    await desk.minute_job()
    clock.now = dt.datetime(2026, 3, 14, 22, 0, 1, tzinfo=dt.UTC)

    await desk.publish("Iran talks in Vienna")
    await desk.deliver()

    assert desk.sender.texts(1) == []
    assert [state for _, state in await desk.states(1)] == ["held"]


# 7. A catch-up is bounded; what it leaves out goes to the digest.


async def test_a_month_long_mute_ends_in_one_catch_up_of_twenty_and_the_rest_in_the_digest(
    desk: Newsdesk, clock: StepClock
) -> None:
    await desk.publish(baseline=True)
    chat = await desk.subscriber_muted(1, "Ukraine", duration="30d")
    for day in range(30):
        for n in range(4):
            await desk.publish(f"Ukraine day {day} report {n}")
        await desk.router.route_pending()
        clock.advance(days=1)

    await desk.minute_job()
    await desk.deliver()
    subscriber = await desk.chats.get(chat.id)
    assert subscriber is not None
    await desk.digests.send_now(subscriber)
    await desk.deliver()

    [catch_up, digest] = desk.sender.texts(1)
    assert "While alerts were paused</b>: 120 stories" in catch_up
    assert catch_up.count("<a href") == 20
    assert "Ukraine day 29 report 3" in catch_up
    assert "…and 100 older stories: see them with /digest now." in catch_up
    assert "Held while alerts were paused" in digest
    assert "Ukraine day 0 report 0" not in catch_up
    pushed = [entry for entry, channel, _ in await desk.ledger.deliveries(1) if channel == "push"]
    assert len(pushed) == 20


# 8. Digests: what is news to each topic, each story once, recorded with the digest.


async def test_a_digest_lists_only_what_was_first_seen_after_its_topic_and_before_the_run(
    desk: Newsdesk, clock: StepClock
) -> None:
    await desk.publish(baseline=True)
    await desk.publish("Kim Jong Un visits Moscow")
    clock.advance(minutes=5)
    subscriber = await desk.chat(1, "Kim Jong Un")
    clock.advance(minutes=5)
    await desk.publish("Kim Jong Un meets Putin")
    chat = await desk.chats.get(subscriber)
    assert chat is not None

    await desk.digests.send_now(chat)
    clock.advance(minutes=1)
    await desk.publish("Kim Jong Un returns home")
    await desk.digests.send_now(chat)
    nothing_new = await desk.digests.send_now(chat)

    first, second = (
        row[0]
        for row in await desk.database.fetchall(
            "SELECT text FROM outbox WHERE kind = 'digest' ORDER BY id"
        )
    )
    assert "Kim Jong Un meets Putin" in first
    assert "visits Moscow" not in first
    assert "Kim Jong Un returns home" in second
    assert "meets Putin" not in second
    assert nothing_new == 0


async def test_a_digest_is_queued_and_recorded_together_or_not_at_all(
    desk: Newsdesk, clock: StepClock
) -> None:
    clock.now = dt.datetime(2026, 3, 14, 7, 0, tzinfo=dt.UTC)
    await desk.publish(baseline=True)
    await desk.subscriber_with_digest(1, "Gaza", at=dt.time(8, 0))
    clock.advance(minutes=5)
    await desk.publish("Gaza aid arrives")
    # The process dies between queueing the digest and recording it: here, recording fails.
    clock.now = dt.datetime(2026, 3, 14, 8, 0, 30, tzinfo=dt.UTC)
    async with failing_updates(desk.database, "chats", "last_digest_at") as crash:
        with pytest.raises(crash):
            await desk.digests.send_due()

    for _ in range(3):
        await desk.minute_job()
        clock.advance(minutes=1)

    digests = await desk.database.fetchall("SELECT text FROM outbox WHERE kind = 'digest'")
    assert len(digests) == 1


# The story key: a link names a story only when it names one.


async def test_stories_a_feed_lists_under_one_shared_link_each_alert(
    desk: Newsdesk, clock: StepClock
) -> None:
    await desk.publish(baseline=True)
    await desk.chat(1, "flood")
    front_page = "https://smalltown.example/"
    for title in ("Flood warning for river", "Flood waters recede", "Flood damage assessed"):
        clock.advance(minutes=10)
        await desk.publish(title, link=front_page)
        await desk.deliver()

    assert [text.split("</a>")[0].rsplit(">", 1)[1] for text in desk.sender.texts(1)] == [
        "Flood warning for river",
        "Flood waters recede",
        "Flood damage assessed",
    ]


async def test_a_story_whose_link_was_edited_is_not_pushed_again_under_the_new_link(
    desk: Newsdesk, clock: StepClock
) -> None:
    await desk.publish(baseline=True)
    await desk.chat(1, "ceasefire")
    clock.advance(minutes=1)
    await desk.feeds.record_success(
        feed := await desk.feeds.add("https://a.example/rss", now=clock(), next_poll_at=clock()),
        PollSuccess(etag=None, last_modified=None, next_poll_at=clock()),
        [],
        now=clock(),
        keep_after=clock() - dt.timedelta(days=90),
    )
    for link in ("https://a.example/cf", "https://a.example/cf-updated"):
        clock.advance(minutes=1)
        await desk.feeds.record_success(
            feed,
            PollSuccess(etag=None, last_modified=None, next_poll_at=clock()),
            [
                ParsedEntry(
                    key="cf",
                    title="Gaza ceasefire holds",
                    summary="",
                    link=link,
                    published=clock(),
                    author="",
                )
            ],
            now=clock(),
            keep_after=clock() - dt.timedelta(days=90),
        )
        await desk.deliver()

    await desk.publish(
        "Ceasefire holds in Gaza, officials say",
        feed_url="https://b.example/rss",
        link="https://a.example/cf-updated",
    )
    await desk.deliver()

    assert len(desk.sender.texts(1)) == 1


async def test_unmute_counts_every_held_story_and_the_digest_lists_each_once(
    desk: Newsdesk, clock: StepClock
) -> None:
    await desk.publish(baseline=True)
    chat = await desk.subscriber_muted(1, "Gaza", duration="30d")
    for n in range(25):
        clock.advance(minutes=1)
        await desk.publish(f"Gaza update {n}")
    await desk.router.route_pending()

    released = await desk.quiet.unmute(chat)
    await desk.deliver()
    await desk.digests.send_now(chat)
    await desk.deliver()

    [catch_up, digest] = desk.sender.texts(1)
    assert released == 25
    assert "25 stories" in catch_up
    assert "Gaza update 24" in catch_up.split("\n")[1]
    listed = [line for line in digest.split("\n") if line.startswith("•")]
    assert len(listed) == len(set(listed))
    assert "25 stories since" in digest


# 9. Forum threads: each thread is pushed a story once; a gone thread falls back to General.

FORUM = -1_002_000_000_001


def first_line(html: str) -> str:
    return plain_text(html).splitlines()[0]


async def forum(desk: Newsdesk, topics: dict[int, str]) -> None:
    """A forum following each topic in its thread (0: General)."""
    await desk.chats.start(FORUM, ChatKind.SUPERGROUP, "Newsroom")
    for thread, topic in topics.items():
        await desk.topics.add(FORUM, topic, thread_id=thread)


async def test_a_story_matched_in_two_threads_reaches_each_thread_once(
    desk: Newsdesk, clock: StepClock
) -> None:
    await desk.publish(baseline=True)
    await forum(desk, {5: "North Korea", 7: "sanctions"})
    link = "https://wire.example/nk-sanctions"
    clock.advance(seconds=10)
    await desk.publish("North Korea faces sanctions", link=link)
    await desk.deliver()
    await desk.publish(
        "New sanctions on North Korea", feed_url="https://other.example/rss", link=link
    )

    await desk.deliver()

    assert [first_line(text) for text in desk.sender.in_thread(FORUM, 5)] == [
        "North Korea faces sanctions"
    ]
    assert [first_line(text) for text in desk.sender.in_thread(FORUM, 7)] == [
        "North Korea faces sanctions"
    ]
    assert desk.sender.in_thread(FORUM, None) == []


async def test_merged_alerts_list_only_alerts_for_one_thread(
    desk: Newsdesk, clock: StepClock
) -> None:
    await desk.publish(baseline=True)
    await forum(desk, {5: "Korea", 0: "Iran"})
    clock.advance(seconds=10)
    await desk.publish("Korea one", "Korea two", "Korea three", "Iran one", "Iran two")

    await desk.deliver()

    [merged] = desk.sender.in_thread(FORUM, 5)
    assert "Korea three" in merged
    assert "Iran" not in merged
    assert [first_line(text) for text in desk.sender.in_thread(FORUM, None)] == [
        "Iran one",
        "Iran two",
    ]


async def test_a_gone_thread_falls_back_to_general_once_with_a_notice(
    desk: Newsdesk, clock: StepClock
) -> None:
    await desk.publish(baseline=True)
    await forum(desk, {5: "Korea", 0: "Iran"})
    clock.advance(seconds=10)
    await desk.publish("Korea one")
    failures = [ThreadGoneError("message thread not found")]
    desk.sender.answer = lambda chat, text: failures.pop() if failures else None

    await desk.deliver()
    clock.advance(seconds=10)
    await desk.publish("Korea two")
    await desk.deliver()

    general = desk.sender.in_thread(FORUM, None)
    assert sum("deleted or closed" in text for text in general) == 1
    assert [first_line(text) for text in general if "deleted" not in text] == [
        "Korea one",
        "Korea two",
    ]
    assert [topic.thread_id for topic in await desk.topics.list(FORUM)] == [0, 0]
