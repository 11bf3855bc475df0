"""Who may change a chat's settings: anyone in a private chat, the admins in a group."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Chat, ChatMember, Update

from handlers import texts
from handlers.context import BotContext

# Admin lists change rarely; a short cache spares a getChatAdministrators call per command
# while a demoted admin loses rights within a minute.
ADMIN_CACHE_SECONDS = 60.0


async def may_change_settings(update: Update, context: BotContext) -> bool:
    chat, message, user = update.effective_chat, update.effective_message, update.effective_user
    if chat is None:
        return False
    if chat.type == Chat.PRIVATE or is_admin(update, context):
        return True
    # Anonymous group admins post as the group itself.
    if message is not None and message.sender_chat is not None:
        return message.sender_chat.id == chat.id
    if user is None:
        return False
    return user.id in await group_admins(chat.id, context)


async def group_admins(chat_id: int, context: BotContext) -> frozenset[int]:
    cache = context.bot_data.group_admins
    cached = cache.get(chat_id)
    now = time.monotonic()
    if cached is not None and cached[0] > now:
        return cached[1]
    members = await context.bot.get_chat_administrators(chat_id)
    admins = frozenset(
        member.user.id
        for member in members
        if member.status in {ChatMember.OWNER, ChatMember.ADMINISTRATOR}
    )
    cache[chat_id] = (now + ADMIN_CACHE_SECONDS, admins)
    return admins


def is_admin(update: Update, context: BotContext) -> bool:
    """Whether the sender is one of Herald's admins (HERALD_ADMIN_IDS)."""
    user = update.effective_user
    return user is not None and user.id in context.bot_data.admin_ids


Callback = Callable[[Update, BotContext], Coroutine[Any, Any, None]]


def admins_only(callback: Callback) -> Callback:
    """Run ``callback`` for Herald's admins; everyone else gets a polite refusal, nothing more."""

    @functools.wraps(callback)
    async def guarded(update: Update, context: BotContext) -> None:
        if is_admin(update, context):
            await callback(update, context)
        elif update.callback_query is not None:
            await update.callback_query.answer(texts.ADMINS_ONLY, show_alert=True)
        elif update.effective_message is not None:
            await update.effective_message.reply_text(texts.ADMINS_ONLY)

    return guarded
