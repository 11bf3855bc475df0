"""The Telegram sender over real HTTP: each answer of the emulator becomes the right outcome."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import pytest
from telegram.ext import ExtBot

from bot.delivery.pacing import Pacer
from bot.delivery.sender import PacedRateLimiter, TelegramSender
from bot.delivery.worker import (
    ChatGoneError,
    ChatMigratedError,
    RejectedError,
    ThreadGoneError,
    ThrottledError,
)
from bot.domain import Button, InactiveReason
from bot.sandbox.emulator import BotApiEmulator, FloodLimits, Rate


@pytest.fixture
async def emulator() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(limits=FloodLimits.unlimited()) as emulator:
        yield emulator


@pytest.fixture
async def sender(
    emulator: BotApiEmulator, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[TelegramSender]:
    monkeypatch.setitem(os.environ, "PTB_TIMEDELTA", "true")
    bot: ExtBot[Any] = ExtBot(
        emulator.token,
        base_url=f"{emulator.api_root}/bot",
        rate_limiter=PacedRateLimiter(Pacer(1000)),
    )
    async with bot:
        yield TelegramSender(bot)


async def test_a_message_is_sent_as_html_without_a_link_preview(
    emulator: BotApiEmulator, sender: TelegramSender
) -> None:
    chat = emulator.private_chat(emulator.add_user("Ada"))

    message_id = await sender.send(chat.id, '<b>Hi</b> <a href="https://x.example">x</a>')

    [message] = emulator.messages(chat)
    assert message.message_id == message_id
    assert message.text == "Hi x"
    assert message.link_preview_disabled


async def test_plain_text_is_sent_without_parsing(
    emulator: BotApiEmulator, sender: TelegramSender
) -> None:
    chat = emulator.private_chat(emulator.add_user("Ada"))

    await sender.send(chat.id, "<b>not bold</b> & co", html=False)

    assert emulator.messages(chat)[0].text == "<b>not bold</b> & co"


async def test_a_message_goes_to_the_forum_thread_it_names(
    emulator: BotApiEmulator, sender: TelegramSender
) -> None:
    owner = emulator.add_user("Olga")
    forum = emulator.add_group("Newsroom", admins=[owner], supergroup=True, forum=True)
    thread = emulator.create_thread(forum, "Asia")

    await sender.send(forum.id, "In Asia", thread_id=thread)
    await sender.send(forum.id, "In General")

    assert [m.text for m in emulator.thread_messages(forum, thread)] == ["In Asia"]
    assert [m.text for m in emulator.thread_messages(forum, None)] == ["In General"]


async def test_a_deleted_or_closed_thread_is_gone_but_not_its_chat(
    emulator: BotApiEmulator, sender: TelegramSender
) -> None:
    owner = emulator.add_user("Olga")
    forum = emulator.add_group("Newsroom", admins=[owner], supergroup=True, forum=True)
    deleted, closed = emulator.create_thread(forum, "Asia"), emulator.create_thread(forum, "EU")
    emulator.delete_thread(forum, deleted)
    emulator.close_thread(forum, closed)

    with pytest.raises(ThreadGoneError):
        await sender.send(forum.id, "Hello", thread_id=deleted)
    with pytest.raises(ThreadGoneError):
        await sender.send(forum.id, "Hello", thread_id=closed)


async def test_a_user_who_blocked_the_bot_is_gone(
    emulator: BotApiEmulator, sender: TelegramSender
) -> None:
    user = emulator.add_user("Ada")
    chat = emulator.private_chat(user)
    await emulator.block_bot(user)

    with pytest.raises(ChatGoneError) as raised:
        await sender.send(chat.id, "Hello")

    assert raised.value.reason is InactiveReason.BLOCKED


async def test_a_group_that_removed_the_bot_is_gone(
    emulator: BotApiEmulator, sender: TelegramSender
) -> None:
    owner = emulator.add_user("Olga")
    group = emulator.add_group("Newsroom", admins=[owner])
    await emulator.remove_bot_from_group(group, by_user=owner)

    with pytest.raises(ChatGoneError) as raised:
        await sender.send(group.id, "Hello")

    assert raised.value.reason is InactiveReason.REMOVED


async def test_an_unknown_chat_is_gone(sender: TelegramSender) -> None:
    with pytest.raises(ChatGoneError) as raised:
        await sender.send(987654321, "Hello")

    assert raised.value.reason is InactiveReason.NOT_FOUND


async def test_a_migrated_group_names_its_new_id(
    emulator: BotApiEmulator, sender: TelegramSender
) -> None:
    owner = emulator.add_user("Olga")
    group = emulator.add_group("Newsroom", admins=[owner])
    new_id = await emulator.migrate_group(group, by_user=owner)

    with pytest.raises(ChatMigratedError) as raised:
        await sender.send(group.id, "Hello")

    assert raised.value.new_chat_id == new_id


@pytest.mark.parametrize("text", ["<b>unbalanced", "<script>x</script>", "x" * 4097, "<i> </i>"])
async def test_content_telegram_refuses_is_rejected(
    emulator: BotApiEmulator, sender: TelegramSender, text: str
) -> None:
    chat = emulator.private_chat(emulator.add_user("Ada"))

    with pytest.raises(RejectedError):
        await sender.send(chat.id, text)


async def test_a_flood_limit_becomes_a_throttle_with_retry_after(
    emulator: BotApiEmulator, sender: TelegramSender
) -> None:
    emulator.limits = FloodLimits(overall=None, private_chat=Rate(0.5, burst=1), group_chat=None)
    chat = emulator.private_chat(emulator.add_user("Ada"))
    await sender.send(chat.id, "first")

    with pytest.raises(ThrottledError) as raised:
        await sender.send(chat.id, "second")

    assert raised.value.retry_after >= 1


async def test_an_edit_replaces_the_text_and_keeps_the_buttons_it_is_given(
    emulator: BotApiEmulator, sender: TelegramSender
) -> None:
    chat = emulator.private_chat(emulator.add_user("Ada"))
    buttons = ((Button("🔕 Mute 1 day", "alert:mute:1"),),)
    message_id = await sender.send(chat.id, "<b>Pact</b>", buttons=buttons)

    await sender.edit(chat.id, message_id, "<b>Pact</b>\n\n<i>Also: Wire</i>", buttons=buttons)

    [message] = emulator.messages(chat)
    assert message.text == "Pact\n\nAlso: Wire"
    assert [button.text for row in message.buttons for button in row] == ["🔕 Mute 1 day"]


async def test_an_edit_to_the_same_text_is_no_error(
    emulator: BotApiEmulator, sender: TelegramSender
) -> None:
    chat = emulator.private_chat(emulator.add_user("Ada"))
    message_id = await sender.send(chat.id, "<b>Pact</b>")

    await sender.edit(chat.id, message_id, "<b>Pact</b>")

    [message] = emulator.messages(chat)
    assert len(message.history) == 1


async def test_an_edit_of_a_message_that_is_gone_is_rejected(
    emulator: BotApiEmulator, sender: TelegramSender
) -> None:
    chat = emulator.private_chat(emulator.add_user("Ada"))

    with pytest.raises(RejectedError, match=r"(?i)message to edit not found"):
        await sender.edit(chat.id, 999, "<b>Pact</b>")
