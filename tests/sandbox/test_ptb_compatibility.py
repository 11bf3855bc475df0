"""python-telegram-bot 22 accepts every answer the emulator gives and maps every error right."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any, TypeVar

import pytest
import telegram
from telegram import (
    BotCommand,
    ChatFullInfo,
    ChatMember,
    ChatMemberAdministrator,
    ChatMemberBanned,
    ChatMemberLeft,
    ChatMemberMember,
    ChatMemberOwner,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    TelegramObject,
    Update,
    User,
    WebhookInfo,
)
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    RetryAfter,
)
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

from bot.sandbox.emulator import BotApiEmulator, FloodLimits
from tests.sandbox.helpers import BotApiClient

ObjectT = TypeVar("ObjectT", bound=TelegramObject)

RICH_HTML = (
    "<b>b</b> <i>i</i> <u>u</u> <s>s</s> <tg-spoiler>sp</tg-spoiler> "
    '<a href="https://example.com/a">link</a> <code>c</code> '
    '<pre><code class="language-python">p</code></pre> '
    "<blockquote>q</blockquote> <blockquote expandable>e</blockquote> "
    '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>'
)
BUTTONS = {
    "inline_keyboard": [
        [{"text": "More", "callback_data": "more"}],
        [{"text": "Open", "url": "https://example.com"}],
    ]
}


def unknown_fields(value: object, path: str = "result") -> list[str]:
    """Fields python-telegram-bot did not recognise, anywhere in a parsed object."""
    if isinstance(value, TelegramObject):
        found = [f"{path}.{name}" for name in value.api_kwargs]
        for cls in type(value).__mro__:
            for name in getattr(cls, "__slots__", ()):
                if not name.startswith("_") and name != "api_kwargs" and hasattr(value, name):
                    found += unknown_fields(getattr(value, name), f"{path}.{name}")
        return found
    if isinstance(value, list | tuple):
        return [
            field for i, item in enumerate(value) for field in unknown_fields(item, f"{path}[{i}]")
        ]
    return []


def parse(cls: type[ObjectT], data: dict[str, Any]) -> ObjectT:
    parsed = cls.de_json(data, bot=None)
    assert unknown_fields(parsed) == [], data
    return parsed


async def test_get_me_parses_as_a_user(api: BotApiClient) -> None:
    me = parse(User, await api.result("getMe"))

    assert isinstance(me, User)
    assert me.is_bot


async def test_a_message_with_every_feature_parses(
    api: BotApiClient, emulator: BotApiEmulator
) -> None:
    chat = emulator.private_chat(emulator.add_user("Ada", username="ada"))
    said = await emulator.user_says(chat, chat.id, "/latest")

    sent = await api.result(
        "sendMessage",
        chat_id=chat.id,
        text=RICH_HTML,
        parse_mode="HTML",
        reply_markup=BUTTONS,
        link_preview_options={"is_disabled": True},
        reply_parameters={"message_id": said.message_id},
        protect_content=True,
    )
    edited = await api.result(
        "editMessageText", chat_id=chat.id, message_id=sent["message_id"], text="edited"
    )

    message = parse(Message, sent)
    assert isinstance(message, Message)
    assert {entity.type for entity in message.entities} == {
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "text_link",
        "code",
        "pre",
        "blockquote",
        "expandable_blockquote",
        "custom_emoji",
    }
    assert message.reply_to_message is not None
    assert message.reply_markup is not None
    edited_message = parse(Message, edited)
    assert isinstance(edited_message, Message)
    assert edited_message.edit_date is not None


async def test_every_kind_of_chat_parses_as_chat_full_info(
    api: BotApiClient, emulator: BotApiEmulator
) -> None:
    ada = emulator.add_user("Ada", last_name="Lovelace", username="ada")
    chats = [
        emulator.private_chat(ada),
        emulator.add_group("Group", admins=[ada]),
        emulator.add_group("Supergroup", admins=[ada], supergroup=True, username="super"),
        emulator.add_channel("Channel", username="channel"),
    ]

    for chat in chats:
        info = parse(ChatFullInfo, await api.result("getChat", chat_id=chat.id))
        assert isinstance(info, ChatFullInfo)
        assert info.id == chat.id


async def test_every_member_status_parses_as_its_subclass(
    api: BotApiClient, emulator: BotApiEmulator
) -> None:
    owner, editor, reader, stranger = (emulator.add_user(n) for n in ("O", "E", "R", "S"))
    group = emulator.add_group(
        "Newsroom", owner=owner, admins=[editor], members=[reader], bot_is_admin=True
    )
    channel = emulator.add_channel("Wire", owner=owner)

    members = [
        parse(ChatMember, await api.result("getChatMember", chat_id=group.id, user_id=user.id))
        for user in (owner, editor, reader, stranger, emulator.bot)
    ]
    admins = [
        parse(ChatMember, data)
        for chat in (group, channel)
        for data in await api.result("getChatAdministrators", chat_id=chat.id)
    ]

    assert [type(member) for member in members] == [
        ChatMemberOwner,
        ChatMemberAdministrator,
        ChatMemberMember,
        ChatMemberLeft,
        ChatMemberAdministrator,
    ]
    assert [type(member) for member in admins] == [
        ChatMemberOwner,
        ChatMemberAdministrator,
        ChatMemberAdministrator,
        ChatMemberOwner,
        ChatMemberAdministrator,
    ]


async def test_commands_and_webhook_info_parse(api: BotApiClient) -> None:
    await api.result("setMyCommands", commands=[{"command": "start", "description": "Start"}])

    [command] = await api.result("getMyCommands")
    info = await api.result("getWebhookInfo")

    assert parse(BotCommand, command) == BotCommand("start", "Start")
    assert isinstance(parse(WebhookInfo, info), WebhookInfo)


async def test_every_update_the_emulator_makes_parses(
    api: BotApiClient, emulator: BotApiEmulator
) -> None:
    ada, owner = emulator.add_user("Ada"), emulator.add_user("Owner")
    chat = emulator.private_chat(ada)
    group = emulator.add_group("Newsroom", admins=[owner], members=[ada])
    sent = await api.result("sendMessage", chat_id=chat.id, text="x", reply_markup=BUTTONS)
    await emulator.user_says(chat, ada, "/start", reply_to_message_id=sent["message_id"])
    await emulator.press_button(chat, sent["message_id"], ada, "More")
    await emulator.block_bot(ada)
    await emulator.unblock_bot(ada)
    await emulator.remove_bot_from_group(group)
    await emulator.add_bot_to_group(group, owner, as_admin=True)
    await emulator.migrate_group(group)

    updates = [parse(Update, data) for data in await api.result("getUpdates")]

    kinds = [next(key for key in data if key != "update_id") for data in emulator.pending_updates]
    assert kinds == [
        "message",
        "callback_query",
        "my_chat_member",
        "my_chat_member",
        "my_chat_member",
        "my_chat_member",
        "message",
        "message",
        "message",
    ]
    banned = updates[2].my_chat_member
    assert banned is not None
    assert isinstance(banned.new_chat_member, ChatMemberBanned)
    migrated, supergroup = updates[-2].message, updates[-1].effective_chat
    assert migrated is not None
    assert supergroup is not None
    assert migrated.migrate_to_chat_id == supergroup.id


async def test_ptb_bot_drives_a_whole_exchange(
    bot: telegram.Bot, emulator: BotApiEmulator
) -> None:
    ada = emulator.add_user("Ada")
    chat = emulator.private_chat(ada)

    sent = await bot.send_message(
        chat.id,
        "<b>Sanctions</b> widen",
        parse_mode="HTML",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("Mute", callback_data="mute")]]),
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )
    edited = await bot.edit_message_text("Sanctions widen (updated)", chat.id, sent.message_id)
    await bot.send_chat_action(chat.id, "typing")
    await bot.set_my_commands([BotCommand("start", "Subscribe")])
    assert await bot.delete_message(chat.id, sent.message_id)

    assert sent.text == "Sanctions widen"
    assert isinstance(edited, Message)
    assert edited.edit_date is not None
    assert await bot.get_my_commands() == (BotCommand("start", "Subscribe"),)
    [record] = emulator.messages(chat)
    assert record.deleted
    assert record.history[0].link_preview == {"is_disabled": True}


async def test_ptb_raises_the_matching_errors(bot: telegram.Bot, emulator: BotApiEmulator) -> None:
    ada, owner = emulator.add_user("Ada"), emulator.add_user("Owner")
    chat = emulator.private_chat(ada)
    group = emulator.add_group("Newsroom", admins=[owner])
    new_id = await emulator.migrate_group(group)
    await emulator.block_bot(ada)

    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(424242, "x")
    with pytest.raises(BadRequest, match="Can't parse entities"):
        await bot.send_message(new_id, "<b>x", parse_mode="HTML")
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(chat.id, "x")
    with pytest.raises(ChatMigrated) as migrated:
        await bot.send_message(group.id, "x")

    assert migrated.value.new_chat_id == new_id


async def test_ptb_reads_retry_after_from_a_429(
    bot: telegram.Bot, emulator: BotApiEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without PTB_TIMEDELTA, python-telegram-bot 22 warns as it builds RetryAfter.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    chat = emulator.private_chat(emulator.add_user("Ada"))
    emulator.limits = FloodLimits()
    for _ in range(3):
        await bot.send_message(chat.id, "alert")

    with pytest.raises(RetryAfter) as raised:
        await bot.send_message(chat.id, "alert")

    assert raised.value.retry_after == dt.timedelta(seconds=1)


async def test_ptb_sees_a_wrong_token_as_invalid(emulator: BotApiEmulator) -> None:
    bot = telegram.Bot("1:wrong", base_url=f"{emulator.api_root}/bot")

    with pytest.raises(InvalidToken):
        await bot.initialize()

    await bot.shutdown()


async def test_ptb_sees_a_second_bot_instance_as_a_conflict(
    bot: telegram.Bot, emulator: BotApiEmulator
) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=30, read_timeout=40))
    await emulator.wait_until(lambda: emulator.long_polling, description="long poll")

    async with telegram.Bot(emulator.token, base_url=f"{emulator.api_root}/bot") as second:
        await second.get_updates(timeout=0)

    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await first


@pytest.fixture
async def application(
    emulator: BotApiEmulator,
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("Instant", callback_data="instant")]])
        await update.effective_message.reply_text("<b>Welcome</b>", reply_markup=markup)

    async def choose(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("Alerts are instant")
        await query.edit_message_text("<b>Welcome</b> (instant alerts)")

    app = (
        Application.builder()
        .token(emulator.token)
        .base_url(f"{emulator.api_root}/bot")
        .defaults(telegram.ext.Defaults(parse_mode="HTML"))
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(choose))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=dt.timedelta(seconds=10))
        yield app
        await app.updater.stop()
        await app.stop()


async def test_a_ptb_application_polls_replies_and_handles_buttons(
    application: Application[Any, Any, Any, Any, Any, Any], emulator: BotApiEmulator
) -> None:
    ada = emulator.add_user("Ada")
    chat = emulator.private_chat(ada)

    await emulator.user_says(chat, ada, "/start")
    welcome = await emulator.wait_for_message(chat)
    query_id = await emulator.press_button(chat, welcome.message_id, ada, "Instant")
    answer = await emulator.wait_for_answer(query_id)
    await emulator.wait_until(lambda: welcome.edit_count == 1, description="the edit")

    assert welcome.text == "Welcome (instant alerts)"
    assert welcome.history[0].html == "<b>Welcome</b>"
    assert answer.text == "Alerts are instant"
