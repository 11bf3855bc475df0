"""Admin commands: /broadcast with its buttons, /breaking, /stats, and broadcast progress."""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot import formatting
from bot.services.broadcasts import BroadcastError, ProgressReport
from handlers import texts
from handlers.context import BotContext
from handlers.permissions import admins_only

log = logging.getLogger(__name__)

SEND, CANCEL = "send", "cancel"


def _buttons(broadcast_id: int, *, audience: int | None) -> InlineKeyboardMarkup:
    cancel = InlineKeyboardButton("Cancel", callback_data=f"broadcast:{CANCEL}:{broadcast_id}")
    if audience is None:
        return InlineKeyboardMarkup([[cancel]])
    send = InlineKeyboardButton(
        f"📣 Send to {formatting.plural(audience, 'chat')}",
        callback_data=f"broadcast:{SEND}:{broadcast_id}",
    )
    return InlineKeyboardMarkup([[send, cancel]])


@admins_only
async def start_broadcast(update: Update, context: BotContext) -> None:
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None:
        return
    # text_html keeps the admin's bold, italics and links; the command itself goes.
    parts = (message.text_html or "").split(maxsplit=1)
    if len(parts) < 2:
        await message.reply_text(texts.BROADCAST_USAGE)
        return
    try:
        draft = await context.services.broadcasts.draft(chat.id, parts[1])
    except BroadcastError as error:
        await message.reply_text(formatting.escape(error.user_message))
        return
    preview = await message.reply_text(
        formatting.broadcast_preview(
            draft.broadcast.text, broadcast_id=draft.broadcast.id, audience=draft.audience
        ),
        reply_markup=_buttons(draft.broadcast.id, audience=draft.audience),
    )
    await context.services.broadcasts.set_progress_message(draft.broadcast.id, preview.message_id)


@admins_only
async def press_broadcast_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    if query is None or query.data is None:
        return
    _, action, number = query.data.split(":")
    broadcasts = context.services.broadcasts
    try:
        if action == SEND:
            broadcast = await broadcasts.send(int(number))
            await query.answer(f"Sending to {formatting.plural(broadcast.audience, 'chat')}…")
            progress = await broadcasts.progress(broadcast.id)
            if progress is not None:
                await query.edit_message_text(
                    formatting.broadcast_progress(progress),
                    reply_markup=_buttons(broadcast.id, audience=None),
                )
        else:
            await broadcasts.cancel(int(number))
            await query.answer("Cancelled; nothing more will be sent.")
    except BroadcastError as error:
        await query.answer(error.user_message, show_alert=True)


@admins_only
async def push_breaking(update: Update, context: BotContext) -> None:
    message = update.effective_message
    if message is None:
        return
    if not context.args:
        await message.reply_text(texts.BREAKING_USAGE)
        return
    try:
        pushed = await context.services.broadcasts.breaking(" ".join(context.args))
    except BroadcastError as error:
        await message.reply_text(formatting.escape(error.user_message))
        return
    await message.reply_text(
        f"🔴 Breaking: <b>{formatting.escape(formatting.shorten(pushed.entry.title, 200))}</b> "
        f"queued to {formatting.plural(pushed.queued, 'chat')}"
        + (f"; {pushed.already_had_it} already had it." if pushed.already_had_it else ".")
    )


@admins_only
async def show_stats(update: Update, context: BotContext) -> None:
    message = update.effective_message
    if message is None:
        return
    report = await context.services.stats.collect()
    await message.reply_text(formatting.stats(report, now=context.services.clock()))


async def report_broadcasts(context: BotContext) -> None:
    """Job: keep each broadcast's progress message up to date by editing it."""
    broadcasts = context.services.broadcasts
    for report in await broadcasts.progress_reports():
        await _show(context, report)
        await broadcasts.progress_shown(report)


async def _show(context: BotContext, report: ProgressReport) -> None:
    broadcast = report.broadcast
    if broadcast.progress_message_id is None:
        return
    try:
        await context.bot.edit_message_text(
            report.text,
            chat_id=broadcast.admin_chat_id,
            message_id=broadcast.progress_message_id,
            reply_markup=None if report.final else _buttons(broadcast.id, audience=None),
        )
    except BadRequest as error:
        # The admin may have deleted the message; progress is still in /stats.
        if "not modified" not in error.message.lower():
            log.info("Could not update broadcast %s progress: %s", broadcast.id, error)


HANDLERS = [
    CommandHandler("broadcast", start_broadcast),
    CommandHandler("breaking", push_breaking),
    CommandHandler("stats", show_stats),
    CallbackQueryHandler(press_broadcast_button, pattern=r"^broadcast:(send|cancel):\d+$"),
]
