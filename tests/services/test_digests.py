"""Digests at each chat's local time, quiet hours and mute, with a fixed clock."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from bot import formatting
from bot.domain import Chat, TopicMode
from bot.sandbox.telegram_html import parse_html
from bot.services.digests import next_digest
from bot.services.quiet import HoldError, parse_window
from bot.storage.database import Database
from tests.conftest import failing_updates
from tests.services.conftest import StepClock
from tests.services.newsdesk import Newsdesk

UTC = dt.UTC


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("clock_time", "zone", "after", "due"),
    [
        ("08:00", "UTC", "2026-03-14 09:30", "2026-03-15 08:00"),
        ("08:00", "UTC", "2026-03-14 07:59", "2026-03-14 08:00"),
        # London: 28 March is GMT, 29 March BST (clocks go forward at 01:00 UTC).
        ("08:00", "Europe/London", "2026-03-28 09:00", "2026-03-29 07:00"),
        ("08:00", "Europe/London", "2026-03-27 09:00", "2026-03-28 08:00"),
        # 01:30 doesn't exist on 29 March in London: it comes as 02:30 BST.
        ("01:30", "Europe/London", "2026-03-28 12:00", "2026-03-29 01:30"),
        # October: back to GMT on the 25th at 01:00 UTC; 01:30 happens twice, first counts.
        ("08:00", "Europe/London", "2026-10-24 09:00", "2026-10-25 08:00"),
        ("08:00", "Europe/London", "2026-10-23 09:00", "2026-10-24 07:00"),
        ("01:30", "Europe/London", "2026-10-24 12:00", "2026-10-25 00:30"),
        ("08:00", "Asia/Kathmandu", "2026-03-14 00:00", "2026-03-14 02:15"),
        ("08:00", "America/St_Johns", "2026-01-10 00:00", "2026-01-10 11:30"),
        ("08:00", "America/St_Johns", "2026-07-10 00:00", "2026-07-10 10:30"),
        ("08:00", "UTC+05:45", "2026-03-14 03:00", "2026-03-15 02:15"),
    ],
)
def test_the_next_digest_falls_at_the_local_clock_time(
    clock_time: str, zone: str, after: str, due: str
) -> None:
    hours, minutes = map(int, clock_time.split(":"))

    assert next_digest(dt.time(hours, minutes), zone, after=at(after)) == at(due)


class Desk(Newsdesk):
    """The newsdesk, with the minute job's digests and holds run minute by minute."""

    async def subscriber(
        self, chat_id: int, *topics: str, timezone: str = "UTC", digest: str | None = None
    ) -> Chat:
        await self.chat(chat_id, *topics)
        chat = await self.chats.get(chat_id)
        assert chat is not None
        await self.digests.set_timezone(chat, timezone)
        chat = await self.chats.get(chat_id)
        assert chat is not None
        if digest is not None:
            hours, minutes = map(int, digest.split(":"))
            chat = await self.digests.set_digest(chat, enabled=True, at=dt.time(hours, minutes))
        return chat

    async def messages(self, chat_id: int, kind: str) -> list[str]:
        rows = await self.database.fetchall(
            "SELECT text FROM outbox WHERE chat_id = ? AND kind = ?"
            " AND state NOT IN ('held', 'for_digest') ORDER BY id",
            (chat_id, kind),
        )
        return [row[0] for row in rows]

    async def tick_minutes(self, minutes: int) -> list[dt.datetime]:
        """Run the minute job ``minutes`` times; when each digest was queued."""
        queued = []
        for _ in range(minutes):
            self.clock.advance(minutes=1)
            if await self.digests.send_due():
                queued.append(self.clock())
            await self.quiet.refresh_all()
        return queued


@pytest.fixture
def desk(database: Database, clock: StepClock) -> Desk:
    return Desk(database, clock)


async def test_a_digest_goes_at_the_local_minute_listing_matches_by_topic(
    desk: Desk, clock: StepClock
) -> None:
    clock.now = at("2026-03-14 01:00")
    await desk.subscriber(1, "Kim Jong Un", "sanctions", timezone="Asia/Kathmandu", digest="08:00")
    clock.advance(minutes=5)
    await desk.publish(
        "Kim Jong-un tours a missile base", "New sanctions on Iran", "Weather report"
    )
    await desk.router.route_pending()
    clock.now = at("2026-03-14 02:10")

    queued = await desk.tick_minutes(10)

    assert queued == [at("2026-03-14 02:15")]
    [digest] = await desk.messages(1, "digest")
    text, _ = parse_html(digest)
    assert text.startswith("📰 Your digest · Sat 14 Mar\n2 stories since")
    assert "\nKim Jong Un (1)\n• Kim Jong-un tours a missile base · " in text
    assert "\nsanctions (1)\n• New sanctions on Iran · " in text
    assert "Weather" not in text


async def test_london_digests_follow_the_clock_across_the_march_and_october_changes(
    desk: Desk, clock: StepClock
) -> None:
    sent: list[dt.datetime] = []
    for start in ("2026-03-27 06:00", "2026-10-23 06:00"):
        clock.now = at(start)
        await desk.subscriber(int(start[5:7]), "Gaza", timezone="Europe/London", digest="08:00")
        for _ in range(3):
            await desk.publish(f"Gaza talks day {clock.now:%d %b}")
            await desk.router.route_pending()
            sent += await desk.tick_minutes(24 * 60)

    assert sent == [
        at("2026-03-27 08:00"),
        at("2026-03-28 08:00"),
        at("2026-03-29 07:00"),
        at("2026-10-23 07:00"),
        at("2026-10-24 07:00"),
        at("2026-10-25 08:00"),
    ]


async def test_a_digest_missed_while_down_goes_once_if_its_day_is_not_over(
    desk: Desk, clock: StepClock
) -> None:
    clock.now = at("2026-03-14 06:00")
    await desk.subscriber(1, "Gaza", digest="08:00")
    await desk.publish("Gaza ceasefire holds")
    await desk.router.route_pending()

    clock.now = at("2026-03-14 11:00")  # the bot was down from 07:55
    late = await desk.tick_minutes(3)
    again = await desk.tick_minutes(60)

    assert late == [at("2026-03-14 11:01")]
    assert again == []
    assert len(await desk.messages(1, "digest")) == 1


async def test_a_digest_missed_on_a_day_that_is_over_is_skipped_not_sent_late(
    desk: Desk, clock: StepClock
) -> None:
    clock.now = at("2026-03-14 06:00")
    await desk.subscriber(1, "Gaza", digest="23:30")
    await desk.publish("Gaza ceasefire holds")
    await desk.router.route_pending()

    clock.now = at("2026-03-15 01:10")  # down over 23:30 and the hour after midnight
    sent = await desk.tick_minutes(60)

    assert sent == []
    chat = await desk.chats.get(1)
    assert chat is not None
    assert await desk.digests.next_for(chat) == at("2026-03-15 23:30")


async def test_a_2359_digest_whose_run_slips_past_midnight_is_still_sent(
    desk: Desk, clock: StepClock
) -> None:
    clock.now = at("2026-03-14 06:00")
    await desk.subscriber(1, "Gaza", digest="23:59")
    await desk.publish("Gaza ceasefire holds")
    await desk.router.route_pending()

    clock.now = at("2026-03-14 23:59:30")  # its next run comes only after midnight
    sent = await desk.tick_minutes(1)
    clock.now = at("2026-03-15 12:00:30")
    await desk.publish("Gaza talks resume")
    await desk.router.route_pending()
    again = await desk.tick_minutes(12 * 60)

    assert sent == [at("2026-03-15 00:00:30")]
    assert again == [at("2026-03-15 23:59:30")]
    [first, second] = await desk.messages(1, "digest")
    assert "Gaza ceasefire holds" in first
    assert "Gaza ceasefire holds" not in second
    assert "Gaza talks resume" in second


async def test_a_digest_is_never_sent_twice_on_one_day_even_if_its_time_moves_later(
    desk: Desk, clock: StepClock
) -> None:
    clock.now = at("2026-03-14 07:00")
    chat = await desk.subscriber(1, "Gaza", digest="08:00")
    await desk.publish("Gaza aid arrives")
    await desk.router.route_pending()
    first = await desk.tick_minutes(61)
    await desk.publish("Gaza crossing opens")
    await desk.router.route_pending()

    await desk.digests.set_digest(chat, enabled=True, at=dt.time(9, 0))
    later = await desk.tick_minutes(120)

    assert first == [at("2026-03-14 08:00")]
    assert later == []


async def test_nothing_new_means_no_digest_and_digest_now_says_so(
    desk: Desk, clock: StepClock
) -> None:
    clock.now = at("2026-03-14 07:00")
    chat = await desk.subscriber(1, "Gaza", digest="08:00")

    sent = await desk.tick_minutes(120)
    now = await desk.digests.send_now(chat)

    assert sent == []
    assert now == 0


async def test_digest_only_topics_appear_in_the_digest_and_sections_cap_at_ten(
    desk: Desk, clock: StepClock
) -> None:
    clock.now = at("2026-03-14 06:00")
    chat = await desk.subscriber(1, "tariffs")
    [topic] = await desk.topics.list(1)
    await desk.topics.set_mode(1, topic.id, TopicMode.DIGEST)
    clock.advance(minutes=1)
    await desk.publish(*(f"Tariffs round {n}" for n in range(13)))
    await desk.router.route_pending()

    queued = await desk.digests.send_now(chat)

    assert await desk.messages(1, "alert") == []
    [digest] = await desk.messages(1, "digest")
    assert queued == 1
    assert digest.count("• ") == 10
    assert "and 3 more" in digest
    assert digest.index("Tariffs round 12") < digest.index("Tariffs round 3")


def test_a_digest_longer_than_a_message_splits_cleanly_at_lines(clock: StepClock) -> None:
    from bot.domain import DigestSection, Entry

    sections = [
        DigestSection(
            f"topic {t}",
            tuple(
                Entry(
                    id=t * 100 + n,
                    feed_id=1,
                    feed_title="World Desk",
                    key=str(n),
                    title=f"Story {t}-{n} " + "with a long headline " * 5,
                    summary="",
                    link=f"https://news.example/{t}/{n}",
                    author="",
                    published_at=clock(),
                    first_seen_at=clock(),
                )
                for n in range(10)
            ),
            0,
        )
        for t in range(8)
    ]

    messages = formatting.digest(sections, since=clock(), timezone="UTC", now=clock())

    assert len(messages) > 1
    shown = ""
    for message in messages:
        text, _ = parse_html(message)
        assert formatting.utf16_len(text) <= 4096
        shown += text + "\n"
    for t in range(8):
        for n in range(10):
            assert f"Story {t}-{n} " in shown


async def test_alerts_in_quiet_hours_across_midnight_come_as_one_catch_up(
    desk: Desk, clock: StepClock
) -> None:
    clock.now = at("2026-03-14 21:00")
    chat = await desk.subscriber(1, "Gaza", timezone="Europe/London")
    await desk.quiet.set_quiet_hours(chat, "22:00-07:00")
    clock.now = at("2026-03-14 22:30")
    await desk.quiet.refresh_all()
    for n in range(3):
        clock.advance(hours=2)
        await desk.publish(f"Gaza update {n}")
        await desk.router.route_pending()
    held_alerts = await desk.messages(1, "alert")

    clock.now = at("2026-03-15 06:58")
    await desk.tick_minutes(5)
    await desk.publish("Gaza morning briefing")
    await desk.router.route_pending()

    assert held_alerts == []
    [catch_up] = await desk.messages(1, "catchup")
    assert "While alerts were paused</b>: 3 stories" in catch_up
    for n in range(3):
        assert f"Gaza update {n}" in catch_up
    assert len(await desk.database.fetchall("SELECT 1 FROM outbox WHERE kind = 'alert'")) == 1


async def test_a_mute_holds_alerts_until_it_expires(desk: Desk, clock: StepClock) -> None:
    clock.now = at("2026-03-14 12:00")
    chat = await desk.subscriber(1, "Gaza")
    until = await desk.quiet.mute(chat, "2h")
    clock.advance(minutes=10)
    await desk.publish("Gaza talks resume")
    await desk.router.route_pending()

    clock.now = until - dt.timedelta(minutes=2)
    await desk.tick_minutes(1)
    during = await desk.messages(1, "catchup")
    await desk.tick_minutes(2)

    assert until == at("2026-03-14 14:00")
    assert during == []
    [catch_up] = await desk.messages(1, "catchup")
    assert "Gaza talks resume" in catch_up
    unmuted = await desk.chats.get(1)
    assert unmuted is not None
    assert unmuted.muted_until is None


async def test_unmute_releases_held_alerts_at_once(desk: Desk, clock: StepClock) -> None:
    clock.now = at("2026-03-14 12:00")
    chat = await desk.subscriber(1, "Gaza")
    await desk.quiet.mute(chat, "1d")
    clock.advance(minutes=1)
    await desk.publish("Gaza talks resume", "Gaza aid")
    await desk.router.route_pending()

    released = await desk.quiet.unmute(chat)

    assert released == 2
    assert len(await desk.messages(1, "catchup")) == 1


@pytest.mark.parametrize("text", ["25:99-07:00", "noon-dawn", "22:00-22:00", "22:00"])
async def test_bad_quiet_hours_are_refused(desk: Desk, clock: StepClock, text: str) -> None:
    from bot.services.quiet import HoldError

    chat = await desk.subscriber(1)

    with pytest.raises(HoldError):
        await desk.quiet.set_quiet_hours(chat, text)


@pytest.mark.parametrize("text", ["0m", "forever", "31d", "-2h", "2x"])
async def test_bad_mute_durations_are_refused(desk: Desk, text: str) -> None:
    from bot.services.quiet import HoldError

    chat = await desk.subscriber(1)

    with pytest.raises(HoldError):
        await desk.quiet.mute(chat, text)


@pytest.mark.parametrize(
    ("written", "hours"),
    [
        ("22:00-07:00", (dt.time(22, 0), dt.time(7, 0))),
        ("22-7", (dt.time(22, 0), dt.time(7, 0))),
        ("22:30 to 6", (dt.time(22, 30), dt.time(6, 0))),
        ("9 – 17", (dt.time(9, 0), dt.time(17, 0))),
    ],
)
def test_quiet_hours_take_what_people_type(written: str, hours: tuple[dt.time, dt.time]) -> None:
    assert parse_window(written) == hours


@pytest.mark.parametrize("written", ["late", "22", "25-7", "7-7", "22:00-"])
def test_quiet_hours_refuse_what_names_no_window(written: str) -> None:
    with pytest.raises(HoldError):
        parse_window(written)


async def test_a_story_from_two_outlets_is_listed_once_in_a_digest(
    desk: Desk, clock: StepClock
) -> None:
    clock.now = at("2026-03-14 06:00")
    chat = await desk.subscriber(1, "Putin")
    [topic] = await desk.topics.list(1)
    await desk.topics.set_mode(1, topic.id, TopicMode.DIGEST)
    clock.advance(minutes=1)
    wire = (
        "Russian President Vladimir Putin and North Korean leader Kim Jong Un signed a"
        " strategic partnership treaty on Wednesday that includes a pledge of mutual"
        " assistance if either country is attacked."
    )
    await desk.publish(
        "Putin and Kim sign mutual defence pact", feed_url="https://a.example/rss", summary=wire
    )
    clock.advance(minutes=1)
    await desk.publish(
        "Russia and North Korea sign defence treaty",
        feed_url="https://b.example/rss",
        summary=wire,
    )
    await desk.router.route_pending()

    await desk.digests.send_now(chat)

    [digest] = await desk.messages(1, "digest")
    assert digest.count("• ") == 1
    assert "Russia and North Korea sign defence treaty" in digest


async def test_two_processes_running_the_minute_job_together_queue_each_digest_once(
    database: Database, clock: StepClock
) -> None:
    here, there = Desk(database, clock), Desk(database, clock)
    clock.now = at("2026-03-14 07:00")
    await here.subscriber(1, "sanctions", digest="08:00")
    clock.advance(minutes=5)
    await here.publish("New sanctions on Iran")
    await here.router.route_pending()
    clock.now = at("2026-03-14 08:00")

    queued = await asyncio.gather(here.digests.send_due(), there.digests.send_due())

    assert sorted(queued) == [0, 1]
    assert len(await here.messages(1, "digest")) == 1


@pytest.mark.parametrize(
    ("taken_at", "retried_at"),
    [
        ("2026-03-14 23:59:10", "2026-03-15 00:00:10"),  # retried after midnight
        ("2026-03-15 00:00:20", "2026-03-15 00:01:20"),  # taken late, after midnight
    ],
)
async def test_a_2359_digest_whose_taker_died_is_sent_once_for_its_own_day(
    desk: Desk, clock: StepClock, taken_at: str, retried_at: str
) -> None:
    clock.now = at("2026-03-14 06:00")
    await desk.subscriber(1, "Gaza", digest="23:59")
    await desk.publish("Gaza ceasefire holds")
    await desk.router.route_pending()
    clock.now = at(taken_at)
    # The process that took the digest dies while queuing it.
    async with failing_updates(desk.database, "chats", "last_digest_at") as crash:
        with pytest.raises(crash):
            await desk.digests.send_due()

    sent = await desk.tick_minutes(2)
    clock.now = at("2026-03-15 12:00:30")
    await desk.publish("Gaza talks resume")
    await desk.router.route_pending()
    again = await desk.tick_minutes(12 * 60)

    assert sent == [at(retried_at)]
    assert again == [at("2026-03-15 23:59:30")]  # the next day's is not taken as sent
    [first, second] = await desk.messages(1, "digest")
    assert "Gaza ceasefire holds" in first
    assert "Gaza talks resume" in second
    assert "Gaza ceasefire holds" not in second
