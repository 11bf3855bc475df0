"""What /stats reports: chats, archive, outbox and how delivery is going."""

from __future__ import annotations

import datetime as dt

from bot import metrics
from bot.delivery.worker import DeliveryStats
from bot.domain import Clock, MessageKind, Stats
from bot.storage.interfaces import Chats, Entries, Outbox, Topics


class StatsService:
    def __init__(
        self,
        chats: Chats,
        entries: Entries,
        outbox: Outbox,
        topics: Topics,
        delivery: DeliveryStats,
        *,
        clock: Clock,
    ) -> None:
        self._chats = chats
        self._entries = entries
        self._outbox = outbox
        self._topics = topics
        self._delivery = delivery
        self._clock = clock
        self._started = clock()

    async def collect(self) -> Stats:
        now = self._clock()
        active, inactive = await self._chats.count()
        return Stats(
            active_chats=active,
            inactive_chats=inactive,
            topics=await self._topics.count(),
            entries=await self._entries.count(),
            outbox=await self._outbox.depth_by_kind(),
            sent_last_minute=await self._outbox.sent_since(now - dt.timedelta(minutes=1)),
            sent_last_hour=await self._outbox.sent_since(now - dt.timedelta(hours=1)),
            failed_last_day=await self._outbox.failed_since(now - dt.timedelta(days=1)),
            throttled=self._delivery.throttled,
            errors=self._delivery.errors,
            chats_gone=self._delivery.chats_gone,
            refused=self._delivery.rejected,
            since=self._started,
        )

    async def refresh_gauges(self) -> None:
        """Set the gauges /metrics shows from the store: active chats, topics, outbox depth
        by kind (every kind, zeros too, so a drained queue reads 0 rather than vanishing)."""
        active, _ = await self._chats.count()
        metrics.ACTIVE_CHATS.set(active)
        metrics.TOPICS.set(await self._topics.count())
        depth = await self._outbox.depth_by_kind()
        for kind in MessageKind:
            metrics.OUTBOX_DEPTH.labels(kind.value).set(depth.get(kind, 0))
