"""/start, /help and /stop, and the bot's own membership changes."""

from __future__ import annotations

import logging

from telegram import Chat, ChatMember, ChatMemberUpdated, Message, Update
from telegram.error import TelegramError
from telegram.ext import (
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot import formatting
from bot.domain import ChatKind, InactiveReason
from handlers import texts
from handlers.context import BotContext
from handlers.permissions import is_admin, may_change_settings

log = logging.getLogger(__name__)

_PRESENT = {ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.OWNER, ChatMember.RESTRICTED}


def chat_title(chat: Chat) -> str:
    if chat.title:
        return chat.title
    return " ".join(part for part in (chat.first_name, chat.last_name) if part) or (
        chat.username or ""
    )


def thread_of(message: Message) -> int:
    """The forum thread the message was written in; 0 for General or a chat without threads.

    Outside forums ``message_thread_id`` names a reply chain, not a place to post.
    """
    if message.is_topic_message and message.message_thread_id is not None:
        return message.message_thread_id
    return 0


async def start(update: Update, context: BotContext) -> None:
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None:
        return
    if not await may_change_settings(update, context):
        known = await context.services.chats.get(chat.id)
        subscribed = known is not None and known.active
        await message.reply_text(
            texts.ALREADY_SUBSCRIBED if subscribed else texts.GROUP_START_ADMINS_ONLY
        )
        return
    registration = await context.services.chats.start(
        chat.id, ChatKind(chat.type), chat_title(chat)
    )
    await message.reply_text(texts.WELCOME if registration.is_new else texts.WELCOME_BACK)


async def show_help(update: Update, context: BotContext) -> None:
    if update.effective_message is not None:
        extra = texts.ADMIN_HELP if is_admin(update, context) else ""
        await update.effective_message.reply_text(texts.HELP + extra)


async def stop(update: Update, context: BotContext) -> None:
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None:
        return
    if not await may_change_settings(update, context):
        await message.reply_text(texts.GROUP_ADMINS_ONLY)
        return
    deleted = await context.services.chats.stop(chat.id)
    await message.reply_text(texts.STOPPED if deleted else texts.NOT_SUBSCRIBED)


def _is_present(member: ChatMember) -> bool:
    if member.status == ChatMember.RESTRICTED:
        return bool(getattr(member, "is_member", True))
    return member.status in _PRESENT


def _may_post(member: ChatMember) -> bool:
    """Whether the bot, as this member, may send messages to the chat."""
    if member.status == ChatMember.RESTRICTED:
        return bool(getattr(member, "can_send_messages", False))
    if member.status == ChatMember.ADMINISTRATOR:
        return getattr(member, "can_post_messages", None) is not False
    return member.status in {ChatMember.MEMBER, ChatMember.OWNER}


async def track_membership(update: Update, context: BotContext) -> None:
    """Follow the bot being blocked, unblocked, removed from or added to a chat."""
    change: ChatMemberUpdated | None = update.my_chat_member
    if change is None:
        return
    chat, chats = change.chat, context.services.chats
    was_present, is_present = (
        _is_present(change.old_chat_member),
        _is_present(change.new_chat_member),
    )
    if was_present and is_present:
        # Still there, with other rights: a bot that can't post is paused, not removed,
        # and resumes as soon as it may post again.
        if _may_post(change.new_chat_member):
            if await chats.resume(chat.id):
                # What was held while the bot couldn't post comes as one catch-up.
                await context.services.quiet.refresh_chat(chat.id)
        else:
            await chats.deactivate(chat.id, InactiveReason.NO_RIGHTS)
        return
    if was_present == is_present:
        return
    if not is_present:
        reason = InactiveReason.BLOCKED if chat.type == Chat.PRIVATE else InactiveReason.REMOVED
        await chats.deactivate(chat.id, reason)
        return
    if chat.type == Chat.PRIVATE:
        # Unblocking alone doesn't subscribe; a chat that had subscribed resumes.
        await chats.reactivate(chat.id)
        return
    registration = await chats.start(chat.id, ChatKind(chat.type), chat_title(chat))
    try:
        await context.bot.send_message(
            chat.id, texts.WELCOME if registration.is_new else texts.WELCOME_BACK
        )
    except TelegramError as error:
        # Channels and restricted groups may not let the bot post; the chat stays subscribed.
        log.info("Could not greet chat %s: %s", chat.id, error)


async def follow_migration(update: Update, context: BotContext) -> None:
    """Telegram's service message in a group that just became a supergroup."""
    message = update.effective_message
    if message is not None and message.migrate_to_chat_id is not None:
        await context.services.chats.move(message.chat.id, message.migrate_to_chat_id)


async def answer_unknown_command(update: Update, context: BotContext) -> None:
    message = update.effective_message
    if message is None or not message.text:
        return
    command = message.text.split(maxsplit=1)[0]
    await message.reply_text(texts.UNKNOWN_COMMAND.format(command=formatting.escape(command)))


async def answer_plain_text(update: Update, context: BotContext) -> None:
    """A private message that isn't a command: point to the commands it probably meant."""
    message = update.effective_message
    if message is None or not message.text:
        return
    text = formatting.escape(formatting.shorten(" ".join(message.text.split()), 60))
    await message.reply_text(texts.PLAIN_TEXT.format(text=text))


async def answer_stale_button(update: Update, context: BotContext) -> None:
    """A button no handler knows (from an older message): answer, or the client spins."""
    if update.callback_query is not None:
        await update.callback_query.answer(texts.STALE_BUTTON, show_alert=True)


# Last resorts, registered after every other handler: in a private chat nothing goes
# unanswered. Groups are left alone: there the message may be meant for people or bots.
FALLBACK_HANDLERS = [
    CallbackQueryHandler(answer_stale_button),
    MessageHandler(filters.COMMAND & filters.ChatType.PRIVATE, answer_unknown_command),
    MessageHandler(
        filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE,
        answer_plain_text,
    ),
]

HANDLERS = [
    CommandHandler("start", start),
    CommandHandler("help", show_help),
    CommandHandler("stop", stop),
    ChatMemberHandler(track_membership, ChatMemberHandler.MY_CHAT_MEMBER),
    MessageHandler(filters.StatusUpdate.MIGRATE, follow_migration),
]
