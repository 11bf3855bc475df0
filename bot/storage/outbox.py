"""The outbox: every pushed message, durable before any attempt to send it."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import Any

import aiosqlite

from bot.domain import (
    PRIORITY,
    Broadcast,
    BroadcastProgress,
    BroadcastState,
    Entry,
    InactiveReason,
    MessageKind,
    OutboxMessage,
)
from bot.storage.chats import ChatRepository
from bot.storage.database import Database, from_epoch, to_epoch
from bot.storage.entries import ENTRY_COLUMNS, entry_from_row

_MESSAGE = """
    o.id AS outbox_id, o.chat_id, o.kind, o.attempts, o.topics, o.text AS outbox_text,
    o.broadcast_id, c.timezone,
    e.id, e.feed_id, COALESCE(NULLIF(f.title, ''), f.url) AS feed_title, e.key, e.title,
    e.summary, e.link, e.author, e.published_at, e.first_seen_at
"""
_MESSAGE_FROM = """
    outbox AS o
    JOIN chats AS c ON c.id = o.chat_id
    LEFT JOIN entries AS e ON e.id = o.entry_id
    LEFT JOIN feeds AS f ON f.id = e.feed_id
"""
_BROADCAST = (
    "id, admin_chat_id, text, state, audience, progress_message_id, progress_text, created_at"
)


def _message(row: Any) -> OutboxMessage:
    return OutboxMessage(
        id=row["outbox_id"],
        chat_id=row["chat_id"],
        kind=MessageKind(row["kind"]),
        attempts=row["attempts"],
        timezone=row["timezone"],
        entry=None if row["id"] is None else entry_from_row(row),
        topics=tuple(json.loads(row["topics"])),
        text=row["outbox_text"],
        broadcast_id=row["broadcast_id"],
    )


def _broadcast(row: Any) -> Broadcast:
    return Broadcast(
        id=row["id"],
        admin_chat_id=row["admin_chat_id"],
        text=row["text"],
        state=BroadcastState(row["state"]),
        audience=row["audience"],
        progress_message_id=row["progress_message_id"],
        created_at=from_epoch(row["created_at"]),
    )


class OutboxRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    # Queueing

    async def enqueue_alerts(
        self, alerts: Iterable[tuple[int, int, Sequence[str]]], *, now: dt.datetime
    ) -> int:
        """Queue (chat, entry, matched topics) alerts; an entry a chat already has is skipped."""
        async with self._db.transaction() as sql:
            return await self.enqueue_alerts_in(sql, alerts, now=now)

    @staticmethod
    async def enqueue_alerts_in(
        sql: aiosqlite.Connection,
        alerts: Iterable[tuple[int, int, Sequence[str]]],
        *,
        now: dt.datetime,
        not_before: dt.datetime | None = None,
    ) -> int:
        """``enqueue_alerts`` inside a transaction the caller holds."""
        before = sql.total_changes
        await sql.executemany(
            """
            INSERT INTO outbox (chat_id, kind, priority, entry_id, topics, not_before, created_at)
            VALUES (?, 'alert', ?, ?, ?, ?, ?)
            ON CONFLICT (chat_id, entry_id) WHERE entry_id IS NOT NULL DO NOTHING
            """,
            [
                (
                    chat_id,
                    PRIORITY[MessageKind.ALERT],
                    entry_id,
                    json.dumps(list(topics)),
                    to_epoch(not_before or now),
                    to_epoch(now),
                )
                for chat_id, entry_id, topics in alerts
            ],
        )
        return sql.total_changes - before

    async def enqueue_text(
        self, chat_ids: Iterable[int], kind: MessageKind, text: str, *, now: dt.datetime
    ) -> int:
        """Queue ready HTML to each chat."""
        async with self._db.transaction() as sql:
            cursor = await sql.executemany(
                "INSERT INTO outbox (chat_id, kind, priority, text, not_before, created_at)"
                " SELECT id, ?, ?, ?, ?, ? FROM chats WHERE id = ?",
                [
                    (kind.value, PRIORITY[kind], text, to_epoch(now), to_epoch(now), chat_id)
                    for chat_id in chat_ids
                ],
            )
            return cursor.rowcount

    async def enqueue_texts(
        self, chat_id: int, kind: MessageKind, texts: Sequence[str], *, now: dt.datetime
    ) -> None:
        """Queue several messages to one chat, to be sent in this order."""
        await self._db.executemany(
            "INSERT INTO outbox (chat_id, kind, priority, text, not_before, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [
                (chat_id, kind.value, PRIORITY[kind], text, to_epoch(now), to_epoch(now))
                for text in texts
            ],
        )

    async def enqueue_breaking(self, entry_id: int, *, now: dt.datetime) -> tuple[int, int]:
        """Queue an entry to every active chat that doesn't have it: (queued, already had it)."""
        async with self._db.transaction() as sql:
            cursor = await sql.execute(
                """
                INSERT INTO outbox (chat_id, kind, priority, entry_id, not_before, created_at)
                SELECT id, 'breaking', ?, ?, ?, ? FROM chats WHERE inactive_reason IS NULL
                ON CONFLICT (chat_id, entry_id) WHERE entry_id IS NOT NULL DO NOTHING
                """,
                (PRIORITY[MessageKind.BREAKING], entry_id, to_epoch(now), to_epoch(now)),
            )
            queued = cursor.rowcount
            cursor = await sql.execute("SELECT COUNT(*) FROM chats WHERE inactive_reason IS NULL")
            row = await cursor.fetchone()
        active = int(row[0]) if row else 0
        return queued, active - queued

    # What the sender reads

    async def due_heads(self, *, now: dt.datetime, limit: int) -> list[OutboxMessage]:
        """Each chat's oldest pending message, if it may go now; most urgent kinds first.

        Only the oldest, so a message deferred after a 429 is never overtaken by a later
        one to the same chat.
        """
        rows = await self._db.fetchall(
            f"""
            SELECT {_MESSAGE} FROM {_MESSAGE_FROM}
            JOIN (SELECT MIN(id) AS head FROM outbox WHERE state = 'pending' GROUP BY chat_id)
                ON o.id = head
            WHERE o.not_before <= ?
            ORDER BY o.priority, o.id
            LIMIT ?
            """,
            (to_epoch(now), limit),
        )
        return [_message(row) for row in rows]

    async def waiting_alerts(
        self, chat_id: int, *, now: dt.datetime, limit: int
    ) -> list[OutboxMessage]:
        """The chat's pending alerts that may go now, oldest first."""
        rows = await self._db.fetchall(
            f"""
            SELECT {_MESSAGE} FROM {_MESSAGE_FROM}
            WHERE o.chat_id = ? AND o.state = 'pending' AND o.kind = 'alert'
                AND o.not_before <= ?
            ORDER BY o.id LIMIT ?
            """,
            (chat_id, to_epoch(now), limit),
        )
        return [_message(row) for row in rows]

    async def still_pending(self, outbox_ids: Sequence[int]) -> set[int]:
        marks = ",".join("?" * len(outbox_ids))
        rows = await self._db.fetchall(
            f"SELECT id FROM outbox WHERE id IN ({marks}) AND state = 'pending'",
            tuple(outbox_ids),
        )
        return {row[0] for row in rows}

    async def next_due_at(self) -> dt.datetime | None:
        value = await self._db.fetchvalue(
            "SELECT MIN(not_before) FROM outbox WHERE state = 'pending'"
        )
        return None if value is None else from_epoch(value)

    # What the sender writes

    async def mark_sent(
        self, outbox_ids: Sequence[int], *, now: dt.datetime, message_id: int | None
    ) -> None:
        async with self._db.transaction() as sql:
            await sql.executemany(
                "UPDATE outbox SET state = 'sent', sent_at = ?, message_id = ?,"
                " attempts = attempts + 1 WHERE id = ?",
                [(to_epoch(now), message_id, outbox_id) for outbox_id in outbox_ids],
            )

    async def defer(
        self, outbox_id: int, *, until: dt.datetime, error: str, count_attempt: bool = True
    ) -> None:
        await self._db.execute(
            "UPDATE outbox SET not_before = ?, last_error = ?, attempts = attempts + ?"
            " WHERE id = ? AND state = 'pending'",
            (to_epoch(until), error, int(count_attempt), outbox_id),
        )

    async def mark_failed(self, outbox_ids: Sequence[int], *, error: str) -> None:
        async with self._db.transaction() as sql:
            await sql.executemany(
                "UPDATE outbox SET state = 'failed', last_error = ?, attempts = attempts + 1"
                " WHERE id = ?",
                [(error, outbox_id) for outbox_id in outbox_ids],
            )

    async def chat_gone(self, chat_id: int, reason: InactiveReason, *, now: dt.datetime) -> int:
        """The chat blocked or removed the bot: mark it inactive and cancel what it had waiting."""
        async with self._db.transaction() as sql:
            await sql.execute(
                "UPDATE chats SET inactive_reason = ?, inactive_since = ?, updated_at = ?"
                " WHERE id = ? AND inactive_reason IS NULL",
                (reason.value, to_epoch(now), to_epoch(now), chat_id),
            )
            cursor = await sql.execute(
                "UPDATE outbox SET state = 'blocked', last_error = ?"
                " WHERE chat_id = ? AND state = 'pending'",
                (reason.value, chat_id),
            )
            return cursor.rowcount

    async def move_chat(self, old_id: int, new_id: int, *, now: dt.datetime) -> None:
        await ChatRepository(self._db).move(old_id, new_id, now=now)

    async def prune_sent(self, *, before: dt.datetime) -> int:
        return await self._db.execute(
            "DELETE FROM outbox WHERE state != 'pending' AND entry_id IS NULL AND created_at < ?",
            (to_epoch(before),),
        )

    # Numbers for /stats

    async def depth_by_kind(self) -> dict[MessageKind, int]:
        rows = await self._db.fetchall(
            "SELECT kind, COUNT(*) FROM outbox WHERE state = 'pending' GROUP BY kind"
        )
        return {MessageKind(row[0]): row[1] for row in rows}

    async def sent_since(self, moment: dt.datetime) -> int:
        return int(
            await self._db.fetchvalue(
                "SELECT COUNT(*) FROM outbox WHERE state = 'sent' AND sent_at >= ?",
                (to_epoch(moment),),
            )
        )

    async def failed_since(self, moment: dt.datetime) -> int:
        return int(
            await self._db.fetchvalue(
                "SELECT COUNT(*) FROM outbox WHERE state = 'failed' AND created_at >= ?",
                (to_epoch(moment),),
            )
        )

    # Broadcasts

    async def create_broadcast(
        self, admin_chat_id: int, text: str, *, now: dt.datetime
    ) -> Broadcast:
        async with self._db.transaction() as sql:
            cursor = await sql.execute(
                "INSERT INTO broadcasts (admin_chat_id, text, created_at) VALUES (?, ?, ?)"
                f" RETURNING {_BROADCAST}",
                (admin_chat_id, text, to_epoch(now)),
            )
            row = await cursor.fetchone()
        return _broadcast(row)

    async def broadcast(self, broadcast_id: int) -> Broadcast | None:
        row = await self._db.fetchone(
            f"SELECT {_BROADCAST} FROM broadcasts WHERE id = ?", (broadcast_id,)
        )
        return None if row is None else _broadcast(row)

    async def set_progress_message(self, broadcast_id: int, message_id: int) -> None:
        await self._db.execute(
            "UPDATE broadcasts SET progress_message_id = ? WHERE id = ?",
            (message_id, broadcast_id),
        )

    async def start_broadcast(self, broadcast_id: int, *, now: dt.datetime) -> Broadcast | None:
        """Queue the draft to every active chat; None if it isn't a draft any more."""
        async with self._db.transaction() as sql:
            cursor = await sql.execute(
                "UPDATE broadcasts SET state = 'sending' WHERE id = ? AND state = 'draft'"
                " RETURNING text",
                (broadcast_id,),
            )
            row = await cursor.fetchone()
            if row is None:
                return None
            cursor = await sql.execute(
                """
                INSERT INTO outbox (chat_id, kind, priority, text, broadcast_id,
                                    not_before, created_at)
                SELECT id, 'broadcast', ?, ?, ?, ?, ? FROM chats WHERE inactive_reason IS NULL
                """,
                (
                    PRIORITY[MessageKind.BROADCAST],
                    row["text"],
                    broadcast_id,
                    to_epoch(now),
                    to_epoch(now),
                ),
            )
            await sql.execute(
                "UPDATE broadcasts SET audience = ? WHERE id = ?", (cursor.rowcount, broadcast_id)
            )
        return await self.broadcast(broadcast_id)

    async def cancel_broadcast(self, broadcast_id: int) -> Broadcast | None:
        """Stop what is not sent yet; None if the broadcast was already over."""
        async with self._db.transaction() as sql:
            cursor = await sql.execute(
                "UPDATE broadcasts SET state = 'cancelled'"
                " WHERE id = ? AND state IN ('draft', 'sending') RETURNING id",
                (broadcast_id,),
            )
            if await cursor.fetchone() is None:
                return None
            await sql.execute(
                "UPDATE outbox SET state = 'cancelled'"
                " WHERE broadcast_id = ? AND state = 'pending'",
                (broadcast_id,),
            )
        return await self.broadcast(broadcast_id)

    async def active_broadcasts(self) -> list[BroadcastProgress]:
        """Progress of broadcasts being sent, and of those just finished or cancelled."""
        rows = await self._db.fetchall(
            f"SELECT {_BROADCAST} FROM broadcasts WHERE progress_final = 0"
            " AND progress_message_id IS NOT NULL AND state != 'draft'"
        )
        return [await self._progress(_broadcast(row)) for row in rows]

    async def _progress(self, broadcast: Broadcast) -> BroadcastProgress:
        rows = await self._db.fetchall(
            "SELECT state, COUNT(*) FROM outbox WHERE broadcast_id = ? GROUP BY state",
            (broadcast.id,),
        )
        counts: dict[str, int] = {row[0]: row[1] for row in rows}
        return BroadcastProgress(
            broadcast,
            queued=counts.get("pending", 0),
            sent=counts.get("sent", 0),
            blocked=counts.get("blocked", 0),
            failed=counts.get("failed", 0),
            cancelled=counts.get("cancelled", 0),
        )

    async def progress_text(self, broadcast_id: int) -> str | None:
        value = await self._db.fetchvalue(
            "SELECT progress_text FROM broadcasts WHERE id = ?", (broadcast_id,)
        )
        return None if value is None else str(value)

    async def record_progress(self, broadcast_id: int, text: str, *, final: bool) -> None:
        """Remember what the progress message shows; a final one ends the reporting."""
        async with self._db.transaction() as sql:
            await sql.execute(
                "UPDATE broadcasts SET progress_text = ?, progress_final = ? WHERE id = ?",
                (text, int(final), broadcast_id),
            )
            if final:
                await sql.execute(
                    "UPDATE broadcasts SET state = 'done' WHERE id = ? AND state = 'sending'",
                    (broadcast_id,),
                )

    # Alerts held by quiet hours or a mute

    async def held(self, chat_id: int) -> list[tuple[Entry, tuple[str, ...]]]:
        """The chat's held alerts, oldest first, with the topics each matched."""
        rows = await self._db.fetchall(
            f"""
            SELECT h.topics AS held_topics, {ENTRY_COLUMNS}
            FROM held_alerts AS h
            JOIN entries AS e ON e.id = h.entry_id JOIN feeds AS f ON f.id = e.feed_id
            WHERE h.chat_id = ? ORDER BY e.published_at, e.id
            """,
            (chat_id,),
        )
        return [(entry_from_row(row), tuple(json.loads(row["held_topics"]))) for row in rows]

    async def release_held(
        self, chat_id: int, entry_ids: Sequence[int], texts: Sequence[str], *, now: dt.datetime
    ) -> None:
        """Replace the given held alerts with catch-up messages, in one transaction."""
        async with self._db.transaction() as sql:
            await sql.executemany(
                "DELETE FROM held_alerts WHERE chat_id = ? AND entry_id = ?",
                [(chat_id, entry_id) for entry_id in entry_ids],
            )
            await sql.executemany(
                "INSERT INTO outbox (chat_id, kind, priority, text, not_before, created_at)"
                " VALUES (?, 'catchup', ?, ?, ?, ?)",
                [
                    (chat_id, PRIORITY[MessageKind.CATCHUP], text, to_epoch(now), to_epoch(now))
                    for text in texts
                ],
            )
