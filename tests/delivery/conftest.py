"""Fixtures for delivery tests: an outbox on a real SQLite file with chats and entries."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from bot.domain import ChatKind, InactiveReason, ParsedEntry
from bot.storage.chats import ChatRepository
from bot.storage.database import Database
from bot.storage.feeds import FeedRepository
from bot.storage.interfaces import PollSuccess
from bot.storage.outbox import OutboxRepository
from tests.conftest import NOW


@dataclasses.dataclass
class Archive:
    """Chats and stored entries to queue messages for."""

    database: Database
    chats: ChatRepository
    outbox: OutboxRepository
    feeds: FeedRepository

    async def chat(self, chat_id: int, kind: ChatKind = ChatKind.PRIVATE) -> int:
        await self.chats.register(chat_id, kind, f"Chat {chat_id}", timezone="UTC", now=NOW)
        return chat_id

    async def entries(self, *titles: str, summary: str = "What happened.") -> list[int]:
        feed = await self.feeds.add(
            f"https://news.example/{len(titles)}.xml", now=NOW, next_poll_at=NOW
        )
        await self.feeds.record_success(
            feed,
            PollSuccess(etag=None, last_modified=None, next_poll_at=NOW, title="World News"),
            [
                ParsedEntry(
                    key=f"{feed.id}-{n}",
                    title=title,
                    summary=summary,
                    link=f"https://news.example/{feed.id}/{n}",
                    published=NOW - dt.timedelta(minutes=len(titles) - n),
                    author="",
                )
                for n, title in enumerate(titles)
            ],
            now=NOW,
            keep_after=NOW - dt.timedelta(days=90),
        )
        rows = await self.database.fetchall(
            "SELECT id FROM entries WHERE feed_id = ? ORDER BY id", (feed.id,)
        )
        return [row[0] for row in rows]

    async def states(self, chat_id: int) -> list[str]:
        rows = await self.database.fetchall(
            "SELECT state FROM outbox WHERE chat_id = ? ORDER BY id", (chat_id,)
        )
        return [row[0] for row in rows]

    async def inactive_reason(self, chat_id: int) -> InactiveReason | None:
        chat = await self.chats.get(chat_id)
        assert chat is not None
        return chat.inactive_reason


@pytest.fixture
def archive(database: Database) -> Archive:
    return Archive(
        database, ChatRepository(database), OutboxRepository(database), FeedRepository(database)
    )
