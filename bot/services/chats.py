"""Subscribing and unsubscribing chats, and following the bot's membership in them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging

from bot.domain import Chat, ChatKind, Clock, InactiveReason, LinkPreview
from bot.services.topics import TopicService
from bot.storage.interfaces import Chats

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True, slots=True)
class Registration:
    chat: Chat
    is_new: bool
    came_back: bool = False  # it had stopped getting messages (blocked, removed) until now


class ChatService:
    def __init__(
        self,
        chats: Chats,
        topics: TopicService,
        *,
        default_timezone: str,
        default_digest_time: dt.time = dt.time(8, 0),
        clock: Clock,
    ) -> None:
        self._chats = chats
        self._topics = topics
        self._default_digest_time = default_digest_time
        self._default_timezone = default_timezone
        self._clock = clock

    async def start(
        self, chat_id: int, kind: ChatKind, title: str, *, manager: int | None = None
    ) -> Registration:
        """Subscribe the chat, or bring it back if it had left; its settings are kept.

        ``manager`` is the user who set it up from elsewhere (a channel's admin in a private
        chat, or who added the bot); /chats lists it for them.
        """
        now = self._clock()
        before = await self._chats.get(chat_id)
        chat, is_new = await self._chats.register(
            chat_id,
            kind,
            title,
            timezone=self._default_timezone,
            digest_time=self._default_digest_time,
            now=now,
        )
        if manager is not None:
            await self._chats.add_manager(chat_id, manager, now=now)
        if is_new:
            log.info("Chat %s (%s) subscribed", chat_id, kind.value)
        return Registration(chat, is_new, came_back=before is not None and not before.active)

    async def get(self, chat_id: int) -> Chat | None:
        return await self._chats.get(chat_id)

    async def managed_by(self, user_id: int) -> list[Chat]:
        """The channels and groups this user set up through Herald."""
        return await self._chats.managed_by(user_id)

    async def settings(self, chat_id: int, kind: ChatKind, title: str) -> Chat:
        """The chat's settings, or the defaults it would start with; never subscribes it."""
        known = await self._chats.get(chat_id)
        if known is not None:
            return known
        return Chat(
            id=chat_id,
            kind=kind,
            title=title,
            timezone=self._default_timezone,
            created_at=self._clock(),
            digest_time=self._default_digest_time,
        )

    async def set_link_preview(self, chat: Chat, preview: LinkPreview) -> Chat:
        """How single alerts show their link here (the chat must be subscribed)."""
        await self._chats.set_link_preview(chat.id, preview)
        return dataclasses.replace(chat, link_preview=preview)

    async def stop(self, chat_id: int) -> bool:
        """Delete the chat and all its data; False if Herald did not know it."""
        await self._topics.forget_chat(chat_id)
        deleted = await self._chats.delete(chat_id)
        if deleted:
            log.info("Chat %s unsubscribed and its data deleted", chat_id)
        return deleted

    async def move(self, old_id: int, new_id: int) -> None:
        """A group became a supergroup: its topics, settings and queue follow it."""
        await self._chats.move(old_id, new_id, now=self._clock())
        log.info("Chat %s moved to %s", old_id, new_id)

    async def deactivate(self, chat_id: int, reason: InactiveReason) -> bool:
        """Stop sending to the chat until it comes back; False if already inactive or unknown.

        A chat paused for lack of rights (``NO_RIGHTS``) holds its alerts for a catch-up.
        """
        now = self._clock()
        changed = await self._chats.set_inactive(chat_id, reason, now)
        if changed:
            if reason is InactiveReason.NO_RIGHTS:
                await self._chats.hold(chat_id, now=now)
            log.info("Chat %s is inactive: %s", chat_id, reason.value)
        return changed

    async def resume(self, chat_id: int) -> bool:
        """The bot may post in a chat it was paused in again; False if it wasn't paused."""
        chat = await self._chats.get(chat_id)
        if chat is None or chat.inactive_reason is not InactiveReason.NO_RIGHTS:
            return False
        return await self.reactivate(chat_id)

    async def reactivate(self, chat_id: int) -> bool:
        """A chat that had blocked or removed the bot is back; False if it was not away."""
        changed = await self._chats.set_active(chat_id, self._clock())
        if changed:
            log.info("Chat %s is active again", chat_id)
        return changed
