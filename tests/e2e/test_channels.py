"""Channels in a running bot: set up from a private chat, or with commands in the channel."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bot.sandbox.emulator import BotApiEmulator
from bot.sandbox.feedserver import FeedItem, FeedServer
from tests.e2e.harness import ask, query, running_herald, settled, wait_for_archive, wait_for_rows

BASELINE = [
    FeedItem(
        title="Markets open",
        link="https://news.example/markets",
        published=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
    )
]


def item(title: str) -> FeedItem:
    return FeedItem(
        title=title,
        link=f"https://news.example/{abs(hash(title))}",
        published=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5),
    )


def topics_of(workdir: Path, chat_id: int) -> list[str]:
    return [
        row[0] for row in query(workdir, "SELECT query FROM topics WHERE chat_id = ?", chat_id)
    ]


async def test_a_channel_admin_follows_a_topic_for_the_channel_from_a_private_chat(
    emulator: BotApiEmulator, feed_server: FeedServer, tmp_path: Path
) -> None:
    owner, reader = emulator.add_user("Olga"), emulator.add_user("Rick")
    channel = emulator.add_channel(
        "World News", username="mynews", owner=owner, subscribers=[reader]
    )
    feed_server.publish_rss("/world.xml", BASELINE, title="World Desk")
    owner_chat, reader_chat = emulator.private_chat(owner), emulator.private_chat(reader)

    async with running_herald(
        emulator, tmp_path, HERALD_FEEDS=feed_server.url("/world.xml"), HERALD_POLL_INTERVAL="1"
    ):
        await wait_for_archive(tmp_path, 1)
        followed = await ask(emulator, owner_chat, owner, "/topic @mynews North Korea")
        listing = await ask(emulator, owner_chat, owner, "/topic @mynews")
        refused = await ask(emulator, reader_chat, reader, "/topic @mynews Iran")
        chats = await ask(emulator, owner_chat, owner, "/chats")
        feed_server.publish_rss(
            "/world.xml",
            [*BASELINE, item("North Korea fires a missile"), item("Iran talks resume")],
            title="World Desk",
        )
        alert = await emulator.wait_for_message(channel, timeout=15)
        await settled(tmp_path)

    assert "World News" in followed.text
    assert "now follows North Korea" in followed.text
    assert "North Korea · 🔔 instant" in listing.text
    assert [button.text for row in listing.buttons for button in row] == [
        "1. 🔔 instant",
        "🔊 sound",
        "🗑 remove 1",
    ]
    assert "admins of World News" in refused.text
    assert topics_of(tmp_path, channel.id) == ["North Korea"]
    assert topics_of(tmp_path, reader.id) == []
    assert "World News" in chats.text
    assert str(channel.id) in chats.text
    assert alert.text.startswith("North Korea fires a missile")
    # Anyone reading a channel could press an alert's buttons: channels get none.
    assert alert.buttons == ()
    assert len(emulator.messages(channel)) == 1
    assert emulator.messages(owner_chat)[-1] == chats


async def test_a_channel_where_the_bot_cannot_post_is_refused_with_the_right_to_grant(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    owner = emulator.add_user("Olga")
    quiet = emulator.add_channel("Quiet News", owner=owner, bot_can_post=False)
    absent = emulator.add_channel(
        "Elsewhere", username="elsewhere", owner=owner, bot_is_member=False
    )
    chat = emulator.private_chat(owner)

    async with running_herald(emulator, tmp_path):
        no_right = await ask(emulator, chat, owner, f"/topic {quiet.id} North Korea")
        not_in = await ask(emulator, chat, owner, "/digest @elsewhere on")
        word = await ask(emulator, chat, owner, "/topic @elonmusk")

    assert "Post messages" in no_right.text
    assert "Quiet News" in no_right.text
    assert "Post messages" in not_in.text
    assert "Elsewhere" in not_in.text
    assert query(tmp_path, "SELECT id FROM chats WHERE id IN (?, ?)", quiet.id, absent.id) == []
    assert "now follows @elonmusk" in word.text or "now follows elonmusk" in word.text
    assert emulator.messages(quiet) == []


async def test_commands_posted_in_the_channel_work_and_are_tidied_away(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    owner = emulator.add_user("Olga")
    channel = emulator.add_channel("World News", username="mynews", owner=owner)

    async with running_herald(emulator, tmp_path):
        command = await emulator.post_in_channel(channel, owner, "/topic Gaza")
        reply = await emulator.wait_for_message(channel)
        await emulator.wait_until(
            lambda: reply.deleted and not emulator.has_message(channel, command.message_id),
            timeout=40,
            description="the command and its reply deleted",
        )

    assert "now follows Gaza" in reply.text
    assert topics_of(tmp_path, channel.id) == ["Gaza"]


async def test_adding_the_bot_to_a_channel_tells_the_adder_how_and_removing_it_stops_it(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    owner = emulator.add_user("Olga")
    channel = emulator.add_channel("World News", owner=owner, bot_is_member=False)
    chat = emulator.private_chat(owner)

    async with running_herald(emulator, tmp_path):
        await emulator.add_bot_to_channel(channel, owner)
        told = await emulator.wait_for_message(chat)
        await emulator.remove_bot_from_group(channel, owner)
        await wait_for_rows(
            tmp_path,
            "SELECT 1 FROM chats WHERE id = ? AND inactive_reason = 'removed'",
            channel.id,
        )

    assert "World News" in told.text
    assert f"/topic {channel.id} North Korea" in told.text
    assert emulator.messages(channel) == []


async def test_the_buttons_on_a_channels_topic_list_act_on_the_channel(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    owner = emulator.add_user("Olga")
    channel = emulator.add_channel("World News", username="mynews", owner=owner)
    chat = emulator.private_chat(owner)

    async with running_herald(emulator, tmp_path):
        await ask(emulator, chat, owner, "/topic @mynews North Korea")
        await ask(emulator, chat, owner, "/topic @mynews Iran")
        listing = await ask(emulator, chat, owner, "/topic @mynews")
        answer = await emulator.wait_for_answer(
            await emulator.press_button(chat, listing.message_id, owner, "🗑 remove 1")
        )
        await emulator.wait_until(lambda: listing.edit_count, description="the list edited")
        after_removal = listing.text
        left = topics_of(tmp_path, channel.id)
        await emulator.wait_for_answer(
            await emulator.press_button(chat, listing.message_id, owner, "↩️ Undo")
        )
        await emulator.wait_until(lambda: listing.edit_count > 1, description="undone")

    assert answer.text == "Removed “North Korea”. Undo is at the top for a minute."
    assert left == ["Iran"]
    assert after_removal.startswith("📣 World News\nTopics (1 of 50)\n1. Iran")
    assert sorted(topics_of(tmp_path, channel.id)) == ["Iran", "North Korea"]
    assert listing.text.startswith("📣 World News\nTopics (2 of 50)\n1. North Korea")


async def test_a_group_is_managed_from_a_private_chat_only_where_the_bot_may_send(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    owner = emulator.add_user("Olga")
    group = emulator.add_group("Newsroom", admins=[owner], supergroup=True, username="newsroom")
    chat = emulator.private_chat(owner)

    async with running_herald(emulator, tmp_path):
        muted = await ask(emulator, chat, owner, "/mute @newsroom 2h")
        await emulator.restrict_bot(group, may_send=False)
        refused = await ask(emulator, chat, owner, "/timezone @newsroom Europe/Kyiv")
        unknown = await ask(emulator, chat, owner, "/quiet -1009999999999 22:00-07:00")

    assert muted.text.startswith("📣 Newsroom\n🔕 Alerts muted until")
    assert "Let me send messages there" in refused.text
    assert "can't see the chat -1009999999999" in unknown.text
    assert query(tmp_path, "SELECT timezone FROM chats WHERE id = ?", group.id) == [("UTC",)]
    assert emulator.messages(group) == []


async def test_a_command_that_works_elsewhere_gets_a_pointer_in_the_channel(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    owner = emulator.add_user("Olga")
    channel = emulator.add_channel("World News", username="mynews", owner=owner)

    async with running_herald(emulator, tmp_path):
        await emulator.post_in_channel(channel, owner, "/latest")
        pointer = await emulator.wait_for_message(channel)

    assert "work in a private chat with me" in pointer.text


async def test_adding_the_bot_without_the_right_to_post_says_which_right_to_grant(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    owner = emulator.add_user("Olga")
    channel = emulator.add_channel("World News", owner=owner, bot_is_member=False)
    chat = emulator.private_chat(owner)

    async with running_herald(emulator, tmp_path):
        await emulator.add_bot_to_channel(channel, owner, can_post=False)
        told = await emulator.wait_for_message(chat)

    assert "“Post messages” right" in told.text
    assert f"/topic {channel.id} North Korea" in told.text
