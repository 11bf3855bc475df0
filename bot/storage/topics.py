"""The topics table: what each chat follows."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

from bot.domain import PRIORITY, MessageKind, Topic, TopicMode
from bot.storage.database import Database, from_epoch, to_epoch

_COLUMNS = "id, chat_id, query, canonical, mode, created_at"


def _topic(row: Any) -> Topic:
    return Topic(
        id=row["id"],
        chat_id=row["chat_id"],
        query=row["query"],
        canonical=row["canonical"],
        mode=TopicMode(row["mode"]),
        created_at=from_epoch(row["created_at"]),
    )


# Whether the chat already has, or is holding, an alert for another entry with this link.
_SAME_LINK_SEEN = """(
    :link != '' AND EXISTS (
        SELECT 1 FROM entries AS same
        WHERE same.link = :link AND same.id != :entry AND (
            EXISTS (SELECT 1 FROM outbox AS o
                    WHERE o.chat_id = t.chat_id AND o.entry_id = same.id)
            OR EXISTS (SELECT 1 FROM held_alerts AS h
                       WHERE h.chat_id = t.chat_id AND h.entry_id = same.id)
        )
    )
)"""


class TopicLimitError(Exception):
    """The chat already follows as many topics as it may."""


class DuplicateTopicError(Exception):
    """The chat already follows this query."""

    def __init__(self, existing: Topic) -> None:
        super().__init__(existing.query)
        self.existing = existing


class TopicRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def add(
        self, chat_id: int, query: str, canonical: str, *, limit: int, now: dt.datetime
    ) -> Topic:
        """Store a topic, checking the chat's limit and duplicates in the same transaction."""
        async with self._db.transaction() as sql:
            cursor = await sql.execute(
                f"SELECT {_COLUMNS} FROM topics WHERE chat_id = ? AND canonical = ?",
                (chat_id, canonical),
            )
            existing = await cursor.fetchone()
            if existing is not None:
                raise DuplicateTopicError(_topic(existing))
            cursor = await sql.execute("SELECT COUNT(*) FROM topics WHERE chat_id = ?", (chat_id,))
            row = await cursor.fetchone()
            if row is not None and row[0] >= limit:
                raise TopicLimitError
            cursor = await sql.execute(
                "INSERT INTO topics (chat_id, query, canonical, created_at) VALUES (?, ?, ?, ?)"
                f" RETURNING {_COLUMNS}",
                (chat_id, query, canonical, to_epoch(now)),
            )
            return _topic(await cursor.fetchone())

    async def for_chat(self, chat_id: int) -> list[Topic]:
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM topics WHERE chat_id = ? ORDER BY id", (chat_id,)
        )
        return [_topic(row) for row in rows]

    async def get(self, topic_id: int) -> Topic | None:
        row = await self._db.fetchone(f"SELECT {_COLUMNS} FROM topics WHERE id = ?", (topic_id,))
        return None if row is None else _topic(row)

    async def remove(self, topic_id: int) -> bool:
        return await self._db.execute("DELETE FROM topics WHERE id = ?", (topic_id,)) > 0

    async def set_mode(self, topic_id: int, mode: TopicMode) -> bool:
        changed = await self._db.execute(
            "UPDATE topics SET mode = ? WHERE id = ?", (mode.value, topic_id)
        )
        return changed > 0

    async def count(self) -> int:
        return int(await self._db.fetchvalue("SELECT COUNT(*) FROM topics"))

    async def every(self, *, batch: int = 10_000) -> AsyncIterator[list[Topic]]:
        """Every topic, in batches, for building the index at start-up."""
        last = 0
        while True:
            rows = await self._db.fetchall(
                f"SELECT {_COLUMNS} FROM topics WHERE id > ? ORDER BY id LIMIT ?", (last, batch)
            )
            if not rows:
                return
            yield [_topic(row) for row in rows]
            last = rows[-1]["id"]

    async def ids_for_chat(self, chat_id: int) -> list[int]:
        rows = await self._db.fetchall("SELECT id FROM topics WHERE chat_id = ?", (chat_id,))
        return [row[0] for row in rows]

    async def route(
        self,
        entry_id: int,
        published_at: dt.datetime,
        topic_ids: Sequence[int],
        *,
        link: str = "",
        now: dt.datetime,
    ) -> int:
        """Queue the entry's alerts and mark it routed, in one transaction; returns alerts.

        ``topic_ids`` are the topics the entry matched. Each chat gets one alert listing its
        matched topics, counting only instant topics it already followed when the entry was
        published, and only if the chat is active and hasn't had the same link from another
        feed. A chat in quiet hours or muted has the alert held for its catch-up message
        instead. Chats are read from the topics table, so a chat that moved (a group become
        supergroup) is found at its new id.
        """
        params = {
            "priority": PRIORITY[MessageKind.ALERT],
            "entry": entry_id,
            "link": link,
            "now": to_epoch(now),
            "topics": json.dumps(list(topic_ids)),
            "published": to_epoch(published_at),
        }
        async with self._db.transaction() as sql:
            await sql.execute(
                f"""
                INSERT INTO held_alerts (chat_id, entry_id, topics, held_at)
                SELECT t.chat_id, :entry, json_group_array(t.query), :now
                FROM topics AS t JOIN chats AS c ON c.id = t.chat_id
                WHERE t.id IN (SELECT value FROM json_each(:topics))
                    AND t.mode = 'instant' AND t.created_at <= :published
                    AND c.inactive_reason IS NULL AND c.held_since IS NOT NULL
                    AND NOT EXISTS (
                        SELECT 1 FROM outbox AS o
                        WHERE o.chat_id = t.chat_id AND o.entry_id = :entry
                    )
                    AND NOT {_SAME_LINK_SEEN}
                GROUP BY t.chat_id
                ON CONFLICT (chat_id, entry_id) DO NOTHING
                """,
                params,
            )
            cursor = await sql.execute(
                f"""
                INSERT INTO outbox (chat_id, kind, priority, entry_id, topics,
                                    not_before, created_at)
                SELECT t.chat_id, 'alert', :priority, :entry, json_group_array(t.query),
                       :now, :now
                FROM topics AS t JOIN chats AS c ON c.id = t.chat_id
                WHERE t.id IN (SELECT value FROM json_each(:topics))
                    AND t.mode = 'instant' AND t.created_at <= :published
                    AND c.inactive_reason IS NULL AND c.held_since IS NULL
                    AND NOT {_SAME_LINK_SEEN}
                GROUP BY t.chat_id
                ON CONFLICT (chat_id, entry_id) WHERE entry_id IS NOT NULL DO NOTHING
                """,
                params,
            )
            queued = cursor.rowcount
            await sql.execute("UPDATE entries SET routed = 1 WHERE id = ?", (entry_id,))
        return queued
