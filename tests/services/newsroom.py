"""A small newsroom for service tests: chats with topics, a feed, the router, the outbox."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from bot.domain import ChatKind, ParsedEntry
from bot.services.alerts import AlertRouter
from bot.services.chats import ChatService
from bot.services.stories import StoryWindow
from bot.services.topics import TopicService
from bot.storage.chats import ChatRepository
from bot.storage.database import Database
from bot.storage.entries import EntryRepository
from bot.storage.feeds import FeedRepository
from bot.storage.interfaces import PollSuccess
from bot.storage.outbox import OutboxRepository
from bot.storage.topics import TopicRepository
from bot.topics import TopicIndex
from tests.services.conftest import StepClock


class Newsroom:
    """Chats, their topics, a feed, and the router between them."""

    def __init__(
        self,
        database: Database,
        clock: StepClock,
        *,
        announce: Callable[[Sequence[int]], None] | None = None,
    ) -> None:
        """``announce``: what the topic service tells other processes (``TopicService``)."""
        self.database = database
        self.clock = clock
        self.wakes = 0
        self.index = index = TopicIndex()
        self.chat_repository = ChatRepository(database)
        self.topics = TopicService(
            TopicRepository(database),
            EntryRepository(database),
            index,
            clock=clock,
            announce=announce,
        )
        self.chats = ChatService(
            self.chat_repository, self.topics, default_timezone="UTC", clock=clock
        )
        self.stories = StoryWindow(
            EntryRepository(database), window=dt.timedelta(hours=48), clock=clock
        )
        self.router = AlertRouter(
            EntryRepository(database),
            TopicRepository(database),
            index,
            clock=clock,
            wake=self._wake,
            stories=self.stories,
        )
        self.feeds = FeedRepository(database)
        self.entries = EntryRepository(database)
        self.outbox = OutboxRepository(database)
        self.topic_repository = TopicRepository(database)
        self._keys = 0

    def index_ids(self) -> list[int]:
        """Every topic id the router's index holds."""
        return self.index.topic_ids()

    def _wake(self) -> None:
        self.wakes += 1

    async def chat(self, chat_id: int, *topics: str) -> int:
        await self.chats.start(chat_id, ChatKind.PRIVATE, f"Chat {chat_id}")
        for topic in topics:
            await self.topics.add(chat_id, topic)
        return chat_id

    async def publish(
        self,
        *titles: str,
        baseline: bool = False,
        feed_url: str = "https://news.example/rss",
        link: str | None = None,
        dated: dt.datetime | None = None,
        summary: str = "",
    ) -> list[int]:
        """Store entries as a poll would, dated ``dated`` (default now); their ids.

        The feed's first poll is the baseline.
        """
        feed = await self.feeds.by_url(feed_url)
        if feed is None:
            feed = await self.feeds.add(feed_url, now=self.clock(), next_poll_at=self.clock())
        if not baseline and not feed.baseline_done:
            await self.publish(baseline=True, feed_url=feed_url)
            feed = await self.feeds.by_url(feed_url)
            assert feed is not None
        entries = []
        for title in titles:
            self._keys += 1
            entries.append(
                ParsedEntry(
                    key=str(self._keys),
                    title=title,
                    summary=summary,
                    link=link or f"https://news.example/{self._keys}",
                    published=dated or self.clock(),
                    author="",
                )
            )
        await self.feeds.record_success(
            feed,
            PollSuccess(etag=None, last_modified=None, next_poll_at=self.clock()),
            entries,
            now=self.clock(),
            keep_after=self.clock() - dt.timedelta(days=90),
        )
        rows = await self.database.fetchall(
            "SELECT id FROM entries WHERE feed_id = ? ORDER BY id DESC LIMIT ?",
            (feed.id, len(entries)),
        )
        return sorted(row[0] for row in rows)

    async def alerts(self) -> list[tuple[int, str, str]]:
        """(chat, entry title, topics) of every queued alert."""
        rows = await self.database.fetchall(
            "SELECT o.chat_id, e.title, o.topics FROM outbox AS o"
            " JOIN entries AS e ON e.id = o.entry_id ORDER BY o.id"
        )
        return [(row[0], row[1], row[2]) for row in rows]
