"""Following topics: adding, listing, switching and removing them, and the index they feed."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import re
from collections.abc import Callable, Iterable, Sequence

from bot.domain import (
    AddedTopic,
    Clock,
    Entry,
    HeraldError,
    Topic,
    TopicAction,
    TopicChange,
    TopicMode,
)
from bot.storage.interfaces import DuplicateTopicError, Entries, TopicLimitError, Topics
from bot.topics import (
    MAX_TOPIC_LENGTH,
    InvalidQueryError,
    Query,
    TopicIndex,
    matches,
    parse_query,
    prepare,
)
from bot.topics.fts import candidates, needs_check

log = logging.getLogger(__name__)

MAX_TOPICS = 50
PREVIEW_DAYS = 7
PREVIEW_EXAMPLES = 3
# How many recent entries the preview checks; beyond this the count is "at least".
PREVIEW_CANDIDATES = 2000
# 🔕 under an alert mutes its topics this long; a button's change can be undone this long.
MUTE_FOR = dt.timedelta(days=1)
UNDO_FOR = dt.timedelta(minutes=1)


_MARKUP = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")


class TopicError(HeraldError):
    """A topic command can't be done; the message says why."""


class AlreadyDoneError(TopicError):
    """A button pressed twice: what it asks is the case already; nothing changed."""


class TopicService:
    def __init__(
        self,
        topics: Topics,
        entries: Entries,
        index: TopicIndex,
        *,
        clock: Clock,
        announce: Callable[[Sequence[int]], None] | None = None,
    ) -> None:
        """``announce(topic_ids)`` hears of every topic this service added, removed or
        put back, for other processes' indexes (``sync``)."""
        self._topics = topics
        self._entries = entries
        self._index = index
        self._clock = clock
        self._announce = announce

    def _changed(self, topic_ids: Sequence[int]) -> None:
        if self._announce is not None and topic_ids:
            self._announce(topic_ids)

    async def sync(self, topic_ids: Iterable[int]) -> list[Topic]:
        """Bring the index up to date with the stored topics ``topic_ids`` (another process
        added, removed or put them back); returns those new to the index."""
        added: list[Topic] = []
        for topic_id in topic_ids:
            topic = await self._topics.get(topic_id)
            if topic is None:
                self._index.remove(topic_id)
            elif topic_id not in self._index:
                self._compile(topic)
                added.append(topic)
        return added

    async def reload_index(self) -> list[Topic]:
        """Compare the index with every stored topic, after messages from other processes
        may have been missed; returns the topics new to the index."""
        stored: dict[int, Topic] = {}
        async for batch in self._topics.every():
            stored.update((topic.id, topic) for topic in batch)
        for topic_id in self._index.topic_ids():
            if topic_id not in stored:
                self._index.remove(topic_id)
        added = [topic for topic_id, topic in stored.items() if topic_id not in self._index]
        for topic in added:
            self._compile(topic)
        return added

    async def load_index(self) -> int:
        """Compile every stored topic into the index; returns how many."""
        count = 0
        async for batch in self._topics.every():
            for topic in batch:
                self._compile(topic)
                count += 1
        log.info("Topic index holds %d topics", count)
        return count

    def _compile(self, topic: Topic) -> None:
        try:
            query = _reparse(topic.query)
        except InvalidQueryError:
            log.warning("Topic %s (%r) no longer parses; it is skipped", topic.id, topic.query)
            return
        self._index.add(topic.id, topic.chat_id, query)

    async def add(self, chat_id: int, text: str, *, thread_id: int = 0) -> AddedTopic:
        """Follow a topic; raises InvalidQueryError or TopicError, both with a user message.

        ``thread_id`` is the forum thread its alerts go to (0: General, or no threads).
        """
        if _MARKUP.search(text):
            # Pasted from a web page or another bot's message: the tags would be followed
            # as words no story contains.
            raise TopicError(
                "A topic is words, not markup: leave out tags such as <b> and send it again."
            )
        query = parse_query(text, mode="topic")
        try:
            topic = await self._topics.add(
                chat_id,
                query.display,
                query.canonical,
                limit=MAX_TOPICS,
                now=self._clock(),
                thread_id=thread_id,
            )
        except DuplicateTopicError as error:
            where = "This thread" if thread_id else "This chat"
            raise TopicError(f"{where} already follows “{error.existing.query}”.") from None
        except TopicLimitError:
            raise TopicError(
                f"This chat follows {MAX_TOPICS} topics already, the most it can. "
                "Remove one with /topic remove <number> first."
            ) from None
        self._index.add(topic.id, chat_id, query)
        self._changed([topic.id])
        log.info("Chat %s follows topic %s: %s", chat_id, topic.id, topic.canonical)
        return await self._preview(topic, query)

    async def _preview(self, topic: Topic, query: Query) -> AddedTopic:
        """How many entries of the last days the topic would have matched, and the newest."""
        expression = candidates(query)
        if expression is None:
            return AddedTopic(topic, 0, ())
        since = self._clock() - dt.timedelta(days=PREVIEW_DAYS)
        found = await self._entries.newest_matches(
            expression, limit=PREVIEW_CANDIDATES, published_since=since
        )
        # The index holds the matcher's own tokens: only an exact phrase needs the matcher
        # to confirm what it found, and that runs off the event loop (2,000 candidates of a
        # common word take tens of milliseconds).
        matching = (
            await asyncio.to_thread(_confirmed, query, found) if needs_check(query) else found
        )
        return AddedTopic(
            topic,
            len(matching),
            tuple(matching[:PREVIEW_EXAMPLES]),
            more_than_counted=len(found) >= PREVIEW_CANDIDATES,
        )

    async def list(self, chat_id: int) -> list[Topic]:
        return await self._topics.for_chat(chat_id)

    async def remove(self, chat_id: int, reference: str) -> TopicChange:
        """Stop following a topic named by its number in /topic or by its text.

        Raises TopicError when there is no such topic; the change can be undone for
        ``UNDO_FOR``.
        """
        topics = await self._topics.for_chat(chat_id)
        reference = reference.strip()
        topic: Topic | None = None
        if reference.isdigit():
            number = int(reference)
            if not 1 <= number <= len(topics):
                raise TopicError(
                    f"There is no topic number {number}. /topic lists them with their numbers."
                )
            topic = topics[number - 1]
        else:
            try:
                canonical = parse_query(reference, mode="topic").canonical
            except InvalidQueryError as error:
                raise TopicError(error.user_message) from None
            topic = next((t for t in topics if t.canonical == canonical), None)
            if topic is None:
                raise TopicError(
                    f"This chat doesn't follow “{reference}”. /topic lists what it follows."
                )
        return await self.change(chat_id, [topic.id], TopicAction.UNFOLLOW)

    async def change(
        self, chat_id: int, topic_ids: Sequence[int], action: TopicAction
    ) -> TopicChange:
        """Mute for ``MUTE_FOR``, switch to digest only, or unfollow the chat's topics.

        Raises TopicError when none of them is the chat's any more. The change can be
        undone for ``UNDO_FOR`` (``undo``).
        """
        now = self._clock()
        change = await self._topics.change(
            chat_id, topic_ids, action, now=now, until=now + MUTE_FOR, undo_for=UNDO_FOR
        )
        if change is None:
            raise TopicError("That topic is gone; /topic shows the current list.")
        if not change.topics:
            raise AlreadyDoneError(
                "Already muted." if action is TopicAction.MUTE else "Already digest only."
            )
        if action is TopicAction.UNFOLLOW:
            for topic in change.topics:
                self._index.remove(topic.id)
            self._changed([topic.id for topic in change.topics])
        log.info(
            "Chat %s: %s on topics %s", chat_id, action, [topic.id for topic in change.topics]
        )
        return change

    async def undo(self, chat_id: int, undo_id: int) -> tuple[Topic, ...]:
        """Put back what a button changed; raises TopicError once ``UNDO_FOR`` has passed."""
        restored = await self._topics.undo(chat_id, undo_id, now=self._clock())
        if restored == []:
            raise AlreadyDoneError("Already undone.")
        if restored is None:
            minutes = int(UNDO_FOR.total_seconds() // 60)
            raise TopicError(
                f"Undo lasts {minutes} minute{'s' if minutes != 1 else ''}, and that one has "
                "passed. /topic shows the topics and changes them."
            )
        for topic in restored:
            if topic.id not in self._index:
                self._compile(topic)
        self._changed([topic.id for topic in restored])
        return tuple(restored)

    async def unmute(self, chat_id: int, topic_id: int | None = None) -> tuple[Topic, ...]:
        """End a topic's mute (or every muted topic's in the chat); the topics unmuted."""
        return tuple(await self._topics.unmute(chat_id, topic_id))

    async def set_silent(self, chat_id: int, topic_id: int, silent: bool) -> Topic:
        """Alerts of this topic without a sound (``disable_notification``), or with one."""
        topic = await self._own(chat_id, topic_id)
        await self._topics.set_silent(topic.id, silent)
        return dataclasses.replace(topic, silent=silent)

    async def set_mode(self, chat_id: int, topic_id: int, mode: TopicMode) -> Topic:
        topic = await self._own(chat_id, topic_id)
        await self._topics.set_mode(topic.id, mode)
        return dataclasses.replace(topic, mode=mode)

    async def get(self, chat_id: int, topic_id: int) -> Topic:
        """The chat's topic; raises TopicError when it is gone or another chat's."""
        return await self._own(chat_id, topic_id)

    async def _own(self, chat_id: int, topic_id: int) -> Topic:
        topic = await self._topics.get(topic_id)
        if topic is None or topic.chat_id != chat_id:
            raise TopicError("That topic is gone; /topic shows the current list.")
        return topic

    async def forget_chat(self, chat_id: int) -> None:
        """Drop the chat's topics from the index; the database deletes them with the chat."""
        topic_ids = await self._topics.ids_for_chat(chat_id)
        for topic_id in topic_ids:
            self._index.remove(topic_id)
        self._changed(topic_ids)


def _reparse(stored: str) -> Query:
    # Stored text parsed once already; normalising can lengthen it (ﬁ → fi), so the length
    # limit is relaxed for re-parsing.
    return parse_query(stored, mode="topic", max_length=4 * MAX_TOPIC_LENGTH)


def _confirmed(query: Query, entries: list[Entry]) -> list[Entry]:
    return [
        e
        for e in entries
        if matches(query, prepare(e.title, e.summary, link=e.link, feed_id=e.feed_id))
    ]
