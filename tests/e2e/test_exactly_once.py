"""Exactly once in a running bot: real feeds, the emulator, and the faults chats meet."""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
from pathlib import Path

from bot.sandbox.emulator import BotApiEmulator, SentMessage
from bot.sandbox.feedserver import FeedItem, FeedServer
from tests.e2e.harness import (
    ask,
    query,
    received,
    running_herald,
    settled,
    wait_for_archive,
    wait_for_rows,
)


def story(title: str, link: str, *, minutes_ago: float = 0) -> FeedItem:
    published = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes_ago)
    return FeedItem(title=title, link=link, published=published)


async def test_a_story_caught_up_after_a_mute_is_not_pushed_again_by_breaking_or_another_feed(
    emulator: BotApiEmulator, feed_server: FeedServer, tmp_path: Path
) -> None:
    admin = emulator.add_user("Ada")
    chat = emulator.private_chat(admin)
    convoy = "https://wire.example/gaza-convoy"
    feed_server.publish_rss("/a.xml", [story("Markets open", "https://a.example/1")])
    feed_server.publish_rss("/b.xml", [story("Weather", "https://b.example/1")])

    async with running_herald(
        emulator,
        tmp_path,
        HERALD_FEEDS=f"{feed_server.url('/a.xml')},{feed_server.url('/b.xml')}",
        HERALD_POLL_INTERVAL="1",
        HERALD_ADMIN_IDS=str(admin.id),
    ):
        await wait_for_archive(tmp_path, 2)
        await ask(emulator, chat, admin, "/topic Gaza")
        await ask(emulator, chat, admin, "/mute 1h")
        feed_server.publish_rss(
            "/a.xml", [story("Markets open", "https://a.example/1"), story("Gaza convoy", convoy)]
        )
        await wait_for_rows(tmp_path, "SELECT 1 FROM outbox WHERE state = 'held'")
        await ask(emulator, chat, admin, "/unmute")
        catch_up = await emulator.wait_for_message(chat, lambda m: "paused" in m.text)
        await settled(tmp_path)
        [(entry_id,)] = query(tmp_path, "SELECT id FROM entries WHERE link = ?", convoy)
        breaking = await ask(emulator, chat, admin, f"/breaking {entry_id}")
        feed_server.publish_rss(
            "/b.xml",
            [story("Weather", "https://b.example/1"), story("Convoy reaches Gaza", convoy)],
        )
        await wait_for_archive(tmp_path, 4)
        await settled(tmp_path)

    assert "Gaza convoy" in catch_up.text
    assert breaking.text.endswith("; 1 already had it.")
    pushes = [
        message.text
        for message in emulator.messages(chat)
        if "Gaza convoy" in message.text and not message.text.startswith("🔴 Breaking:")
    ]
    assert pushes == [catch_up.text]
    assert received(emulator, [chat.id], "Convoy reaches") == {chat.id: 0}


async def test_a_send_confirmed_while_the_database_is_locked_arrives_once(
    emulator: BotApiEmulator, feed_server: FeedServer, tmp_path: Path
) -> None:
    user = emulator.add_user("Ada")
    chat = emulator.private_chat(user)
    feed_server.publish_rss("/a.xml", [story("Markets open", "https://a.example/1")])
    # The lock is taken inside the emulator's reply to sendMessage: waiting for it longer
    # than the bot's 5 s read timeout would make the bot see a timeout and send again.
    other = sqlite3.connect(
        tmp_path / "herald.db", isolation_level=None, check_same_thread=False, timeout=2.0
    )
    lock_held: list[float] = []

    def lock_the_database(message: SentMessage) -> None:
        # Telegram has the alert; at that moment another writer takes the database.
        if "Sanctions" in message.text and not lock_held:
            other.execute("BEGIN IMMEDIATE")
            lock_held.append(time.monotonic())

    async with running_herald(
        emulator, tmp_path, HERALD_FEEDS=feed_server.url("/a.xml"), HERALD_POLL_INTERVAL="1"
    ) as herald:
        await wait_for_archive(tmp_path, 1)
        await ask(emulator, chat, user, "/topic sanctions")
        stop_watching = emulator.on_message(lock_the_database)
        feed_server.publish_rss(
            "/a.xml",
            [
                story("Markets open", "https://a.example/1"),
                story("Sanctions on Iran", "https://a.example/2"),
            ],
        )
        await emulator.wait_until(lambda: bool(lock_held), timeout=10, description="the alert")
        await emulator.wait_until(
            lambda: time.monotonic() - lock_held[0] > 8, timeout=15, description="8 s locked"
        )
        copies_while_locked = received(emulator, [chat.id], "Sanctions")[chat.id]
        other.execute("COMMIT")
        stop_watching()
        await wait_for_rows(
            tmp_path, "SELECT 1 FROM outbox WHERE kind = 'alert' AND state = 'sent'", within=40
        )
        log = herald.log

    other.close()
    assert copies_while_locked == 1
    assert received(emulator, [chat.id], "Sanctions") == {chat.id: 1}
    assert log.count("could not record") == 1


async def test_a_group_where_the_bot_loses_its_rights_is_paused_and_resumes_when_they_return(
    emulator: BotApiEmulator, feed_server: FeedServer, tmp_path: Path
) -> None:
    owner = emulator.add_user("Olga")
    group = emulator.add_group("Newsroom", admins=[owner])
    feed_server.publish_rss("/a.xml", [story("Markets open", "https://a.example/1")])
    items = [story("Markets open", "https://a.example/1")]

    async with running_herald(
        emulator, tmp_path, HERALD_FEEDS=feed_server.url("/a.xml"), HERALD_POLL_INTERVAL="1"
    ) as herald:
        await wait_for_archive(tmp_path, 1)
        await ask(emulator, group, owner, "/topic@herald_bot Sudan")
        await emulator.restrict_bot(group, may_send=False)
        await emulator.user_says(group, owner, "/latest@herald_bot")
        items.append(story("Sudan talks resume", "https://a.example/2"))
        feed_server.publish_rss("/a.xml", items)
        await wait_for_rows(tmp_path, "SELECT 1 FROM outbox WHERE kind = 'alert'", within=15)
        paused = query(tmp_path, "SELECT inactive_reason FROM chats WHERE id = ?", group.id)
        paused_queue = query(tmp_path, "SELECT state FROM outbox WHERE kind = 'alert'")
        await emulator.restrict_bot(group, may_send=True)
        alert = await emulator.wait_for_message(
            group, lambda m: "Sudan talks" in m.text, timeout=15
        )
        reason = query(tmp_path, "SELECT inactive_reason FROM chats WHERE id = ?", group.id)
        log = herald.log

    assert paused == [("no_rights",)]
    assert "Traceback" not in log
    assert not any("Sorry" in message.text for message in emulator.messages(group))
    assert paused_queue == [("held",)]
    assert "While alerts were paused" in alert.text
    assert "Sudan talks resume" in alert.text
    assert reason == [(None,)]
