"""Forum groups: each thread gets the alerts of the topics added in it, and nothing else."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bot.sandbox.emulator import BotApiEmulator, Chat, SentMessage, User
from bot.sandbox.feedserver import FeedItem, FeedServer
from tests.e2e.harness import running_herald, settled, wait_for_archive


def item(title: str) -> FeedItem:
    return FeedItem(
        title=title,
        link=f"https://news.example/{abs(hash(title))}",
        published=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5),
    )


BASELINE = [
    FeedItem(
        title="Markets open",
        link="https://news.example/markets",
        published=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
    )
]


async def say_in(
    emulator: BotApiEmulator, group: Chat, user: User, text: str, thread: int | None
) -> SentMessage:
    """Say ``text`` in a thread (None: General) and return the bot's answer, wherever it is."""
    await emulator.user_says(group, user, text, thread=thread)
    return await emulator.wait_for_message(group)


def texts(emulator: BotApiEmulator, group: Chat, thread: int | None) -> list[str]:
    return [message.text for message in emulator.thread_messages(group, thread)]


async def test_topics_added_in_two_threads_and_general_each_alert_only_their_own_thread(
    emulator: BotApiEmulator, feed_server: FeedServer, tmp_path: Path
) -> None:
    owner = emulator.add_user("Olga")
    group = emulator.add_group("Newsroom", admins=[owner], supergroup=True, forum=True)
    asia, europe = emulator.create_thread(group, "Asia"), emulator.create_thread(group, "Europe")
    feed_server.publish_rss("/world.xml", BASELINE, title="World Desk")

    async with running_herald(
        emulator, tmp_path, HERALD_FEEDS=feed_server.url("/world.xml"), HERALD_POLL_INTERVAL="1"
    ):
        await wait_for_archive(tmp_path, 1)
        in_asia = await say_in(emulator, group, owner, "/topic North Korea", asia)
        in_europe = await say_in(emulator, group, owner, "/topic sanctions", europe)
        in_general = await say_in(emulator, group, owner, "/topic Putin", None)
        listing = await say_in(emulator, group, owner, "/topic", europe)
        feed_server.publish_rss(
            "/world.xml",
            [
                *BASELINE,
                item("North Korea fires a missile"),
                item("EU adopts sanctions on banks"),
                item("Putin meets Xi"),
                item("North Korea faces new sanctions"),
            ],
            title="World Desk",
        )
        await emulator.wait_until(
            lambda: len(emulator.messages(group)) >= 9, timeout=15, description="five alerts"
        )
        await settled(tmp_path)

    assert (in_asia.message_thread_id, in_europe.message_thread_id) == (asia, europe)
    assert in_general.message_thread_id is None
    assert listing.message_thread_id == europe
    assert f"North Korea · 🔔 instant · in thread #{asia}" in listing.text
    alerts_in_asia = texts(emulator, group, asia)[1:]
    alerts_in_europe = texts(emulator, group, europe)[2:]
    alerts_in_general = texts(emulator, group, None)[1:]
    assert [alert.splitlines()[0] for alert in alerts_in_asia] == [
        "North Korea fires a missile",
        "North Korea faces new sanctions",
    ]
    assert [alert.splitlines()[0] for alert in alerts_in_europe] == [
        "EU adopts sanctions on banks",
        "North Korea faces new sanctions",
    ]
    assert [alert.splitlines()[0] for alert in alerts_in_general] == ["Putin meets Xi"]


async def test_a_deleted_thread_falls_back_to_general_once_with_a_notice(
    emulator: BotApiEmulator, feed_server: FeedServer, tmp_path: Path
) -> None:
    owner = emulator.add_user("Olga")
    group = emulator.add_group("Newsroom", admins=[owner], supergroup=True, forum=True)
    asia = emulator.create_thread(group, "Asia")
    feed_server.publish_rss("/world.xml", BASELINE, title="World Desk")

    async with running_herald(
        emulator, tmp_path, HERALD_FEEDS=feed_server.url("/world.xml"), HERALD_POLL_INTERVAL="1"
    ):
        await wait_for_archive(tmp_path, 1)
        await say_in(emulator, group, owner, "/topic North Korea", asia)
        emulator.delete_thread(group, asia)
        first = item("North Korea fires a missile")
        feed_server.publish_rss("/world.xml", [*BASELINE, first], title="World Desk")
        await emulator.wait_until(
            lambda: len(texts(emulator, group, None)) >= 2, timeout=15, description="fallback"
        )
        await settled(tmp_path)
        feed_server.publish_rss(
            "/world.xml",
            [*BASELINE, first, item("North Korea tests a rocket")],
            title="World Desk",
        )
        await emulator.wait_until(
            lambda: len(texts(emulator, group, None)) >= 3, timeout=15, description="2nd alert"
        )
        await settled(tmp_path)
        await emulator.user_says(group, owner, "/topic")
        listing = await emulator.wait_for_message(group, lambda m: m.text.startswith("Topics"))

    [notice] = [text for text in texts(emulator, group, None) if "deleted or closed" in text]
    assert "now goes to General" in notice
    alerts = [text for text in texts(emulator, group, None)[:3] if text != notice]
    assert [alert.splitlines()[0] for alert in alerts] == [
        "North Korea fires a missile",
        "North Korea tests a rocket",
    ]
    assert "North Korea · 🔔 instant" in listing.text
    assert "thread #" not in listing.text


async def test_digest_here_sends_digests_to_the_thread_it_was_asked_in(
    emulator: BotApiEmulator, feed_server: FeedServer, tmp_path: Path
) -> None:
    owner = emulator.add_user("Olga")
    group = emulator.add_group("Newsroom", admins=[owner], supergroup=True, forum=True)
    briefings = emulator.create_thread(group, "Briefings")
    earlier = FeedItem(
        title="Kim Jong Un inspects a missile base",
        link="https://news.example/missiles",
        published=dt.datetime.now(dt.UTC) - dt.timedelta(hours=2),
    )
    feed_server.publish_rss("/world.xml", [earlier], title="World Desk")

    async with running_herald(
        emulator, tmp_path, HERALD_FEEDS=feed_server.url("/world.xml"), HERALD_POLL_INTERVAL="1"
    ):
        await wait_for_archive(tmp_path, 1)
        await say_in(emulator, group, owner, "/topic Kim Jong Un", None)
        here = await say_in(emulator, group, owner, "/digest here", briefings)
        feed_server.publish_rss(
            "/world.xml", [earlier, item("Kim Jong Un meets Russian envoy")], title="World Desk"
        )
        alert = await emulator.wait_for_message(group, lambda m: "envoy" in m.text)
        await settled(tmp_path)
        await emulator.user_says(group, owner, "/digest now")
        digest = await emulator.wait_for_message(group, lambda m: "digest" in m.text.lower())
        settings = await say_in(emulator, group, owner, "/digest", None)

    assert here.message_thread_id == briefings
    assert "now go to this thread" in here.text
    assert alert.message_thread_id is None
    assert digest.message_thread_id == briefings
    assert "Kim Jong Un meets Russian envoy" in digest.text
    assert f"Digests go in thread #{briefings}." in settings.text
