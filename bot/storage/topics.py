"""The topics table: what each chat follows."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

from bot.domain import (
    PRIORITY,
    Entry,
    MessageKind,
    Topic,
    TopicAction,
    TopicChange,
    TopicMode,
    alertable_until,
)
from bot.storage.chats import holding, may_alert
from bot.storage.database import Database, from_epoch, to_epoch
from bot.storage.interfaces import DuplicateTopicError, TopicLimitError
from bot.storage.ledger import name_source, story_reached

_COLUMNS = "id, chat_id, thread_id, query, canonical, mode, created_at, silent, muted_until"


def _topic(row: Any) -> Topic:
    return Topic(
        id=row["id"],
        chat_id=row["chat_id"],
        query=row["query"],
        canonical=row["canonical"],
        mode=TopicMode(row["mode"]),
        created_at=from_epoch(row["created_at"]),
        thread_id=row["thread_id"],
        silent=bool(row["silent"]),
        muted_until=None if row["muted_until"] is None else from_epoch(row["muted_until"]),
    )


def _snapshot(topic: Topic) -> dict[str, Any]:
    return {
        "id": topic.id,
        "chat_id": topic.chat_id,
        "thread_id": topic.thread_id,
        "query": topic.query,
        "canonical": topic.canonical,
        "mode": topic.mode.value,
        "created_at": to_epoch(topic.created_at),
        "silent": int(topic.silent),
        "muted_until": None if topic.muted_until is None else to_epoch(topic.muted_until),
    }


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

    async def unmute(self, chat_id: int, topic_id: int | None = None) -> list[Topic]:
        """End the mute of one of the chat's topics (or of all of them); those it ended."""
        async with self._db.transaction() as sql:
            cursor = await sql.execute(
                "UPDATE topics SET muted_until = NULL WHERE chat_id = ?"
                f" AND muted_until IS NOT NULL AND (? IS NULL OR id = ?) RETURNING {_COLUMNS}",
                (chat_id, topic_id, topic_id),
            )
            return [_topic(row) for row in await cursor.fetchall()]

    async def set_silent(self, topic_id: int, silent: bool) -> bool:
        changed = await self._db.execute(
            "UPDATE topics SET silent = ? WHERE id = ?", (int(silent), topic_id)
        )
        return changed > 0

    async def change(
        self,
        chat_id: int,
        topic_ids: Sequence[int],
        action: TopicAction,
        *,
        now: dt.datetime,
        until: dt.datetime,
        undo_for: dt.timedelta,
    ) -> TopicChange | None:
        """Mute (until ``until``), switch to digest only, or remove the chat's listed topics.

        Topics no longer in the chat are skipped; None if none is left. Topics the action
        would not change (already muted, already digest only) are left out, and with none
        left to change the result lists no topics and has no Undo (``undo_id`` 0). What the
        topics were before is kept for ``undo_for`` (``undo``), in the same transaction.
        """
        async with self._db.transaction() as sql:
            marks = ",".join("?" * len(topic_ids))
            cursor = await sql.execute(
                f"SELECT {_COLUMNS} FROM topics WHERE chat_id = ? AND id IN ({marks}) ORDER BY id",
                (chat_id, *topic_ids),
            )
            found = [_topic(row) for row in await cursor.fetchall()]
            if not found:
                return None
            if action is TopicAction.MUTE:
                before = [topic for topic in found if not topic.muted(now)]
            elif action is TopicAction.DIGEST:
                before = [topic for topic in found if topic.mode is not TopicMode.DIGEST]
            else:
                before = found
            if not before:
                return TopicChange(action, (), undo_id=0)
            ids = [(topic.id,) for topic in before]
            if action is TopicAction.MUTE:
                await sql.executemany(
                    "UPDATE topics SET muted_until = ? WHERE id = ?",
                    [(to_epoch(until), topic.id) for topic in before],
                )
            elif action is TopicAction.DIGEST:
                await sql.executemany("UPDATE topics SET mode = 'digest' WHERE id = ?", ids)
            else:
                await sql.executemany("DELETE FROM topics WHERE id = ?", ids)
            await sql.execute("DELETE FROM undo WHERE expires_at <= ?", (to_epoch(now),))
            cursor = await sql.execute(
                "INSERT INTO undo (chat_id, topics, expires_at) VALUES (?, ?, ?) RETURNING id",
                (
                    chat_id,
                    json.dumps([_snapshot(topic) for topic in before]),
                    to_epoch(now + undo_for),
                ),
            )
            row = await cursor.fetchone()
            assert row is not None
        return TopicChange(
            action,
            tuple(before),
            undo_id=row[0],
            until=until if action is TopicAction.MUTE else None,
        )

    async def undo(self, chat_id: int, undo_id: int, *, now: dt.datetime) -> list[Topic] | None:
        """Put the chat's topics back as they were before a change; None once it expired.

        A removed topic comes back with its id and the time it was first added, so the
        alert rule treats it as never gone; one the chat followed again meanwhile is left
        as it is now. Returns the topics restored: none when it was undone already.
        """
        async with self._db.transaction() as sql:
            cursor = await sql.execute(
                "SELECT topics, used FROM undo WHERE id = ? AND chat_id = ? AND expires_at > ?",
                (undo_id, chat_id, to_epoch(now)),
            )
            row = await cursor.fetchone()
            if row is None:
                return None
            if row[1]:
                return []
            await sql.execute("UPDATE undo SET used = 1 WHERE id = ?", (undo_id,))
            restored = []
            for saved in json.loads(row[0]):
                cursor = await sql.execute(
                    "UPDATE topics SET mode = :mode, silent = :silent, muted_until = :muted_until"
                    f" WHERE id = :id AND chat_id = :chat_id RETURNING {_COLUMNS}",
                    saved,
                )
                back = await cursor.fetchone()
                if back is None:
                    # Removed: back with its id, unless another topic took the id meanwhile.
                    cursor = await sql.execute("SELECT 1 FROM topics WHERE id = ?", (saved["id"],))
                    taken = await cursor.fetchone() is not None
                    columns = _COLUMNS.removeprefix("id, ") if taken else _COLUMNS
                    values = ", ".join(f":{name.strip()}" for name in columns.split(","))
                    cursor = await sql.execute(
                        f"INSERT INTO topics ({columns}) VALUES ({values})"
                        f" ON CONFLICT DO NOTHING RETURNING {_COLUMNS}",
                        saved,
                    )
                    back = await cursor.fetchone()
                if back is not None:
                    restored.append(_topic(back))
            return restored

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
        self, entry: Entry, topic_ids: Sequence[int], *, now: dt.datetime, again: bool = False
    ) -> tuple[int, int]:
        """Queue the entry's alerts and mark it routed, in one transaction: (sent, held).

        The entry's ``story`` is stored first: the router may have found it joins a
        cluster, whose story it then takes; and the alerts that story's chats were sent
        for other entries are to name the entry's feed (``name_source``), whether the
        router found the story or storage gave it (the same link from another feed).

        ``topic_ids`` are the topics the entry matched. Each chat gets one alert listing its
        matched instant topics that the alert rule (``alertable_until``) lets through, if
        the chat is active and the story has not reached it and is not on its way
        (``story_reached``); in a forum, each thread with matched topics gets one, asking
        the ledger about that thread. A chat in quiet hours or muted has the alert held for
        its catch-up message instead; a muted topic alerts nothing, and an alert whose
        topics are all silent is sent silently. Chats are read from the topics table, so a
        chat that moved (a group become supergroup) is found at its new id.

        The entry is claimed first: of processes routing it at once (a leader that lost
        the lead and the next), only the one that marks it routed queues its alerts; the
        others get (0, 0). ``again``: the entry was routed already, and is matched now
        against topics learned since (``AlertRouter.reroute``).
        """
        added_by = alertable_until(entry)
        async with self._db.transaction() as sql:
            if not again:
                claimed = await sql.execute(
                    "UPDATE entries SET routed = 1 WHERE id = ? AND routed = 0", (entry.id,)
                )
                if not claimed.rowcount:
                    return 0, 0
            # The story the router found the entry tells (its cluster's), before anything
            # carrying the entry copies it.
            joined = await sql.execute(
                "UPDATE entries SET story = ? WHERE id = ? AND story != ?",
                (entry.story, entry.id, entry.story),
            )
            # An entry that came with its story already (another feed's entry with its
            # link) names its feed too, once: when first routed.
            if joined.rowcount or not again:
                await name_source(sql, entry)
            if added_by is not None and topic_ids:
                cursor = await sql.execute(
                    f"""
                    INSERT INTO outbox (chat_id, thread_id, kind, priority, entry_id, topics,
                                        topic_ids, silent, state, not_before, created_at)
                    SELECT c.id, t.thread_id, 'alert', :priority, :entry,
                           json_group_array(t.query), json_group_array(t.id), MIN(t.silent),
                           CASE WHEN {holding("c", ":now")} THEN 'held' ELSE 'pending' END,
                           :now, :now
                    FROM topics AS t JOIN chats AS c ON c.id = t.chat_id
                    WHERE t.id IN (SELECT value FROM json_each(:topics))
                        AND t.mode = 'instant' AND t.created_at <= :added_by
                        AND (t.muted_until IS NULL OR t.muted_until <= :now)
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
        held = states.count("held")
        return len(states) - held, held
