"""Waiting for what the bot does, and hooks that see it as it happens."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.sandbox.emulator import BotApiEmulator, CallbackAnswer, Chat, SentMessage
from tests.sandbox.helpers import BotApiClient


@pytest.fixture
def chat(emulator: BotApiEmulator) -> Chat:
    return emulator.private_chat(emulator.add_user("Ada"))


async def test_waiting_walks_through_the_conversation_in_order(
    api: BotApiClient, emulator: BotApiEmulator, chat: Chat
) -> None:
    for text in ("one", "two"):
        await api.result("sendMessage", chat_id=chat.id, text=text)

    first = await emulator.wait_for_message(chat)
    second = await emulator.wait_for_message(chat)

    assert (first.text, second.text) == ("one", "two")


async def test_waiting_wakes_when_the_message_arrives(
    api: BotApiClient, emulator: BotApiEmulator, chat: Chat
) -> None:
    waiter = asyncio.create_task(emulator.wait_for_message(chat))
    await asyncio.sleep(0)  # let the waiter start before anything is sent

    await api.result("sendMessage", chat_id=chat.id, text="Welcome")

    assert (await waiter).text == "Welcome"


async def test_a_predicate_picks_a_message_and_leaves_the_others(
    api: BotApiClient, emulator: BotApiEmulator, chat: Chat
) -> None:
    for text in ("progress", "done"):
        await api.result("sendMessage", chat_id=chat.id, text=text)

    done = await emulator.wait_for_message(chat, lambda m: m.text == "done")
    progress = await emulator.wait_for_message(chat)

    assert (done.text, progress.text) == ("done", "progress")


async def test_timeout_reports_what_the_bot_did_send(
    api: BotApiClient, emulator: BotApiEmulator, chat: Chat
) -> None:
    await api.result("sendMessage", chat_id=chat.id, text="Welcome")
    await api.error("sendMessage", chat_id=chat.id, text="<b>oops", parse_mode="HTML")
    await emulator.wait_for_message(chat)

    with pytest.raises(TimeoutError) as raised:
        await emulator.wait_for_message(chat, timeout=0.05)

    report = str(raised.value)
    assert f"no new bot message in chat {chat.id} within 0.05s" in report
    assert f"chat {chat.id} #1: 'Welcome'" in report
    assert "sendMessage -> Bad Request: can't parse entities" in report


async def test_wait_until_sees_edits(
    api: BotApiClient, emulator: BotApiEmulator, chat: Chat
) -> None:
    sent = await api.result("sendMessage", chat_id=chat.id, text="0/2")
    [record] = emulator.messages(chat)

    async def edit_twice() -> None:
        for text in ("1/2", "2/2"):
            await api.result(
                "editMessageText", chat_id=chat.id, message_id=sent["message_id"], text=text
            )

    editing = asyncio.create_task(edit_twice())
    await emulator.wait_until(lambda: record.edit_count == 2, description="both edits")
    await editing

    assert record.text == "2/2"


async def test_message_hook_sees_sends_and_edits_until_unsubscribed(
    api: BotApiClient, emulator: BotApiEmulator, chat: Chat
) -> None:
    seen: list[tuple[str, int]] = []

    def remember(message: SentMessage) -> None:
        seen.append((message.text, message.edit_count))

    unsubscribe = emulator.on_message(remember)
    sent = await api.result("sendMessage", chat_id=chat.id, text="draft")
    await api.result(
        "editMessageText", chat_id=chat.id, message_id=sent["message_id"], text="final"
    )
    unsubscribe()
    await api.result("sendMessage", chat_id=chat.id, text="unseen")

    assert seen == [("draft", 0), ("final", 1)]


async def test_a_failing_hook_is_logged_and_the_send_still_succeeds(
    api: BotApiClient, emulator: BotApiEmulator, chat: Chat, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(message: SentMessage) -> None:
        raise RuntimeError("printer on fire")

    emulator.on_message(broken)

    with caplog.at_level(logging.ERROR):
        await api.result("sendMessage", chat_id=chat.id, text="still sent")

    assert "message listener" in caplog.text
    assert [m.text for m in emulator.messages(chat)] == ["still sent"]


async def test_answer_hook_sees_each_toast(api: BotApiClient, emulator: BotApiEmulator) -> None:
    ada = emulator.add_user("Grace")
    chat = emulator.private_chat(ada)
    answers: list[CallbackAnswer] = []
    emulator.on_callback_answer(answers.append)
    markup = {"inline_keyboard": [[{"text": "Mute", "callback_data": "mute"}]]}
    sent = await api.result("sendMessage", chat_id=chat.id, text="x", reply_markup=markup)
    query_id = await emulator.press_button(chat, sent["message_id"], ada, "Mute")

    await api.result(
        "answerCallbackQuery", callback_query_id=query_id, text="Muted", show_alert=True
    )

    assert [(a.text, a.show_alert) for a in answers] == [("Muted", True)]
