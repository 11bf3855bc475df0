"""The topics table: what each chat follows."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

from bot.domain import PRIORITY, Entry, MessageKind, Topic, TopicMode, alertable_until
from bot.storage.chats import holding, may_alert
from bot.storage.database import Database, from_epoch, to_epoch
from bot.storage.interfaces import DuplicateTopicError, TopicLimitError
from bot.storage.ledger import story_reached

_COLUMNS = "id, chat_id, thread_id, query, canonical, mode, created_at"


def _topic(row: Any) -> Topic:
    return Topic(
        id=row["id"],
        chat_id=row["chat_id"],
        query=row["query"],
        canonical=row["canonical"],
        mode=TopicMode(row["mode"]),
        created_at=from_epoch(row["created_at"]),
        thread_id=row["thread_id"],
    )


class TopicRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def add(
        self,
        chat_id: int,
        query: str,
        canonical: str,
        *,
        limit: int,
        now: dt.datetime,
        thread_id: int = 0,
    ) -> Topic:
        """Store a topic, checking the chat's limit and duplicates in the same transaction.

        A forum may follow one query in two threads; each thread once.
        """
        async with self._db.transaction() as sql:
            cursor = await sql.execute(
                f"SELECT {_COLUMNS} FROM topics"
                " WHERE chat_id = ? AND thread_id = ? AND canonical = ?",
                (chat_id, thread_id, canonical),
            )
            existing = await cursor.fetchone()
            if existing is not None:
                raise DuplicateTopicError(_topic(existing))
            cursor = await sql.execute("SELECT COUNT(*) FROM topics WHERE chat_id = ?", (chat_id,))
            row = await cursor.fetchone()
            if row is not None and row[0] >= limit:
                raise TopicLimitError
            cursor = await sql.execute(
                "INSERT INTO topics (chat_id, thread_id, query, canonical, created_at)"
                f" VALUES (?, ?, ?, ?, ?) RETURNING {_COLUMNS}",
                (chat_id, thread_id, query, canonical, to_epoch(now)),
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
        self, entry: Entry, topic_ids: Sequence[int], *, now: dt.datetime
    ) -> tuple[int, int]:
        """Queue the entry's alerts and mark it routed, in one transaction: (sent, held).

        ``topic_ids`` are the topics the entry matched. Each chat gets one alert listing its
        matched instant topics that the alert rule (``alertable_until``) lets through, if
        the chat is active and the story has not reached it and is not on its way
        (``story_reached``); in a forum, each thread with matched topics gets one, asking
        the ledger about that thread. A chat in quiet hours or muted has the alert held for
        its catch-up message instead. Chats are read from the topics table, so a chat that
        moved (a group become supergroup) is found at its new id.
        """
        added_by = alertable_until(entry)
        async with self._db.transaction() as sql:
            if added_by is not None and topic_ids:
                cursor = await sql.execute(
                    f"""
                    INSERT INTO outbox (chat_id, thread_id, kind, priority, entry_id, topics,
                                        state, not_before, created_at)
                    SELECT c.id, t.thread_id, 'alert', :priority, :entry,
                           json_group_array(t.query),
                           CASE WHEN {holding("c", ":now")} THEN 'held' ELSE 'pending' END,
                           :now, :now
                    FROM topics AS t JOIN chats AS c ON c.id = t.chat_id
                    WHERE t.id IN (SELECT value FROM json_each(:topics))
                        AND t.mode = 'instant' AND t.created_at <= :added_by
                        AND {may_alert("c")}
                        AND NOT {story_reached("t.chat_id", ":story", thread="t.thread_id")}
                    GROUP BY c.id, t.thread_id
                    RETURNING state
                    """,
                    {
                        "priority": PRIORITY[MessageKind.ALERT],
                        "entry": entry.id,
                        "story": entry.story,
                        "now": to_epoch(now),
                        "topics": json.dumps(list(topic_ids)),
                        "added_by": to_epoch(added_by),
                    },
                )
                states = [row[0] for row in await cursor.fetchall()]
            else:
                states = []
            await sql.execute("UPDATE entries SET routed = 1 WHERE id = ?", (entry.id,))
        held = states.count("held")
        return len(states) - held, held
