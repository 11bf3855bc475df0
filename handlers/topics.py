"""/topic: follow, list, switch and remove topics, with buttons on the list."""

from __future__ import annotations

from telegram import Chat, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot import formatting
from bot.domain import ChatKind, HeraldError, Topic, TopicMode
from bot.services.topics import MAX_TOPICS
from handlers import texts
from handlers.chats import chat_title, thread_of
from handlers.context import BotContext
from handlers.permissions import may_change_settings


def _keyboard(topics: list[Topic]) -> InlineKeyboardMarkup | None:
    if not topics:
        return None
    rows = []
    for number, topic in enumerate(topics, start=1):
        switch = "🔔 instant" if topic.mode is TopicMode.INSTANT else "📰 digest only"
        rows.append(
            [
                InlineKeyboardButton(
                    f"{number}. {switch}", callback_data=f"topic:mode:{topic.id}"
                ),
                InlineKeyboardButton(
                    f"🗑 remove {number}", callback_data=f"topic:remove:{topic.id}"
                ),
            ]
        )
    return InlineKeyboardMarkup(rows)


async def manage_topics(update: Update, context: BotContext) -> None:
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None:
        return
    args = context.args or []
    if not args:
        topics = await context.services.topics.list(chat.id)
        await message.reply_text(
            formatting.topic_list(topics, limit=MAX_TOPICS), reply_markup=_keyboard(topics)
        )
        return
    action = args[0].lower()
    if action in {"add", "remove"} and len(args) == 1:
        await message.reply_text(texts.TOPIC_USAGE)
        return
    if not await may_change_settings(update, context):
        await message.reply_text(texts.GROUP_ADMINS_ONLY)
        return
    # The query keeps its quotes and spacing: take it from the text, not the split args.
    text = (message.text or "").split(maxsplit=1)[1]
    if action == "remove":
        await remove_topic(message, chat, context, text.split(maxsplit=1)[1])
    else:
        query = text.split(maxsplit=1)[1] if action == "add" else text
        await add_topic(message, chat, context, query)


async def add_topic(message: Message, chat: Chat, context: BotContext, query: str) -> None:
    services = context.services
    # Following a topic subscribes the chat, so /topic works without /start first.
    registration = await services.chats.start(chat.id, ChatKind(chat.type), chat_title(chat))
    try:
        added = await services.topics.add(chat.id, query, thread_id=thread_of(message))
    except HeraldError as error:
        await message.reply_text(formatting.escape(error.user_message))
        return
    await message.reply_text(
        formatting.topic_added(added, timezone=registration.chat.timezone, now=services.clock())
    )


async def remove_topic(message: Message, chat: Chat, context: BotContext, reference: str) -> None:
    try:
        topic = await context.services.topics.remove(chat.id, reference)
    except HeraldError as error:
        await message.reply_text(formatting.escape(error.user_message))
        return
    await message.reply_text(
        f"This chat no longer follows <b>{formatting.escape(topic.query)}</b>."
    )


async def press_topic_button(update: Update, context: BotContext) -> None:
    query, chat = update.callback_query, update.effective_chat
    if query is None or query.data is None or chat is None:
        return
    if not await may_change_settings(update, context):
        await query.answer(texts.GROUP_ADMINS_ONLY, show_alert=True)
        return
    _, action, number = query.data.split(":")
    topics = context.services.topics
    try:
        if action == "remove":
            topic = await topics.remove_by_id(chat.id, int(number))
            toast = f"Removed “{topic.query}”"
        else:
            current = next((t for t in await topics.list(chat.id) if t.id == int(number)), None)
            mode = (
                TopicMode.DIGEST
                if current is not None and current.mode is TopicMode.INSTANT
                else TopicMode.INSTANT
            )
            topic = await topics.set_mode(chat.id, int(number), mode)
            toast = (
                f"“{topic.query}”: instant alerts"
                if mode is TopicMode.INSTANT
                else f"“{topic.query}”: digest only, no alerts"
            )
    except HeraldError as error:
        await query.answer(error.user_message, show_alert=True)
        return
    await query.answer(formatting.shorten(toast, 190))
    remaining = await topics.list(chat.id)
    await query.edit_message_text(
        formatting.topic_list(remaining, limit=MAX_TOPICS), reply_markup=_keyboard(remaining)
    )


HANDLERS = [
    CommandHandler("topic", manage_topics),
    CallbackQueryHandler(press_topic_button, pattern=r"^topic:(mode|remove):\d+$"),
]
