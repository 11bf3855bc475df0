"""The error handler: every failure is logged with its context and no user meets silence."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError

from handlers import texts
from handlers.context import BotContext

log = logging.getLogger(__name__)


def describe(update: object) -> str:
    if not isinstance(update, Update):
        return "a job" if update is None else type(update).__name__
    parts = [f"update {update.update_id}"]
    if update.effective_chat is not None:
        parts.append(f"chat {update.effective_chat.id}")
    if update.effective_user is not None:
        parts.append(f"user {update.effective_user.id}")
    message = update.effective_message
    if message is not None and message.text and message.text.startswith("/"):
        parts.append(f"command {message.text.split(maxsplit=1)[0]!r}")
    if update.callback_query is not None:
        parts.append(f"button {update.callback_query.data!r}")
    return ", ".join(parts)


async def report_error(update: object, context: BotContext) -> None:
    log.error("Failed while handling %s", describe(update), exc_info=context.error)
    if not isinstance(update, Update):
        return
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(texts.APOLOGY_SHORT, show_alert=True)
        elif update.effective_message is not None and update.effective_chat is not None:
            await update.effective_message.reply_text(texts.APOLOGY)
    except TelegramError as error:
        log.warning("Could not apologise for the failure in %s: %s", describe(update), error)
