"""Daily digests at each chat's local time, and the chat's time zone."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable

from bot import formatting
from bot.domain import Chat, Clock, DigestSection, Entry, HeraldError, Topic, alertable_until
from bot.storage.interfaces import Chats, Entries, Outbox, Topics
from bot.topics import MAX_TOPIC_LENGTH, InvalidQueryError, matches, parse_query, prepare
from bot.topics.fts import candidates
from config.timezones import parse_timezone, suggestions, zone

log = logging.getLogger(__name__)

FIRST_DIGEST_SPAN = dt.timedelta(hours=24)
PER_TOPIC = 10  # entries listed under a topic; the rest are counted
# Entries a topic's digest section looks at; a topic matching more in a day is a firehose.
CANDIDATES = 500
DUE_BATCH = 500
# A scheduled digest still goes out this long after its local day ended.
LATE_GRACE = dt.timedelta(hours=1)
# A digest taken to be queued is due again this long after, should its taker die first.
RETRY_CLAIMED = dt.timedelta(minutes=1)
HELD_SECTION = "Held while alerts were paused"


class SettingsError(HeraldError):
    """A chat setting can't be changed as asked; the message says why."""


def next_digest(at: dt.time, timezone: str, *, after: dt.datetime) -> dt.datetime:
    """The first moment after ``after`` when the clock in ``timezone`` shows ``at``.

    Across a daylight-saving gap a missing local time comes an hour later (01:30 on the
    March night the clocks skip it is 02:30 summer time); across the autumn overlap the
    first of the two moments counts.
    """
    local_zone = zone(timezone)
    day = after.astimezone(local_zone).date()
    for offset in range(3):
        local = dt.datetime.combine(day + dt.timedelta(days=offset), at, tzinfo=local_zone)
        moment = local.astimezone(dt.UTC)
        if moment > after:
            return moment
    raise AssertionError("a clock time comes round within three days")


def local_day(moment: dt.datetime, timezone: str) -> dt.date:
    return moment.astimezone(zone(timezone)).date()


Queue = Callable[[], None]


class DigestService:
    def __init__(
        self,
        chats: Chats,
        topics: Topics,
        entries: Entries,
        outbox: Outbox,
        *,
        clock: Clock,
        wake: Queue,
    ) -> None:
        self._chats = chats
        self._topics = topics
        self._entries = entries
        self._outbox = outbox
        self._clock = clock
        self._wake = wake

    # Settings

    async def set_timezone(self, chat: Chat, text: str) -> str:
        try:
            name = parse_timezone(text)
        except ValueError:
            close = suggestions(text)
            hint = f" Did you mean {formatting.either(close)}?" if close else ""
            raise SettingsError(
                f"“{text}” is not a time zone I know.{hint} Use an Area/City name such as "
                "Europe/London or Asia/Kathmandu, or an offset such as UTC+3 or UTC-3:30."
            ) from None
        upcoming = (
            next_digest(chat.digest_time, name, after=self._clock())
            if chat.digest_enabled
            else None
        )
        await self._chats.set_timezone(chat.id, name, next_digest_at=upcoming)
        return name

    async def set_digest(self, chat: Chat, *, enabled: bool, at: dt.time | None = None) -> Chat:
        at = at or chat.digest_time
        upcoming = next_digest(at, chat.timezone, after=self._clock()) if enabled else None
        await self._chats.set_digest(chat.id, enabled=enabled, at=at, next_digest_at=upcoming)
        return dataclasses.replace(chat, digest_enabled=enabled, digest_time=at)

    async def set_thread(self, chat: Chat, thread_id: int) -> Chat:
        """/digest here: digests, catch-ups and breaking pushes go to this forum thread."""
        await self._chats.set_digest_thread(chat.id, thread_id)
        return dataclasses.replace(chat, digest_thread_id=thread_id)

    async def next_for(self, chat: Chat) -> dt.datetime | None:
        if not chat.digest_enabled:
            return None
        return next_digest(chat.digest_time, chat.timezone, after=self._clock())

    # Sending

    async def send_due(self) -> int:
        """Queue every scheduled digest that is due; returns how many chats got one.

        A digest runs late rather than not at all: one whose local day ended less than
        ``LATE_GRACE`` ago (a 23:59 digest whose run slipped past midnight) is still sent.
        """
        now = self._clock()
        sent = 0
        for chat, due_at in await self._chats.due_digests(now=now, limit=DUE_BATCH):
            day = local_day(due_at, chat.timezone)
            # Another process sharing the database may be queuing the same digest. Should
            # this one die first, the digest is due again soon, on its own local day: its
            # due time names the day it is for. A digest whose day is already over (a late
            # run) is due again at once, the day's last moment being past; the job's lease
            # keeps two runs of it from overlapping then.
            day_over = end_of_day(day, chat.timezone)
            retry = min(now + RETRY_CLAIMED, day_over - dt.timedelta(microseconds=1))
            if not await self._chats.claim_digest(chat.id, now=now, until=retry):
                continue
            upcoming = next_digest(chat.digest_time, chat.timezone, after=now)
            _, last_day = await self._chats.digest_cursor(chat.id)
            if last_day == day.isoformat() or now >= end_of_day(day, chat.timezone) + LATE_GRACE:
                # Already sent that day, or missed while Herald was down and long over.
                await self._chats.record_digest(
                    chat.id, content_until=None, day=None, next_digest_at=upcoming
                )
                continue
            queued = await self._queue(chat, now, day=day.isoformat(), next_digest_at=upcoming)
            if not queued:
                await self._chats.record_digest(
                    chat.id, content_until=None, day=day.isoformat(), next_digest_at=upcoming
                )
            sent += bool(queued)
        return sent

    async def send_now(self, chat: Chat) -> int:
        """/digest now: queue the digest at once; returns how many messages (0: nothing new).

        It also lists held alerts that a catch-up had no room for, even with digests off.
        """
        return await self._queue(chat, self._clock(), day=None, next_digest_at=None)

    async def _queue(
        self, chat: Chat, now: dt.datetime, *, day: str | None, next_digest_at: dt.datetime | None
    ) -> int:
        """Build and queue the chat's digest up to ``now``, recording it in one transaction."""
        last, _ = await self._chats.digest_cursor(chat.id)
        since = last or now - FIRST_DIGEST_SPAN
        held = await self._outbox.for_digest(chat.id)
        held_entries = tuple(reversed([entry for _, entry, _ in held]))
        sections = await self.sections(
            chat.id, since=since, until=now, listed={entry.id for entry in held_entries}
        )
        if held_entries:
            sections.insert(
                0,
                DigestSection(
                    HELD_SECTION,
                    held_entries[:PER_TOPIC],
                    max(0, len(held_entries) - PER_TOPIC),
                ),
            )
        if not sections:
            return 0
        messages = formatting.digest(sections, since=since, timezone=chat.timezone, now=now)
        await self._outbox.enqueue_digest(
            chat.id,
            messages,
            entry_ids=[entry.id for section in sections for entry in section.entries],
            from_held=[outbox_id for outbox_id, _, _ in held],
            now=now,
            cursor=now,
            day=day,
            next_digest_at=next_digest_at,
        )
        log.info("Digest for chat %s: %d messages", chat.id, len(messages))
        self._wake()
        return len(messages)

    async def sections(
        self,
        chat_id: int,
        *,
        since: dt.datetime,
        until: dt.datetime,
        listed: set[int] | None = None,
    ) -> list[DigestSection]:
        """The chat's topics with the entries each matched, first seen in [since, until).

        Newest first. Only entries the alert rule lets each topic through are listed (an
        entry stored before the topic was added is not news to it), each once: an entry
        that matches several topics goes under the first, and one an earlier digest
        listed, or ``listed`` holds (listed elsewhere in this digest), is left out.
        """
        listed = set(listed or ())
        # One story, listed once: entries of one story cluster (several outlets) share it.
        stories: set[str] = set()
        sections = []
        for topic in await self._topics.for_chat(chat_id):
            try:
                query = parse_query(topic.query, mode="topic", max_length=4 * MAX_TOPIC_LENGTH)
            except InvalidQueryError:
                continue
            expression = candidates(query)
            if expression is None:
                continue
            found = await self._entries.newest_matches(
                expression, limit=CANDIDATES, seen_since=since, seen_before=until
            )
            entries = [
                entry
                for entry in found
                if entry.id not in listed
                and _news_to(topic, entry)
                and matches(
                    query,
                    prepare(entry.title, entry.summary, link=entry.link, feed_id=entry.feed_id),
                )
            ]
            already = await self._outbox.digested(chat_id, [entry.id for entry in entries])
            entries = [entry for entry in entries if entry.id not in already]
            fresh = []
            for entry in entries:
                if entry.story not in stories:
                    stories.add(entry.story)
                    fresh.append(entry)
            entries = fresh
            if not entries:
                continue
            listed.update(entry.id for entry in entries)
            sections.append(
                DigestSection(
                    topic.query, tuple(entries[:PER_TOPIC]), max(0, len(entries) - PER_TOPIC)
                )
            )
        return sections


def _news_to(topic: Topic, entry: Entry) -> bool:
    added_by = alertable_until(entry)
    return added_by is not None and topic.created_at <= added_by


def end_of_day(day: dt.date, timezone: str) -> dt.datetime:
    """The moment, in UTC, when ``day`` ends in ``timezone``."""
    midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone(timezone))
    return midnight.astimezone(dt.UTC)
