"""The command menu and answers to button presses."""

from __future__ import annotations

from typing import Any

import pytest

from bot.sandbox.emulator import BotApiEmulator, BotCommand, CallbackAnswer
from tests.sandbox.helpers import BotApiClient

COMMANDS = [
    {"command": "start", "description": "Subscribe this chat"},
    {"command": "latest", "description": "Newest entries"},
]


async def test_commands_are_stored_and_read_back(
    api: BotApiClient, emulator: BotApiEmulator
) -> None:
    assert await api.result("setMyCommands", commands=COMMANDS)

    assert await api.result("getMyCommands") == COMMANDS
    assert emulator.commands == [
        BotCommand("start", "Subscribe this chat"),
        BotCommand("latest", "Newest entries"),
    ]


async def test_commands_are_kept_per_scope_and_language(
    api: BotApiClient, emulator: BotApiEmulator
) -> None:
    admin_only = [{"command": "stats", "description": "Bot health"}]
    scope = {"type": "all_chat_administrators"}

    await api.result("setMyCommands", commands=COMMANDS)
    await api.result("setMyCommands", commands=admin_only, scope=scope)
    await api.result("setMyCommands", commands=COMMANDS[:1], language_code="de")

    assert await api.result("getMyCommands", scope=scope) == admin_only
    assert emulator.commands_for("all_chat_administrators") == [BotCommand("stats", "Bot health")]
    assert emulator.commands_for(language_code="de") == [
        BotCommand("start", "Subscribe this chat")
    ]
    assert len(emulator.commands) == 2


async def test_deleted_commands_are_gone(api: BotApiClient, emulator: BotApiEmulator) -> None:
    await api.result("setMyCommands", commands=COMMANDS)

    assert await api.result("deleteMyCommands")

    assert emulator.commands == []


@pytest.mark.parametrize(
    ("command", "description"),
    [
        ({"command": "Start", "description": "x"}, "Bad Request: BOT_COMMAND_INVALID"),
        ({"command": "/start", "description": "x"}, "Bad Request: BOT_COMMAND_INVALID"),
        ({"command": "", "description": "x"}, "Bad Request: BOT_COMMAND_INVALID"),
        ({"command": "a" * 33, "description": "x"}, "Bad Request: BOT_COMMAND_INVALID"),
        ({"command": "top-ic", "description": "x"}, "Bad Request: BOT_COMMAND_INVALID"),
        ({"command": "start", "description": ""}, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID"),
        (
            {"command": "start", "description": "d" * 257},
            "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID",
        ),
    ],
)
async def test_invalid_commands_are_refused(
    api: BotApiClient, emulator: BotApiEmulator, command: dict[str, Any], description: str
) -> None:
    error = await api.error("setMyCommands", commands=[command])

    assert error == (400, description)
    assert emulator.commands == []


async def test_commands_at_the_limits_are_accepted(api: BotApiClient) -> None:
    commands = [
        {"command": f"c{index:02d}" + "_" * 29, "description": "d" * 256} for index in range(100)
    ]

    assert await api.result("setMyCommands", commands=commands)


async def test_more_than_a_hundred_commands_are_refused(api: BotApiClient) -> None:
    commands = [{"command": f"c{index}", "description": "d"} for index in range(101)]

    assert await api.error("setMyCommands", commands=commands) == (
        400,
        "Bad Request: BOT_COMMANDS_TOO_MUCH",
    )


async def pressed(api: BotApiClient, emulator: BotApiEmulator) -> str:
    ada = emulator.add_user("Ada")
    chat = emulator.private_chat(ada)
    markup = {"inline_keyboard": [[{"text": "Instant", "callback_data": "mode:instant"}]]}
    sent = await api.result("sendMessage", chat_id=chat.id, text="Topic", reply_markup=markup)
    return await emulator.press_button(chat, sent["message_id"], ada, "Instant")


async def test_answer_is_recorded_as_the_toast_the_user_saw(
    api: BotApiClient, emulator: BotApiEmulator
) -> None:
    query_id = await pressed(api, emulator)

    assert await api.result("answerCallbackQuery", callback_query_id=query_id, text="Saved")

    assert emulator.callback_answers == [
        CallbackAnswer(query_id, text="Saved", show_alert=False, url=None, cache_time=0)
    ]
    assert (await emulator.wait_for_answer(query_id)).text == "Saved"


async def test_a_query_is_answered_at_most_once(
    api: BotApiClient, emulator: BotApiEmulator
) -> None:
    query_id = await pressed(api, emulator)
    await api.result("answerCallbackQuery", callback_query_id=query_id)

    error = await api.error("answerCallbackQuery", callback_query_id=query_id)

    assert error == (
        400,
        "Bad Request: query is too old and response timeout expired or query ID is invalid",
    )


async def test_unknown_query_id_is_refused(api: BotApiClient) -> None:
    status, description = await api.error("answerCallbackQuery", callback_query_id="123")

    assert status == 400
    assert description.startswith("Bad Request: query is too old")


async def test_toast_longer_than_200_characters_is_refused_and_query_stays_open(
    api: BotApiClient, emulator: BotApiEmulator
) -> None:
    query_id = await pressed(api, emulator)

    error = await api.error("answerCallbackQuery", callback_query_id=query_id, text="x" * 201)
    await api.result("answerCallbackQuery", callback_query_id=query_id, text="x" * 200)

    assert error == (400, "Bad Request: MESSAGE_TOO_LONG")
