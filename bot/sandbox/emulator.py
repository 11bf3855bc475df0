"""A loopback Telegram Bot API server, strict like Telegram, with a control API for tests.

The bot under test talks to it over real HTTP (``{api_root}/bot{token}/{method}``); tests and
the demo drive users, chats and buttons through the methods of ``BotApiEmulator`` and read
back what every chat received. It runs on the caller's event loop and depends only on the
standard library and aiohttp, so it can share a process with the bot.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from types import TracebackType
from typing import Any, Self, TypeVar

from aiohttp import web

from bot.sandbox.entities import Entity, bot_commands, utf16_slice
from bot.sandbox.errors import ApiError, SandboxError, not_found, unauthorized
from bot.sandbox.flood import FloodControl, FloodLimits, Rate
from bot.sandbox.inline import InlineAnswer, PendingQuery
from bot.sandbox.methods import BotApi
from bot.sandbox.parameters import Params, read_params
from bot.sandbox.records import (
    BotCommand,
    Button,
    CallbackAnswer,
    MessageVersion,
    RequestRecord,
    SentMessage,
    UserMessage,
)
from bot.sandbox.webhook import Webhook, WebhookDelivery
from bot.sandbox.world import (
    JSON,
    Chat,
    ChatType,
    CommandScope,
    ForumThread,
    MemberStatus,
    User,
    World,
    member_json,
)

__all__ = [
    "DEFAULT_TOKEN",
    "BotApiEmulator",
    "BotCommand",
    "Button",
    "CallbackAnswer",
    "Chat",
    "ChatType",
    "Entity",
    "FloodLimits",
    "ForumThread",
    "MemberStatus",
    "MessageVersion",
    "Rate",
    "RequestRecord",
    "SandboxError",
    "SentMessage",
    "User",
    "UserMessage",
]

DEFAULT_TOKEN = "123456789:AAHerald-sandbox-token-0123456789abcd"
_DEFAULT_BOT_ID = 123456789
_TRIMMED = " \t\n\r\x0b\x0c"

_log = logging.getLogger(__name__)
_T = TypeVar("_T")
_Answer = TypeVar("_Answer", CallbackAnswer, InlineAnswer)

ChatRef = int | Chat
UserRef = int | User


class BotApiEmulator:
    """The Telegram Bot API on 127.0.0.1, as strict as Telegram, for one bot token.

    Use ``async with BotApiEmulator() as emulator:`` (or ``start``/``stop``) and point the
    bot at ``emulator.api_root``. In groups the bot has privacy mode on, as bots do by
    default: it sees commands, replies to it and mentions of it, not other chatter.
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        limits: FloodLimits | None = None,
        username: str = "herald_bot",
        host: str = "127.0.0.1",
        port: int = 0,
        privacy_mode: bool = True,
        strict_ampersands: bool = True,
        inline_mode: bool = True,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.token = token
        prefix = token.partition(":")[0]
        bot = User(
            id=int(prefix) if prefix.isdigit() else _DEFAULT_BOT_ID,
            first_name="Herald",
            username=username,
            is_bot=True,
        )
        self._clock = clock
        self._host = host
        self._port = port
        self._world = World(bot, wall_clock)
        self._flood = FloodControl(limits or FloodLimits(), clock)
        self._api = BotApi(
            self._world,
            self._flood,
            clock,
            strict_ampersands=strict_ampersands,
            privacy_mode=privacy_mode,
            inline_mode=inline_mode,
        )
        self._runner: web.AppRunner | None = None
        self._webhooks = WebhookDelivery(self._world, lambda: self._api.webhook)
        self._taken: set[tuple[int, int]] = set()
        self.requests: list[RequestRecord] = []
        self.calls: Counter[str] = Counter()
        self.responses: Counter[tuple[str, int]] = Counter()

    # Lifecycle

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("the emulator is already running")
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("*", "/{tail:.*}", self._unknown_path)
        # handler_cancellation ends a long poll whose client hung up instead of keeping it
        # as the "current" getUpdates until its timeout.
        runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0
        )
        await runner.setup()
        try:
            site = web.TCPSite(runner, self._host, self._port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._port = runner.addresses[0][1]
        self._runner = runner
        self._api.closing = False
        self._webhooks.start()

    async def stop(self) -> None:
        """Stops serving; open long polls return an empty list first so nothing hangs."""
        if self._runner is None:
            return
        self._api.stop_polling()
        await self._webhooks.stop()
        runner, self._runner = self._runner, None
        await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def api_root(self) -> str:
        """What goes in HERALD_TELEGRAM_API_URL: requests go to ``{api_root}/bot{token}/...``."""
        if self._runner is None:
            raise RuntimeError("the emulator is not running; start it first")
        return f"http://{self._host}:{self._port}"

    @property
    def limits(self) -> FloodLimits:
        return self._flood.limits

    @limits.setter
    def limits(self, limits: FloodLimits) -> None:
        self._flood.reset(limits)

    # HTTP

    async def _handle(self, request: web.Request) -> web.Response:
        arrived = self._clock()
        method = request.match_info["method"]
        found = self._api.lookup(method)
        name = found[0] if found is not None else method
        params = Params({})
        description: str | None
        try:
            if request.match_info["token"] != self.token:
                raise unauthorized()
            if found is None:
                raise not_found()
            params = await read_params(request)
            result = await found[1](params)
        except ApiError as error:
            status, body, description = error.status, error.to_json(), error.description
        except Exception as error:
            _log.exception("%s failed inside the emulator", name)
            status, description = 500, f"Internal Server Error: {error!r}"
            body = {"ok": False, "error_code": status, "description": description}
        else:
            status, body, description = 200, {"ok": True, "result": result}, None
        self.requests.append(RequestRecord(name, params.values, status, arrived, description))
        self.calls[name] += 1
        self.responses[name, status] += 1
        self._world.changed.notify()
        return web.json_response(body, status=status)

    async def _unknown_path(self, request: web.Request) -> web.Response:
        return web.json_response(not_found().to_json(), status=404)

    # Users and chats

    @property
    def bot(self) -> User:
        return self._world.bot

    def add_user(
        self,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
    ) -> User:
        """A new Telegram user; the bot can't write to them until ``private_chat`` opens one."""
        return self._world.new_user(
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
        )

    def private_chat(self, user: UserRef) -> Chat:
        """The user's private chat with the bot, opened as if they had pressed Start."""
        return self._world.open_private_chat(self.user(user))

    def add_group(
        self,
        title: str,
        *,
        members: Iterable[UserRef] = (),
        admins: Iterable[UserRef] = (),
        owner: UserRef | None = None,
        supergroup: bool = False,
        username: str | None = None,
        bot_is_admin: bool = False,
        forum: bool = False,
    ) -> Chat:
        """A group the bot is already in; the owner defaults to the first admin.

        ``forum`` makes it a supergroup with topics enabled: General, and the threads
        ``create_thread`` opens.
        """
        if forum and not supergroup:
            raise SandboxError("only supergroups can be forums")
        admin_list = [self.user(admin).id for admin in admins]
        admin_ids = set(admin_list)
        owner_id = self.user(owner).id if owner is not None else None
        if owner_id is None and admin_list:
            owner_id = admin_list[0]
        member_ids = {self.user(member).id for member in members} | admin_ids
        if owner_id is not None:
            member_ids.add(owner_id)
        return self._world.new_chat(
            ChatType.SUPERGROUP if supergroup else ChatType.GROUP,
            title=title,
            username=username if supergroup else None,
            owner_id=owner_id,
            admin_ids=admin_ids - {owner_id},
            member_ids=member_ids,
            bot_status=MemberStatus.ADMINISTRATOR if bot_is_admin else MemberStatus.MEMBER,
            is_forum=forum,
        )

    def add_channel(
        self,
        title: str,
        *,
        username: str | None = None,
        owner: UserRef | None = None,
        admins: Iterable[UserRef] = (),
        subscribers: Iterable[UserRef] = (),
        bot_can_post: bool = True,
        bot_is_member: bool = True,
    ) -> Chat:
        """A channel; the bot is in it as an administrator (the only way a bot joins one).

        ``bot_can_post`` is that administrator's right to post messages; without
        ``bot_is_member`` the bot is not in the channel until ``add_bot_to_channel``.
        """
        owner_id = self.user(owner).id if owner is not None else None
        admin_ids = {self.user(admin).id for admin in admins}
        admin_ids.discard(owner_id or 0)
        member_ids = {self.user(user).id for user in subscribers} | admin_ids
        if owner_id is not None:
            member_ids.add(owner_id)
        return self._world.new_chat(
            ChatType.CHANNEL,
            title=title,
            username=username,
            owner_id=owner_id,
            admin_ids=admin_ids,
            member_ids=member_ids,
            bot_status=MemberStatus.ADMINISTRATOR if bot_is_member else MemberStatus.LEFT,
            bot_can_post=bot_can_post,
        )

    def user(self, user: UserRef) -> User:
        if isinstance(user, User):
            return user
        found = self._world.users.get(user)
        if found is None:
            raise SandboxError(f"no user {user}; create one with add_user")
        return found

    def chat(self, chat: ChatRef) -> Chat:
        if isinstance(chat, Chat):
            return chat
        found = self._world.chats.get(chat)
        if found is None:
            raise SandboxError(f"no chat {chat}; create one with private_chat or add_group")
        return found

    # Users acting

    async def user_says(
        self,
        chat: ChatRef,
        user: UserRef,
        text: str,
        *,
        reply_to_message_id: int | None = None,
        thread: int | None = None,
    ) -> UserMessage:
        """A user sends ``text``; the bot gets a ``message`` update if Telegram would send one.

        Commands (``/start``, ``/latest@herald_bot 3``) carry ``bot_command`` entities at their
        UTF-16 offsets. A private chat opens on its user's first message. ``thread`` is the
        forum thread the user writes in (None: General); as on Telegram the message then
        carries ``message_thread_id`` and ``is_topic_message`` and, unless it replies to
        something else, replies to the message that created the thread.
        """
        sender = self.user(user)
        if chat == sender.id and sender.id not in self._world.chats:
            self._world.open_private_chat(sender)
        target = self._chat_for(sender, chat)
        if target.type is ChatType.CHANNEL:
            raise SandboxError("in a channel only admins post, with post_in_channel")
        clean = text.strip(_TRIMMED)
        if not clean:
            raise SandboxError("Telegram doesn't send empty messages")
        if thread is not None:
            self._open_thread(target, thread, sender)
        replied = None
        if reply_to_message_id is not None:
            replied = self._world.messages.get((target.id, reply_to_message_id))
            if replied is None:
                raise SandboxError(f"no message {reply_to_message_id} in chat {target.id}")
        elif thread is not None:
            replied = self._world.messages.get((target.id, thread))
        entities = tuple(bot_commands(clean))
        date = self._world.now()
        data: JSON = {
            "message_id": target.next_message_id(),
            "from": sender.to_json(),
            "chat": target.to_json(),
            "date": int(date.timestamp()),
        }
        if thread is not None:
            data["message_thread_id"] = thread
            data["is_topic_message"] = True
        if replied is not None:
            data["reply_to_message"] = self._message_json(replied)
        data["text"] = clean
        if entities:
            data["entities"] = [entity.to_json() for entity in entities]
        delivered = self._bot_sees(target, clean, entities, replied)
        message = UserMessage(
            chat_id=target.id,
            message_id=data["message_id"],
            user_id=sender.id,
            text=clean,
            entities=entities,
            date=date,
            delivered=delivered,
            json=data,
            thread_id=thread,
        )
        self._world.messages[target.id, message.message_id] = message
        if delivered:
            self._world.enqueue("message", data)
        self._world.changed.notify()
        return message

    async def post_in_channel(self, chat: ChatRef, user: UserRef, text: str) -> UserMessage:
        """An admin posts ``text`` in a channel; the bot, an admin there, gets ``channel_post``.

        As on Telegram the post comes from the channel (``sender_chat``), not from the admin.
        """
        channel = self.chat(chat)
        poster = self.user(user)
        if channel.type is not ChatType.CHANNEL:
            raise SandboxError(f"chat {channel.id} is not a channel")
        if channel.status_of(poster.id) not in (MemberStatus.CREATOR, MemberStatus.ADMINISTRATOR):
            raise SandboxError(f"user {poster.id} is not an admin of channel {channel.id}")
        clean = text.strip(_TRIMMED)
        if not clean:
            raise SandboxError("Telegram doesn't send empty messages")
        entities = tuple(bot_commands(clean))
        date = self._world.now()
        data: JSON = {
            "message_id": channel.next_message_id(),
            "sender_chat": channel.to_json(),
            "chat": channel.to_json(),
            "date": int(date.timestamp()),
            "text": clean,
        }
        if entities:
            data["entities"] = [entity.to_json() for entity in entities]
        delivered = channel.bot_status is MemberStatus.ADMINISTRATOR
        message = UserMessage(
            chat_id=channel.id,
            message_id=data["message_id"],
            user_id=poster.id,
            text=clean,
            entities=entities,
            date=date,
            delivered=delivered,
            json=data,
        )
        self._world.messages[channel.id, message.message_id] = message
        if delivered:
            self._world.enqueue("channel_post", data)
        self._world.changed.notify()
        return message

    # Forum threads

    def create_thread(self, chat: ChatRef, name: str, *, by_user: UserRef | None = None) -> int:
        """Opens a forum thread and returns its id (the id of its forum_topic_created message)."""
        forum = self._forum(chat)
        creator = self._actor(forum, by_user)
        message_id = self._service_message(
            forum,
            creator,
            forum_topic_created={"name": name, "icon_color": 7322096},
        )
        forum.threads[message_id] = ForumThread(message_id, name)
        self._world.changed.notify()
        return message_id

    def close_thread(self, chat: ChatRef, thread: int) -> None:
        """An admin closes the thread: only admins may post in it now."""
        self._live_thread(self._forum(chat), thread).closed = True
        self._world.changed.notify()

    def reopen_thread(self, chat: ChatRef, thread: int) -> None:
        self._live_thread(self._forum(chat), thread).closed = False
        self._world.changed.notify()

    def delete_thread(self, chat: ChatRef, thread: int) -> None:
        """An admin deletes the thread and, as Telegram does, every message in it."""
        forum = self._forum(chat)
        self._live_thread(forum, thread).deleted = True
        for key, message in list(self._world.messages.items()):
            if key[0] != forum.id:
                continue
            in_thread = (
                message.message_thread_id == thread
                if isinstance(message, SentMessage)
                else message.thread_id == thread or message.message_id == thread
            )
            if in_thread:
                del self._world.messages[key]
                if isinstance(message, SentMessage):
                    message.deleted = True
        self._world.changed.notify()

    def thread_messages(self, chat: ChatRef, thread: int | None) -> list[SentMessage]:
        """The bot's messages in one forum thread (None: General), oldest first."""
        return [message for message in self.messages(chat) if message.message_thread_id == thread]

    async def press_button(
        self, chat: ChatRef, message_id: int, user: UserRef, button: str
    ) -> str:
        """A user presses a callback button (by text, else by data); returns the query id."""
        presser = self.user(user)
        target = self._chat_for(presser, chat)
        message = self._world.messages.get((target.id, message_id))
        if not isinstance(message, SentMessage):
            raise SandboxError(f"no bot message {message_id} in chat {target.id}")
        try:
            pressed = message.button(button)
        except LookupError as error:
            raise SandboxError(str(error)) from error
        if pressed.callback_data is None:
            raise SandboxError(f"button {pressed.text!r} opens a URL; the bot hears nothing")
        query_id = self._world.new_query_id()
        self._world.pending_queries[query_id] = (target.id, message_id)
        self._world.enqueue(
            "callback_query",
            {
                "id": query_id,
                "from": presser.to_json(),
                "message": self._world.message_json(message),
                "chat_instance": target.chat_instance,
                "data": pressed.callback_data,
            },
        )
        return query_id

    async def inline_query(
        self, user: UserRef, query: str, *, chat_type: str = "sender", offset: str = ""
    ) -> str:
        """A user types ``@bot query`` in a chat of ``chat_type``; returns the query id.

        Telegram sends inline queries only to bots with inline mode on (@BotFather's
        /setinline); without it the user's client shows nothing and the bot hears nothing.
        """
        if not self._api.inline_mode:
            raise SandboxError("inline mode is off for this bot: Telegram sends it no queries")
        if len(query) > 256:
            raise SandboxError("Telegram clients send at most 256 characters of inline query")
        asker = self.user(user)
        query_id = self._world.new_query_id()
        self._world.pending_inline[query_id] = PendingQuery(asker.id, query, self._clock())
        self._world.enqueue(
            "inline_query",
            {
                "id": query_id,
                "from": asker.to_json(),
                "query": query,
                "offset": offset,
                "chat_type": chat_type,
            },
        )
        return query_id

    async def wait_for_inline_answer(
        self,
        query_id: str,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - the deadline is part of what a test states
    ) -> InlineAnswer:
        """The bot's answer to an inline query."""
        return await self._answer_to(
            self._world.inline_answers, query_id, timeout, f"answer to inline query {query_id}"
        )

    async def block_bot(self, user: UserRef) -> None:
        """The user blocks the bot: sends to them fail with 403 and a my_chat_member arrives."""
        blocker = self.user(user)
        chat = self._world.open_private_chat(blocker)
        if chat.bot_blocked:
            raise SandboxError(f"user {blocker.id} already blocked the bot")
        chat.bot_blocked = True
        self._my_chat_member(chat, blocker, MemberStatus.MEMBER, MemberStatus.KICKED)

    async def unblock_bot(self, user: UserRef) -> None:
        unblocker = self.user(user)
        chat = self._world.open_private_chat(unblocker)
        if not chat.bot_blocked:
            raise SandboxError(f"user {unblocker.id} has not blocked the bot")
        chat.bot_blocked = False
        self._my_chat_member(chat, unblocker, MemberStatus.KICKED, MemberStatus.MEMBER)

    async def deactivate_user(self, user: UserRef) -> None:
        """The user deletes their account; Telegram tells the bot nothing until it sends."""
        self.user(user).deactivated = True
        self._world.changed.notify()

    async def remove_bot_from_group(self, chat: ChatRef, by_user: UserRef | None = None) -> None:
        """An admin (the owner by default) removes the bot: sends fail with 403 "kicked"."""
        group = self._group(chat)
        if not group.bot_status.is_present:
            raise SandboxError(f"the bot is not in chat {group.id}")
        remover = self._actor(group, by_user)
        old, group.bot_status = group.bot_status, MemberStatus.KICKED
        self._my_chat_member(group, remover, old, MemberStatus.KICKED)

    async def restrict_bot(
        self, chat: ChatRef, *, may_send: bool, by_user: UserRef | None = None
    ) -> None:
        """An admin takes the bot's right to send messages away, or gives it back.

        Sends to a group where the bot may not send fail with 400 "not enough rights".
        """
        group = self._group(chat)
        if not group.bot_status.is_present:
            raise SandboxError(f"the bot is not in chat {group.id}")
        admin = self._actor(group, by_user)
        new = MemberStatus.MEMBER if may_send else MemberStatus.RESTRICTED
        old, group.bot_status = group.bot_status, new
        if old is not new:
            self._my_chat_member(group, admin, old, new)

    async def add_bot_to_group(
        self, chat: ChatRef, by_user: UserRef, *, as_admin: bool = False
    ) -> None:
        """A member adds the bot back; it gets my_chat_member and the new_chat_members message."""
        group = self._group(chat)
        if group.bot_status.is_present:
            raise SandboxError(f"the bot is already in chat {group.id}")
        adder = self._actor(group, by_user)
        new = MemberStatus.ADMINISTRATOR if as_admin else MemberStatus.MEMBER
        old, group.bot_status = group.bot_status, new
        self._my_chat_member(group, adder, old, new)
        self._service_message(group, adder, new_chat_members=[self._world.bot_json()])

    async def add_bot_to_channel(
        self, chat: ChatRef, by_user: UserRef, *, can_post: bool = True
    ) -> None:
        """A channel admin makes the bot an administrator there; the bot gets my_chat_member."""
        channel = self.chat(chat)
        if channel.type is not ChatType.CHANNEL:
            raise SandboxError(f"chat {channel.id} is not a channel")
        if channel.bot_status.is_present:
            raise SandboxError(f"the bot is already in channel {channel.id}")
        adder = self.user(by_user)
        if channel.status_of(adder.id) not in (MemberStatus.CREATOR, MemberStatus.ADMINISTRATOR):
            raise SandboxError(f"user {adder.id} is not an admin of channel {channel.id}")
        old = channel.bot_status
        channel.bot_status, channel.bot_can_post = MemberStatus.ADMINISTRATOR, can_post
        self._my_chat_member(channel, adder, old, MemberStatus.ADMINISTRATOR)

    async def set_bot_channel_rights(
        self, chat: ChatRef, *, can_post: bool, by_user: UserRef | None = None
    ) -> None:
        """The owner grants or withdraws the bot's right to post in a channel."""
        channel = self.chat(chat)
        if channel.type is not ChatType.CHANNEL or not channel.bot_status.is_present:
            raise SandboxError(f"the bot is not an admin of channel {channel.id}")
        admin = self._actor(channel, by_user)
        old_can_post, channel.bot_can_post = channel.bot_can_post, can_post
        if old_can_post != can_post:
            self._my_chat_member(
                channel,
                admin,
                MemberStatus.ADMINISTRATOR,
                MemberStatus.ADMINISTRATOR,
                old_can_post=old_can_post,
            )

    async def migrate_group(self, chat: ChatRef, by_user: UserRef | None = None) -> int:
        """Upgrades a group to a supergroup and returns the new id; the old id then fails."""
        group = self._group(chat)
        if group.type is not ChatType.GROUP:
            raise SandboxError(f"chat {group.id} is a {group.type.value}, not a basic group")
        upgrader = self._actor(group, by_user)
        supergroup = self._world.new_chat(
            ChatType.SUPERGROUP,
            title=group.title,
            owner_id=group.owner_id,
            admin_ids=set(group.admin_ids),
            member_ids=set(group.member_ids),
            bot_status=group.bot_status,
        )
        group.migrated_to_chat_id = supergroup.id
        if group.bot_status.is_present:
            self._service_message(group, upgrader, migrate_to_chat_id=supergroup.id)
            self._service_message(supergroup, upgrader, migrate_from_chat_id=group.id)
        self._world.changed.notify()
        return supergroup.id

    # What the bot did

    def messages(self, chat: ChatRef) -> list[SentMessage]:
        """Every message the bot sent to the chat, oldest first, deleted ones flagged."""
        return list(self._world.sent.get(self._chat_id(chat), []))

    def has_message(self, chat: ChatRef, message_id: int) -> bool:
        """Whether a message (the bot's or a user's) is still in the chat, not deleted."""
        return (self._chat_id(chat), message_id) in self._world.messages

    @property
    def all_messages(self) -> list[SentMessage]:
        """Every message the bot sent, in the order they arrived."""
        return list(self._world.sent_in_order)

    @property
    def callback_answers(self) -> list[CallbackAnswer]:
        return list(self._world.callback_answers)

    @property
    def commands(self) -> list[BotCommand]:
        """The command list users see by default (no scope, no language)."""
        return self.commands_for()

    def commands_for(
        self,
        scope: str = "default",
        *,
        chat: ChatRef | None = None,
        user: UserRef | None = None,
        language_code: str = "",
    ) -> list[BotCommand]:
        key: CommandScope = (
            scope,
            self._chat_id(chat) if chat is not None else None,
            self.user(user).id if user is not None else None,
        )
        return list(self._world.commands.get((key, language_code), []))

    @property
    def chat_actions(self) -> list[tuple[int, str]]:
        return list(self._world.chat_actions)

    @property
    def pending_updates(self) -> list[JSON]:
        """Updates the bot has not confirmed yet."""
        return list(self._world.updates)

    @property
    def long_polling(self) -> bool:
        """Whether the bot has a getUpdates request waiting right now."""
        return self._api.polling

    @property
    def webhook(self) -> Webhook | None:
        """The webhook the bot set (URL, secret, delivery counts), or None while it polls."""
        return self._api.webhook

    @property
    def flood_rejections(self) -> int:
        """How many requests were refused with 429."""
        return sum(count for (_, status), count in self.responses.items() if status == 429)

    def on_message(self, callback: Callable[[SentMessage], None]) -> Callable[[], None]:
        """Calls ``callback`` for every message the bot sends or edits; returns an unsubscriber.

        An edit passes the same record again with ``edit_count`` raised. A failing callback is
        logged and doesn't fail the bot's request.
        """
        self._world.message_listeners.append(callback)
        return lambda: self._world.message_listeners.remove(callback)

    def on_callback_answer(self, callback: Callable[[CallbackAnswer], None]) -> Callable[[], None]:
        self._world.answer_listeners.append(callback)
        return lambda: self._world.answer_listeners.remove(callback)

    # Waiting

    async def wait_until(
        self,
        condition: Callable[[], _T | None],
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - the deadline is part of what a test states
        description: str = "",
    ) -> _T:
        """Returns the condition's first truthy value, re-checked on every state change.

        Raises TimeoutError listing what the bot sent and which requests failed, so a failing
        test shows what happened instead of only what didn't.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = condition()
            if value:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                wanted = description or getattr(condition, "__name__", "the condition")
                raise TimeoutError(f"no {wanted} within {timeout}s\n{self.report()}")
            await self._world.changed.wait(remaining)

    async def wait_for_message(
        self,
        chat: ChatRef,
        predicate: Callable[[SentMessage], bool] | None = None,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - the deadline is part of what a test states
    ) -> SentMessage:
        """The oldest bot message in the chat not yet returned by this method (and matching).

        Each message is returned once, so consecutive calls walk through a conversation.
        """
        chat_id = self._chat_id(chat)

        def next_message() -> SentMessage | None:
            for message in self._world.sent.get(chat_id, []):
                key = (chat_id, message.message_id)
                if key not in self._taken and (predicate is None or predicate(message)):
                    return message
            return None

        message = await self.wait_until(
            next_message, timeout=timeout, description=f"new bot message in chat {chat_id}"
        )
        self._taken.add((chat_id, message.message_id))
        return message

    async def wait_for_answer(
        self,
        query_id: str,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - the deadline is part of what a test states
    ) -> CallbackAnswer:
        """The bot's answer to a pressed button."""
        return await self._answer_to(
            self._world.callback_answers,
            query_id,
            timeout,
            f"answer to callback query {query_id}",
        )

    async def _answer_to(
        self,
        answers: Sequence[_Answer],
        query_id: str,
        timeout: float,  # noqa: ASYNC109 - the caller's deadline, passed on
        description: str,
    ) -> _Answer:
        """The first of ``answers`` (growing as the bot answers) to ``query_id``."""

        def answer() -> _Answer | None:
            return next((a for a in answers if a.query_id == query_id), None)

        return await self.wait_until(answer, timeout=timeout, description=description)

    def report(self, *, last: int = 10) -> str:
        """The last messages the bot sent and its last failed requests, for failure output."""
        lines = ["messages the bot sent (last first):"]
        for message in reversed(self._world.sent_in_order[-last:]):
            flags = []
            if message.edit_count:
                flags.append(f"edited {message.edit_count}x")
            if message.deleted:
                flags.append("deleted")
            suffix = f" ({', '.join(flags)})" if flags else ""
            lines.append(
                f"  chat {message.chat_id} #{message.message_id}{suffix}: {message.text[:200]!r}"
            )
        if len(lines) == 1:
            lines.append("  none")
        failures = [record for record in self.requests if record.status != 200][-last:]
        if failures:
            lines.append("failed requests (last first):")
            lines.extend(
                f"  {record.method} -> {record.description}" for record in reversed(failures)
            )
        return "\n".join(lines)

    # Helpers

    def _chat_id(self, chat: ChatRef) -> int:
        return chat.id if isinstance(chat, Chat) else chat

    def _chat_for(self, user: User, chat: ChatRef) -> Chat:
        """The chat ``user`` acts in, refusing what a Telegram client would not let them do."""
        target = self.chat(chat)
        if user.deactivated:
            raise SandboxError(f"user {user.id} is deactivated")
        if target.migrated_to_chat_id is not None:
            raise SandboxError(
                f"chat {target.id} became supergroup {target.migrated_to_chat_id}; act there"
            )
        if target.is_private:
            if target.user is not user:
                raise SandboxError(f"chat {target.id} is another user's private chat")
            if target.bot_blocked:
                raise SandboxError(f"user {user.id} blocked the bot; unblock_bot first")
            return target
        if not target.status_of(user.id).is_present:
            raise SandboxError(f"user {user.id} is not a member of chat {target.id}")
        if not target.bot_status.is_present:
            raise SandboxError(f"the bot is not in chat {target.id}; it would see nothing")
        return target

    def _group(self, chat: ChatRef) -> Chat:
        group = self.chat(chat)
        if group.is_private:
            raise SandboxError(f"chat {group.id} is a private chat")
        if group.migrated_to_chat_id is not None:
            raise SandboxError(f"chat {group.id} became supergroup {group.migrated_to_chat_id}")
        return group

    def _forum(self, chat: ChatRef) -> Chat:
        forum = self._group(chat)
        if not forum.is_forum:
            raise SandboxError(f"chat {forum.id} is not a forum; add_group(..., forum=True)")
        return forum

    def _live_thread(self, forum: Chat, thread_id: int) -> ForumThread:
        thread = forum.threads.get(thread_id)
        if thread is None or thread.deleted:
            raise SandboxError(f"no thread {thread_id} in chat {forum.id}")
        return thread

    def _open_thread(self, chat: Chat, thread_id: int, user: User) -> None:
        """Refuses a thread a Telegram client would not let ``user`` write in."""
        if not chat.is_forum:
            raise SandboxError(f"chat {chat.id} is not a forum")
        thread = self._live_thread(chat, thread_id)
        admin = chat.status_of(user.id) in (MemberStatus.CREATOR, MemberStatus.ADMINISTRATOR)
        if thread.closed and not admin:
            raise SandboxError(f"thread {thread_id} is closed; only admins post there")

    def _actor(self, group: Chat, user: UserRef | None) -> User:
        if user is not None:
            return self.user(user)
        actor_id = group.owner_id or min(group.admin_ids, default=None)
        if actor_id is None:
            raise SandboxError(f"chat {group.id} has no owner or admin; say who acts")
        return self.user(actor_id)

    def _bot_sees(
        self,
        chat: Chat,
        text: str,
        entities: tuple[Entity, ...],
        replied: SentMessage | UserMessage | None,
    ) -> bool:
        """Whether privacy mode lets the bot see a group message, as Telegram decides it."""
        if chat.is_private or not self._api.privacy_mode:
            return True
        if chat.bot_status is MemberStatus.ADMINISTRATOR or isinstance(replied, SentMessage):
            return True
        username = (self.bot.username or "").lower()
        for entity in entities:
            if entity.offset == 0:
                command = utf16_slice(text, entity.offset, entity.length)
                addressee = command.partition("@")[2].lower()
                return not addressee or addressee == username
        return f"@{username}" in text.lower()

    def _message_json(self, message: SentMessage | UserMessage) -> JSON:
        if isinstance(message, SentMessage):
            return self._world.message_json(message, with_reply=False)
        return {key: value for key, value in message.json.items() if key != "reply_to_message"}

    def _my_chat_member(
        self,
        chat: Chat,
        by: User,
        old: MemberStatus,
        new: MemberStatus,
        *,
        old_can_post: bool | None = None,
    ) -> None:
        channel = chat.type is ChatType.CHANNEL
        was_posting = chat.bot_can_post if old_can_post is None else old_can_post
        update: dict[str, Any] = {
            "chat": chat.to_json(),
            "from": by.to_json(),
            "date": int(self._world.now().timestamp()),
            "old_chat_member": member_json(self.bot, old, channel=channel, can_post=was_posting),
            "new_chat_member": member_json(
                self.bot, new, channel=channel, can_post=chat.bot_can_post
            ),
        }
        self._world.enqueue("my_chat_member", update)
        self._world.changed.notify()

    def _service_message(
        self, chat: Chat, by: User, *, delivered: bool = True, **fields: Any
    ) -> int:
        """Stores a service message and returns its id; ``delivered``: the bot gets it."""
        date = self._world.now()
        data: JSON = {
            "message_id": chat.next_message_id(),
            "from": by.to_json(),
            "chat": chat.to_json(),
            "date": int(date.timestamp()),
            **fields,
        }
        # Stored like a user's message, so the bot can reply to it or delete it.
        self._world.messages[chat.id, data["message_id"]] = UserMessage(
            chat_id=chat.id,
            message_id=data["message_id"],
            user_id=by.id,
            text="",
            entities=(),
            date=date,
            delivered=delivered,
            json=data,
        )
        if delivered:
            self._world.enqueue("message", data)
        return int(data["message_id"])
