"""Quiet hours and mute: alerts held while they last, then one catch-up message."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable

from bot import formatting
from bot.domain import Chat, Clock, HeraldError
from bot.storage.chats import ChatRepository
from bot.storage.outbox import OutboxRepository
from config.settings import parse_clock_time
from config.timezones import zone

log = logging.getLogger(__name__)

_WINDOW = re.compile(r"^\s*(\d{1,2}:\d{2})\s*(?:-|–|—|to)\s*(\d{1,2}:\d{2})\s*$")
_DURATION = re.compile(r"^(\d{1,4})\s*(m|min|mins|minutes?|h|hours?|d|days?)$", re.IGNORECASE)
MAX_MUTE = dt.timedelta(days=30)


class HoldError(HeraldError):
    """Quiet hours or a mute can't be set as asked; the message says why."""


def in_quiet_hours(hours: tuple[dt.time, dt.time], timezone: str, now: dt.datetime) -> bool:
    """Whether ``now`` falls in the local window; a window may cross midnight."""
    local = now.astimezone(zone(timezone)).time()
    start, end = hours
    if start <= end:
        return start <= local < end
    return local >= start or local < end


def parse_window(text: str) -> tuple[dt.time, dt.time]:
    match = _WINDOW.match(text)
    if match is None:
        raise HoldError("Quiet hours look like 22:00-07:00 (start-end, 24-hour clock).")
    try:
        start, end = parse_clock_time(match[1]), parse_clock_time(match[2])
    except ValueError:
        raise HoldError("Quiet hours look like 22:00-07:00 (start-end, 24-hour clock).") from None
    if start == end:
        raise HoldError("Quiet hours need a start and an end that differ.")
    return start, end


def parse_duration(text: str) -> dt.timedelta:
    match = _DURATION.match(text.strip())
    if match is None or int(match[1]) == 0:
        raise HoldError("Mute for a while like 30m, 2h or 1d.")
    unit = match[2][0].lower()
    amount = int(match[1])
    duration = {
        "m": dt.timedelta(minutes=amount),
        "h": dt.timedelta(hours=amount),
        "d": dt.timedelta(days=amount),
    }[unit]
    if duration > MAX_MUTE:
        raise HoldError("A mute lasts 30 days at most; /stop unsubscribes for good.")
    return duration


class QuietService:
    def __init__(
        self,
        chats: ChatRepository,
        outbox: OutboxRepository,
        *,
        clock: Clock,
        wake: Callable[[], None],
    ) -> None:
        self._chats = chats
        self._outbox = outbox
        self._clock = clock
        self._wake = wake

    async def set_quiet_hours(self, chat: Chat, text: str) -> tuple[dt.time, dt.time]:
        hours = parse_window(text)
        await self._chats.set_quiet_hours(chat.id, hours)
        await self._refresh_chat(chat.id)
        return hours

    async def quiet_off(self, chat: Chat) -> int:
        await self._chats.set_quiet_hours(chat.id, None)
        return await self._refresh_chat(chat.id)

    async def mute(self, chat: Chat, text: str) -> dt.datetime:
        until = self._clock() + parse_duration(text)
        await self._chats.set_muted_until(chat.id, until)
        await self._refresh_chat(chat.id)
        return until

    async def unmute(self, chat: Chat) -> int:
        """End the mute; returns how many held alerts the catch-up message carries."""
        await self._chats.set_muted_until(chat.id, None)
        return await self._refresh_chat(chat.id)

    async def refresh_all(self) -> int:
        """Start or end holds whose time has come; returns how many alerts were released."""
        released = 0
        for chat in await self._chats.with_holds():
            released += await self._refresh(chat)
        return released

    async def _refresh_chat(self, chat_id: int) -> int:
        chat = await self._chats.get(chat_id)
        return 0 if chat is None else await self._refresh(chat)

    async def _refresh(self, chat: Chat) -> int:
        now = self._clock()
        muted = chat.muted_until is not None and chat.muted_until > now
        if chat.muted_until is not None and not muted:
            await self._chats.set_muted_until(chat.id, None)
        quiet = chat.quiet_hours is not None and in_quiet_hours(
            chat.quiet_hours, chat.timezone, now
        )
        if muted or quiet:
            if chat.held_since is None:
                await self._chats.set_held(chat.id, now)
            return 0
        if chat.held_since is None:
            return 0
        await self._chats.set_held(chat.id, None)
        return await self._release(chat, now)

    async def _release(self, chat: Chat, now: dt.datetime) -> int:
        held = await self._outbox.held(chat.id)
        if not held:
            return 0
        texts = formatting.catch_up(held, timezone=chat.timezone, now=now)
        await self._outbox.release_held(chat.id, [entry.id for entry, _ in held], texts, now=now)
        log.info("Chat %s: %d held alerts released in a catch-up", chat.id, len(held))
        self._wake()
        return len(held)
