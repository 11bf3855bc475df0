"""/topic: follow, list, switch and remove topics, with buttons on the list."""

from __future__ import annotations

from telegram import Chat, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler

from bot import formatting
from bot.domain import HeraldError, Topic, TopicMode
from bot.services.topics import MAX_TOPICS
from handlers import texts
from handlers.channels import COMMAND_UPDATES
from handlers.context import BotContext
from handlers.permissions import may_change_settings
from handlers.prompts import ANSWERS, RepliesTo, ask_for
from handlers.targets import Target, chat_title, command_target, refusal_for


def _keyboard(topics: list[Topic], named_chat: int | None) -> InlineKeyboardMarkup | None:
    """The list's buttons; ``named_chat``: the list is of that chat, managed from another."""
    if not topics:
        return None
    # Buttons on a list of another chat's topics name that chat, so a press acts there.
    suffix = f":{named_chat}" if named_chat is not None else ""
    rows = []
    for number, topic in enumerate(topics, start=1):
        switch = "🔔 instant" if topic.mode is TopicMode.INSTANT else "📰 digest only"
        rows.append(
            [
                InlineKeyboardButton(
                    f"{number}. {switch}", callback_data=f"topic:mode:{topic.id}{suffix}"
                ),
                InlineKeyboardButton(
                    f"🗑 remove {number}", callback_data=f"topic:remove:{topic.id}{suffix}"
                ),
            ]
        )
    return InlineKeyboardMarkup(rows)


async def manage_topics(update: Update, context: BotContext) -> None:
    target = await command_target(update, context, words_with_at=True)
    if target is None:
        return
    args = context.args or []
    if not args:
        topics = await context.services.topics.list(target.chat_id)
        private = target.message.chat.type == Chat.PRIVATE and not target.remote
        if private and not topics:
            # Tapped from the menu with nothing followed yet: ask, and the reply follows it.
            await target.message.reply_text(
                texts.TOPIC_PROMPT, reply_markup=ask_for("North Korea, or Putin OR Kremlin")
            )
            return
        await target.reply(
            context,
            formatting.topic_list(topics, limit=MAX_TOPICS),
            reply_markup=_keyboard(topics, target.chat_id if target.remote else None),
        )
        return
    action = args[0].lower()
    if action in {"add", "remove"} and len(args) == 1:
        await target.reply(context, texts.TOPIC_USAGE)
        return
    if not target.remote and not await may_change_settings(update, context):
        await target.reply(context, texts.GROUP_ADMINS_ONLY)
        return
    # The query keeps its quotes and spacing: take it from the text, not the split args.
    if action == "remove":
        await remove_topic(target, context, target.text.split(maxsplit=1)[1])
    else:
        query = target.text.split(maxsplit=1)[1] if action == "add" else target.text
        await add_topic(update, target, context, query)


async def press_add_topic(update: Update, context: BotContext) -> None:
    """➕ Add a topic, under the welcome: ask which, as a bare /topic does."""
    query, chat = update.callback_query, update.effective_chat
    if query is None or chat is None:
        return
    await query.answer()
    await context.bot.send_message(
        chat.id, texts.TOPIC_PROMPT, reply_markup=ask_for("North Korea, or Putin OR Kremlin")
    )


async def answer_topic_prompt(update: Update, context: BotContext) -> None:
    """The words someone replied to "Which topic should this chat follow?"."""
    target = await command_target(update, context)
    if target is not None and target.message.text:
        await add_topic(update, target, context, target.message.text)


async def add_topic(update: Update, target: Target, context: BotContext, query: str) -> None:
    services = context.services
    user = update.effective_user
    # Following a topic subscribes the chat, so /topic works without /start first.
    registration = await services.chats.start(
        target.chat_id,
        target.kind,
        target.title,
        manager=user.id if target.remote and user is not None else None,
    )
    try:
        added = await services.topics.add(target.chat_id, query, thread_id=target.thread_id)
    except HeraldError as error:
        await target.reply(context, formatting.escape(error.user_message))
        return
    await target.reply(
        context,
        formatting.topic_added(added, timezone=registration.chat.timezone, now=services.clock()),
    )


async def remove_topic(target: Target, context: BotContext, reference: str) -> None:
    try:
        topic = await context.services.topics.remove(target.chat_id, reference)
    except HeraldError as error:
        await target.reply(context, formatting.escape(error.user_message))
        return
    await target.reply(
        context, f"This chat no longer follows <b>{formatting.escape(topic.query)}</b>."
    )


async def press_topic_button(update: Update, context: BotContext) -> None:
    query, chat = update.callback_query, update.effective_chat
    if query is None or query.data is None or chat is None:
        return
    _, action, number, *named = query.data.split(":")
    chat_id = int(named[0]) if named else chat.id
    heading = ""
    if named:
        # Another chat's list: its admins only, as Telegram says now.
        try:
            listed = await context.bot.get_chat(chat_id)
        except TelegramError:
            await query.answer(texts.STALE_BUTTON, show_alert=True)
            return
        refusal = await refusal_for(update, context, listed)
        if refusal is not None:
            await query.answer(
                formatting.shorten(formatting.plain_text(refusal), 190), show_alert=True
            )
            return
        heading = f"📣 <b>{formatting.escape(chat_title(listed))}</b>\n"
    elif not await may_change_settings(update, context):
        await query.answer(texts.GROUP_ADMINS_ONLY, show_alert=True)
        return
    topics = context.services.topics
    try:
        if action == "remove":
            topic = await topics.remove_by_id(chat_id, int(number))
            toast = f"Removed “{topic.query}”"
        else:
            current = next((t for t in await topics.list(chat_id) if t.id == int(number)), None)
            mode = (
                TopicMode.DIGEST
                if current is not None and current.mode is TopicMode.INSTANT
                else TopicMode.INSTANT
            )
            topic = await topics.set_mode(chat_id, int(number), mode)
            toast = (
                f"“{topic.query}”: instant alerts"
                if mode is TopicMode.INSTANT
                else f"“{topic.query}”: digest only, no alerts"
            )
    except HeraldError as error:
        await query.answer(error.user_message, show_alert=True)
        return
    await query.answer(formatting.shorten(toast, 190))
    remaining = await topics.list(chat_id)
    await query.edit_message_text(
        heading + formatting.topic_list(remaining, limit=MAX_TOPICS),
        reply_markup=_keyboard(remaining, chat_id if named else None),
    )


HANDLERS = [
    CommandHandler("topic", manage_topics, filters=COMMAND_UPDATES),
    MessageHandler(ANSWERS & RepliesTo(texts.TOPIC_PROMPT), answer_topic_prompt),
    CallbackQueryHandler(press_add_topic, pattern=r"^ask:topic$"),
    CallbackQueryHandler(press_topic_button, pattern=r"^topic:(mode|remove):\d+(:-\d+)?$"),
]
