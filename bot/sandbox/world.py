"""The users, chats, messages and pending updates of the emulated Telegram, and their JSON."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import enum
import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.inline import InlineAnswer, PendingQuery
from bot.sandbox.records import BotCommand, CallbackAnswer, SentMessage, UserMessage

JSON = dict[str, Any]

_log = logging.getLogger(__name__)

# What Telegram sends when a bot never chose: everything but these three.
DEFAULT_ALLOWED_UPDATES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)

# A command scope: its type, and the chat and user it names, if any.
CommandScope = tuple[str, int | None, int | None]
DEFAULT_SCOPE: CommandScope = ("default", None, None)

_FIRST_USER_ID = 1_000_001
_FIRST_GROUP_ID = -4_000_000_001
_FIRST_SUPERGROUP_ID = -1_002_000_000_001


class ChatType(enum.StrEnum):
    PRIVATE = "private"
    GROUP = "group"
    SUPERGROUP = "supergroup"
    CHANNEL = "channel"


class MemberStatus(enum.StrEnum):
    CREATOR = "creator"
    ADMINISTRATOR = "administrator"
    MEMBER = "member"
    # Here always a member whose right to send messages an admin took away.
    RESTRICTED = "restricted"
    LEFT = "left"
    KICKED = "kicked"

    @property
    def is_present(self) -> bool:
        return self in (
            MemberStatus.CREATOR,
            MemberStatus.ADMINISTRATOR,
            MemberStatus.MEMBER,
            MemberStatus.RESTRICTED,
        )


@dataclass(eq=False)
class User:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False
    deactivated: bool = False

    def to_json(self) -> JSON:
        data: JSON = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data


@dataclass(eq=False)
class ForumThread:
    """A forum topic of a supergroup; its id is the id of the message that created it."""

    id: int
    name: str
    closed: bool = False
    deleted: bool = False


@dataclass(eq=False)
class Chat:
    """A chat; in a private chat ``user`` is the person talking to the bot.

    ``bot_can_post`` matters in channels only, where the bot is always an administrator
    and the owner may grant or withhold the right to post.
    """

    id: int
    type: ChatType
    chat_instance: str
    title: str | None = None
    username: str | None = None
    user: User | None = None
    owner_id: int | None = None
    admin_ids: set[int] = field(default_factory=set)
    member_ids: set[int] = field(default_factory=set)
    bot_status: MemberStatus = MemberStatus.MEMBER
    bot_blocked: bool = False
    migrated_to_chat_id: int | None = None
    last_message_id: int = 0
    is_forum: bool = False
    threads: dict[int, ForumThread] = field(default_factory=dict)
    bot_can_post: bool = True

    @property
    def is_private(self) -> bool:
        return self.type is ChatType.PRIVATE

    @property
    def kind_phrase(self) -> str:
        """How Telegram names this kind of chat in errors: "group chat", "supergroup chat"."""
        return f"{self.type.value} chat"

    def next_message_id(self) -> int:
        self.last_message_id += 1
        return self.last_message_id

    def status_of(self, user_id: int) -> MemberStatus:
        if self.is_private:
            return (
                MemberStatus.MEMBER if self.user and self.user.id == user_id else MemberStatus.LEFT
            )
        if user_id == self.owner_id:
            return MemberStatus.CREATOR
        if user_id in self.admin_ids:
            return MemberStatus.ADMINISTRATOR
        if user_id in self.member_ids:
            return MemberStatus.MEMBER
        return MemberStatus.LEFT

    def to_json(self) -> JSON:
        data: JSON = {"id": self.id, "type": self.type.value}
        if self.is_private and self.user is not None:
            data["first_name"] = self.user.first_name
            if self.user.last_name:
                data["last_name"] = self.user.last_name
            if self.user.username:
                data["username"] = self.user.username
            return data
        data["title"] = self.title
        if self.username:
            data["username"] = self.username
        if self.is_forum:
            data["is_forum"] = True
        return data


class Signal:
    """Wakes every waiter on each state change; waiters then re-check their own condition."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout: float) -> None:  # noqa: ASYNC109 - callers share one deadline
        """Returns on the next change, or after ``timeout`` seconds without one."""
        event = self._event
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await event.wait()


class World:
    """Everything the emulated Telegram knows. All access happens on one event loop."""

    def __init__(self, bot: User, wall_clock: Callable[[], float]) -> None:
        self.bot = bot
        self.wall_clock = wall_clock
        self.users: dict[int, User] = {bot.id: bot}
        self.chats: dict[int, Chat] = {}
        self.messages: dict[tuple[int, int], SentMessage | UserMessage] = {}
        self.sent: dict[int, list[SentMessage]] = {}
        self.sent_in_order: list[SentMessage] = []
        self.updates: list[JSON] = []
        self.allowed_updates: frozenset[str] = DEFAULT_ALLOWED_UPDATES
        self.pending_queries: dict[str, tuple[int, int]] = {}
        self.callback_answers: list[CallbackAnswer] = []
        self.pending_inline: dict[str, PendingQuery] = {}
        self.inline_answers: list[InlineAnswer] = []
        self.commands: dict[tuple[CommandScope, str], list[BotCommand]] = {}
        self.chat_actions: list[tuple[int, str]] = []
        self.changed = Signal()
        self.message_listeners: list[Callable[[SentMessage], None]] = []
        self.answer_listeners: list[Callable[[CallbackAnswer], None]] = []
        self._update_ids = itertools.count(1)
        self._user_ids = itertools.count(_FIRST_USER_ID)
        self._group_ids = itertools.count(_FIRST_GROUP_ID, -1)
        self._supergroup_ids = itertools.count(_FIRST_SUPERGROUP_ID, -1)
        self._chat_instances = itertools.count(-8_000_000_000_000_000_001, -7919)
        self._query_ids = itertools.count(4_000_000_000_000_000_001, 7919)

    # Time

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.wall_clock(), dt.UTC)

    # Users and chats

    def new_user(self, **fields: Any) -> User:
        user = User(id=next(self._user_ids), **fields)
        self.users[user.id] = user
        return user

    def new_chat(self, chat_type: ChatType, **fields: Any) -> Chat:
        if chat_type is ChatType.PRIVATE:
            raise ValueError("private chats are opened with open_private_chat")
        # Supergroups and channels share the -100… id space, as on Telegram.
        ids = self._group_ids if chat_type is ChatType.GROUP else self._supergroup_ids
        chat = Chat(
            id=next(ids),
            type=chat_type,
            chat_instance=str(next(self._chat_instances)),
            **fields,
        )
        self.chats[chat.id] = chat
        return chat

    def open_private_chat(self, user: User) -> Chat:
        chat = self.chats.get(user.id)
        if chat is None:
            chat = Chat(
                id=user.id,
                type=ChatType.PRIVATE,
                chat_instance=str(next(self._chat_instances)),
                user=user,
                member_ids={user.id},
            )
            self.chats[user.id] = chat
        return chat

    def find_chat(self, chat_id: int | str) -> Chat | None:
        if isinstance(chat_id, int):
            return self.chats.get(chat_id)
        if not chat_id.startswith("@"):
            return None
        username = chat_id.removeprefix("@").lower()
        for chat in self.chats.values():
            if not chat.is_private and chat.username and chat.username.lower() == username:
                return chat
        return None

    # Messages

    def store_sent(self, message: SentMessage) -> None:
        self.messages[message.chat_id, message.message_id] = message
        self.sent.setdefault(message.chat_id, []).append(message)
        self.sent_in_order.append(message)

    def announce(self, message: SentMessage) -> None:
        """Tells listeners a bot message was sent or edited; a failing listener is logged."""
        for listener in list(self.message_listeners):
            try:
                listener(message)
            except Exception:
                _log.exception("message listener %r failed", listener)

    def announce_answer(self, answer: CallbackAnswer) -> None:
        for listener in list(self.answer_listeners):
            try:
                listener(answer)
            except Exception:
                _log.exception("callback answer listener %r failed", listener)

    def new_query_id(self) -> str:
        return str(next(self._query_ids))

    # Updates

    def enqueue(self, kind: str, payload: JSON) -> None:
        # Telegram filters by allowed_updates when an update is created, not when it's fetched.
        if kind in self.allowed_updates:
            self.updates.append({"update_id": next(self._update_ids), kind: payload})
            self.changed.notify()

    def confirm(self, offset: int) -> None:
        """Forgets updates before ``offset``; a negative offset keeps only the last ones."""
        if offset < 0:
            del self.updates[: max(len(self.updates) + offset, 0)]
        else:
            self.updates = [update for update in self.updates if update["update_id"] >= offset]

    # JSON forms

    def bot_json(self) -> JSON:
        return self.bot.to_json()

    def message_json(self, message: SentMessage, *, with_reply: bool = True) -> JSON:
        chat = self.chats[message.chat_id]
        version = message.current
        data: JSON = {"message_id": message.message_id}
        if chat.type is ChatType.CHANNEL:
            data["sender_chat"] = chat.to_json()
        else:
            data["from"] = self.bot_json()
        data["chat"] = chat.to_json()
        data["date"] = int(message.date.timestamp())
        if message.message_thread_id is not None and chat.is_forum:
            data["message_thread_id"] = message.message_thread_id
            data["is_topic_message"] = True
        if message.edit_count:
            data["edit_date"] = int(version.date.timestamp())
        if with_reply and message.reply_to_message_id is not None:
            replied = self.messages.get((message.chat_id, message.reply_to_message_id))
            if isinstance(replied, SentMessage):
                data["reply_to_message"] = self.message_json(replied, with_reply=False)
            elif isinstance(replied, UserMessage):
                data["reply_to_message"] = {
                    key: value for key, value in replied.json.items() if key != "reply_to_message"
                }
        data["text"] = version.text
        if version.entities:
            data["entities"] = [entity.to_json() for entity in version.entities]
        if version.link_preview:
            data["link_preview_options"] = version.link_preview
        if message.protect_content:
            data["has_protected_content"] = True
        if version.reply_markup:
            data["reply_markup"] = version.reply_markup
        return data

    def member_json(self, chat: Chat, user: User) -> JSON:
        channel = chat.type is ChatType.CHANNEL
        if user.id == self.bot.id:
            return member_json(user, chat.bot_status, channel=channel, can_post=chat.bot_can_post)
        return member_json(user, chat.status_of(user.id), channel=channel)

    def chat_full_info_json(self, chat: Chat) -> JSON:
        data = chat.to_json()
        # Fields every ChatFullInfo carries; python-telegram-bot refuses the object without them.
        data["accent_color_id"] = abs(chat.id) % 7
        data["max_reaction_count"] = 11
        data["accepted_gift_types"] = {
            "unlimited_gifts": False,
            "limited_gifts": False,
            "unique_gifts": False,
            "premium_subscription": False,
            "gifts_from_channels": False,
        }
        return data


def member_json(
    user: User, status: MemberStatus, *, channel: bool = False, can_post: bool = True
) -> JSON:
    """A ChatMember of the right subclass, with every field Telegram always sends.

    ``can_post``: a channel administrator's right to post and edit messages there.
    """
    data: JSON = {"user": user.to_json(), "status": status.value}
    if status is MemberStatus.CREATOR:
        data["is_anonymous"] = False
    elif status is MemberStatus.ADMINISTRATOR:
        data.update(
            can_be_edited=False,
            is_anonymous=False,
            can_manage_chat=True,
            can_delete_messages=True,
            can_manage_video_chats=True,
            can_restrict_members=True,
            can_promote_members=False,
            can_change_info=True,
            can_invite_users=True,
            can_post_stories=channel,
            can_edit_stories=channel,
            can_delete_stories=channel,
        )
        if channel:
            data.update(can_post_messages=can_post, can_edit_messages=can_post)
        else:
            data.update(can_pin_messages=True, can_manage_topics=True)
    elif status is MemberStatus.RESTRICTED:
        data.update(
            is_member=True,
            can_send_messages=False,
            can_send_audios=False,
            can_send_documents=False,
            can_send_photos=False,
            can_send_videos=False,
            can_send_video_notes=False,
            can_send_voice_notes=False,
            can_send_polls=False,
            can_send_other_messages=False,
            can_add_web_page_previews=False,
            can_change_info=False,
            can_invite_users=False,
            can_pin_messages=False,
            can_manage_topics=False,
            can_edit_tag=False,
            can_react_to_messages=False,
            until_date=0,
        )
    elif status is MemberStatus.KICKED:
        data["until_date"] = 0
    return data
