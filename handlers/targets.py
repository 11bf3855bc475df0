"""Which chat a settings command acts on: where it was sent, or another chat it names first."""

from __future__ import annotations

import dataclasses
import re

from telegram import (
    Chat,
    ChatFullInfo,
    ChatMember,
    ChatMemberAdministrator,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.error import TelegramError

from bot import formatting
from bot.domain import ChatKind
from handlers import texts
from handlers.channels import reply
from handlers.context import BotContext
from handlers.permissions import may_change_settings

# A chat id as users paste it: groups, supergroups and channels have negative ids of many
# digits, so "-5" stays an argument (a UTC offset, say).
_CHAT_ID = re.compile(r"-\d{5,20}")
_ADMINS = frozenset({ChatMember.OWNER, ChatMember.ADMINISTRATOR})


def chat_title(chat: Chat | ChatFullInfo) -> str:
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


def bot_may_post(member: ChatMember) -> bool:
    """Whether the bot, as this member, may send messages to the chat."""
    if member.status == ChatMember.RESTRICTED:
        return bool(getattr(member, "can_send_messages", False))
    if member.status == ChatMember.ADMINISTRATOR:
        return getattr(member, "can_post_messages", None) is not False
    return member.status in {ChatMember.MEMBER, ChatMember.OWNER}


@dataclasses.dataclass(frozen=True, slots=True)
class Target:
    """The chat a command acts on; ``remote`` when the command named it, not sent in it.

    ``thread_id`` is where topics added now post (the forum thread the command came from);
    ``text`` is the command's own argument text, after any chat reference, spacing kept.
    """

    message: Message
    chat_id: int
    kind: ChatKind
    title: str
    remote: bool
    thread_id: int
    text: str

    async def reply(
        self, context: BotContext, text: str, *, reply_markup: InlineKeyboardMarkup | None = None
    ) -> Message:
        """Answer the command; a remote chat's name heads the answer, so it's clear which."""
        heading = f"📣 <b>{formatting.escape(self.title)}</b>\n" if self.remote else ""
        return await reply(context, self.message, heading + text, reply_markup=reply_markup)


async def command_target(
    update: Update, context: BotContext, *, words_with_at: bool = False, posting: bool = True
) -> Target | None:
    """The chat the command acts on, its reference taken out of ``context.args``.

    A first argument that names a group or channel (an @username getChat resolves, or a
    negative id) makes that chat the target, once Telegram confirms the sender administers
    it and (with ``posting``) the bot can post there; otherwise the refusal is sent and None
    returned. An @name that is no such chat is refused too, unless ``words_with_at``: then
    it stays the command's own argument (``/topic @elonmusk`` follows the word).
    """
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None:
        return None
    args = context.args or []
    parts = (message.text or "").split(maxsplit=1)
    text = parts[1] if len(parts) > 1 else ""
    if args and _names_a_chat(args[0]):
        reference = args[0]
        found = await _resolve(context, reference)
        if found is not None:
            refusal = await refusal_for(update, context, found, posting=posting)
            if refusal is not None:
                await reply(context, message, refusal)
                return None
            context.args = args[1:]
            rest = text.split(maxsplit=1)
            return Target(
                message,
                found.id,
                ChatKind(found.type),
                chat_title(found) or reference,
                remote=True,
                thread_id=0,
                text=rest[1] if len(rest) > 1 else "",
            )
        if not reference.startswith("@") or not words_with_at:
            await reply(
                context,
                message,
                texts.CHAT_NOT_FOUND.format(reference=formatting.escape(reference)),
            )
            return None
    return Target(
        message,
        chat.id,
        ChatKind(chat.type),
        chat_title(chat),
        remote=False,
        thread_id=thread_of(message),
        text=text,
    )


def _names_a_chat(word: str) -> bool:
    return (word.startswith("@") and len(word) > 1) or _CHAT_ID.fullmatch(word) is not None


async def _resolve(context: BotContext, reference: str) -> ChatFullInfo | None:
    """The group or channel ``reference`` names, if Telegram shows it to the bot."""
    try:
        found = await context.bot.get_chat(
            reference if reference.startswith("@") else int(reference)
        )
    except TelegramError:
        return None
    return None if found.type == Chat.PRIVATE else found


async def refusal_for(
    update: Update, context: BotContext, chat: Chat | ChatFullInfo, *, posting: bool = True
) -> str | None:
    """Why the sender may not manage ``chat`` from elsewhere (HTML), or None if they may.

    Telegram is asked each time: admins change, and so do the bot's rights. Without
    ``posting`` the bot's right to post isn't asked for (to /stop a chat it can't post in).
    """
    user = update.effective_user
    title = formatting.escape(chat_title(chat) or str(chat.id))
    if user is None:
        return texts.NAME_CHATS_AS_YOURSELF
    try:
        member = await context.bot.get_chat_member(chat.id, user.id)
        me = await context.bot.get_chat_member(chat.id, context.bot.id)
    except TelegramError:
        # Telegram shows a chat's members only to a bot that is in it.
        return texts.BOT_NOT_IN_CHAT.format(title=title)
    if member.status not in _ADMINS:
        return texts.NOT_CHAT_ADMIN.format(title=title)
    if me.status in {ChatMember.LEFT, ChatMember.BANNED}:
        return texts.BOT_NOT_IN_CHAT.format(title=title)
    if not posting:
        return None
    if chat.type == Chat.CHANNEL:
        if not (isinstance(me, ChatMemberAdministrator) and me.can_post_messages):
            return texts.BOT_CANNOT_POST_IN_CHANNEL.format(title=title)
    elif not bot_may_post(me):
        return texts.BOT_CANNOT_POST_IN_GROUP.format(title=title)
    return None


async def button_target(
    update: Update, context: BotContext, named: str | None, *, posting: bool = True
) -> tuple[int, str] | None:
    """The chat a pressed button acts on, and the heading its answers carry; None if refused.

    ``named`` is the chat id a button for another chat carries (its admins only, as
    Telegram says now); without it the button acts on the chat it was pressed in, where a
    group's admins alone may press it. A refusal is answered as a pop-up.
    """
    query, chat = update.callback_query, update.effective_chat
    if query is None or chat is None:
        return None
    if named is None:
        if not await may_change_settings(update, context):
            await query.answer(texts.GROUP_ADMINS_ONLY, show_alert=True)
            return None
        return chat.id, ""
    try:
        listed = await context.bot.get_chat(int(named))
    except TelegramError:
        await query.answer(texts.STALE_BUTTON, show_alert=True)
        return None
    refusal = await refusal_for(update, context, listed, posting=posting)
    if refusal is not None:
        await query.answer(
            formatting.shorten(formatting.plain_text(refusal), 190), show_alert=True
        )
        return None
    return listed.id, f"📣 <b>{formatting.escape(chat_title(listed))}</b>\n"
