"""Notices to admins, and keeping the outbox's history from growing without end."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable

from bot import formatting
from bot.domain import Clock, Feed, MessageKind
from bot.storage.interfaces import FAILURES_REPORTED, Meta, Outbox

log = logging.getLogger(__name__)

# Messages that are over are kept this long by default (HERALD_OUTBOX_RETENTION_DAYS) for
# /stats; what reached each chat stays in the delivery ledger as long as its entry.
KEEP_SENT = dt.timedelta(days=7)


class OutboxService:
    def __init__(
        self,
        outbox: Outbox,
        meta: Meta,
        *,
        admin_ids: Iterable[int],
        clock: Clock,
        wake: Callable[[], None],
        keep_sent: dt.timedelta = KEEP_SENT,
    ) -> None:
        self._outbox = outbox
        self._meta = meta
        self._admin_ids = sorted(admin_ids)
        self._clock = clock
        self._wake = wake
        self._keep_sent = keep_sent

    async def alert_topics(
        self, outbox_id: int, *, chat_id: int, message_id: int
    ) -> tuple[int, ...] | None:
        """The topics that matched the alert sent as this message; None once pruned."""
        return await self._outbox.alert_topics(outbox_id, chat_id=chat_id, message_id=message_id)

    async def notify_admins(self, html: str) -> int:
        """Queue a notice to every admin who has a chat with the bot; returns how many."""
        queued = await self._outbox.enqueue_text(
            self._admin_ids, MessageKind.NOTICE, html, now=self._clock()
        )
        if queued:
            self._wake()
        else:
            log.warning(
                "No admin has a chat with the bot, so this notice waits in the log: %s", html
            )
        return queued

    async def report_failures(self) -> int:
        """Tell admins, once, about messages given up on since the last report; how many."""
        reported = await self._meta.get_int(FAILURES_REPORTED)
        count, last = await self._outbox.failures_after(reported)
        if count:
            await self.notify_admins(formatting.failed_messages_notice(count))
            await self._meta.set_int(FAILURES_REPORTED, last)
        return count

    async def feed_failing(self, feed: Feed) -> None:
        await self.notify_admins(formatting.failing_feed_notice(feed))

    async def prune(self) -> int:
        return await self._outbox.prune_sent(before=self._clock() - self._keep_sent)
