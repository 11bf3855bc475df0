"""A chat's delivery settings: /digest, /timezone, /quiet, /mute and /unmute."""

from __future__ import annotations

import datetime as dt

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler

from bot import formatting
from bot.domain import Chat, ChatKind, HeraldError, LinkPreview
from config.settings import parse_clock_time
from config.timezones import suggestions, without_daylight_saving
from handlers import texts
from handlers.channels import COMMAND_UPDATES
from handlers.context import BotContext
from handlers.permissions import may_change_settings
from handlers.prompts import ANSWERS, RepliesTo, ask_for
from handlers.targets import Target, button_target, chat_title, command_target


async def _chat_for_change(
    update: Update, context: BotContext, target: Target | None = None, *, subscribes: bool = True
) -> tuple[Target, Chat] | None:
    """The command's target and its settings, when the sender may change them; else None.

    Asking to see a setting (no arguments) never subscribes a chat; changing one does
    (unless ``subscribes`` is false: the command only acts), and in a group only its
    admins may; a chat named by the command was checked already (``command_target``).
    """
    if target is None:
        target = await command_target(update, context)
        if target is None:
            return None
    chats = context.services.chats
    if not context.args:
        return target, await chats.settings(target.chat_id, target.kind, target.title)
    if not target.remote and not await may_change_settings(update, context):
        await target.reply(context, texts.GROUP_ADMINS_ONLY)
        return None
    if not subscribes:
        return target, await chats.settings(target.chat_id, target.kind, target.title)
    user = update.effective_user
    registration = await chats.start(
        target.chat_id,
        target.kind,
        target.title,
        manager=user.id if target.remote and user is not None else None,
    )
    return target, registration.chat


async def _pressed_for(update: Update, context: BotContext, chat_id: int) -> Chat | None:
    """The chat a settings button changes; pressing one subscribes the chat it is in, as
    the command with an argument would. None for another chat Herald doesn't know."""
    chats = context.services.chats
    chat = await chats.get(chat_id)
    pressed_in = update.effective_chat
    if chat is None and pressed_in is not None and pressed_in.id == chat_id:
        registration = await chats.start(
            chat_id, ChatKind(pressed_in.type), chat_title(pressed_in)
        )
        chat = registration.chat
    return chat


async def manage_digest(update: Update, context: BotContext) -> None:
    target = await command_target(update, context)
    if target is None:
        return
    sending_now = [arg.lower() for arg in context.args or []] == ["now"]
    found = await _chat_for_change(update, context, target, subscribes=not sending_now)
    if found is None:
        return
    _, chat = found
    digests, now = context.services.digests, context.services.clock()
    args = context.args or []
    if len(args) > 1:
        await target.reply(context, texts.DIGEST_USAGE)
        return
    argument = args[0].lower() if args else ""
    if argument == "now":
        sent = await digests.send_now(chat)
        if not sent:
            await target.reply(context, texts.DIGEST_NOTHING)
        return
    if argument == "here":
        if target.remote or not target.thread_id:
            await target.reply(context, texts.DIGEST_HERE_ONLY_IN_THREADS)
            return
        chat = await digests.set_thread(chat, target.thread_id)
        await target.reply(context, formatting.digest_thread_set(chat.digest_thread_id))
        return
    if argument in {"on", "off"}:
        chat = await digests.set_digest(chat, enabled=argument == "on")
    elif argument:
        try:
            at = parse_clock_time(argument)
        except ValueError:
            await target.reply(context, texts.DIGEST_USAGE)
            return
        chat = await digests.set_digest(chat, enabled=True, at=at)
    await target.reply(
        context,
        formatting.digest_settings(chat, upcoming=await digests.next_for(chat), now=now),
        reply_markup=_digest_buttons(chat, target.chat_id if target.remote else None),
    )


def _digest_buttons(chat: Chat, named_chat: int | None) -> InlineKeyboardMarkup:
    """[Turn on/off] [Send now] [Time…]; Time… asks in this chat, so only for its own."""
    named = f":{named_chat}" if named_chat is not None else ""
    row = [
        InlineKeyboardButton(
            "🔕 Turn off" if chat.digest_enabled else "🔔 Turn on",
            callback_data=f"digest:{'off' if chat.digest_enabled else 'on'}{named}",
        ),
        InlineKeyboardButton("📨 Send now", callback_data=f"digest:now{named}"),
    ]
    if named_chat is None and chat.kind is ChatKind.PRIVATE:
        row.append(InlineKeyboardButton("🕗 Time…", callback_data="digest:time"))
    return InlineKeyboardMarkup([row])


async def press_digest_button(update: Update, context: BotContext) -> None:
    """The buttons under /digest: on or off, send now, or ask for a time."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    _, choice, *named = query.data.split(":")
    found = await button_target(update, context, named[0] if named else None)
    if found is None:
        return
    chat_id, heading = found
    chat = await _pressed_for(update, context, chat_id)
    if chat is None:
        await query.answer(texts.STALE_BUTTON, show_alert=True)
        return
    digests = context.services.digests
    if choice == "time":
        await query.answer()
        await context.bot.send_message(
            chat_id, texts.DIGEST_TIME_PROMPT, reply_markup=ask_for("07:30")
        )
        return
    if choice == "now":
        sent = await digests.send_now(chat)
        await query.answer("The digest is on its way." if sent else texts.DIGEST_NOTHING)
        return
    chat = await digests.set_digest(chat, enabled=choice == "on")
    await query.answer("Digest on." if chat.digest_enabled else "Digest off.")
    await query.edit_message_text(
        heading
        + formatting.digest_settings(
            chat, upcoming=await digests.next_for(chat), now=context.services.clock()
        ),
        reply_markup=_digest_buttons(chat, chat_id if named else None),
    )


async def answer_digest_time(update: Update, context: BotContext) -> None:
    """The time someone replied to "What time should the daily digest come?"."""
    message = update.effective_message
    if message is None or not message.text:
        return
    answer = message.text.strip()
    try:
        parse_clock_time(answer)
    except ValueError:
        # Ask again, so the reply box stays one tap away.
        await message.reply_text(
            f"“{formatting.escape(formatting.shorten(answer, 40))}” isn't a time like 07:30 "
            "(24-hour clock)."
        )
        await message.reply_text(texts.DIGEST_TIME_PROMPT, reply_markup=ask_for("07:30"))
        return
    context.args = [answer]
    await manage_digest(update, context)


async def set_timezone(update: Update, context: BotContext) -> None:
    found = await _chat_for_change(update, context)
    if found is None:
        return
    target, chat = found
    if not context.args:
        current = f"This chat's time zone is <b>{formatting.escape(chat.timezone)}</b>.\n"
        if target.message.chat.type == "private" and not target.remote:
            # Tapped from the menu: ask for a city; the reply sets it.
            await target.reply(context, current + texts.TIMEZONE_USAGE)
            await target.message.reply_text(
                texts.TIMEZONE_PROMPT, reply_markup=ask_for("Lisbon, or Asia/Tokyo")
            )
            return
        await target.reply(context, current + texts.TIMEZONE_USAGE)
        return
    text = " ".join(context.args)
    try:
        name = await context.services.digests.set_timezone(chat, text)
    except HeraldError as error:
        cities = suggestions(text)
        named = f":{target.chat_id}" if target.remote else ""
        buttons = [
            InlineKeyboardButton(city, callback_data=f"tz:{city}{named}")
            for city in cities
            if len(f"tz:{city}{named}".encode()) <= 64
        ]
        await target.reply(
            context,
            formatting.escape(error.user_message),
            reply_markup=InlineKeyboardMarkup([buttons]) if buttons else None,
        )
        return
    await context.services.quiet.timezone_changed(chat.id)
    warning = ""
    if without_daylight_saving(name):
        cities = suggestions(" ".join(context.args))
        instead = f" such as {formatting.either(cities)}" if cities else ""
        warning = texts.NO_DAYLIGHT_SAVING.format(name=formatting.escape(name), instead=instead)
    await target.reply(context, _timezone_set(name, context) + warning)


async def answer_timezone_prompt(update: Update, context: BotContext) -> None:
    """The city someone replied to "Which city's time should this chat follow?"."""
    message = update.effective_message
    if message is None or not message.text:
        return
    context.args = message.text.split()
    await set_timezone(update, context)


async def press_timezone_button(update: Update, context: BotContext) -> None:
    """A zone suggested after a name Herald didn't know."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    _, name, *named = query.data.split(":")
    found = await button_target(update, context, named[0] if named else None)
    if found is None:
        return
    chat_id, heading = found
    chat = await _pressed_for(update, context, chat_id)
    if chat is None:
        await query.answer(texts.STALE_BUTTON, show_alert=True)
        return
    try:
        name = await context.services.digests.set_timezone(chat, name)
    except HeraldError as error:
        await query.answer(formatting.shorten(error.user_message, 190), show_alert=True)
        return
    await context.services.quiet.timezone_changed(chat.id)
    await query.answer()
    await query.edit_message_text(heading + _timezone_set(name, context))


def _timezone_set(name: str, context: BotContext) -> str:
    now = context.services.clock()
    return (
        f"Time zone set to <b>{formatting.escape(name)}</b>; it is "
        f"{formatting.local_time(now, name, now=now)} there now. Digests and quiet hours "
        "follow this zone."
    )


async def set_quiet_hours(update: Update, context: BotContext) -> None:
    found = await _chat_for_change(update, context)
    if found is None:
        return
    target, chat = found
    text = " ".join(context.args or [])
    if not text:
        current = (
            f"Quiet hours: <b>{formatting.clock(chat.quiet_hours[0])}–"
            f"{formatting.clock(chat.quiet_hours[1])}</b> ({formatting.escape(chat.timezone)}).\n"
            if chat.quiet_hours
            else "No quiet hours are set.\n"
        )
        # A bare /quiet offers the usual nights as buttons.
        named = f":{target.chat_id}" if target.remote else ""
        buttons = [
            InlineKeyboardButton(label, callback_data=f"quiet:{hours}{named}")
            for hours, label in texts.QUIET_CHOICES
        ]
        if chat.quiet_hours:
            buttons.append(InlineKeyboardButton("Off", callback_data=f"quiet:off{named}"))
        await target.reply(
            context,
            current + texts.QUIET_USAGE,
            reply_markup=InlineKeyboardMarkup([buttons[:2], buttons[2:]]),
        )
        return
    await target.reply(context, await _quiet(context, chat, text))


async def press_quiet_button(update: Update, context: BotContext) -> None:
    """One of the quiet hours a bare /quiet offered, or Off."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    # The hours themselves hold colons: "quiet:22:00-07:00" or "quiet:22:00-07:00:-100…".
    hours, _, named_chat = query.data.removeprefix("quiet:").partition(":-")
    found = await button_target(update, context, f"-{named_chat}" if named_chat else None)
    if found is None:
        return
    chat_id, heading = found
    chat = await _pressed_for(update, context, chat_id)
    if chat is None:
        await query.answer(texts.STALE_BUTTON, show_alert=True)
        return
    await query.answer()
    await query.edit_message_text(heading + await _quiet(context, chat, hours))


async def _quiet(context: BotContext, chat: Chat, text: str) -> str:
    """Set the chat's quiet hours from ``text`` (or "off"); the reply saying what was done."""
    quiet = context.services.quiet
    if text.lower() == "off":
        released = await quiet.quiet_off(chat)
        extra = (
            f" {formatting.plural(released, 'held story', 'held stories')} coming now."
            if released
            else ""
        )
        return f"Quiet hours are off.{extra}"
    try:
        start, end = await quiet.set_quiet_hours(chat, text)
    except HeraldError as error:
        return f"{formatting.escape(error.user_message)}\n{texts.QUIET_USAGE}"
    return (
        f"🌙 Quiet hours <b>{formatting.clock(start)}–{formatting.clock(end)}</b> "
        f"({formatting.escape(chat.timezone)}): alerts are held then and come as one "
        "catch-up message when they end."
    )


async def mute(update: Update, context: BotContext) -> None:
    found = await _chat_for_change(update, context)
    if found is None:
        return
    target, chat = found
    if not context.args:
        # A bare /mute (tapped from the menu) offers the usual lengths as buttons.
        named = f":{target.chat_id}" if target.remote else ""
        buttons = [
            InlineKeyboardButton(label, callback_data=f"mute:{choice}{named}")
            for choice, label in texts.MUTE_CHOICES
        ]
        await target.reply(
            context,
            texts.MUTE_ASK,
            reply_markup=InlineKeyboardMarkup([buttons[:3], buttons[3:]]),
        )
        return
    try:
        until = await context.services.quiet.mute(chat, " ".join(context.args))
    except HeraldError as error:
        await target.reply(context, f"{formatting.escape(error.user_message)}\n{texts.MUTE_USAGE}")
        return
    await target.reply(context, _muted(chat, until, context))


def _muted(chat: Chat, until: dt.datetime, context: BotContext) -> str:
    now = context.services.clock()
    return (
        f"🔕 Alerts muted until {formatting.local_time(until, chat.timezone, now=now)} "
        f"({formatting.escape(chat.timezone)}). /unmute ends it sooner; what arrives meanwhile "
        "comes as one message then."
    )


async def press_mute_button(update: Update, context: BotContext) -> None:
    """One of the lengths a bare /mute offered."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    _, choice, *named = query.data.split(":")
    found = await button_target(update, context, named[0] if named else None)
    if found is None:
        return
    chat_id, heading = found
    chat = await _pressed_for(update, context, chat_id)
    if chat is None:
        await query.answer(texts.STALE_BUTTON, show_alert=True)
        return
    quiet = context.services.quiet
    until = (
        await quiet.mute_until_morning(chat)
        if choice == "morning"
        else await quiet.mute(chat, choice)
    )
    await query.answer()
    await query.edit_message_text(heading + _muted(chat, until, context))


async def manage_preview(update: Update, context: BotContext) -> None:
    """/preview off|small|large: the link preview single alerts carry in this chat."""
    found = await _chat_for_change(update, context)
    if found is None:
        return
    target, chat = found
    args = [arg.lower() for arg in context.args or []]
    if not args:
        named = f":{target.chat_id}" if target.remote else ""
        buttons = [
            InlineKeyboardButton(
                f"✓ {label}" if choice == chat.preview else label,
                callback_data=f"preview:{choice}{named}",
            )
            for choice, label in texts.PREVIEW_CHOICES
        ]
        await target.reply(
            context,
            formatting.link_preview_setting(chat) + "\n" + texts.PREVIEW_USAGE,
            reply_markup=InlineKeyboardMarkup([buttons]),
        )
        return
    if len(args) != 1 or args[0] not in {choice for choice, _ in texts.PREVIEW_CHOICES}:
        await target.reply(context, texts.PREVIEW_USAGE)
        return
    chat = await context.services.chats.set_link_preview(chat, LinkPreview(args[0]))
    await target.reply(context, formatting.link_preview_setting(chat))


async def press_preview_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    if query is None or query.data is None:
        return
    _, choice, *named = query.data.split(":")
    found = await button_target(update, context, named[0] if named else None)
    if found is None:
        return
    chat_id, heading = found
    chat = await _pressed_for(update, context, chat_id)
    if chat is None:
        await query.answer(texts.STALE_BUTTON, show_alert=True)
        return
    chat = await context.services.chats.set_link_preview(chat, LinkPreview(choice))
    await query.answer()
    await query.edit_message_text(heading + formatting.link_preview_setting(chat))


async def unmute(update: Update, context: BotContext) -> None:
    target = await command_target(update, context)
    if target is None:
        return
    if not target.remote and not await may_change_settings(update, context):
        await target.reply(context, texts.GROUP_ADMINS_ONLY)
        return
    current = await context.services.chats.get(target.chat_id)
    if current is None or current.muted_until is None:
        # Topics muted from an alert's 🔕 button end here too.
        unmuted = await context.services.topics.unmute(target.chat_id)
        if unmuted:
            names = formatting.either_names(topic.query for topic in unmuted)
            verb = "alerts" if len(unmuted) == 1 else "alert"
            await target.reply(context, f"🔔 {formatting.escape(names)} {verb} again.")
            return
        await target.reply(context, "Alerts aren't muted.")
        return
    released = await context.services.quiet.unmute(current)
    extra = (
        f" {formatting.plural(released, 'story', 'stories')} arrived meanwhile; "
        + ("it comes now." if released == 1 else "they come in one message now.")
        if released
        else ""
    )
    await target.reply(context, f"🔔 Alerts are back on.{extra}")


HANDLERS = [
    CommandHandler("digest", manage_digest, filters=COMMAND_UPDATES),
    CommandHandler("timezone", set_timezone, filters=COMMAND_UPDATES),
    CommandHandler("quiet", set_quiet_hours, filters=COMMAND_UPDATES),
    CommandHandler("mute", mute, filters=COMMAND_UPDATES),
    CallbackQueryHandler(press_mute_button, pattern=r"^mute:(30m|2h|8h|1d|morning)(:-\d+)?$"),
    CommandHandler("unmute", unmute, filters=COMMAND_UPDATES),
    CommandHandler("preview", manage_preview, filters=COMMAND_UPDATES),
    CallbackQueryHandler(press_preview_button, pattern=r"^preview:(off|small|large)(:-\d+)?$"),
    CallbackQueryHandler(press_digest_button, pattern=r"^digest:(on|off|now|time)(:-\d+)?$"),
    MessageHandler(ANSWERS & RepliesTo(texts.DIGEST_TIME_PROMPT), answer_digest_time),
    MessageHandler(ANSWERS & RepliesTo(texts.TIMEZONE_PROMPT), answer_timezone_prompt),
    CallbackQueryHandler(press_timezone_button, pattern=r"^tz:[A-Za-z0-9_+\-/]+(:-\d+)?$"),
    CallbackQueryHandler(press_quiet_button, pattern=r"^quiet:(off|\d\d:\d\d-\d\d:\d\d)(:-\d+)?$"),
]
