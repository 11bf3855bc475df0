"""Story clusters: the same story from several outlets reaches a chat once."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.services.reading import ReadingService
from bot.services.stories import StoryWindow
from bot.storage.database import Database
from bot.storage.entries import EntryRepository
from bot.storage.ledger import LedgerRepository
from bot.storage.outbox import OutboxRepository
from tests.services.conftest import StepClock
from tests.services.newsdesk import Newsdesk
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


# "Also: ..." edits of the alert a story's chats were sent.

PAPERS, GAZETTE, POST = (
    "https://papers.example/rss",
    "https://gazette.example/rss",
    "https://post.example/rss",
)


@pytest.fixture
def desk(database: Database, clock: StepClock) -> Newsdesk:
    return Newsdesk(database, clock)


async def alerted(desk: Newsdesk, clock: StepClock) -> None:
    """Chat 1 follows Putin and is sent the pact as a single alert."""
    await desk.chat(1, "Putin")
    clock.advance(minutes=1)
    await desk.publish(PACT, feed_url=REUTERS, summary=PACT_TEXT)
    await desk.deliver()
    assert len(desk.sender.texts(1)) == 1


async def copy_from(desk: Newsdesk, clock: StepClock, feed_url: str, title: str) -> None:
    clock.advance(minutes=1)
    await desk.publish(title, feed_url=feed_url, summary=PACT_AGAIN_TEXT)
    await desk.deliver()


async def test_the_alert_is_edited_to_name_each_outlet_the_story_comes_from(
    desk: Newsdesk, clock: StepClock
) -> None:
    await alerted(desk, clock)

    await copy_from(desk, clock, WIRE, PACT_AGAIN)
    await copy_from(desk, clock, PAPERS, "Putin and Kim agree to defend each other")

    assert len(desk.sender.texts(1)) == 1
    [(chat, message_id, first), (_, _, second)] = desk.sender.edits
    assert (chat, message_id) == (1, 1)
    assert first.startswith(desk.sender.texts(1)[0])
    assert first.endswith("\n\n<i>Also: https://wire.example/rss</i>")
    assert second.endswith("\n\n<i>Also: https://wire.example/rss, https://papers.example/rss</i>")


async def test_an_alert_is_edited_a_few_times_at_most(desk: Newsdesk, clock: StepClock) -> None:
    await alerted(desk, clock)

    for feed_url in (WIRE, PAPERS, GAZETTE, POST):
        await copy_from(desk, clock, feed_url, PACT_AGAIN)

    assert len(desk.sender.edits) == 3
    assert "post.example" not in desk.sender.edits[-1][2]


async def test_outlets_arriving_close_together_are_named_in_one_edit(
    desk: Newsdesk, clock: StepClock
) -> None:
    """An alert's next edit waits a little, so a burst of copies costs one edit, not one
    each, and the few edits an alert may have name every outlet of the burst."""
    await alerted(desk, clock)
    await copy_from(desk, clock, WIRE, PACT_AGAIN)
    assert len(desk.sender.edits) == 1

    for feed_url in (PAPERS, GAZETTE):
        clock.advance(seconds=2)
        await desk.publish(PACT_AGAIN, feed_url=feed_url, summary=PACT_AGAIN_TEXT)
        await desk.deliver()
    assert len(desk.sender.edits) == 1
    clock.advance(seconds=10)
    await desk.deliver()

    assert len(desk.sender.edits) == 2
    assert desk.sender.edits[-1][2].endswith(
        "Also: https://wire.example/rss, https://papers.example/rss, https://gazette.example/rss</i>"
    )


async def test_a_copy_from_the_alerts_own_feed_is_its_own_alert_not_an_edit(
    desk: Newsdesk, clock: StepClock
) -> None:
    """A feed's own entries share its boilerplate, not a story: never merged by words."""
    await alerted(desk, clock)

    await copy_from(desk, clock, REUTERS, PACT_AGAIN)

    assert len(desk.sender.texts(1)) == 2
    assert desk.sender.edits == []


async def test_a_feeds_second_look_alike_never_joins_a_cluster_it_is_in_already(
    desk: Newsdesk, clock: StepClock
) -> None:
    """The wire's second entry resembles the cluster's first, but the wire has a member:
    two entries of one feed are two of its stories, whatever member they resemble."""
    await alerted(desk, clock)
    await copy_from(desk, clock, WIRE, PACT_AGAIN)

    await copy_from(desk, clock, WIRE, "Russia and North Korea sign a treaty, Putin visits Kim")

    assert [text.rsplit("\n", 1)[1] for _, _, text in desk.sender.edits] == [
        "<i>Also: https://wire.example/rss</i>"
    ]
    assert len(desk.sender.texts(1)) == 2


def warning(region: str, day: str) -> tuple[str, str]:
    return (
        f"Severe thunderstorm warning for {region}",
        f"The Met Office has issued a yellow weather warning for thunderstorms for {region}"
        f" from 12:00 to 21:00 on {day}. Heavy rain could cause flooding and travel disruption.",
    )


async def test_two_warnings_of_one_template_from_two_feeds_are_two_alerts(
    desk: Newsdesk, clock: StepClock
) -> None:
    await desk.chat(1, "thunderstorm warning")
    clock.advance(minutes=1)
    kent, kent_text = warning("Kent", "Saturday")
    await desk.publish(kent, feed_url=REUTERS, summary=kent_text, link="https://w.example/kent")
    await desk.deliver()
    clock.advance(minutes=1)
    devon, devon_text = warning("Devon", "Sunday")
    await desk.publish(devon, feed_url=WIRE, summary=devon_text, link="https://w.example/devon")
    await desk.deliver()

    [first, second] = desk.sender.texts(1)
    assert kent in first
    assert devon in second
    assert desk.sender.edits == []


async def test_alerts_sent_in_a_merged_list_are_not_edited(
    desk: Newsdesk, clock: StepClock
) -> None:
    await desk.chat(1, "Putin")
    clock.advance(minutes=1)
    await desk.publish(
        PACT, "Putin praises Kim", "Putin leaves Pyongyang", feed_url=REUTERS, summary=""
    )
    await desk.publish(PACT, feed_url=GAZETTE, summary=PACT_TEXT)
    await desk.deliver()
    [merged] = desk.sender.texts(1)
    assert "new stories" in merged

    await copy_from(desk, clock, WIRE, PACT_AGAIN)

    assert desk.sender.edits == []


# /latest and /search: a story once, with its other sources.


async def clustered_archive(newsroom: Newsroom, clock: StepClock) -> ReadingService:
    """The pact from Reuters, then from the wire and the papers, between other stories."""
    await newsroom.chat(1, "Putin")
    for number, (feed_url, title, text) in enumerate(
        [
            (REUTERS, PACT, PACT_TEXT),
            (WIRE, "Harvest figures published", ""),
            (WIRE, PACT_AGAIN, PACT_AGAIN_TEXT),
            (PAPERS, "Putin and Kim agree to defend each other", PACT_AGAIN_TEXT),
            (PAPERS, SPACEPORT, SPACEPORT_TEXT),
        ]
    ):
        clock.advance(minutes=1 + number)
        await newsroom.publish(title, feed_url=feed_url, summary=text)
        await newsroom.router.route_pending()
    return ReadingService(EntryRepository(newsroom.database), clock=clock)


async def test_latest_lists_a_story_once_as_its_newest_entry_with_its_other_sources(
    newsroom: Newsroom, clock: StepClock
) -> None:
    reading = await clustered_archive(newsroom, clock)

    page = await reading.latest(1, 20)

    titles = [entry.title for entry in page.entries]
    assert titles[:2] == [SPACEPORT, "Putin and Kim agree to defend each other"]
    assert PACT not in titles
    assert PACT_AGAIN not in titles
    assert page.also[page.entries[1].id] == (
        "https://reuters.example/rss",
        "https://wire.example/rss",
    )
    assert page.entries[0].id not in page.also


async def test_latest_pages_never_show_a_story_again(newsroom: Newsroom, clock: StepClock) -> None:
    reading = await clustered_archive(newsroom, clock)

    first = await reading.latest(1, 2)
    rest = await reading.more_latest(1, 0, 2, first.entries[-1].id)

    listed = [entry.title for entry in (*first.entries, *rest.entries)]
    assert listed[:2] == [SPACEPORT, "Putin and Kim agree to defend each other"]
    assert PACT not in listed
    assert PACT_AGAIN not in listed


async def test_latest_with_a_query_lists_a_story_once(
    newsroom: Newsroom, clock: StepClock
) -> None:
    reading = await clustered_archive(newsroom, clock)

    page = await reading.latest(1, 5, "Putin")

    assert [entry.title for entry in page.entries] == [
        SPACEPORT,
        "Putin and Kim agree to defend each other",
    ]


async def test_search_gives_a_story_one_result_naming_its_other_sources(
    newsroom: Newsroom, clock: StepClock
) -> None:
    reading = await clustered_archive(newsroom, clock)

    page = await reading.search(1, "treaty Putin")

    [hit] = page.hits
    assert hit.entry.story == (await reading.latest(1, 2)).entries[1].story
    assert len(hit.also) == 2


async def test_a_story_held_while_muted_comes_once_in_the_catch_up(
    desk: Newsdesk, clock: StepClock
) -> None:
    chat = await desk.subscriber_muted(1, "Putin")
    clock.advance(minutes=1)
    await desk.publish(PACT, feed_url=REUTERS, summary=PACT_TEXT)
    await desk.deliver()
    clock.advance(minutes=1)
    await desk.publish(PACT_AGAIN, feed_url=WIRE, summary=PACT_AGAIN_TEXT)
    await desk.deliver()

    await desk.quiet.unmute(chat)
    await desk.deliver()

    assert [state for _, state in await desk.states(1)] == ["sent"]
    [catch_up] = desk.sender.texts(1)
    assert PACT in catch_up
    assert PACT_AGAIN not in catch_up
