"""Forum supergroups: threads, messages in them, and the errors Telegram gives for sends."""

from __future__ import annotations

import pytest
import telegram

from bot.sandbox.emulator import BotApiEmulator, Chat, SandboxError, User
from tests.sandbox.helpers import BotApiClient


def forum(emulator: BotApiEmulator) -> tuple[Chat, User]:
    owner = emulator.add_user("Owner")
    return emulator.add_group("Newsroom", admins=[owner], supergroup=True, forum=True), owner


async def test_a_forum_says_so_in_its_chat(api: BotApiClient, emulator: BotApiEmulator) -> None:
    group, _ = forum(emulator)

    chat = await api.result("getChat", chat_id=group.id)

    assert chat["is_forum"] is True
    assert "is_forum" not in emulator.add_group("Plain", supergroup=True).to_json()


def test_only_supergroups_are_forums(emulator: BotApiEmulator) -> None:
    with pytest.raises(SandboxError):
        emulator.add_group("Basic", forum=True)


async def test_a_message_in_a_thread_carries_the_thread(emulator: BotApiEmulator) -> None:
    group, owner = forum(emulator)
    thread = emulator.create_thread(group, "Asia")

    said = await emulator.user_says(group, owner, "/topic North Korea", thread=thread)

    update = emulator.pending_updates[-1]["message"]
    assert update["message_id"] == said.message_id
    assert update["message_thread_id"] == thread
    assert update["is_topic_message"] is True
    assert update["reply_to_message"]["forum_topic_created"]["name"] == "Asia"


async def test_a_message_in_general_has_no_thread(emulator: BotApiEmulator) -> None:
    group, owner = forum(emulator)
    emulator.create_thread(group, "Asia")

    await emulator.user_says(group, owner, "/topic sanctions")

    update = emulator.pending_updates[-1]["message"]
    assert "message_thread_id" not in update
    assert "is_topic_message" not in update


async def test_a_reply_goes_to_the_thread_it_was_asked_in(
    bot: telegram.Bot, emulator: BotApiEmulator
) -> None:
    group, owner = forum(emulator)
    thread = emulator.create_thread(group, "Asia")
    await emulator.user_says(group, owner, "/latest", thread=thread)
    message = telegram.Update.de_json(emulator.pending_updates[-1], bot).effective_message
    assert message is not None

    await message.reply_text("Here you are")

    [reply] = emulator.thread_messages(group, thread)
    assert reply.text == "Here you are"
    assert emulator.thread_messages(group, None) == []


async def test_sends_to_a_thread_land_there(api: BotApiClient, emulator: BotApiEmulator) -> None:
    group, _ = forum(emulator)
    thread = emulator.create_thread(group, "Asia")

    sent = await api.result("sendMessage", chat_id=group.id, text="x", message_thread_id=thread)

    assert sent["message_thread_id"] == thread
    assert sent["is_topic_message"] is True
    assert [m.text for m in emulator.thread_messages(group, thread)] == ["x"]


async def test_a_deleted_thread_is_not_found(api: BotApiClient, emulator: BotApiEmulator) -> None:
    group, _ = forum(emulator)
    thread = emulator.create_thread(group, "Asia")
    await api.result("sendMessage", chat_id=group.id, text="x", message_thread_id=thread)

    emulator.delete_thread(group, thread)

    assert await api.error(
        "sendMessage", chat_id=group.id, text="y", message_thread_id=thread
    ) == (400, "Bad Request: message thread not found")
    [gone] = emulator.messages(group)
    assert gone.deleted


async def test_an_unknown_thread_is_not_found(api: BotApiClient, emulator: BotApiEmulator) -> None:
    group, _ = forum(emulator)

    assert await api.error("sendMessage", chat_id=group.id, text="y", message_thread_id=999) == (
        400,
        "Bad Request: message thread not found",
    )


async def test_a_closed_thread_refuses_the_bot_until_reopened(
    api: BotApiClient, emulator: BotApiEmulator
) -> None:
    group, _ = forum(emulator)
    thread = emulator.create_thread(group, "Asia")

    emulator.close_thread(group, thread)

    assert await api.error(
        "sendMessage", chat_id=group.id, text="y", message_thread_id=thread
    ) == (400, "Bad Request: TOPIC_CLOSED")
    emulator.reopen_thread(group, thread)
    await api.result("sendMessage", chat_id=group.id, text="y", message_thread_id=thread)


async def test_members_cannot_write_in_a_closed_or_deleted_thread(
    emulator: BotApiEmulator,
) -> None:
    group, owner = forum(emulator)
    member = emulator.add_user("Member")
    group.member_ids.add(member.id)
    closed, deleted = (
        emulator.create_thread(group, "Closed"),
        emulator.create_thread(group, "Gone"),
    )
    emulator.close_thread(group, closed)
    emulator.delete_thread(group, deleted)

    with pytest.raises(SandboxError):
        await emulator.user_says(group, member, "hello", thread=closed)
    with pytest.raises(SandboxError):
        await emulator.user_says(group, owner, "hello", thread=deleted)
    await emulator.user_says(group, owner, "admins may", thread=closed)
