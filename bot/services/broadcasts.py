"""Admin pushes: broadcasts with preview and progress, breaking news, and notices to admins."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable

from bot import formatting
from bot.domain import (
    Broadcast,
    BroadcastProgress,
    BroadcastState,
    Clock,
    Entry,
    HeraldError,
)
from bot.storage.interfaces import Chats, Entries, Outbox

log = logging.getLogger(__name__)

Wake = Callable[[], None]


class BroadcastError(HeraldError):
    """An admin's push can't be done; the message says why."""


@dataclasses.dataclass(frozen=True, slots=True)
class Draft:
    broadcast: Broadcast
    audience: int


@dataclasses.dataclass(frozen=True, slots=True)
class Breaking:
    entry: Entry
    queued: int
    already_had_it: int


@dataclasses.dataclass(frozen=True, slots=True)
class ProgressReport:
    """A progress message to show: which broadcast, where, what it says now."""

    broadcast: Broadcast
    text: str
    final: bool


class BroadcastService:
    def __init__(
        self,
        outbox: Outbox,
        chats: Chats,
        entries: Entries,
        *,
        clock: Clock,
        wake: Wake,
    ) -> None:
        self._outbox = outbox
        self._chats = chats
        self._entries = entries
        self._clock = clock
        self._wake = wake

    async def draft(self, admin_chat_id: int, body_html: str) -> Draft:
        text = formatting.broadcast_message(body_html)
        if formatting.utf16_len(text) > formatting.MAX_MESSAGE:
            raise BroadcastError(
                "That message is too long for Telegram (4096 characters at most). "
                "Shorten it and try again."
            )
        broadcast = await self._outbox.create_broadcast(admin_chat_id, text, now=self._clock())
        active, _ = await self._chats.count()
        return Draft(broadcast, active)

    async def set_progress_message(self, broadcast_id: int, message_id: int) -> None:
        await self._outbox.set_progress_message(broadcast_id, message_id)

    async def send(self, broadcast_id: int) -> Broadcast:
        broadcast = await self._outbox.start_broadcast(broadcast_id, now=self._clock())
        if broadcast is None:
            raise BroadcastError("This broadcast was already sent or cancelled.")
        log.info("Broadcast %s queued to %d chats", broadcast.id, broadcast.audience)
        self._wake()
        return broadcast

    async def cancel(self, broadcast_id: int) -> Broadcast:
        broadcast = await self._outbox.cancel_broadcast(broadcast_id)
        if broadcast is None:
            raise BroadcastError("This broadcast is already over; nothing left to cancel.")
        log.info("Broadcast %s cancelled", broadcast.id)
        return broadcast

    async def progress_reports(self) -> list[ProgressReport]:
        """Progress messages whose text changed since they were last shown."""
        reports = []
        for progress in await self._outbox.active_broadcasts():
            final = progress.finished or progress.broadcast.state is BroadcastState.CANCELLED
            text = formatting.broadcast_progress(progress)
            if text != await self._outbox.progress_text(progress.broadcast.id) or final:
                reports.append(ProgressReport(progress.broadcast, text, final))
        return reports

    async def progress_shown(self, report: ProgressReport) -> None:
        await self._outbox.record_progress(report.broadcast.id, report.text, final=report.final)

    async def progress(self, broadcast_id: int) -> BroadcastProgress | None:
        for progress in await self._outbox.active_broadcasts():
            if progress.broadcast.id == broadcast_id:
                return progress
        return None

    async def breaking(self, reference: str) -> Breaking:
        """Push a stored entry, named by id or link, to every active chat without it."""
        reference = reference.strip()
        entry = (
            await self._entries.get(int(reference.lstrip("#")))
            if reference.lstrip("#").isdigit()
            else await self._entries.by_link(reference)
        )
        if entry is None:
            raise BroadcastError(
                f"No stored story matches {reference!r}. Give a story id (admins see them in "
                "/latest) or the story's link."
            )
        queued, had_it = await self._outbox.enqueue_breaking(entry.id, now=self._clock())
        log.info("Breaking entry %s queued to %d chats", entry.id, queued)
        self._wake()
        return Breaking(entry, queued, had_it)
