"""Quiet hours and mute: alerts held while they last, then one catch-up message."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable

from bot import formatting
from bot.domain import Chat, Clock, HeraldError
from bot.services.digests import next_digest
from bot.storage.interfaces import Chats, Outbox
from config.settings import parse_clock_time
from config.timezones import zone

log = logging.getLogger(__name__)

# "22:00-07:00", and what people type for it: "22-7", "22:30 to 6".
_WINDOW = re.compile(
    r"^\s*(\d{1,2}(?::\d{2})?)\s*(?:-|–|—|to)\s*(\d{1,2}(?::\d{2})?)\s*$", re.IGNORECASE
)
_DURATION = re.compile(r"^(\d{1,6})\s*(m|min|mins|minutes?|h|hours?|d|days?)$", re.IGNORECASE)
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
        start, end = (
            parse_clock_time(side if ":" in side else f"{side}:00") for side in match.groups()
        )
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


def quiet_window(
    hours: tuple[dt.time, dt.time], timezone: str, now: dt.datetime
) -> tuple[dt.datetime, dt.datetime]:
    """The quiet window, in UTC, that ``now`` falls in, or else the next one to open."""
    local_zone = zone(timezone)
    start, end = hours
    today = now.astimezone(local_zone).date()
    for offset in (-1, 0, 1, 2):
        day = today + dt.timedelta(days=offset)
        opens = dt.datetime.combine(day, start, tzinfo=local_zone).astimezone(dt.UTC)
        end_day = day if start < end else day + dt.timedelta(days=1)
        closes = dt.datetime.combine(end_day, end, tzinfo=local_zone).astimezone(dt.UTC)
        if closes > now:
            return opens, closes
    raise AssertionError("a daily window comes round within three days")


MORNING = dt.time(8, 0)


# A catch-up lists this many held stories at most, the newest; the rest wait for a digest.
CATCH_UP_LIMIT = 20


class QuietService:
    def __init__(
        self,
        chats: Chats,
        outbox: Outbox,
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
        window = quiet_window(hours, chat.timezone, self._clock())
        await self._chats.set_quiet_hours(chat.id, hours, window)
        await self.refresh_chat(chat.id)
        return hours

    async def quiet_off(self, chat: Chat) -> int:
        await self._chats.set_quiet_hours(chat.id, None, None)
        return await self.refresh_chat(chat.id)

    async def timezone_changed(self, chat_id: int) -> None:
        """The chat's quiet hours now fall at other moments."""
        await self.refresh_chat(chat_id)

    async def mute(self, chat: Chat, text: str) -> dt.datetime:
        """Mute the chat for a duration such as ``2h``; returns until when (UTC).

        Raises HoldError when ``text`` is no duration Herald takes.
        """
        return await self._mute_until(chat, self._clock() + parse_duration(text))

    async def mute_until_morning(self, chat: Chat) -> dt.datetime:
        """Mute the chat until the next 08:00 on its clock; returns that moment (UTC)."""
        return await self._mute_until(
            chat, next_digest(MORNING, chat.timezone, after=self._clock())
        )

    async def _mute_until(self, chat: Chat, until: dt.datetime) -> dt.datetime:
        # Alerts already queued are held along with everything after them.
        held = await self._chats.hold(chat.id, now=self._clock(), muted_until=until)
        if held:
            log.info("Chat %s muted: %d queued alerts held", chat.id, held)
        return until

    async def unmute(self, chat: Chat) -> int:
        """End the mute; returns how many stories were held (the catch-up counts them all)."""
        await self._chats.set_muted_until(chat.id, None)
        return await self.refresh_chat(chat.id)

    async def refresh_all(self) -> int:
        """Start or end holds whose time has come; returns how many alerts were released."""
        released = 0
        for chat in await self._chats.with_holds():
            released += await self._refresh(chat)
        return released

    async def refresh_chat(self, chat_id: int) -> int:
        """Start or end the chat's hold as its settings now say; returns alerts released."""
        chat = await self._chats.get(chat_id)
        return 0 if chat is None else await self._refresh(chat)

    async def _refresh(self, chat: Chat) -> int:
        if not chat.active:
            # A paused chat keeps holding; one that left gets nothing until it is back.
            return 0
        now = self._clock()
        muted = chat.muted_until is not None and chat.muted_until > now
        if chat.muted_until is not None and not muted:
            await self._chats.set_muted_until(chat.id, None)
        quiet = False
        if chat.quiet_hours is not None:
            window = quiet_window(chat.quiet_hours, chat.timezone, now)
            if window != chat.quiet_window:
                await self._chats.set_quiet_window(chat.id, window)
            quiet = window[0] <= now
        if muted or quiet:
            if chat.held_since is None:
                await self._chats.hold(chat.id, now=now)
            return 0
        if chat.held_since is None:
            return 0
        return await self._release(chat, now)

    async def _release(self, chat: Chat, now: dt.datetime) -> int:
        held = await self._outbox.held(chat.id)
        listed = held[-CATCH_UP_LIMIT:]
        overflow = held[: len(held) - len(listed)]
        # Newest first, as /latest and digests list stories.
        listed.reverse()
        texts = (
            formatting.catch_up(
                [(entry, topics) for _, entry, topics in listed],
                more=len(overflow),
                digest_enabled=chat.digest_enabled,
                timezone=chat.timezone,
                now=now,
            )
            if listed
            else []
        )
        await self._outbox.release_held(
            chat.id,
            listed=[(outbox_id, entry.id) for outbox_id, entry, _ in listed],
            texts=texts,
            for_digest=[outbox_id for outbox_id, _, _ in overflow],
            now=now,
        )
        log.info(
            "Chat %s: hold over, %d held alerts in a catch-up, %d left for the digest",
            chat.id,
            len(listed),
            len(overflow),
        )
        self._wake()
        return len(held)
