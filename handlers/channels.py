"""Commands posted in a channel: answered there, then deleted so its readers never see them."""

from __future__ import annotations

import logging
from typing import Any

from telegram import Chat, InlineKeyboardMarkup, Message
from telegram.error import TelegramError
from telegram.ext import JobQueue, filters

from handlers.context import BotContext

log = logging.getLogger(__name__)

# Long enough for the admin who typed the command to read the answer.
CLEANUP_AFTER = 30.0
# Commands are heard in channel posts too; PTB's CommandHandler default is messages only.
COMMAND_UPDATES = filters.UpdateType.MESSAGES | filters.UpdateType.CHANNEL_POST


async def reply(
    context: BotContext,
    message: Message,
    text: str,
    *,
    reply_markup: InlineKeyboardMarkup | None = None,
) -> Message:
    """Answer a command; in a channel, the command and the answer go after CLEANUP_AFTER."""
    sent = await message.reply_text(text, reply_markup=reply_markup)
    # Typed loosely: PTB's JobQueue generics don't accept a custom context's callbacks.
    queue: JobQueue[Any] | None = context.job_queue
    if message.chat.type == Chat.CHANNEL and queue is not None:
        queue.run_once(
            remove_messages,
            CLEANUP_AFTER,
            data=(message.chat_id, (message.message_id, sent.message_id)),
            name=f"tidy channel {message.chat_id}",
        )
    return sent


async def remove_messages(context: BotContext) -> None:
    """Job: delete a channel command and its answer."""
    if context.job is None or not isinstance(context.job.data, tuple):
        return
    chat_id, message_ids = context.job.data
    for message_id in message_ids:
        try:
            await context.bot.delete_message(chat_id, message_id)
        except TelegramError as error:
            # An admin deleted it first, or took the bot's right to delete: nothing to do.
            log.info("Could not delete message %s in channel %s: %s", message_id, chat_id, error)
