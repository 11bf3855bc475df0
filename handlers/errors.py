"""The error handler: every failure is logged with its context and no user meets silence."""

from __future__ import annotations

import logging

from telegram import Chat, Update
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.domain import InactiveReason
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


def _may_not_post(error: BaseException | None) -> bool:
    """Whether Telegram refused a reply because the bot may not post in that chat."""
    if isinstance(error, Forbidden):
        return True
    if isinstance(error, BadRequest):
        lowered = error.message.lower()
        return "not enough rights" in lowered or "need administrator rights" in lowered
    return False


async def report_error(update: object, context: BotContext) -> None:
    if isinstance(update, Update) and _may_not_post(context.error):
        # Nothing is wrong on our side, and an apology couldn't be posted either: a group
        # that took the bot's rights is paused until they come back.
        log.warning("Can't answer %s: %s", describe(update), context.error)
        chat = update.effective_chat
        if chat is not None and chat.type != Chat.PRIVATE:
            await context.services.chats.deactivate(chat.id, InactiveReason.NO_RIGHTS)
        return
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
