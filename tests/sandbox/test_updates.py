"""getUpdates and the updates users cause: long polling, offsets, conflicts, privacy mode."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from bot.sandbox.emulator import BotApiEmulator, Entity, SandboxError
from tests.sandbox.helpers import BotApiClient


async def test_long_poll_returns_as_soon_as_a_user_writes(
    api: BotApiClient, emulator: BotApiEmulator
) -> None:
    ada = emulator.add_user("Ada")
    poll = asyncio.create_task(api.result("getUpdates", timeout=60))
    await emulator.wait_until(lambda: emulator.long_polling, description="long poll")

    said = await emulator.user_says(ada.id, ada.id, "/start")
    async with asyncio.timeout(5):
        [update] = await poll

    assert update["message"] == said.json
    assert update["message"]["text"] == "/start"
    assert update["message"]["entities"] == [{"offset": 0, "length": 6, "type": "bot_command"}]


async def test_long_poll_with_nothing_to_deliver_answers_an_empty_list_after_its_timeout(
    api: BotApiClient,
) -> None:
    started = time.monotonic()

    updates = await api.result("getUpdates", timeout=1)

    assert updates == []
    assert time.monotonic() - started >= 0.9


async def test_updates_stay_until_an_offset_confirms_them(
    api: BotApiClient, emulator: BotApiEmulator
) -> None:
    ada = emulator.add_user("Ada")
    for text in ("one", "two", "three"):
        await emulator.user_says(ada.id, ada.id, text)

    first = await api.result("getUpdates")
    again = await api.result("getUpdates")
    after_first = await api.result("getUpdates", offset=first[0]["update_id"] + 1)
    after_all = await api.result("getUpdates", offset=first[-1]["update_id"] + 1)

    assert [u["message"]["text"] for u in first] == ["one", "two", "three"]
    assert again == first
    assert [u["message"]["text"] for u in after_first] == ["two", "three"]
    assert after_all == []
    assert emulator.pending_updates == []


async def test_limit_caps_a_batch(api: BotApiClient, emulator: BotApiEmulator) -> None:
    ada = emulator.add_user("Ada")
    for text in ("one", "two", "three"):
        await emulator.user_says(ada.id, ada.id, text)

    updates = await api.result("getUpdates", limit=2)

    assert [u["message"]["text"] for u in updates] == ["one", "two"]


async def test_negative_offset_keeps_only_the_latest_updates(
    api: BotApiClient, emulator: BotApiEmulator
) -> None:
    ada = emulator.add_user("Ada")
    for text in ("one", "two", "three"):
        await emulator.user_says(ada.id, ada.id, text)

    updates = await api.result("getUpdates", offset=-1)

    assert [u["message"]["text"] for u in updates] == ["three"]


async def test_a_second_poll_ends_the_first_with_a_conflict(
    api: BotApiClient, emulator: BotApiEmulator
) -> None:
    first = asyncio.create_task(api.call("getUpdates", timeout=60))
    await emulator.wait_until(lambda: emulator.long_polling, description="long poll")

    second = await api.result("getUpdates", timeout=0)
    async with asyncio.timeout(5):
        status, body = await first

    assert second == []
    assert (status, body) == (
        409,
        {
            "ok": False,
            "error_code": 409,
            "description": "Conflict: terminated by other getUpdates request; "
            "make sure that only one bot instance is running",
        },
    )


async def test_allowed_updates_filters_updates_created_afterwards(
    api: BotApiClient, emulator: BotApiEmulator
) -> None:
    ada = emulator.add_user("Ada")
    await api.result("getUpdates", allowed_updates=["callback_query"])

    await emulator.user_says(ada.id, ada.id, "ignored")
    await emulator.block_bot(ada)

    assert emulator.pending_updates == []


async def test_delete_webhook_can_drop_pending_updates(
    api: BotApiClient, emulator: BotApiEmulator
) -> None:
    ada = emulator.add_user("Ada")
    await emulator.user_says(ada.id, ada.id, "hello")

    info = await api.result("getWebhookInfo")
    assert await api.result("deleteWebhook", drop_pending_updates=True)

    assert info == {"url": "", "has_custom_certificate": False, "pending_update_count": 1}
    assert emulator.pending_updates == []


async def test_commands_carry_bot_command_entities_at_utf16_offsets(
    emulator: BotApiEmulator,
) -> None:
    ada = emulator.add_user("Ada")

    said = await emulator.user_says(ada.id, ada.id, "🇰🇵 /topic@herald_bot North Korea")

    assert said.entities == (Entity("bot_command", 5, 17),)
    assert said.json["entities"] == [{"offset": 5, "length": 17, "type": "bot_command"}]


async def test_user_message_looks_like_telegrams(emulator: BotApiEmulator) -> None:
    ada = emulator.add_user("Ada", last_name="Lovelace", username="ada")

    said = await emulator.user_says(ada.id, ada.id, "  hello  ")

    assert said.json == {
        "message_id": 1,
        "from": {
            "id": ada.id,
            "is_bot": False,
            "first_name": "Ada",
            "last_name": "Lovelace",
            "username": "ada",
            "language_code": "en",
        },
        "chat": {
            "id": ada.id,
            "type": "private",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "username": "ada",
        },
        "date": int(said.date.timestamp()),
        "text": "hello",
    }


async def test_privacy_mode_hides_group_chatter_but_not_commands_or_mentions(
    emulator: BotApiEmulator,
) -> None:
    ada = emulator.add_user("Ada")
    group = emulator.add_group("Newsroom", members=[ada])

    chatter = await emulator.user_says(group, ada, "morning all")
    command = await emulator.user_says(group, ada, "/latest 3")
    addressed = await emulator.user_says(group, ada, "/latest@herald_bot")
    other_bot = await emulator.user_says(group, ada, "/latest@other_bot")
    mention = await emulator.user_says(group, ada, "hey @herald_bot")

    delivered = [m.delivered for m in (chatter, command, addressed, other_bot, mention)]
    assert delivered == [False, True, True, False, True]
    texts = [u["message"]["text"] for u in emulator.pending_updates]
    assert texts == ["/latest 3", "/latest@herald_bot", "hey @herald_bot"]


async def test_without_privacy_mode_the_bot_sees_everything() -> None:
    async with BotApiEmulator(privacy_mode=False) as emulator:
        ada = emulator.add_user("Ada")
        group = emulator.add_group("Newsroom", members=[ada])

        said = await emulator.user_says(group, ada, "morning all")

    assert said.delivered


async def test_replies_to_the_bot_reach_it_in_a_group(
    api: BotApiClient, emulator: BotApiEmulator
) -> None:
    ada = emulator.add_user("Ada")
    group = emulator.add_group("Newsroom", members=[ada])
    sent = await api.result("sendMessage", chat_id=group.id, text="Which topic?")

    reply = await emulator.user_says(
        group, ada, "sanctions", reply_to_message_id=sent["message_id"]
    )

    assert reply.delivered
    assert reply.json["reply_to_message"]["text"] == "Which topic?"


async def test_pressing_a_button_sends_a_callback_query(
    api: BotApiClient, emulator: BotApiEmulator
) -> None:
    ada = emulator.add_user("Ada")
    chat = emulator.private_chat(ada)
    markup = {"inline_keyboard": [[{"text": "Remove", "callback_data": "topic:rm:1"}]]}
    sent = await api.result("sendMessage", chat_id=chat.id, text="Topics", reply_markup=markup)

    query_id = await emulator.press_button(chat, sent["message_id"], ada, "Remove")

    [update] = emulator.pending_updates
    assert update["callback_query"] == {
        "id": query_id,
        "from": ada.to_json(),
        "message": sent,
        "chat_instance": chat.chat_instance,
        "data": "topic:rm:1",
    }


async def test_buttons_can_be_pressed_by_their_data(
    api: BotApiClient, emulator: BotApiEmulator
) -> None:
    ada = emulator.add_user("Ada")
    chat = emulator.private_chat(ada)
    markup = {"inline_keyboard": [[{"text": "Next ›", "callback_data": "search:2"}]]}
    sent = await api.result("sendMessage", chat_id=chat.id, text="Results", reply_markup=markup)

    await emulator.press_button(chat, sent["message_id"], ada, "search:2")

    assert emulator.pending_updates[0]["callback_query"]["data"] == "search:2"


@pytest.mark.parametrize(
    ("button", "complaint"),
    [("Nope", "has no button 'Nope'"), ("Open", "opens a URL")],
)
async def test_pressing_a_button_that_cannot_be_pressed_fails_the_test(
    api: BotApiClient, emulator: BotApiEmulator, button: str, complaint: str
) -> None:
    ada = emulator.add_user("Ada")
    chat = emulator.private_chat(ada)
    markup = {"inline_keyboard": [[{"text": "Open", "url": "https://example.com"}]]}
    sent = await api.result("sendMessage", chat_id=chat.id, text="Story", reply_markup=markup)

    with pytest.raises(SandboxError, match=complaint):
        await emulator.press_button(chat, sent["message_id"], ada, button)


async def test_a_button_on_a_deleted_message_cannot_be_pressed(
    api: BotApiClient, emulator: BotApiEmulator
) -> None:
    ada = emulator.add_user("Ada")
    chat = emulator.private_chat(ada)
    markup = {"inline_keyboard": [[{"text": "More", "callback_data": "more"}]]}
    sent = await api.result("sendMessage", chat_id=chat.id, text="Story", reply_markup=markup)
    await api.result("deleteMessage", chat_id=chat.id, message_id=sent["message_id"])

    with pytest.raises(SandboxError, match="no bot message"):
        await emulator.press_button(chat, sent["message_id"], ada, "More")


@pytest.mark.parametrize(
    ("setup", "complaint"),
    [
        ({"member": False}, "not a member"),
        ({"bot_removed": True}, "the bot is not in chat"),
    ],
)
async def test_users_cannot_talk_where_telegram_would_not_let_them(
    emulator: BotApiEmulator, setup: dict[str, Any], complaint: str
) -> None:
    ada = emulator.add_user("Ada")
    owner = emulator.add_user("Owner")
    group = emulator.add_group(
        "Newsroom", admins=[owner], members=[ada] if setup.get("member", True) else []
    )
    if setup.get("bot_removed"):
        await emulator.remove_bot_from_group(group)

    with pytest.raises(SandboxError, match=complaint):
        await emulator.user_says(group, ada, "/start")
