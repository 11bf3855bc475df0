"""Routing: each new entry matched against every topic at once, its alerts queued."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Sequence

from bot import metrics
from bot.domain import Clock, Topic
from bot.services.stories import StoryWindow
from bot.storage.interfaces import Entries, Topics
from bot.topics import TopicIndex, prepare

log = logging.getLogger(__name__)

BATCH = 100
# Topics another process added are matched against the entries first stored since a moment
# before they were added: that process's clock may run a little ahead of the one that
# stored them. The alert rule and the ledger keep this from alerting anything twice.
CLOCK_SKEW = dt.timedelta(seconds=5)
# The most entries one re-route reads: a few minutes of a busy instance.
REROUTE_LIMIT = 5_000
# After a failed pass (a database error, say), the entries wait this long to be tried again.
RETRY_AFTER = 5.0


class AlertRouter:
    """Matches entries waiting to be routed and queues one alert per matched chat.

    Each entry's alerts are queued in the same transaction that marks it routed, so after a
    crash an entry is matched again only if its alerts were never queued, and never twice.
    With ``stories``, each entry first takes the story of the recent entry it repeats, if
    any, so a chat is alerted once per story cluster.
    """

    def __init__(
        self,
        entries: Entries,
        topics: Topics,
        index: TopicIndex,
        *,
        clock: Clock,
        wake: Callable[[], None],
        retry_after: float = RETRY_AFTER,
        stories: StoryWindow | None = None,
    ) -> None:
        self._entries = entries
        self._stories = stories
        self._topics = topics
        self._index = index
        self._clock = clock
        self._wake = wake
        self._retry_after = retry_after
        # One pass at a time: two polls finishing together must not route an entry twice.
        self._lock = asyncio.Lock()
        self._pending = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """New entries wait to be routed: the worker routes them soon, the caller goes on."""
        self._pending.set()

    def start(self) -> None:
        """Route in the background, whenever woken, until close()."""
        if self._worker is None:
            self._worker = asyncio.create_task(self._run(), name="route entries")

    async def close(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
            self._worker = None

    async def _run(self) -> None:
        while True:
            await self._pending.wait()
            self._pending.clear()
            try:
                await self.route_pending()
            except Exception:
                log.exception("Routing failed; trying again in %.0f s", self._retry_after)
                await asyncio.sleep(self._retry_after)
                self._pending.set()

    async def route_pending(self) -> int:
        """Route every entry waiting, oldest first; returns how many alerts were queued or held."""
        queued = 0
        async with self._lock:
            if self._stories is not None:
                await self._stories.refresh()
            while batch := await self._entries.unrouted(limit=BATCH):
                for stored in batch:
                    entry = stored if self._stories is None else self._stories.assign(stored)
                    routing = self._index.match(
                        prepare(entry.title, entry.summary, link=entry.link, feed_id=entry.feed_id)
                    )
                    topic_ids = [topic for _, topics in routing.items() for topic in topics]
                    sent, held = await self._topics.route(entry, topic_ids, now=self._clock())
                    metrics.ENTRIES_ROUTED.inc()
                    if sent or held:
                        log.info(
                            "Entry %s alerted to %d chats (%d more held)", entry.id, sent, held
                        )
                        queued += sent + held
                        metrics.ALERTS_QUEUED.inc(sent + held)
                    # An entry that joined a story's cluster may have alerts to edit.
                    if sent or entry is not stored:
                        self._wake()
        return queued

    async def reroute(self, topics: Sequence[Topic]) -> int:
        """Match ``topics`` (which another process added) against the routed entries first
        stored since each was added, and queue what the alert rule lets through; returns
        how many alerts were queued or held.

        Entries routed before this process learned of the topics would otherwise never
        reach them; the ledger keeps an entry from reaching a chat twice.
        """
        if not topics:
            return 0
        wanted = {topic.id for topic in topics}
        since = min(topic.created_at for topic in topics) - CLOCK_SKEW
        queued = 0
        async with self._lock:
            stored = await self._entries.recent(after_id=0, seen_since=since, limit=REROUTE_LIMIT)
            for entry, routed in stored:
                if not routed:
                    continue  # route_pending takes it, with every topic
                routing = self._index.match(
                    prepare(entry.title, entry.summary, link=entry.link, feed_id=entry.feed_id)
                )
                topic_ids = [
                    topic for _, found in routing.items() for topic in found if topic in wanted
                ]
                if not topic_ids:
                    continue
                sent, held = await self._topics.route(
                    entry, topic_ids, now=self._clock(), again=True
                )
                queued += sent + held
        if queued:
            log.info("Topics %s added elsewhere: %d alerts queued", sorted(wanted), queued)
            self._wake()
        return queued
