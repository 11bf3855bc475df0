"""The delivery ledger: which story reached which chat, the one place that is asked."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence

import aiosqlite

from bot.domain import Entry
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


# An alert names at most this many other outlets, and is edited at most this many times:
# each edit is a message's worth of the chat's budget, and a story that keeps coming from
# more outlets is not worth more than a few.
MOST_SOURCES = 5
MOST_EDITS = 3


async def name_source(sql: aiosqlite.Connection, entry: Entry) -> int:
    """Mark the alerts sent alone for the entry's story to name its feed; how many.

    Inside the caller's transaction, once the entry has joined its story's cluster. An
    alert sent in a merged list is left as it is (an edit would have to redraw the list),
    as is one whose own feed is the entry's, one naming ``MOST_SOURCES`` already, and one
    edited ``MOST_EDITS`` times.
    """
    # The alerts to name the source on; the lists themselves are judged here, in Python,
    # so the SQL stays the same on every backend.
    cursor = await sql.execute(
        """
        SELECT o.id, o.chat_id
        FROM entries AS s JOIN outbox AS o ON o.entry_id = s.id JOIN feeds AS f ON f.id = s.feed_id
        WHERE s.story = :story AND s.id != :entry AND o.kind = 'alert' AND o.state = 'sent'
            AND o.message_id IS NOT NULL
            AND COALESCE(NULLIF(f.title, ''), f.url) != :source
            AND NOT EXISTS (
                SELECT 1 FROM outbox AS m WHERE m.chat_id = o.chat_id AND m.kind = 'alert'
                    AND m.message_id = o.message_id AND m.id != o.id)
        """,
        {"source": entry.feed_title, "story": entry.story, "entry": entry.id},
    )
    named = 0
    for outbox_id, chat_id in list(await cursor.fetchall()):
        cursor = await sql.execute(
            "SELECT sources, edits FROM alert_sources WHERE outbox_id = ?", (outbox_id,)
        )
        row = await cursor.fetchone()
        if row is None:
            await sql.execute(
                "INSERT INTO alert_sources (outbox_id, chat_id, sources, due) VALUES (?, ?, ?, 1)",
                (outbox_id, chat_id, json.dumps([entry.feed_title])),
            )
            named += 1
            continue
        sources, edits = json.loads(row[0]), row[1]
        if entry.feed_title in sources or len(sources) >= MOST_SOURCES:
            continue
        await sql.execute(
            "UPDATE alert_sources SET sources = ?, due = ? WHERE outbox_id = ?",
            (json.dumps([*sources, entry.feed_title]), int(edits < MOST_EDITS), outbox_id),
        )
        named += 1
    return named


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
