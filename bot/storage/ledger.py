"""The delivery ledger: which story reached which chat, the one place that is asked."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import aiosqlite

from bot.storage.database import Database, to_epoch

# Outbox states in which a message is still on its way to its chat.
ON_ITS_WAY = ("pending", "held", "for_digest")


def story_reached(
    chat: str, story: str, *, waiting: Sequence[str] = ON_ITS_WAY, thread: str | None = None
) -> str:
    """SQL that is true when the chat was pushed the story, or a message carrying it waits.

    ``chat``, ``story`` and ``thread`` are SQL expressions (a column or a parameter);
    ``waiting`` names the outbox states that count as "on its way" (none: only what was
    delivered counts). With ``thread``, only that forum thread of the chat counts: a story
    matched by topics in two threads reaches each once. Without it, any thread does.
    Every path that pushes a story to a chat (alerts, catch-ups, breaking pushes) asks this,
    so no path can send a story another path already sent or queued.
    """
    in_ledger = "" if thread is None else f" AND l.thread_id = {thread}"
    in_outbox = "" if thread is None else f" AND q.thread_id = {thread}"
    delivered = (
        f"EXISTS (SELECT 1 FROM ledger AS l WHERE l.chat_id = {chat} AND l.story = {story}"
        f" AND l.channel = 'push'{in_ledger})"
    )
    if not waiting:
        return f"({delivered})"
    states = ", ".join(f"'{state}'" for state in waiting)
    queued = (
        "EXISTS (SELECT 1 FROM outbox_items AS i JOIN outbox AS q ON q.id = i.outbox_id"
        f" WHERE i.chat_id = {chat} AND i.story = {story} AND q.kind != 'digest'"
        f" AND q.state IN ({states}){in_outbox})"
    )
    return f"({delivered} OR {queued})"


def digested(chat: str, entry: str) -> str:
    """SQL that is true when a digest listed the entry's story to the chat, or will."""
    return (
        "(EXISTS (SELECT 1 FROM ledger AS l JOIN entries AS s ON s.id = "
        f"{entry} WHERE l.chat_id = {chat} AND l.story = s.story AND l.channel = 'digest')"
        " OR EXISTS (SELECT 1 FROM outbox_items AS i JOIN outbox AS q ON q.id = i.outbox_id"
        f" WHERE i.chat_id = {chat} AND i.entry_id = {entry} AND q.kind = 'digest'"
        " AND q.state = 'pending'))"
    )


async def record_delivered(
    sql: aiosqlite.Connection, outbox_ids: Sequence[int], *, now: dt.datetime
) -> None:
    """Write the ledger rows for messages Telegram accepted, inside the caller's transaction."""
    if not outbox_ids:
        return  # "IN ()" is SQLite's alone
    marks = ",".join("?" * len(outbox_ids))
    await sql.execute(
        f"""
        INSERT OR IGNORE INTO ledger (chat_id, thread_id, story, channel, entry_id, kind,
                                      outbox_id, delivered_at)
        SELECT i.chat_id, o.thread_id, i.story,
               CASE o.kind WHEN 'digest' THEN 'digest' ELSE 'push' END,
               i.entry_id, o.kind, o.id, ?
        FROM outbox_items AS i JOIN outbox AS o ON o.id = i.outbox_id
        WHERE i.outbox_id IN ({marks})
        """,
        (to_epoch(now), *outbox_ids),
    )


async def carry(
    sql: aiosqlite.Connection, outbox_id: int, chat_id: int, entry_ids: Sequence[int]
) -> None:
    """Record that a message (a catch-up, a digest) carries these entries."""
    await sql.executemany(
        "INSERT OR IGNORE INTO outbox_items (outbox_id, entry_id, chat_id, story)"
        " SELECT ?, id, ?, story FROM entries WHERE id = ?",
        [(outbox_id, chat_id, entry_id) for entry_id in entry_ids],
    )


class LedgerRepository:
    """Questions about what reached a chat, in the ledger's words."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def pushed(self, chat_id: int, entry_id: int) -> bool:
        """Whether the chat was pushed this entry's story, by any path."""
        value = await self._db.fetchvalue(
            "SELECT "
            + story_reached(":chat", "e.story", waiting=())
            + " FROM entries AS e WHERE e.id = :entry",
            {"chat": chat_id, "entry": entry_id},
        )
        return bool(value)

    async def deliveries(self, chat_id: int) -> list[tuple[int, str, str]]:
        """(entry id, channel, kind) of everything that reached the chat, oldest first."""
        rows = await self._db.fetchall(
            "SELECT entry_id, channel, kind FROM ledger WHERE chat_id = ?"
            " ORDER BY delivered_at, entry_id",
            (chat_id,),
        )
        return [(row[0], row[1], row[2]) for row in rows]
