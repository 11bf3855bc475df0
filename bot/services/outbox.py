"""Notices to admins, and keeping the outbox's history from growing without end."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable

from bot import formatting
from bot.domain import Clock, Feed, MessageKind
from bot.storage.outbox import OutboxRepository

log = logging.getLogger(__name__)

# Sent messages are kept this long for /stats and to never push an entry twice; alerts
# (which carry an entry) are kept until their entry is pruned.
KEEP_SENT = dt.timedelta(days=30)


class OutboxService:
    def __init__(
        self,
        outbox: OutboxRepository,
        *,
        admin_ids: Iterable[int],
        clock: Clock,
        wake: Callable[[], None],
    ) -> None:
        self._outbox = outbox
        self._admin_ids = sorted(admin_ids)
        self._clock = clock
        self._wake = wake

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

    async def feed_failing(self, feed: Feed) -> None:
        await self.notify_admins(formatting.failing_feed_notice(feed))

    async def prune(self) -> int:
        return await self._outbox.prune_sent(before=self._clock() - KEEP_SENT)
