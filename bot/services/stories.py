"""Story clusters: the window of recent stories a new entry is compared with before routing."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging

from bot.domain import Clock, Entry
from bot.storage.interfaces import Entries
from bot.topics.stories import Fingerprint, StoryIndex, fingerprint

log = logging.getLogger(__name__)

# Entries read into the window in one go at most; a 50-feed instance stores about 5,000 in
# 48 hours, so this bounds the start-up of a far busier one rather than cutting a usual one.
MOST_IN_WINDOW = 100_000


class StoryWindow:
    """Which story each new entry tells: its own, or that of a recent entry it repeats.

    An entry joins the cluster of an entry of another feed first seen within ``window``
    before it that has the same canonical link or tells the same story in nearly the same
    words (``bot.topics.stories``: names and numbers agreeing, the cluster without an entry
    of the new one's feed and begun within ``window`` before it); it then
    takes that cluster's story key (the first entry's), so the delivery ledger, asked by
    every path that pushes a story (alerts, merged alerts, catch-ups, breaking pushes,
    digests), counts the cluster once. The window lives in the router's process: it is
    read from the database at the first ``refresh`` and kept up to date by the entries
    routed since, and by ``refresh`` for those stored without routing (a new feed's first
    poll).
    """

    def __init__(self, entries: Entries, *, window: dt.timedelta, clock: Clock) -> None:
        self._entries = entries
        self._clock = clock
        self._index = StoryIndex(window)
        self._read_through = 0  # the highest entry id read from the database

    @property
    def window(self) -> dt.timedelta:
        return self._index.window

    def __len__(self) -> int:
        return len(self._index)

    async def refresh(self) -> None:
        """Drop what left the window; add the routed entries stored since the last call.

        Entries not yet routed are left to ``assign``, which the router calls for each.
        """
        now = self._clock()
        self._index.expire(now)
        stored = await self._entries.recent(
            after_id=self._read_through, seen_since=now - self.window, limit=MOST_IN_WINDOW
        )
        if not stored:
            return
        self._read_through = max(self._read_through, max(entry.id for entry, _ in stored))
        routed = [entry for entry, was_routed in stored if was_routed]
        # Hundreds of microseconds each: thousands at start-up go to a thread.
        signatures = (
            await asyncio.to_thread(_fingerprints, routed)
            if len(routed) > 50
            else _fingerprints(routed)
        )
        for entry, signature in zip(routed, signatures, strict=True):
            self._index.add(
                entry.id,
                entry.story,
                signature,
                _own_link(entry),
                entry.first_seen_at,
                feed=entry.feed_id,
            )
        if len(routed) > 50:
            log.info("Story window: %d entries of the last %s", len(self._index), self.window)

    def assign(self, entry: Entry) -> Entry:
        """The entry with the story it tells, and remembered for the window.

        An entry whose story other recent entries carry already (the same link from
        another feed, ``story_key``) keeps it; so does one that repeats no recent entry.
        """
        signature = fingerprint(entry.title, entry.summary)
        story = entry.story
        if entry.id in self._index:
            story = self._index.story_of(entry.id)
        elif not self._index.has_story(story):
            found = self._index.find(
                signature, _own_link(entry), feed=entry.feed_id, at=entry.first_seen_at
            )
            if found is not None:
                story = found[1]
        self._index.add(
            entry.id, story, signature, _own_link(entry), entry.first_seen_at, feed=entry.feed_id
        )
        return entry if story == entry.story else dataclasses.replace(entry, story=story)


def _own_link(entry: Entry) -> str:
    """The entry's link if it names the entry's story alone; "" for a link its feed gives
    several stories (a front page: ``story_key`` made the story the entry's own)."""
    return "" if entry.story.startswith("entry:") else entry.link


def _fingerprints(entries: list[Entry]) -> list[Fingerprint]:
    return [fingerprint(entry.title, entry.summary) for entry in entries]
