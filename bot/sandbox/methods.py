"""The Bot API methods the emulator answers, each as strict as Telegram about its input."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import Any

from bot.sandbox import content, inline
from bot.sandbox.errors import (
    CHAT_NOT_FOUND,
    GETUPDATES_CONFLICT,
    MESSAGE_NOT_MODIFIED,
    MESSAGE_THREAD_NOT_FOUND,
    MESSAGE_TO_DELETE_NOT_FOUND,
    MESSAGE_TO_EDIT_NOT_FOUND,
    QUERY_INVALID,
    TOPIC_CLOSED,
    bad_request,
    conflict,
    forbidden,
    too_many_requests,
)
from bot.sandbox.flood import FloodControl
from bot.sandbox.parameters import Params
from bot.sandbox.records import BotCommand, CallbackAnswer, MessageVersion, SentMessage
from bot.sandbox.webhook import (
    DEFAULT_MAX_CONNECTIONS,
    WEBHOOK_ACTIVE,
    Webhook,
    check_secret_token,
    check_webhook_url,
)
from bot.sandbox.world import (
    DEFAULT_ALLOWED_UPDATES,
    DEFAULT_SCOPE,
    JSON,
    Chat,
    ChatType,
    CommandScope,
    MemberStatus,
    World,
    member_json,
)

Handler = Callable[[Params], Awaitable[Any]]

MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_COMMANDS = 100
MAX_COMMAND_DESCRIPTION_LENGTH = 256

_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_SCOPES_WITH_CHAT = frozenset({"chat", "chat_administrators", "chat_member"})
_SCOPES = (
    frozenset({"default", "all_private_chats", "all_group_chats", "all_chat_administrators"})
    | _SCOPES_WITH_CHAT
)


class BotApi:
    """Method implementations over a World: decoded parameters in, a result or ApiError out."""

    def __init__(
        self,
        world: World,
        flood: FloodControl,
        clock: Callable[[], float],
        *,
        strict_ampersands: bool,
        privacy_mode: bool,
        inline_mode: bool = True,
    ) -> None:
        self.world = world
        self.inline_mode = inline_mode
        self.flood = flood
        self.clock = clock
        self.strict_ampersands = strict_ampersands
        self.privacy_mode = privacy_mode
        self.closing = False
        self._poller: object | None = None
        self.webhook: Webhook | None = None
        handlers: dict[str, Handler] = {
            "getMe": self.get_me,
            "getUpdates": self.get_updates,
            "setWebhook": self.set_webhook,
            "deleteWebhook": self.delete_webhook,
            "getWebhookInfo": self.get_webhook_info,
            "sendMessage": self.send_message,
            "editMessageText": self.edit_message_text,
            "editMessageReplyMarkup": self.edit_message_reply_markup,
            "deleteMessage": self.delete_message,
            "answerCallbackQuery": self.answer_callback_query,
            "answerInlineQuery": self.answer_inline_query,
            "sendChatAction": self.send_chat_action,
            "setMyCommands": self.set_my_commands,
            "getMyCommands": self.get_my_commands,
            "deleteMyCommands": self.delete_my_commands,
            "getChat": self.get_chat,
            "getChatMember": self.get_chat_member,
            "getChatAdministrators": self.get_chat_administrators,
            "getChatMemberCount": self.get_chat_member_count,
        }
        self._handlers = {name.lower(): (name, handler) for name, handler in handlers.items()}

    def lookup(self, method: str) -> tuple[str, Handler] | None:
        """The canonical name and handler; Telegram matches method names case-insensitively."""
        return self._handlers.get(method.lower())

    @property
    def polling(self) -> bool:
        """Whether a getUpdates request is waiting for updates right now."""
        return self._poller is not None

    def stop_polling(self) -> None:
        """Ends open long polls with an empty result so a server shutdown doesn't wait."""
        self.closing = True
        self.world.changed.notify()

    # Bot and updates

    async def get_me(self, params: Params) -> JSON:
        return {
            **self.world.bot_json(),
            "can_join_groups": True,
            "can_read_all_group_messages": not self.privacy_mode,
            "supports_inline_queries": self.inline_mode,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def get_updates(self, params: Params) -> list[JSON]:
        offset = params.integer("offset")
        limit = min(max(params.integer("limit") or 100, 1), 100)
        timeout = max(params.number("timeout") or 0.0, 0.0)
        if self.webhook is not None:
            raise conflict(WEBHOOK_ACTIVE)
        self._take_allowed_updates(params)
        if offset is not None:
            self.world.confirm(offset)

        # Telegram answers the older of two concurrent long polls with 409, not the newer.
        poll = object()
        self._poller = poll
        self.world.changed.notify()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            while True:
                if self._poller is not poll:
                    raise conflict(GETUPDATES_CONFLICT)
                if self.webhook is not None:
                    raise conflict(WEBHOOK_ACTIVE)
                if self.closing:
                    return []
                if self.world.updates:
                    return self.world.updates[:limit]
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return []
                await self.world.changed.wait(remaining)
        finally:
            if self._poller is poll:
                self._poller = None

    def _take_allowed_updates(self, params: Params) -> None:
        allowed = params.json("allowed_updates")
        if allowed is not None:
            if not isinstance(allowed, list) or not all(isinstance(x, str) for x in allowed):
                raise bad_request("can't parse allowed_updates JSON object")
            self.world.allowed_updates = frozenset(allowed) or DEFAULT_ALLOWED_UPDATES

    # Webhooks

    async def set_webhook(self, params: Params) -> bool:
        url = (params.string("url") or "").strip()
        if not url:
            # An empty URL removes the webhook, as deleteWebhook does.
            return await self.delete_webhook(params)
        check_webhook_url(url)
        secret = params.string("secret_token")
        if secret:
            check_secret_token(secret)
        self._take_allowed_updates(params)
        connections = params.integer("max_connections") or DEFAULT_MAX_CONNECTIONS
        if params.flag("drop_pending_updates"):
            self.world.updates.clear()
        self.webhook = Webhook(url, secret or None, min(max(connections, 1), 100))
        self.world.changed.notify()
        return True

    async def delete_webhook(self, params: Params) -> bool:
        if params.flag("drop_pending_updates"):
            self.world.updates.clear()
        self.webhook = None
        return True

    async def get_webhook_info(self, params: Params) -> JSON:
        info: JSON = {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(self.world.updates),
        }
        webhook = self.webhook
        if webhook is not None:
            info["url"] = webhook.url
            info["max_connections"] = webhook.max_connections
            info["allowed_updates"] = sorted(self.world.allowed_updates)
            if webhook.last_error_date is not None:
                info["last_error_date"] = webhook.last_error_date
                info["last_error_message"] = webhook.last_error_message
        return info

    # Messages

    async def send_message(self, params: Params) -> JSON:
        version = self._new_version(params, inline_only=False)
        chat = self._target_chat(params, sending=True)
        thread = self._thread_target(chat, params)
        reply_to = self._reply_target(chat, params)
        self._spend_token(chat)
        message = SentMessage(
            chat_id=chat.id,
            message_id=chat.next_message_id(),
            history=[version],
            sent_at=self.clock(),
            reply_to_message_id=reply_to,
            message_thread_id=thread,
            disable_notification=params.flag("disable_notification"),
            protect_content=params.flag("protect_content"),
            force_reply=_asks_for_reply(params.json("reply_markup")),
        )
        self.world.store_sent(message)
        self.world.changed.notify()
        self.world.announce(message)
        return self.world.message_json(message)

    async def edit_message_text(self, params: Params) -> JSON:
        self._refuse_inline_message(params)
        version = self._new_version(params, inline_only=True)
        chat = self._target_chat(params, sending=True)
        message = self._own_message(chat, params, MESSAGE_TO_EDIT_NOT_FOUND)
        current = message.current
        if (version.text, version.entities, version.reply_markup) == (
            current.text,
            current.entities,
            current.reply_markup,
        ):
            raise bad_request(MESSAGE_NOT_MODIFIED)
        return self._apply_edit(chat, message, version)

    async def edit_message_reply_markup(self, params: Params) -> JSON:
        self._refuse_inline_message(params)
        markup = content.inline_keyboard(params.json("reply_markup"), inline_only=True)
        chat = self._target_chat(params, sending=True)
        message = self._own_message(chat, params, MESSAGE_TO_EDIT_NOT_FOUND)
        current = message.current
        if markup == current.reply_markup:
            raise bad_request(MESSAGE_NOT_MODIFIED)
        version = MessageVersion(
            text=current.text,
            html=current.html,
            parse_mode=current.parse_mode,
            entities=current.entities,
            buttons=content.buttons_of(markup),
            reply_markup=markup,
            link_preview=current.link_preview,
            date=self.world.now(),
        )
        return self._apply_edit(chat, message, version)

    async def delete_message(self, params: Params) -> bool:
        chat = self._target_chat(params, sending=False)
        message_id = self._message_id(params)
        found = self.world.messages.get((chat.id, message_id))
        if found is None:
            raise bad_request(MESSAGE_TO_DELETE_NOT_FOUND)
        # In groups a bot deletes other people's messages only as an administrator.
        someone_elses = not isinstance(found, SentMessage)
        if (
            someone_elses
            and not chat.is_private
            and chat.bot_status is not MemberStatus.ADMINISTRATOR
        ):
            raise bad_request("message can't be deleted")
        del self.world.messages[chat.id, message_id]
        if isinstance(found, SentMessage):
            found.deleted = True
        self.world.changed.notify()
        return True

    async def answer_callback_query(self, params: Params) -> bool:
        query_id = params.string("callback_query_id")
        if not query_id or query_id not in self.world.pending_queries:
            raise bad_request(QUERY_INVALID)
        text = params.string("text")
        if text is not None and len(text) > MAX_CALLBACK_ANSWER_LENGTH:
            raise bad_request("MESSAGE_TOO_LONG")
        if params.has("url"):
            # Only game buttons may open a URL, and the emulator issues none.
            raise bad_request("URL_INVALID")
        del self.world.pending_queries[query_id]
        answer = CallbackAnswer(
            query_id=query_id,
            text=text or None,
            show_alert=params.flag("show_alert"),
            url=None,
            cache_time=params.integer("cache_time") or 0,
        )
        self.world.callback_answers.append(answer)
        self.world.changed.notify()
        self.world.announce_answer(answer)
        return True

    async def answer_inline_query(self, params: Params) -> bool:
        answer = inline.check_answer(
            params,
            self.world.pending_inline,
            now=self.clock(),
            strict_ampersands=self.strict_ampersands,
        )
        self.world.inline_answers.append(answer)
        self.world.changed.notify()
        return True

    async def send_chat_action(self, params: Params) -> bool:
        chat = self._target_chat(params, sending=True)
        action = params.string("action")
        if action not in _CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self.world.chat_actions.append((chat.id, action))
        self.world.changed.notify()
        return True

    # Commands

    async def set_my_commands(self, params: Params) -> bool:
        raw = params.json("commands")
        if not isinstance(raw, list):
            raise bad_request('field "commands" must be an Array')
        if len(raw) > MAX_COMMANDS:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        commands = [_bot_command(item) for item in raw]
        self.world.commands[self._command_key(params)] = commands
        self.world.changed.notify()
        return True

    async def get_my_commands(self, params: Params) -> list[JSON]:
        commands = self.world.commands.get(self._command_key(params), [])
        return [{"command": c.command, "description": c.description} for c in commands]

    async def delete_my_commands(self, params: Params) -> bool:
        self.world.commands.pop(self._command_key(params), None)
        self.world.changed.notify()
        return True

    def _command_key(self, params: Params) -> tuple[CommandScope, str]:
        scope = params.json("scope")
        if scope is None:
            return DEFAULT_SCOPE, params.string("language_code") or ""
        if not isinstance(scope, dict) or scope.get("type") not in _SCOPES:
            raise bad_request("can't parse BotCommandScope JSON object")
        kind = str(scope["type"])
        chat_id: int | None = None
        user_id: int | None = None
        if kind in _SCOPES_WITH_CHAT:
            scoped = Params({"chat_id": scope.get("chat_id")})
            chat_id = self._target_chat(scoped, sending=False).id
        if kind == "chat_member":
            user_id = Params({"user_id": scope.get("user_id")}).integer("user_id")
            if user_id is None or user_id not in self.world.users:
                raise bad_request("user not found")
        return (kind, chat_id, user_id), params.string("language_code") or ""

    # Chats

    async def get_chat(self, params: Params) -> JSON:
        # Anyone, a bot too, may look up a public group or channel by its @username.
        chat_id = params.chat_id()
        if isinstance(chat_id, str):
            public = self.world.find_chat(chat_id)
            if public is not None and not public.bot_status.is_present:
                return self.world.chat_full_info_json(public)
        return self.world.chat_full_info_json(self._target_chat(params, sending=False))

    async def get_chat_member(self, params: Params) -> JSON:
        chat = self._target_chat(params, sending=False)
        user_id = params.integer("user_id")
        user = self.world.users.get(user_id) if user_id is not None else None
        if user is None:
            raise bad_request("user not found")
        return self.world.member_json(chat, user)

    async def get_chat_administrators(self, params: Params) -> list[JSON]:
        chat = self._target_chat(params, sending=False)
        if chat.is_private:
            raise bad_request("there are no administrators in the private chat")
        channel = chat.type is ChatType.CHANNEL
        admins = [
            member_json(self.world.users[user_id], chat.status_of(user_id), channel=channel)
            for user_id in sorted(chat.admin_ids | {chat.owner_id or 0})
            if user_id in self.world.users and user_id != self.world.bot.id
        ]
        if chat.bot_status is MemberStatus.ADMINISTRATOR:
            admins.append(member_json(self.world.bot, chat.bot_status, channel=channel))
        return admins

    async def get_chat_member_count(self, params: Params) -> int:
        chat = self._target_chat(params, sending=False)
        if chat.is_private:
            return 2
        return len(chat.member_ids) + (1 if chat.bot_status.is_present else 0)

    # Shared checks

    def _target_chat(self, params: Params, *, sending: bool) -> Chat:
        """The chat ``chat_id`` names, or the error Telegram gives for it.

        Blocked and deactivated users only stop sending; reading a chat the bot was removed
        from fails like sending to it does.
        """
        chat_id = params.chat_id()
        if chat_id is None:
            raise bad_request("chat_id is empty")
        chat = self.world.find_chat(chat_id)
        if chat is None:
            user = self.world.users.get(chat_id) if isinstance(chat_id, int) else None
            if user is not None and user.is_bot:
                raise forbidden("bots can't send messages to bots")
            if user is not None and sending:
                raise forbidden("bot can't initiate conversation with a user")
            raise bad_request(CHAT_NOT_FOUND)
        if chat.migrated_to_chat_id is not None:
            raise bad_request(
                "group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": chat.migrated_to_chat_id},
            )
        if chat.is_private:
            if sending and chat.user is not None and chat.user.deactivated:
                raise forbidden("user is deactivated")
            if sending and chat.bot_blocked:
                raise forbidden("bot was blocked by the user")
            return chat
        if chat.bot_status is MemberStatus.KICKED:
            raise forbidden(f"bot was kicked from the {chat.kind_phrase}")
        if chat.bot_status is MemberStatus.LEFT:
            raise forbidden(f"bot is not a member of the {chat.kind_phrase}")
        channel = chat.type is ChatType.CHANNEL
        if (
            sending
            and channel
            and (chat.bot_status is not MemberStatus.ADMINISTRATOR or not chat.bot_can_post)
        ):
            raise bad_request("need administrator rights in the channel chat")
        if sending and chat.bot_status is MemberStatus.RESTRICTED:
            raise bad_request("not enough rights to send text messages to the chat")
        return chat

    def _new_version(self, params: Params, *, inline_only: bool) -> MessageVersion:
        text, entities = content.formatted_text(params, strict_ampersands=self.strict_ampersands)
        markup = content.inline_keyboard(params.json("reply_markup"), inline_only=inline_only)
        return MessageVersion(
            text=text,
            html=params.string("text") or "",
            parse_mode=params.string("parse_mode") or None,
            entities=tuple(entities),
            buttons=content.buttons_of(markup),
            reply_markup=markup,
            link_preview=content.link_preview(params),
            date=self.world.now(),
        )

    def _thread_target(self, chat: Chat, params: Params) -> int | None:
        """The forum thread a send goes to; None for General or a chat without threads.

        Telegram refuses a thread that doesn't exist (or was deleted) and, unless the bot
        is an administrator, a closed one.
        """
        thread_id = params.integer("message_thread_id")
        if thread_id is None:
            return None
        if not chat.is_forum:
            # Outside forums a thread is a reply chain; a bot can't start one by id.
            if (chat.id, thread_id) not in self.world.messages:
                raise bad_request(MESSAGE_THREAD_NOT_FOUND)
            return thread_id
        thread = chat.threads.get(thread_id)
        if thread is None or thread.deleted:
            raise bad_request(MESSAGE_THREAD_NOT_FOUND)
        if thread.closed and chat.bot_status is not MemberStatus.ADMINISTRATOR:
            raise bad_request(TOPIC_CLOSED)
        return thread_id

    def _reply_target(self, chat: Chat, params: Params) -> int | None:
        reply = params.json("reply_parameters")
        if reply is not None:
            if not isinstance(reply, dict) or not isinstance(reply.get("message_id"), int):
                raise bad_request("can't parse reply parameters JSON object")
            message_id: int | None = reply["message_id"]
            allow_missing = bool(reply.get("allow_sending_without_reply"))
        else:
            message_id = params.integer("reply_to_message_id")
            allow_missing = params.flag("allow_sending_without_reply")
        if message_id is None:
            return None
        if (chat.id, message_id) not in self.world.messages:
            if allow_missing:
                return None
            raise bad_request("message to be replied not found")
        return message_id

    def _spend_token(self, chat: Chat) -> None:
        retry_after = self.flood.acquire(chat.id, private=chat.is_private)
        if retry_after is not None:
            raise too_many_requests(retry_after)

    @staticmethod
    def _refuse_inline_message(params: Params) -> None:
        # The emulator never hands out inline message ids, so none can be valid.
        if params.has("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")

    @staticmethod
    def _message_id(params: Params) -> int:
        message_id = params.integer("message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        return message_id

    def _own_message(self, chat: Chat, params: Params, not_found: str) -> SentMessage:
        found = self.world.messages.get((chat.id, self._message_id(params)))
        if found is None:
            raise bad_request(not_found)
        if not isinstance(found, SentMessage):
            raise bad_request("message can't be edited")
        return found

    def _apply_edit(self, chat: Chat, message: SentMessage, version: MessageVersion) -> JSON:
        self._spend_token(chat)
        message.history.append(version)
        self.world.changed.notify()
        self.world.announce(message)
        return self.world.message_json(message)


def _asks_for_reply(markup: Any) -> bool:
    """Whether ``reply_markup`` is a ForceReply: the client opens a reply to the message."""
    return isinstance(markup, dict) and markup.get("force_reply") is True


def _bot_command(item: Any) -> BotCommand:
    if not isinstance(item, dict):
        raise bad_request("BotCommand must be an Object")
    command, description = item.get("command"), item.get("description")
    if not isinstance(command, str) or not _COMMAND.fullmatch(command):
        raise bad_request("BOT_COMMAND_INVALID")
    if (
        not isinstance(description, str)
        or not description.strip()
        or len(description) > MAX_COMMAND_DESCRIPTION_LENGTH
    ):
        raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    return BotCommand(command, description)
