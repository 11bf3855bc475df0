"""/start, /help, /stop and /chats, and the bot's own membership changes."""

from __future__ import annotations

import logging

from telegram import (
    Chat,
    ChatMember,
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
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
from bot.services.topics import MAX_TOPICS
from handlers import texts
from handlers.channels import COMMAND_UPDATES, reply
from handlers.context import BotContext
from handlers.menus import set_admin_menu
from handlers.permissions import is_admin, may_change_settings
from handlers.targets import bot_may_post, button_target, chat_title, command_target

log = logging.getLogger(__name__)

_PRESENT = {ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.OWNER, ChatMember.RESTRICTED}


async def start(update: Update, context: BotContext) -> None:
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None:
        return
    if context.args == ["help"]:
        # t.me/<bot>?start=help, as inline mode's help button opens: the help, nothing more.
        await show_help(update, context)
        return
    if not await may_change_settings(update, context):
        known = await context.services.chats.get(chat.id)
        subscribed = known is not None and known.active
        await reply(
            context,
            message,
            texts.ALREADY_SUBSCRIBED if subscribed else texts.GROUP_START_ADMINS_ONLY,
        )
        return
    registration = await context.services.chats.start(
        chat.id, ChatKind(chat.type), chat_title(chat)
    )
    user = update.effective_user
    if chat.type == Chat.PRIVATE and user is not None and is_admin(update, context):
        await set_admin_menu(context.bot, user.id)
    if registration.is_new:
        add_one = (
            InlineKeyboardMarkup(
                [[InlineKeyboardButton(texts.ADD_TOPIC, callback_data="ask:topic")]]
            )
            if chat.type == Chat.PRIVATE
            else None
        )
        await reply(context, message, texts.WELCOME, reply_markup=add_one)
    elif registration.came_back:
        await reply(context, message, texts.WELCOME_BACK)
    else:
        topics = await context.services.topics.list(chat.id)
        await reply(
            context,
            message,
            f"{texts.ALREADY_SUBSCRIBED}\n\n{formatting.topic_list(topics, limit=MAX_TOPICS)}",
        )


async def show_ids(update: Update, context: BotContext) -> None:
    """/id: the ids an operator needs (HERALD_ADMIN_IDS) and a chat's own."""
    message, chat, user = update.effective_message, update.effective_chat, update.effective_user
    if message is None or chat is None:
        return
    lines = []
    if user is not None:
        lines.append(f"Your user id: <code>{user.id}</code>")
    lines.append(f"This chat's id: <code>{chat.id}</code>")
    lines.append(texts.ID_HINT)
    await reply(context, message, "\n".join(lines))


async def show_help(update: Update, context: BotContext) -> None:
    if update.effective_message is not None:
        extra = texts.ADMIN_HELP if is_admin(update, context) else ""
        help_text = texts.HELP.replace("{bot}", formatting.escape(context.bot.username or "bot"))
        await reply(context, update.effective_message, help_text + extra)


async def stop(update: Update, context: BotContext) -> None:
    # Stopping needs no right to post: an owner may want Herald gone from a chat it can't
    # post in any more.
    target = await command_target(update, context, posting=False)
    if target is None:
        return
    if context.args:
        # Anything but a chat would be a typo away from deleting this chat's data.
        await target.reply(context, texts.STOP_USAGE)
        return
    if not target.remote and not await may_change_settings(update, context):
        await target.reply(context, texts.GROUP_ADMINS_ONLY)
        return
    known = await context.services.chats.get(target.chat_id)
    if known is None:
        await target.reply(context, texts.NOT_SUBSCRIBED)
        return
    # One tap must not delete a chat's topics and settings: nothing happens until confirmed.
    topics = await context.services.topics.list(target.chat_id)
    named = f":{target.chat_id}" if target.remote else ""
    await target.reply(
        context,
        texts.STOP_CONFIRM.format(topics=formatting.plural(len(topics), "topic")),
        reply_markup=InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(texts.STOP_YES, callback_data=f"stop:yes{named}"),
                    InlineKeyboardButton(texts.STOP_NO, callback_data=f"stop:no{named}"),
                ]
            ]
        ),
    )


async def press_stop_button(update: Update, context: BotContext) -> None:
    """The confirmation /stop asked for: delete the chat's data, or keep it."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    _, answer, *named = query.data.split(":")
    found = await button_target(update, context, named[0] if named else None, posting=False)
    if found is None:
        return
    chat_id, heading = found
    await query.answer()
    if answer != "yes":
        await query.edit_message_text(heading + texts.STOP_KEPT)
        return
    deleted = await context.services.chats.stop(chat_id)
    await query.edit_message_text(heading + (texts.STOPPED if deleted else texts.NOT_SUBSCRIBED))


async def list_managed_chats(update: Update, context: BotContext) -> None:
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    chats = await context.services.chats.managed_by(user.id)
    await reply(
        context, message, formatting.managed_chats(chats) if chats else texts.NO_MANAGED_CHATS
    )


def _is_present(member: ChatMember) -> bool:
    if member.status == ChatMember.RESTRICTED:
        return bool(getattr(member, "is_member", True))
    return member.status in _PRESENT


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
        if bot_may_post(change.new_chat_member):
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
    adder = change.from_user
    registration = await chats.start(
        chat.id, ChatKind(chat.type), chat_title(chat), manager=adder.id
    )
    may_post = bot_may_post(change.new_chat_member)
    if not may_post:
        await chats.deactivate(chat.id, InactiveReason.NO_RIGHTS)
    # A channel's readers see every post, so it gets no greeting; its admin is told below.
    if chat.type != Chat.CHANNEL:
        try:
            await context.bot.send_message(
                chat.id, texts.WELCOME if registration.is_new else texts.WELCOME_BACK
            )
        except TelegramError as error:
            # A restricted group may not let the bot post; the chat stays subscribed.
            log.info("Could not greet chat %s: %s", chat.id, error)
    # Private channels have no @name: the id is how the adder names it from their chat.
    reference = f"@{chat.username}" if chat.username else str(chat.id)
    title = formatting.escape(chat_title(chat))
    told = texts.ADDED_TO_CHAT.format(title=title, chat_id=chat.id, reference=reference)
    if not may_post:
        missing = (
            texts.ADDED_WITHOUT_POSTING_TO_CHANNEL
            if chat.type == Chat.CHANNEL
            else texts.ADDED_WITHOUT_POSTING_TO_GROUP
        )
        told = f"{missing}\n\n{told}"
    try:
        await context.bot.send_message(adder.id, told)
    except TelegramError as error:
        # The adder never opened a private chat with the bot: Telegram won't let it start one.
        log.info("Could not tell user %s about chat %s: %s", adder.id, chat.id, error)


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
    await reply(context, message, texts.UNKNOWN_COMMAND.format(command=formatting.escape(command)))


async def answer_plain_text(update: Update, context: BotContext) -> None:
    """A private message that isn't a command: point to the commands it probably meant."""
    message = update.effective_message
    if message is None or not message.text:
        return
    text = formatting.escape(formatting.shorten(" ".join(message.text.split()), 60))
    await reply(context, message, texts.PLAIN_TEXT.format(text=text))


async def answer_channel_command(update: Update, context: BotContext) -> None:
    """A command posted in a channel that only works elsewhere: say where, then tidy up."""
    message = update.effective_message
    if message is not None and message.text:
        await reply(context, message, texts.CHANNEL_COMMAND_ELSEWHERE)


async def answer_stale_button(update: Update, context: BotContext) -> None:
    """A button no handler knows (from an older message): answer, or the client spins."""
    if update.callback_query is not None:
        await update.callback_query.answer(texts.STALE_BUTTON, show_alert=True)


# Last resorts, registered after every other handler: in a private chat nothing goes
# unanswered. Groups are left alone: there the message may be meant for people or bots.
FALLBACK_HANDLERS = [
    CallbackQueryHandler(answer_stale_button),
    MessageHandler(filters.UpdateType.CHANNEL_POST & filters.COMMAND, answer_channel_command),
    MessageHandler(filters.COMMAND & filters.ChatType.PRIVATE, answer_unknown_command),
    MessageHandler(
        filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE,
        answer_plain_text,
    ),
]

HANDLERS = [
    CommandHandler("start", start, filters=COMMAND_UPDATES),
    CommandHandler("help", show_help, filters=COMMAND_UPDATES),
    CommandHandler("id", show_ids, filters=COMMAND_UPDATES),
    CommandHandler("stop", stop, filters=COMMAND_UPDATES),
    CommandHandler("chats", list_managed_chats),
    CallbackQueryHandler(press_stop_button, pattern=r"^stop:(yes|no)(:-\d+)?$"),
    ChatMemberHandler(track_membership, ChatMemberHandler.MY_CHAT_MEMBER),
    MessageHandler(filters.StatusUpdate.MIGRATE, follow_migration),
]
