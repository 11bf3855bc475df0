"""Routing: each new entry matched against every topic at once, its alerts queued."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from bot.domain import Clock
from bot.storage.interfaces import Entries, Topics
from bot.topics import TopicIndex, prepare

log = logging.getLogger(__name__)

BATCH = 100


class AlertRouter:
    """Matches entries waiting to be routed and queues one alert per matched chat.

    Each entry's alerts are queued in the same transaction that marks it routed, so after a
    crash an entry is matched again only if its alerts were never queued, and never twice.
    """

    def __init__(
        self,
        entries: Entries,
        topics: Topics,
        index: TopicIndex,
        *,
        clock: Clock,
        wake: Callable[[], None],
    ) -> None:
        self._entries = entries
        self._topics = topics
        self._index = index
        self._clock = clock
        self._wake = wake
        # One pass at a time: two polls finishing together must not route an entry twice.
        self._lock = asyncio.Lock()

    async def route_pending(self) -> int:
        """Route every entry waiting, oldest first; returns how many alerts were queued or held."""
        queued = 0
        async with self._lock:
            while batch := await self._entries.unrouted(limit=BATCH):
                for entry in batch:
                    routing = self._index.match(
                        prepare(entry.title, entry.summary, link=entry.link, feed_id=entry.feed_id)
                    )
                    topic_ids = [topic for _, topics in routing.items() for topic in topics]
                    sent, held = await self._topics.route(entry, topic_ids, now=self._clock())
                    if sent or held:
                        log.info(
                            "Entry %s alerted to %d chats (%d more held)", entry.id, sent, held
                        )
                        queued += sent + held
                    if sent:
                        self._wake()
        return queued
