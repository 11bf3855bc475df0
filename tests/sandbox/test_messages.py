"""Sending, editing and deleting messages: what gets through, what Telegram refuses and why."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bot.sandbox.emulator import BotApiEmulator, Button, Chat, Entity
from tests.sandbox.helpers import BotApiClient

MORE = {"inline_keyboard": [[{"text": "More", "callback_data": "more:1"}]]}
OPEN = {"inline_keyboard": [[{"text": "Open", "url": "https://example.com/story"}]]}


@pytest.fixture
def chat(emulator: BotApiEmulator) -> Chat:
    return emulator.private_chat(emulator.add_user("Ada", username="ada"))


async def send(api: BotApiClient, chat: Chat, text: str, **params: Any) -> dict[str, Any]:
    result: dict[str, Any] = await api.result("sendMessage", chat_id=chat.id, text=text, **params)
    return result


async def test_sent_message_comes_back_whole_and_is_recorded(
    api: BotApiClient, emulator: BotApiEmulator, chat: Chat
) -> None:
    result = await send(
        api,
        chat,
        "<b>Kim Jong Un</b> visits &lt;Moscow&gt;",
        parse_mode="HTML",
        reply_markup=MORE,
        link_preview_options={"is_disabled": True},
    )

    assert result["message_id"] == 1
    assert result["from"]["id"] == emulator.bot.id
    assert result["chat"] == {
        "id": chat.id,
        "type": "private",
        "first_name": "Ada",
        "username": "ada",
    }
    assert result["text"] == "Kim Jong Un visits <Moscow>"
    assert result["entities"] == [{"offset": 0, "length": 11, "type": "bold"}]
    assert result["reply_markup"] == MORE
    assert result["link_preview_options"] == {"is_disabled": True}
    [record] = emulator.messages(chat)
    assert record.text == "Kim Jong Un visits <Moscow>"
    assert record.html == "<b>Kim Jong Un</b> visits &lt;Moscow&gt;"
    assert record.parse_mode == "HTML"
    assert record.entities == (Entity("bold", 0, 11),)
    assert record.buttons == ((Button("More", callback_data="more:1"),),)
    assert record.link_preview_disabled
    assert (record.edit_count, record.deleted) == (0, False)
    assert result["date"] == int(record.date.timestamp())


async def test_plain_message_has_no_optional_fields(api: BotApiClient, chat: Chat) -> None:
    result = await send(api, chat, "hello")

    assert set(result) == {"message_id", "from", "chat", "date", "text"}


async def test_old_preview_flag_maps_to_link_preview_options(
    api: BotApiClient, emulator: BotApiEmulator, chat: Chat
) -> None:
    result = await send(api, chat, "https://example.com", disable_web_page_preview=True)

    assert result["link_preview_options"] == {"is_disabled": True}
    assert emulator.messages(chat)[0].link_preview_disabled


async def test_message_ids_increase_per_chat(
    api: BotApiClient, emulator: BotApiEmulator, chat: Chat
) -> None:
    other = emulator.private_chat(emulator.add_user("Grace"))

    ids = [(await send(api, c, "x"))["message_id"] for c in (chat, chat, other, chat)]

    assert ids == [1, 2, 1, 3]


async def test_4096_characters_after_parsing_are_accepted(
    api: BotApiClient, emulator: BotApiEmulator, chat: Chat
) -> None:
    await send(api, chat, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")

    assert len(emulator.messages(chat)[0].text) == 4096


async def test_4097_characters_are_too_long(api: BotApiClient, chat: Chat) -> None:
    error = await api.error("sendMessage", chat_id=chat.id, text="a" * 4097)

    assert error == (400, "Bad Request: message is too long")


async def test_length_is_counted_in_utf16_code_units(api: BotApiClient, chat: Chat) -> None:
    await send(api, chat, "😀" * 2048)

    error = await api.error("sendMessage", chat_id=chat.id, text="😀" * 2049)

    assert error == (400, "Bad Request: message is too long")


@pytest.mark.parametrize("text", ["", "   \n\t", "<b> </b>", "<i></i>"])
async def test_text_empty_after_parsing_is_refused(
    api: BotApiClient, chat: Chat, text: str
) -> None:
    error = await api.error("sendMessage", chat_id=chat.id, text=text, parse_mode="HTML")

    assert error == (400, "Bad Request: message text is empty")


async def test_missing_text_is_refused(api: BotApiClient, chat: Chat) -> None:
    assert await api.error("sendMessage", chat_id=chat.id) == (
        400,
        "Bad Request: message text is empty",
    )


async def test_invalid_html_is_refused_with_telegrams_words(
    api: BotApiClient, emulator: BotApiEmulator, chat: Chat
) -> None:
    error = await api.error(
        "sendMessage", chat_id=chat.id, text="<b>Breaking</i>", parse_mode="HTML"
    )

    assert error == (
        400,
        "Bad Request: can't parse entities: Unmatched end tag at byte offset 11, "
        'expected "</b>", found "</i>"',
    )
    assert emulator.messages(chat) == []


async def test_unescaped_ampersand_is_refused_unless_the_emulator_is_lenient(
    api: BotApiClient, chat: Chat
) -> None:
    status, description = await api.error(
        "sendMessage", chat_id=chat.id, text="AT&T", parse_mode="HTML"
    )

    assert status == 400
    assert description.startswith('Bad Request: can\'t parse entities: Character "&"')


async def test_lenient_emulator_keeps_ampersands_like_telegram() -> None:
    async with BotApiEmulator(strict_ampersands=False) as emulator:
        chat = emulator.private_chat(emulator.add_user("Ada"))
        base_url = f"{emulator.api_root}/bot{emulator.token}/"
        async with httpx.AsyncClient(base_url=base_url) as http:
            result = await BotApiClient(http).result(
                "sendMessage", chat_id=chat.id, text="AT&T", parse_mode="HTML"
            )

    assert result["text"] == "AT&T"


@pytest.mark.parametrize("mode", ["MarkdownV2", "Markdown"])
async def test_markdown_is_refused_as_unsupported_here(
    api: BotApiClient, chat: Chat, mode: str
) -> None:
    status, description = await api.error(
        "sendMessage", chat_id=chat.id, text="*x*", parse_mode=mode
    )

    assert status == 400
    assert "not supported by this emulator" in description


async def test_unknown_parse_mode_is_refused(api: BotApiClient, chat: Chat) -> None:
    error = await api.error("sendMessage", chat_id=chat.id, text="x", parse_mode="BBCode")

    assert error == (400, "Bad Request: unsupported parse_mode")


async def test_explicit_entities_are_used_without_parse_mode(
    api: BotApiClient, emulator: BotApiEmulator, chat: Chat
) -> None:
    entities = [
        {"type": "bold", "offset": 0, "length": 4},
        {"type": "text_link", "offset": 5, "length": 4, "url": "https://example.com"},
    ]

    result = await send(api, chat, "Kiev news", entities=entities)

    assert result["entities"] == [
        {"type": "bold", "offset": 0, "length": 4},
        {"type": "text_link", "offset": 5, "length": 4, "url": "https://example.com/"},
    ]
    assert emulator.messages(chat)[0].parse_mode is None


async def test_unknown_entity_type_is_refused(api: BotApiClient, chat: Chat) -> None:
    status, description = await api.error(
        "sendMessage",
        chat_id=chat.id,
        text="x",
        entities=[{"type": "blink", "offset": 0, "length": 1}],
    )

    assert status == 400
    assert description.startswith("Bad Request: can't parse MessageEntity")


@pytest.mark.parametrize(
    ("button", "description"),
    [
        ({"text": "More"}, "Bad Request: text buttons are unallowed in the inline keyboard"),
        ({"text": "x", "callback_data": "d" * 65}, "Bad Request: BUTTON_DATA_INVALID"),
        ({"text": "x", "callback_data": "é" * 33}, "Bad Request: BUTTON_DATA_INVALID"),
        ({"text": "x", "callback_data": ""}, "Bad Request: BUTTON_DATA_INVALID"),
        (
            {"text": "x", "callback_data": "a", "url": "https://example.com"},
            "Bad Request: can't parse inline keyboard button: exactly one of the optional "
            "fields must be used, found url, callback_data",
        ),
        (
            {"text": "x", "url": "javascript:alert(1)"},
            "Bad Request: inline keyboard button URL 'javascript:alert(1)' is invalid: "
            "Unsupported URL protocol",
        ),
        (
            {"text": "x", "url": "https://"},
            "Bad Request: inline keyboard button URL 'https://' is invalid: Wrong HTTP URL",
        ),
        (
            {"text": "", "callback_data": "a"},
            "Bad Request: can't parse inline keyboard button: text must be a non-empty String",
        ),
    ],
)
async def test_invalid_inline_buttons_are_refused(
    api: BotApiClient, chat: Chat, button: dict[str, Any], description: str
) -> None:
    markup = {"inline_keyboard": [[button]]}

    error = await api.error("sendMessage", chat_id=chat.id, text="x", reply_markup=markup)

    assert error == (400, description)


@pytest.mark.parametrize(
    "button",
    [
        {"text": "x", "callback_data": "d" * 64},
        {"text": "x", "callback_data": "é" * 32},
        {"text": "x", "url": "http://example.com"},
        {"text": "x", "url": "tg://resolve?domain=herald_bot"},
    ],
)
async def test_valid_inline_buttons_pass(
    api: BotApiClient, chat: Chat, button: dict[str, Any]
) -> None:
    result = await send(api, chat, "x", reply_markup={"inline_keyboard": [[button]]})

    assert result["reply_markup"] == {"inline_keyboard": [[button]]}


async def test_reply_keyboard_is_accepted_but_not_shown_on_the_message(
    api: BotApiClient, chat: Chat
) -> None:
    result = await send(api, chat, "x", reply_markup={"keyboard": [[{"text": "/latest"}]]})

    assert "reply_markup" not in result


async def test_reply_to_a_message_includes_it(
    api: BotApiClient, emulator: BotApiEmulator, chat: Chat
) -> None:
    question = await emulator.user_says(chat, chat.id, "/latest")

    result = await send(api, chat, "answer", reply_parameters={"message_id": question.message_id})

    assert result["reply_to_message"]["text"] == "/latest"
    assert emulator.messages(chat)[0].reply_to_message_id == question.message_id


async def test_reply_to_a_missing_message_is_refused_unless_allowed(
    api: BotApiClient, emulator: BotApiEmulator, chat: Chat
) -> None:
    error = await api.error("sendMessage", chat_id=chat.id, text="x", reply_to_message_id=99)
    result = await send(
        api, chat, "x", reply_parameters={"message_id": 99, "allow_sending_without_reply": True}
    )

    assert error == (400, "Bad Request: message to be replied not found")
    assert "reply_to_message" not in result


async def test_edit_changes_text_and_keeps_history(
    api: BotApiClient, emulator: BotApiEmulator, chat: Chat
) -> None:
    sent = await send(api, chat, "Sending… 0/10", reply_markup=MORE)

    edited = await api.result(
        "editMessageText",
        chat_id=chat.id,
        message_id=sent["message_id"],
        text="<b>Sent</b> 10/10",
        parse_mode="HTML",
        reply_markup=MORE,
    )

    assert edited["text"] == "Sent 10/10"
    assert edited["edit_date"] >= edited["date"]
    [record] = emulator.messages(chat)
    assert record.text == "Sent 10/10"
    assert record.edit_count == 1
    assert [version.text for version in record.history] == ["Sending… 0/10", "Sent 10/10"]


async def test_edit_with_identical_content_is_not_modified(api: BotApiClient, chat: Chat) -> None:
    sent = await send(api, chat, "<b>Same</b>", parse_mode="HTML", reply_markup=MORE)

    error = await api.error(
        "editMessageText",
        chat_id=chat.id,
        message_id=sent["message_id"],
        text="<strong>Same</strong>",
        parse_mode="HTML",
        reply_markup=MORE,
    )

    assert error == (
        400,
        "Bad Request: message is not modified: specified new message content and reply markup "
        "are exactly the same as a current content and reply markup of the message",
    )


async def test_edit_with_same_text_but_other_entities_is_a_change(
    api: BotApiClient, chat: Chat
) -> None:
    sent = await send(api, chat, "<b>Same</b>", parse_mode="HTML")

    edited = await api.result(
        "editMessageText",
        chat_id=chat.id,
        message_id=sent["message_id"],
        text="<i>Same</i>",
        parse_mode="HTML",
    )

    assert edited["entities"] == [{"offset": 0, "length": 4, "type": "italic"}]


async def test_edit_text_without_reply_markup_removes_the_keyboard(
    api: BotApiClient, emulator: BotApiEmulator, chat: Chat
) -> None:
    sent = await send(api, chat, "Pick one", reply_markup=MORE)

    edited = await api.result(
        "editMessageText", chat_id=chat.id, message_id=sent["message_id"], text="Picked"
    )

    assert "reply_markup" not in edited
    assert emulator.messages(chat)[0].buttons == ()


async def test_edit_applies_the_same_text_rules_as_send(api: BotApiClient, chat: Chat) -> None:
    sent = await send(api, chat, "x")

    too_long = await api.error(
        "editMessageText", chat_id=chat.id, message_id=sent["message_id"], text="a" * 4097
    )
    empty = await api.error(
        "editMessageText", chat_id=chat.id, message_id=sent["message_id"], text=" "
    )

    assert too_long == (400, "Bad Request: message is too long")
    assert empty == (400, "Bad Request: message text is empty")


async def test_editing_an_unknown_message_is_refused(api: BotApiClient, chat: Chat) -> None:
    error = await api.error("editMessageText", chat_id=chat.id, message_id=42, text="x")

    assert error == (400, "Bad Request: message to edit not found")


async def test_editing_a_users_message_is_refused(
    api: BotApiClient, emulator: BotApiEmulator, chat: Chat
) -> None:
    said = await emulator.user_says(chat, chat.id, "hello")

    error = await api.error(
        "editMessageText", chat_id=chat.id, message_id=said.message_id, text="x"
    )

    assert error == (400, "Bad Request: message can't be edited")


async def test_inline_message_ids_are_refused(api: BotApiClient) -> None:
    error = await api.error("editMessageText", inline_message_id="AAAA", text="x")

    assert error == (400, "Bad Request: MESSAGE_ID_INVALID")


async def test_edit_reply_markup_replaces_the_keyboard(
    api: BotApiClient, emulator: BotApiEmulator, chat: Chat
) -> None:
    sent = await send(api, chat, "Story", reply_markup=MORE)

    edited = await api.result(
        "editMessageReplyMarkup", chat_id=chat.id, message_id=sent["message_id"], reply_markup=OPEN
    )

    assert edited["reply_markup"] == OPEN
    assert emulator.messages(chat)[0].buttons == (
        (Button("Open", url="https://example.com/story"),),
    )


async def test_edit_reply_markup_to_the_same_keyboard_is_not_modified(
    api: BotApiClient, chat: Chat
) -> None:
    sent = await send(api, chat, "Story", reply_markup=MORE)

    status, description = await api.error(
        "editMessageReplyMarkup", chat_id=chat.id, message_id=sent["message_id"], reply_markup=MORE
    )

    assert status == 400
    assert description.startswith("Bad Request: message is not modified")


async def test_edit_reply_markup_without_markup_removes_the_keyboard(
    api: BotApiClient, emulator: BotApiEmulator, chat: Chat
) -> None:
    sent = await send(api, chat, "Story", reply_markup=MORE)

    await api.result("editMessageReplyMarkup", chat_id=chat.id, message_id=sent["message_id"])

    assert emulator.messages(chat)[0].buttons == ()


async def test_deleted_message_is_flagged_and_cannot_be_deleted_twice(
    api: BotApiClient, emulator: BotApiEmulator, chat: Chat
) -> None:
    sent = await send(api, chat, "oops")

    assert await api.result("deleteMessage", chat_id=chat.id, message_id=sent["message_id"])
    error = await api.error("deleteMessage", chat_id=chat.id, message_id=sent["message_id"])

    assert error == (400, "Bad Request: message to delete not found")
    assert emulator.messages(chat)[0].deleted


async def test_deleted_message_cannot_be_edited(api: BotApiClient, chat: Chat) -> None:
    sent = await send(api, chat, "oops")
    await api.result("deleteMessage", chat_id=chat.id, message_id=sent["message_id"])

    error = await api.error(
        "editMessageText", chat_id=chat.id, message_id=sent["message_id"], text="fixed"
    )

    assert error == (400, "Bad Request: message to edit not found")


async def test_deleting_others_messages_in_a_group_needs_admin_rights(
    api: BotApiClient, emulator: BotApiEmulator
) -> None:
    ada = emulator.add_user("Ada")
    group = emulator.add_group("Newsroom", admins=[ada])
    said = await emulator.user_says(group, ada, "/start")

    error = await api.error("deleteMessage", chat_id=group.id, message_id=said.message_id)

    assert error == (400, "Bad Request: message can't be deleted")


async def test_chat_actions_are_recorded_and_checked(
    api: BotApiClient, emulator: BotApiEmulator, chat: Chat
) -> None:
    assert await api.result("sendChatAction", chat_id=chat.id, action="typing")
    error = await api.error("sendChatAction", chat_id=chat.id, action="dancing")

    assert error == (400, "Bad Request: wrong parameter action in request")
    assert emulator.chat_actions == [(chat.id, "typing")]
