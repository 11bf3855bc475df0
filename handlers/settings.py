"""A chat's delivery settings: /digest, /timezone, /quiet, /mute and /unmute."""

from __future__ import annotations

import datetime as dt

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot import formatting
from bot.domain import Chat, HeraldError
from config.settings import parse_clock_time
from config.timezones import suggestions, without_daylight_saving
from handlers import texts
from handlers.channels import COMMAND_UPDATES
from handlers.context import BotContext
from handlers.permissions import may_change_settings
from handlers.targets import Target, button_target, command_target


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
        context, formatting.digest_settings(chat, upcoming=await digests.next_for(chat), now=now)
    )


async def set_timezone(update: Update, context: BotContext) -> None:
    found = await _chat_for_change(update, context)
    if found is None:
        return
    target, chat = found
    if not context.args:
        await target.reply(
            context,
            f"This chat's time zone is <b>{formatting.escape(chat.timezone)}</b>.\n"
            f"{texts.TIMEZONE_USAGE}",
        )
        return
    try:
        name = await context.services.digests.set_timezone(chat, " ".join(context.args))
    except HeraldError as error:
        await target.reply(context, formatting.escape(error.user_message))
        return
    await context.services.quiet.timezone_changed(chat.id)
    now = context.services.clock()
    warning = ""
    if without_daylight_saving(name):
        cities = suggestions(" ".join(context.args))
        instead = f" such as {formatting.either(cities)}" if cities else ""
        warning = texts.NO_DAYLIGHT_SAVING.format(name=formatting.escape(name), instead=instead)
    await target.reply(
        context,
        f"Time zone set to <b>{formatting.escape(name)}</b>; it is "
        f"{formatting.local_time(now, name, now=now)} there now. Digests and quiet hours "
        f"follow this zone.{warning}",
    )


async def set_quiet_hours(update: Update, context: BotContext) -> None:
    found = await _chat_for_change(update, context)
    if found is None:
        return
    target, chat = found
    quiet = context.services.quiet
    text = " ".join(context.args or [])
    if not text:
        current = (
            f"Quiet hours: <b>{formatting.clock(chat.quiet_hours[0])}–"
            f"{formatting.clock(chat.quiet_hours[1])}</b> ({formatting.escape(chat.timezone)}).\n"
            if chat.quiet_hours
            else "No quiet hours are set.\n"
        )
        await target.reply(context, current + texts.QUIET_USAGE)
        return
    if text.lower() == "off":
        released = await quiet.quiet_off(chat)
        extra = (
            f" {formatting.plural(released, 'held story', 'held stories')} coming now."
            if released
            else ""
        )
        await target.reply(context, f"Quiet hours are off.{extra}")
        return
    try:
        start, end = await quiet.set_quiet_hours(chat, text)
    except HeraldError as error:
        await target.reply(
            context, f"{formatting.escape(error.user_message)}\n{texts.QUIET_USAGE}"
        )
        return
    await target.reply(
        context,
        f"🌙 Quiet hours <b>{formatting.clock(start)}–{formatting.clock(end)}</b> "
        f"({formatting.escape(chat.timezone)}): alerts are held then and come as one "
        "catch-up message when they end.",
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
    chat = await context.services.chats.get(chat_id)
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


async def unmute(update: Update, context: BotContext) -> None:
    target = await command_target(update, context)
    if target is None:
        return
    if not target.remote and not await may_change_settings(update, context):
        await target.reply(context, texts.GROUP_ADMINS_ONLY)
        return
    current = await context.services.chats.get(target.chat_id)
    if current is None or current.muted_until is None:
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
]
