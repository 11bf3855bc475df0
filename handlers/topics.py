"""/topic: follow, list, switch and remove topics, with buttons on the list."""

from __future__ import annotations

import datetime as dt

from telegram import CallbackQuery, Chat, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler

from bot import formatting
from bot.delivery import sender
from bot.domain import HeraldError, Topic, TopicAction, TopicMode
from bot.services.topics import MAX_TOPICS, AlreadyDoneError, TopicError
from handlers import texts
from handlers.channels import COMMAND_UPDATES
from handlers.context import BotContext
from handlers.permissions import may_change_settings
from handlers.prompts import ANSWERS, RepliesTo, ask_for
from handlers.targets import Target, button_target, command_target


def _keyboard(
    topics: list[Topic],
    named_chat: int | None,
    *,
    page: int = 0,
    undo_id: int | None = None,
    digest_off: bool = False,
    now: dt.datetime | None = None,
) -> InlineKeyboardMarkup | None:
    """The list's buttons for one page; ``named_chat``: the list is of that chat, managed
    from another. ``undo_id`` adds an Undo for the change just made."""
    # Buttons on a list of another chat's topics name that chat, so a press acts there.
    suffix = f":{named_chat}" if named_chat is not None else ""
    rows = []
    if undo_id is not None:
        rows.append(
            [InlineKeyboardButton(texts.UNDO, callback_data=f"topic:undo:{undo_id}{suffix}")]
        )
    pages = formatting.topic_pages(len(topics))
    page = min(max(page, 0), pages - 1)
    first = page * formatting.TOPICS_PER_PAGE
    shown = topics[first : first + formatting.TOPICS_PER_PAGE]
    for number, topic in enumerate(shown, start=first + 1):
        switch = "🔔 instant" if topic.mode is TopicMode.INSTANT else "📰 digest"
        sound = InlineKeyboardButton(
            "🔇 silent" if topic.silent else "🔊 sound",
            callback_data=f"topic:silent:{topic.id}{suffix}",
        )
        if now is not None and topic.muted(now):
            sound = InlineKeyboardButton(
                "🔔 unmute", callback_data=f"topic:unmute:{topic.id}{suffix}"
            )
        rows.append(
            [
                InlineKeyboardButton(
                    f"{number}. {switch}", callback_data=f"topic:mode:{topic.id}{suffix}"
                ),
                sound,
                InlineKeyboardButton(
                    f"🗑 remove {number}", callback_data=f"topic:remove:{topic.id}{suffix}"
                ),
            ]
        )
    if digest_off and any(topic.mode is TopicMode.DIGEST for topic in topics):
        rows.append(
            [
                InlineKeyboardButton(
                    "🔔 Turn the digest on", callback_data=f"topic:digeston:{page}{suffix}"
                )
            ]
        )
    if pages > 1:
        rows.append(
            [
                InlineKeyboardButton(
                    "‹ Prev", callback_data=f"topic:page:{(page - 1) % pages}{suffix}"
                ),
                InlineKeyboardButton(
                    "Next ›", callback_data=f"topic:page:{(page + 1) % pages}{suffix}"
                ),
            ]
        )
    return InlineKeyboardMarkup(rows) if rows else None


async def _listing(
    context: BotContext,
    chat_id: int,
    named_chat: int | None,
    *,
    page: int = 0,
    undo_id: int | None = None,
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The /topic list of one page and its buttons, with the chat's time zone and digest."""
    topics = await context.services.topics.list(chat_id)
    chat = await context.services.chats.get(chat_id)
    digest_on = chat is None or chat.digest_enabled
    text = formatting.topic_list(
        topics,
        limit=MAX_TOPICS,
        page=page,
        timezone=chat.timezone if chat is not None else "UTC",
        now=context.services.clock(),
        digest_enabled=digest_on,
    )
    markup = _keyboard(
        topics,
        named_chat,
        page=page,
        undo_id=undo_id,
        digest_off=not digest_on,
        now=context.services.clock(),
    )
    return text, markup


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
        text, markup = await _listing(
            context, target.chat_id, target.chat_id if target.remote else None
        )
        await target.reply(context, text, reply_markup=markup)
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
        change = await context.services.topics.remove(target.chat_id, reference)
    except HeraldError as error:
        await target.reply(context, formatting.escape(error.user_message))
        return
    suffix = f":{target.chat_id}" if target.remote else ""
    await target.reply(
        context,
        formatting.topics_changed(change, timezone="UTC", now=context.services.clock()),
        reply_markup=InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        texts.UNDO, callback_data=f"topic:undo:{change.undo_id}{suffix}"
                    )
                ]
            ]
        ),
    )


async def press_topic_button(update: Update, context: BotContext) -> None:
    """A button on the /topic list: switch, silence, unmute, remove (with Undo), page, undo,
    or turn the digest on."""
    query, chat = update.callback_query, update.effective_chat
    if query is None or query.data is None or chat is None:
        return
    _, action, number, *named = query.data.split(":")
    if action == "page" and not named:
        # Anyone may read a group's list; changing it is for its admins.
        chat_id, heading = chat.id, ""
    else:
        found = await button_target(update, context, named[0] if named else None)
        if found is None:
            return
        chat_id, heading = found
    topics = context.services.topics
    listed = await topics.list(chat_id)
    position = next((i for i, t in enumerate(listed) if t.id == int(number)), 0)
    page = position // formatting.TOPICS_PER_PAGE
    undo_id = None
    try:
        if action == "page":
            page = min(max(int(number), 0), formatting.topic_pages(len(listed)) - 1)
            toast = f"Page {page + 1}."
        elif action == "digeston":
            settings = await context.services.chats.get(chat_id)
            if settings is None:
                raise TopicError(texts.STALE_BUTTON)
            await context.services.digests.set_digest(settings, enabled=True)
            toast = "The daily digest is on."
            page = int(number)
        elif action == "undo":
            restored = await topics.undo(chat_id, int(number))
            toast = f"Back: {formatting.either_names(t.query for t in restored)}."
            listed = await topics.list(chat_id)
            ids = {t.id for t in restored}
            page = next((i for i, t in enumerate(listed) if t.id in ids), 0)
            page //= formatting.TOPICS_PER_PAGE
        elif action == "remove":
            change = await topics.change(chat_id, [int(number)], TopicAction.UNFOLLOW)
            toast = f"Removed “{change.topics[0].query}”. Undo is at the top for a minute."
            undo_id = change.undo_id
        elif action == "unmute":
            unmuted = await topics.unmute(chat_id, int(number))
            toast = f"“{unmuted[0].query}” alerts again." if unmuted else "That topic isn't muted."
        elif action == "silent":
            current = await topics.get(chat_id, int(number))
            topic = await topics.set_silent(chat_id, current.id, not current.silent)
            toast = (
                f"“{topic.query}”: alerts without a sound."
                if topic.silent
                else f"“{topic.query}”: alerts with a sound."
            )
        else:
            current = await topics.get(chat_id, int(number))
            mode = TopicMode.DIGEST if current.mode is TopicMode.INSTANT else TopicMode.INSTANT
            topic = await topics.set_mode(chat_id, current.id, mode)
            toast = (
                f"“{topic.query}”: instant alerts."
                if mode is TopicMode.INSTANT
                else f"“{topic.query}”: digest only, no alerts."
            )
    except AlreadyDoneError as error:
        await query.answer(error.user_message)
        return
    except HeraldError as error:
        await query.answer(formatting.shorten(error.user_message, 190), show_alert=True)
        return
    await query.answer(formatting.shorten(toast, 190))
    text, markup = await _listing(
        context, chat_id, chat_id if named else None, page=page, undo_id=undo_id
    )
    await _edit(query, heading + text, markup)


async def _edit(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None) -> None:
    try:
        await query.edit_message_text(text, reply_markup=markup)
    except BadRequest as error:
        # Two presses of the same button: the list already says so.
        if "not modified" not in error.message.lower():
            raise


async def press_alert_button(update: Update, context: BotContext) -> None:
    """🔕 / 📰 / ✖️ under an alert: act on the topics that matched it, offer Undo."""
    query, chat = update.callback_query, update.effective_chat
    if query is None or query.data is None or chat is None:
        return
    _, action, outbox_id, *undo = query.data.split(":")
    message = query.message
    matched = (
        None
        if message is None
        else await context.services.outbox.alert_topics(
            int(outbox_id), chat_id=chat.id, message_id=message.message_id
        )
    )
    if matched is None:
        await query.answer(texts.ALERT_TOO_OLD, show_alert=True)
        return
    if not await may_change_settings(update, context):
        await query.answer(texts.GROUP_ADMINS_ONLY, show_alert=True)
        return
    topics = context.services.topics
    try:
        if action == "undo":
            restored = await topics.undo(chat.id, int(undo[0]))
            names = formatting.either_names(topic.query for topic in restored)
            await query.answer(formatting.shorten(f"Undone: {names} as before.", 190))
            markup = sender.inline_keyboard(
                formatting.alert_buttons(int(outbox_id), unfollow=chat.type == Chat.PRIVATE)
            )
        else:
            change = await topics.change(chat.id, matched, TopicAction(action))
            settings = await context.services.chats.get(chat.id)
            text = formatting.topics_changed(
                change,
                timezone=settings.timezone if settings is not None else "UTC",
                now=context.services.clock(),
                digest_enabled=settings is None or settings.digest_enabled,
            )
            await query.answer(formatting.shorten(formatting.plain_text(text), 190))
            markup = InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton(
                            f"{texts.UNDO} · {texts.ALERT_DONE[change.action]}",
                            callback_data=f"alert:undo:{outbox_id}:{change.undo_id}",
                        )
                    ]
                ]
            )
    except AlreadyDoneError as error:
        await query.answer(error.user_message)
        return
    except HeraldError as error:
        await query.answer(formatting.shorten(error.user_message, 190), show_alert=True)
        return
    try:
        await query.edit_message_reply_markup(reply_markup=markup)
    except BadRequest as error:
        if "not modified" not in error.message.lower():
            raise


HANDLERS = [
    CommandHandler("topic", manage_topics, filters=COMMAND_UPDATES),
    MessageHandler(ANSWERS & RepliesTo(texts.TOPIC_PROMPT), answer_topic_prompt),
    CallbackQueryHandler(press_add_topic, pattern=r"^ask:topic$"),
    CallbackQueryHandler(
        press_topic_button,
        pattern=r"^topic:(mode|silent|unmute|remove|page|undo|digeston):\d+(:-\d+)?$",
    ),
    CallbackQueryHandler(
        press_alert_button, pattern=r"^alert:((mute|digest|unfollow):\d+|undo:\d+:\d+)$"
    ),
]
