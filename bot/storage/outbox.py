"""The outbox: every pushed message, durable before any attempt to send it."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import Any

import aiosqlite

from bot.domain import (
    PRIORITY,
    AlertEdit,
    Broadcast,
    BroadcastProgress,
    BroadcastState,
    ChatKind,
    Entry,
    InactiveReason,
    LinkPreview,
    MessageKind,
    OutboxMessage,
    default_preview,
)
from bot.storage.chats import ChatRepository, hold_in, holding
from bot.storage.database import Database, from_epoch, to_epoch
from bot.storage.entries import ENTRY_COLUMNS, entry_from_row
from bot.storage.ledger import MOST_EDITS, carry, digested, record_delivered, story_reached

_MESSAGE = """
    o.id AS outbox_id, o.chat_id, o.kind, o.attempts, o.first_failed_at, o.topics,
    o.text AS outbox_text, o.broadcast_id, o.thread_id, o.topic_ids, o.silent, c.timezone,
    c.kind AS chat_kind, c.link_preview,
    e.id, e.feed_id, COALESCE(NULLIF(f.title, ''), f.url) AS feed_title, e.key, e.title,
    e.summary, e.link, e.author, e.published_at, e.first_seen_at, e.story, e.date_only
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
        failing_since=None
        if row["first_failed_at"] is None
        else from_epoch(row["first_failed_at"]),
        timezone=row["timezone"],
        entry=None if row["id"] is None else entry_from_row(row),
        topics=tuple(json.loads(row["topics"])),
        text=row["outbox_text"],
        broadcast_id=row["broadcast_id"],
        thread_id=row["thread_id"],
        chat_kind=ChatKind(row["chat_kind"]),
        preview=(
            LinkPreview(row["link_preview"])
            if row["link_preview"]
            else default_preview(ChatKind(row["chat_kind"]))
        ),
        topic_ids=tuple(json.loads(row["topic_ids"])),
        silent=bool(row["silent"]),
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
        """Queue (chat, entry, matched topics) alerts; a story a chat had or awaits is skipped.

        Returns how many were queued.
        """
        queued = 0
        async with self._db.transaction() as sql:
            for chat_id, entry_id, topics in alerts:
                cursor = await sql.execute(
                    f"""
                    INSERT INTO outbox (chat_id, kind, priority, entry_id, topics,
                                        not_before, created_at)
                    SELECT :chat, 'alert', :priority, e.id, :topics, :now, :now
                    FROM entries AS e
                    WHERE e.id = :entry AND NOT {story_reached(":chat", "e.story")}
                    """,
                    {
                        "chat": chat_id,
                        "priority": PRIORITY[MessageKind.ALERT],
                        "entry": entry_id,
                        "topics": json.dumps(list(topics)),
                        "now": to_epoch(now),
                    },
                )
                queued += cursor.rowcount
        return queued

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
        """Queue an entry to every active chat without its story: (queued, already had it).

        A chat that was pushed the story by any path, or has it queued to go now, counts as
        having it; a story held for a muted chat's catch-up does not, since breaking news
        isn't held (the catch-up then leaves it out).
        """
        async with self._db.transaction() as sql:
            cursor = await sql.execute(
                f"""
                INSERT INTO outbox (chat_id, kind, priority, entry_id, not_before, created_at)
                SELECT c.id, 'breaking', :priority, e.id, :now, :now
                FROM chats AS c JOIN entries AS e ON e.id = :entry
                WHERE c.inactive_reason IS NULL
                    AND NOT {story_reached("c.id", "e.story", waiting=("pending",))}
                """,
                {
                    "priority": PRIORITY[MessageKind.BREAKING],
                    "entry": entry_id,
                    "now": to_epoch(now),
                },
            )
            queued = cursor.rowcount
            cursor = await sql.execute("SELECT COUNT(*) FROM chats WHERE inactive_reason IS NULL")
            row = await cursor.fetchone()
        active = int(row[0]) if row else 0
        return queued, active - queued

    # What the sender reads

    async def due_heads(self, *, now: dt.datetime, limit: int) -> list[OutboxMessage]:
        """Each active chat's oldest message that may go now; most urgent kinds first.

        A message waiting out a retry delay doesn't hold back the rest of its chat's queue
        (a 429 holds the whole chat through the pacer instead). Alerts of a chat whose
        quiet hours or mute have begun are left for the hold to take.
        """
        rows = await self._db.fetchall(
            f"""
            SELECT {_MESSAGE} FROM {_MESSAGE_FROM}
            JOIN (
                SELECT MIN(d.id) AS head FROM outbox AS d JOIN chats AS h ON h.id = d.chat_id
                WHERE d.state = 'pending' AND d.not_before <= :now
                    AND h.inactive_reason IS NULL
                    AND NOT (d.kind = 'alert' AND {holding("h", ":now")})
                GROUP BY d.chat_id
            ) ON o.id = head
            ORDER BY o.priority, o.id
            LIMIT :limit
            """,
            {"now": to_epoch(now), "limit": limit},
        )
        return [_message(row) for row in rows]

    async def waiting_alerts(
        self, chat_id: int, *, now: dt.datetime, limit: int, thread_id: int = 0
    ) -> list[OutboxMessage]:
        """The chat's pending alerts for one thread that may go now, oldest first."""
        rows = await self._db.fetchall(
            f"""
            SELECT {_MESSAGE} FROM {_MESSAGE_FROM}
            WHERE o.chat_id = :chat AND o.state = 'pending' AND o.kind = 'alert'
                AND o.thread_id = :thread AND o.not_before <= :now
                AND NOT {holding("c", ":now")}
            ORDER BY o.id LIMIT :limit
            """,
            {"chat": chat_id, "thread": thread_id, "now": to_epoch(now), "limit": limit},
        )
        return [_message(row) for row in rows]

    async def alert_topics(
        self, outbox_id: int, *, chat_id: int, message_id: int
    ) -> tuple[int, ...] | None:
        """The topics that matched the alert sent as this message of this chat; None once
        the row is pruned, or if it is not that message."""
        row = await self._db.fetchone(
            # A press may come before the send is recorded (message_id still NULL).
            "SELECT topic_ids FROM outbox WHERE id = ? AND kind = 'alert' AND chat_id = ?"
            " AND (message_id IS NULL OR message_id = ?)",
            (outbox_id, chat_id, message_id),
        )
        return None if row is None else tuple(json.loads(row[0]))

    async def still_pending(self, outbox_ids: Sequence[int]) -> set[int]:
        if not outbox_ids:
            return set()  # "IN ()" is SQLite's alone
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

    async def due_edits(self, *, limit: int) -> list[AlertEdit]:
        """Sent alerts waiting to be edited to name their story's other outlets, oldest first.

        Only active chats' alerts, and only while the alert's entry is stored.
        """
        rows = await self._db.fetchall(
            f"""
            SELECT {_MESSAGE}, a.sources, a.edits, o.message_id AS sent_as
            FROM {_MESSAGE_FROM} JOIN alert_sources AS a ON a.outbox_id = o.id
            WHERE a.due = 1 AND c.inactive_reason IS NULL
                AND e.id IS NOT NULL
            ORDER BY a.outbox_id LIMIT ?
            """,
            (limit,),
        )
        return [
            AlertEdit(
                alert=_message(row),
                message_id=row["sent_as"],
                sources=tuple(json.loads(row["sources"])),
                edits=row["edits"],
            )
            for row in rows
        ]

    async def edited(self, outbox_id: int, *, shown: int) -> None:
        """The alert now names its first ``shown`` sources; another edit waits if more came
        meanwhile and it may still be edited."""
        async with self._db.transaction() as sql:
            await sql.execute(
                """
                UPDATE alert_sources SET
                    shown = :shown, edits = edits + 1,
                    due = CASE WHEN json_array_length(sources) > :shown AND edits + 1 < :most
                          THEN 1 ELSE 0 END
                WHERE outbox_id = :id
                """,
                {"shown": shown, "most": MOST_EDITS, "id": outbox_id},
            )

    async def edit_given_up(self, outbox_id: int) -> None:
        """The alert can't be edited (deleted, too old): no edit waits for it any more."""
        async with self._db.transaction() as sql:
            await sql.execute(
                "UPDATE alert_sources SET due = 0, edits = ? WHERE outbox_id = ?",
                (MOST_EDITS, outbox_id),
            )

    # What the sender writes

    async def mark_sent(
        self, outbox_ids: Sequence[int], *, now: dt.datetime, message_id: int | None
    ) -> None:
        """Telegram accepted one message carrying these rows: mark them and write the ledger.

        Whatever state a row is in now (a mute may have moved it to held meanwhile), it was
        delivered, so it is marked sent.
        """
        async with self._db.transaction() as sql:
            await sql.executemany(
                "UPDATE outbox SET state = 'sent', sent_at = ?, message_id = ?,"
                " attempts = attempts + 1 WHERE id = ?",
                [(to_epoch(now), message_id, outbox_id) for outbox_id in outbox_ids],
            )
            await record_delivered(sql, outbox_ids, now=now)

    async def defer(
        self,
        outbox_id: int,
        *,
        until: dt.datetime,
        error: str,
        count_attempt: bool = True,
        now: dt.datetime | None = None,
    ) -> None:
        """Try the message again at ``until``; a counted attempt starts its failure clock."""
        failed_at = None if now is None or not count_attempt else to_epoch(now)
        await self._db.execute(
            "UPDATE outbox SET not_before = ?, last_error = ?, attempts = attempts + ?,"
            " first_failed_at = COALESCE(first_failed_at, ?)"
            " WHERE id = ? AND state = 'pending'",
            (to_epoch(until), error, int(count_attempt), failed_at, outbox_id),
        )

    async def mark_failed(
        self, outbox_ids: Sequence[int], *, error: str, now: dt.datetime
    ) -> None:
        """Give up on these messages; /stats counts them and admins are told."""
        async with self._db.transaction() as sql:
            await sql.executemany(
                "UPDATE outbox SET state = 'failed', last_error = ?, attempts = attempts + 1,"
                " failed_at = ? WHERE id = ?",
                [(error, to_epoch(now), outbox_id) for outbox_id in outbox_ids],
            )

    async def chat_gone(self, chat_id: int, reason: InactiveReason, *, now: dt.datetime) -> int:
        """The chat blocked or removed the bot: mark it inactive and cancel what it had waiting.

        A chat paused for lack of rights keeps its queue for when the rights come back;
        returns how many messages were cancelled.
        """
        async with self._db.transaction() as sql:
            await sql.execute(
                "UPDATE chats SET inactive_reason = ?, inactive_since = ?, updated_at = ?"
                " WHERE id = ? AND inactive_reason IS NULL",
                (reason.value, to_epoch(now), to_epoch(now), chat_id),
            )
            if reason is InactiveReason.NO_RIGHTS:
                await hold_in(sql, chat_id, now=now)
                return 0
            cursor = await sql.execute(
                "UPDATE outbox SET state = 'blocked', last_error = ?"
                " WHERE chat_id = ? AND state = 'pending'",
                (reason.value, chat_id),
            )
            return cursor.rowcount

    async def move_chat(self, old_id: int, new_id: int, *, now: dt.datetime) -> None:
        await ChatRepository(self._db).move(old_id, new_id, now=now)

    async def thread_gone(
        self, chat_id: int, thread_id: int, *, notice: str, now: dt.datetime
    ) -> bool:
        """A forum thread was deleted or closed: what went there goes to General from now on.

        In one transaction the thread's topics move to General, as do its waiting messages
        (those whose story General had or awaits are cancelled), the chat's digest thread
        if it was this one, and ``notice`` is queued to General. False, and nothing done,
        when nothing pointed at the thread any more (another send found it gone first).
        """
        async with self._db.transaction() as sql:
            moved = 0
            for statement in (
                # A topic General follows already stays, and its thread's copy goes.
                "UPDATE topics SET thread_id = 0 WHERE chat_id = ? AND thread_id = ?"
                " AND NOT EXISTS (SELECT 1 FROM topics AS g WHERE g.chat_id = topics.chat_id"
                " AND g.thread_id = 0 AND g.canonical = topics.canonical)",
                "DELETE FROM topics WHERE chat_id = ? AND thread_id = ?",
                "UPDATE chats SET digest_thread_id = 0 WHERE id = ? AND digest_thread_id = ?",
            ):
                cursor = await sql.execute(statement, (chat_id, thread_id))
                moved += cursor.rowcount
            await sql.execute(
                f"""
                UPDATE outbox SET state = 'cancelled', last_error = 'reached General already'
                WHERE chat_id = :chat AND thread_id = :thread AND state IN ('pending', 'held')
                    AND EXISTS (SELECT 1 FROM entries AS e WHERE e.id = outbox.entry_id
                        AND {story_reached(":chat", "e.story", thread="0")})
                """,
                {"chat": chat_id, "thread": thread_id},
            )
            cursor = await sql.execute(
                "UPDATE outbox SET thread_id = 0 WHERE chat_id = ? AND thread_id = ?"
                " AND state IN ('pending', 'held', 'for_digest')",
                (chat_id, thread_id),
            )
            moved += cursor.rowcount
            if moved:
                await sql.execute(
                    "INSERT INTO outbox (chat_id, thread_id, kind, priority, text, not_before,"
                    " created_at) VALUES (?, 0, 'notice', ?, ?, ?, ?)",
                    (chat_id, PRIORITY[MessageKind.NOTICE], notice, to_epoch(now), to_epoch(now)),
                )
        return moved > 0

    async def prune_sent(self, *, before: dt.datetime) -> int:
        """Delete messages that are over (sent, failed, cancelled) and older than ``before``.

        What reached each chat stays in the ledger, so an old alert's row isn't needed to
        keep its story from being pushed again. Deleted in short batches; returns how many.
        """

        async def step(sql: aiosqlite.Connection, limit: int) -> int:
            cursor = await sql.execute(
                "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE state IN"
                " ('sent', 'in_digest', 'blocked', 'failed', 'cancelled') AND created_at < ?"
                " LIMIT ?)",
                (to_epoch(before), limit),
            )
            return cursor.rowcount

        return await self._db.in_batches(step)

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

    async def failures_after(self, outbox_id: int) -> tuple[int, int]:
        """(how many, the last id) of the messages given up on after ``outbox_id``."""
        row = await self._db.fetchone(
            "SELECT COUNT(*), MAX(id) FROM outbox WHERE state = 'failed' AND id > ?",
            (outbox_id,),
        )
        assert row is not None
        return int(row[0]), int(row[1] or outbox_id)

    async def failed_since(self, moment: dt.datetime) -> int:
        return int(
            await self._db.fetchvalue(
                "SELECT COUNT(*) FROM outbox WHERE state = 'failed' AND failed_at >= ?",
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

    async def held(self, chat_id: int) -> list[tuple[int, Entry, tuple[str, ...]]]:
        """The chat's held alerts as (outbox id, entry, matched topics), oldest first.

        A held story that reached the chat meanwhile, or is about to (a breaking push), is
        left out. An entry held for two forum threads is listed once: the catch-up goes to
        one thread for the whole chat.
        """
        reached = story_reached(":chat", "e.story", waiting=("pending",))
        # One row per entry: a story held for two forum threads is listed once.
        first = (
            "o.id = (SELECT MIN(h.id) FROM outbox AS h WHERE h.chat_id = :chat"
            " AND h.state = 'held' AND h.entry_id = o.entry_id)"
        )
        return await self._waiting_alerts(chat_id, "held", also=f"{first} AND NOT {reached}")

    async def release_held(
        self,
        chat_id: int,
        *,
        listed: Sequence[tuple[int, int]],
        texts: Sequence[str],
        for_digest: Sequence[int],
        now: dt.datetime,
    ) -> None:
        """End a hold in one transaction: the catch-up replaces the alerts it lists.

        ``listed`` are (outbox id, entry id) of the held alerts the catch-up ``texts`` list;
        the first text carries their entries into the ledger. ``for_digest`` are outbox
        ids of held alerts past what one catch-up lists: the chat's next digest shows them.
        Alerts held since the caller read them go out as ordinary alerts, and those whose
        story reached the chat meanwhile are dropped.
        """
        async with self._db.transaction() as sql:
            await sql.execute("UPDATE chats SET held_since = NULL WHERE id = ?", (chat_id,))
            await sql.executemany(
                "DELETE FROM outbox WHERE id = ? AND state = 'held'",
                [(outbox_id,) for outbox_id, _ in listed],
            )
            await sql.executemany(
                "UPDATE outbox SET state = 'for_digest' WHERE id = ? AND state = 'held'",
                [(outbox_id,) for outbox_id in for_digest],
            )
            # The catch-up is queued before the remaining holds are judged, so a story it
            # carries (held for a second forum thread too) counts as on its way.
            await _queue_carrying(
                sql,
                chat_id,
                MessageKind.CATCHUP,
                texts,
                [entry_id for _, entry_id in listed],
                now=now,
            )
            await sql.execute(
                f"""
                UPDATE outbox SET state = 'cancelled', last_error = 'reached the chat already'
                WHERE chat_id = :chat AND state = 'held' AND (EXISTS (
                    SELECT 1 FROM entries AS e WHERE e.id = outbox.entry_id
                        AND {story_reached(":chat", "e.story", waiting=("pending",))}
                ) OR EXISTS (
                    SELECT 1 FROM outbox AS f WHERE f.chat_id = :chat
                        AND f.state = 'for_digest' AND f.entry_id = outbox.entry_id
                ))
                """,
                {"chat": chat_id},
            )
            await sql.execute(
                "UPDATE outbox SET state = 'pending' WHERE chat_id = ? AND state = 'held'",
                (chat_id,),
            )

    async def for_digest(self, chat_id: int) -> list[tuple[int, Entry, tuple[str, ...]]]:
        """Held alerts that one catch-up couldn't list, waiting for a digest; oldest first."""
        return await self._waiting_alerts(chat_id, "for_digest")

    async def _waiting_alerts(
        self, chat_id: int, state: str, *, also: str = "TRUE"
    ) -> list[tuple[int, Entry, tuple[str, ...]]]:
        rows = await self._db.fetchall(
            f"""
            SELECT o.id AS outbox_id, o.topics AS held_topics, {ENTRY_COLUMNS}
            FROM outbox AS o
            JOIN entries AS e ON e.id = o.entry_id JOIN feeds AS f ON f.id = e.feed_id
            WHERE o.chat_id = :chat AND o.state = :state AND {also}
            ORDER BY e.first_seen_at, e.id
            """,
            {"chat": chat_id, "state": state},
        )
        return [
            (row["outbox_id"], entry_from_row(row), tuple(json.loads(row["held_topics"])))
            for row in rows
        ]

    async def enqueue_digest(
        self,
        chat_id: int,
        texts: Sequence[str],
        *,
        entry_ids: Sequence[int],
        from_held: Sequence[int],
        now: dt.datetime,
        cursor: dt.datetime,
        day: str | None,
        next_digest_at: dt.datetime | None,
    ) -> None:
        """Queue a digest and move the chat's digest cursor, in one transaction.

        The first message carries ``entry_ids`` into the ledger; ``from_held`` (outbox ids
        of alerts waiting for a digest) are marked as shown. ``cursor`` is where the next
        digest's content starts; ``day`` (the local date of a scheduled digest) and
        ``next_digest_at`` are recorded when given, so a crash can't send one twice.
        """
        async with self._db.transaction() as sql:
            await _queue_carrying(sql, chat_id, MessageKind.DIGEST, texts, entry_ids, now=now)
            await sql.executemany(
                "UPDATE outbox SET state = 'in_digest' WHERE id = ? AND state = 'for_digest'",
                [(outbox_id,) for outbox_id in from_held],
            )
            await sql.execute(
                """
                UPDATE chats SET
                    last_digest_at = :until,
                    last_digest_day = COALESCE(:day, last_digest_day),
                    next_digest_at = COALESCE(:next, next_digest_at)
                WHERE id = :id
                """,
                {
                    "until": to_epoch(cursor),
                    "day": day,
                    "next": None if next_digest_at is None else to_epoch(next_digest_at),
                    "id": chat_id,
                },
            )

    async def digested(self, chat_id: int, entry_ids: Sequence[int]) -> set[int]:
        """Which of these entries a digest to the chat listed already, or will."""
        if not entry_ids:
            return set()
        rows = await self._db.fetchall(
            "SELECT e.id FROM entries AS e WHERE e.id IN (SELECT value FROM json_each(:ids))"
            f" AND {digested(':chat', 'e.id')}",
            {"chat": chat_id, "ids": json.dumps(list(entry_ids))},
        )
        return {row[0] for row in rows}


async def _queue_carrying(
    sql: aiosqlite.Connection,
    chat_id: int,
    kind: MessageKind,
    texts: Sequence[str],
    entry_ids: Sequence[int],
    *,
    now: dt.datetime,
) -> None:
    """Queue ``texts`` to the chat in order; the first carries ``entry_ids`` to the ledger."""
    for number, text in enumerate(texts):
        cursor = await sql.execute(
            "INSERT INTO outbox (chat_id, kind, priority, text, not_before, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (chat_id, kind.value, PRIORITY[kind], text, to_epoch(now), to_epoch(now)),
        )
        row = await cursor.fetchone()
        assert row is not None
        if number == 0:
            await carry(sql, row[0], chat_id, entry_ids)
