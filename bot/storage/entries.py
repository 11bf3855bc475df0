"""Reading the archive of entries, and pruning it."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import aiosqlite

from bot.domain import Entry
from bot.storage.database import Database, from_epoch, to_epoch
from bot.storage.postgres import fulltext as postgres_fulltext
from bot.topics.fts import document

# Entries indexed in one write transaction: the tokens are made while it holds the writer,
# so it stays short (a few tens of milliseconds) and other writes slip in between batches.
INDEX_BATCH = 200
# On PostgreSQL a batch is one statement each way and no reader waits for it: larger
# batches save round trips.
POSTGRES_INDEX_BATCH = 1000

ENTRY_COLUMNS = (
    "e.id, e.feed_id, COALESCE(NULLIF(f.title, ''), f.url) AS feed_title, e.key, e.title,"
    " e.summary, e.link, e.author, e.published_at, e.first_seen_at, e.story, e.date_only"
)
ENTRY_FROM = "entries AS e JOIN feeds AS f ON f.id = e.feed_id"


async def delete_entries(
    sql: aiosqlite.Connection, entry_ids: Sequence[int], *, now: dt.datetime
) -> None:
    """Delete these entries inside the caller's transaction, remembering their keys.

    A feed that still lists a deleted entry must not make it new again.
    """
    if not entry_ids:
        return  # "IN ()" is SQLite's alone
    marks = ",".join("?" * len(entry_ids))
    await sql.execute(
        "INSERT INTO pruned_keys (feed_id, key, pruned_at)"
        f" SELECT feed_id, key, ? FROM entries WHERE id IN ({marks})"
        " ON CONFLICT (feed_id, key) DO UPDATE SET pruned_at = excluded.pruned_at",
        (to_epoch(now), *entry_ids),
    )
    await sql.execute(f"DELETE FROM entries WHERE id IN ({marks})", tuple(entry_ids))


def entry_from_row(row: Any) -> Entry:
    return Entry(
        id=row["id"],
        feed_id=row["feed_id"],
        feed_title=row["feed_title"],
        key=row["key"],
        title=row["title"],
        summary=row["summary"],
        link=row["link"],
        author=row["author"],
        published_at=from_epoch(row["published_at"]),
        first_seen_at=from_epoch(row["first_seen_at"]),
        story=row["story"],
        date_only=bool(row["date_only"]),
    )


class EntryRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def get(self, entry_id: int) -> Entry | None:
        row = await self._db.fetchone(
            f"SELECT {ENTRY_COLUMNS} FROM {ENTRY_FROM} WHERE e.id = ?", (entry_id,)
        )
        return None if row is None else entry_from_row(row)

    async def by_link(self, link: str) -> Entry | None:
        row = await self._db.fetchone(
            f"SELECT {ENTRY_COLUMNS} FROM {ENTRY_FROM} WHERE e.link = ?"
            " ORDER BY e.published_at DESC LIMIT 1",
            (link,),
        )
        return None if row is None else entry_from_row(row)

    async def many(self, entry_ids: Sequence[int]) -> list[Entry]:
        if not entry_ids:
            return []
        marks = ",".join("?" * len(entry_ids))
        rows = await self._db.fetchall(
            f"SELECT {ENTRY_COLUMNS} FROM {ENTRY_FROM} WHERE e.id IN ({marks})",
            tuple(entry_ids),
        )
        return [entry_from_row(row) for row in rows]

    async def latest(
        self, *, limit: int, before: tuple[dt.datetime, int] | None = None
    ) -> list[Entry]:
        """The newest stories, newest first; ``before`` is the (published_at, id) to page from.

        A story several entries tell (a cluster) is listed once, as its newest entry, so it
        appears once however the listing is paged.
        """
        newest_of_story = (
            "NOT EXISTS (SELECT 1 FROM entries AS n WHERE n.story = e.story"
            " AND (n.published_at, n.id) > (e.published_at, e.id))"
        )
        if before is None:
            rows = await self._db.fetchall(
                f"SELECT {ENTRY_COLUMNS} FROM {ENTRY_FROM} WHERE {newest_of_story}"
                " ORDER BY e.published_at DESC, e.id DESC LIMIT ?",
                (limit,),
            )
        else:
            rows = await self._db.fetchall(
                f"SELECT {ENTRY_COLUMNS} FROM {ENTRY_FROM}"
                f" WHERE (e.published_at, e.id) < (?, ?) AND {newest_of_story}"
                " ORDER BY e.published_at DESC, e.id DESC LIMIT ?",
                (to_epoch(before[0]), before[1], limit),
            )
        return [entry_from_row(row) for row in rows]

    async def other_sources(self, entries: Sequence[Entry]) -> dict[int, tuple[str, ...]]:
        """For each entry, the other feeds that told its story, in the order they did."""
        stories = sorted({entry.story for entry in entries})
        if not stories:
            return {}
        marks = ", ".join("?" * len(stories))
        rows = await self._db.fetchall(
            "SELECT e.story, COALESCE(NULLIF(f.title, ''), f.url) AS name, MIN(e.id) AS first"
            f" FROM {ENTRY_FROM} WHERE e.story IN ({marks})"
            " GROUP BY e.story, e.feed_id, f.title, f.url ORDER BY first",
            tuple(stories),
        )
        names: dict[str, list[str]] = {}
        for row in rows:
            names.setdefault(row["story"], []).append(row["name"])
        return {
            entry.id: tuple(
                dict.fromkeys(
                    name for name in names.get(entry.story, ()) if name != entry.feed_title
                )
            )
            for entry in entries
        }

    async def unrouted(self, *, limit: int) -> list[Entry]:
        """Entries waiting to be matched against topics, in publication order.

        The full-text index catches up first, so an entry is searchable by the time its
        alerts go out.
        """
        await self.index_pending()
        rows = await self._db.fetchall(
            f"SELECT {ENTRY_COLUMNS} FROM {ENTRY_FROM} WHERE e.routed = 0"
            " ORDER BY e.published_at, e.id LIMIT ?",
            (limit,),
        )
        return [entry_from_row(row) for row in rows]

    async def count(self) -> int:
        return int(await self._db.fetchvalue("SELECT COUNT(*) FROM entries"))

    async def recent(
        self, *, after_id: int, seen_since: dt.datetime, limit: int
    ) -> list[tuple[Entry, bool]]:
        """Entries stored after ``after_id`` and first seen at or after ``seen_since``, with
        whether each is routed; oldest first, the newest ``limit`` at most.

        Read backwards along the primary key in pages, stopping at the first entry seen
        before ``seen_since``: ids follow arrival, so no index on the time is needed.
        """
        since = to_epoch(seen_since)
        found: list[tuple[Entry, bool]] = []
        below = 2**62
        while len(found) < limit:
            rows = await self._db.fetchall(
                f"SELECT {ENTRY_COLUMNS}, e.routed FROM {ENTRY_FROM}"
                " WHERE e.id > ? AND e.id < ? ORDER BY e.id DESC LIMIT ?",
                (after_id, below, min(INDEX_BATCH * 5, limit - len(found))),
            )
            found.extend(
                (entry_from_row(row), bool(row["routed"]))
                for row in rows
                if row["first_seen_at"] >= since
            )
            if not rows or rows[-1]["first_seen_at"] < since:
                break
            below = rows[-1]["id"]
        found.reverse()
        return found

    async def prune(self, *, published_before: dt.datetime, now: dt.datetime) -> int:
        """Delete entries published before the cutoff, remembering their keys; how many.

        In short batches (``Database.in_batches``): each entry takes its messages, their
        items and its ledger rows with it through indexed foreign keys.
        """
        cutoff = to_epoch(published_before)

        async def step(sql: aiosqlite.Connection, limit: int) -> int:
            cursor = await sql.execute(
                "SELECT id FROM entries WHERE published_at < ? ORDER BY published_at LIMIT ?",
                (cutoff, limit),
            )
            ids = [row[0] for row in await cursor.fetchall()]
            await delete_entries(sql, ids, now=now)
            return len(ids)

        deleted = await self._db.in_batches(step)

        async def forget(sql: aiosqlite.Connection, limit: int) -> int:
            # A key pruned a year ago will not be listed by any feed any more.
            cursor = await sql.execute(
                "DELETE FROM pruned_keys WHERE (feed_id, key) IN (SELECT feed_id, key"
                " FROM pruned_keys WHERE pruned_at < ? LIMIT ?)",
                (to_epoch(now - dt.timedelta(days=365)), limit),
            )
            return cursor.rowcount

        await self._db.in_batches(forget)
        return deleted

    async def index_pending(self) -> int:
        """Index every entry added or edited since the last call, newest first; returns how
        many. Triggers queue them (migration 0011): only Python can make Herald's tokens."""
        if self._db.dialect == "postgresql":
            return await postgres_fulltext.index_pending(self._db, batch=POSTGRES_INDEX_BATCH)
        indexed = 0
        while await self._db.fetchvalue("SELECT EXISTS (SELECT 1 FROM entries_fts_pending)"):
            # Reading the queue inside the write transaction: an edit can't slip in between
            # reading an entry and marking it indexed, and be lost.
            async with self._db.transaction() as sql:
                async with sql.execute(
                    "SELECT p.entry_id, e.title, e.summary, e.link, e.feed_id"
                    " FROM entries_fts_pending AS p LEFT JOIN entries AS e ON e.id = p.entry_id"
                    " ORDER BY p.entry_id DESC LIMIT ?",
                    (INDEX_BATCH,),
                ) as cursor:
                    rows = list(await cursor.fetchall())
                ids = [(row["entry_id"],) for row in rows]
                documents = [
                    (
                        row["entry_id"],
                        *document(
                            row["title"], row["summary"], link=row["link"], feed_id=row["feed_id"]
                        ),
                    )
                    for row in rows
                    if row["title"] is not None  # gone since it was queued: nothing to index
                ]
                await sql.executemany("DELETE FROM entries_fts WHERE rowid = ?", ids)
                await sql.executemany(
                    "INSERT INTO entries_fts (rowid, title, summary, source) VALUES (?, ?, ?, ?)",
                    documents,
                )
                await sql.executemany("DELETE FROM entries_fts_pending WHERE entry_id = ?", ids)
            indexed += len(documents)
        return indexed

    async def newest_matches(
        self,
        expression: str,
        *,
        limit: int,
        before_id: int | None = None,
        published_since: dt.datetime | None = None,
        seen_since: dt.datetime | None = None,
        seen_before: dt.datetime | None = None,
    ) -> list[Entry]:
        """The newest ``limit`` entries the FTS5 ``expression`` finds, newest first.

        Newest means last to arrive: entry ids follow arrival, so the full-text index is
        read backwards and stops after ``limit`` rows, however common the words; sorting
        every match of a common word by date would read hundreds of thousands of rows.
        The optional bounds then narrow those ``limit`` rows: published at or after
        ``published_since``, first seen after ``seen_since`` and at or before
        ``seen_before``.
        """
        await self.index_pending()
        if self._db.dialect == "postgresql":
            return await self._newest_on_postgres(
                expression,
                limit=limit,
                before_id=before_id,
                published_since=published_since,
                seen_since=seen_since,
                seen_before=seen_before,
            )
        rows = await self._db.fetchall(
            f"""
            WITH newest AS (
                SELECT rowid FROM entries_fts
                WHERE entries_fts MATCH :expression AND rowid < :before
                ORDER BY rowid DESC LIMIT :limit
            )
            SELECT {ENTRY_COLUMNS} FROM newest
            JOIN entries AS e ON e.id = newest.rowid JOIN feeds AS f ON f.id = e.feed_id
            WHERE e.published_at >= :published
                AND e.first_seen_at > :seen AND e.first_seen_at <= :seen_before
            ORDER BY e.id DESC
            """,
            {
                "expression": expression,
                "before": before_id if before_id is not None else 2**62,
                "limit": limit,
                "published": to_epoch(published_since) if published_since else float("-inf"),
                "seen": to_epoch(seen_since) if seen_since else float("-inf"),
                "seen_before": to_epoch(seen_before) if seen_before else float("inf"),
            },
        )
        return [entry_from_row(row) for row in rows]

    async def ranked_matches(self, expression: str, *, window: int) -> list[tuple[int, str]]:
        """(entry id, story) of the entries the FTS5 ``expression`` finds, best first,
        among its newest ``window``.

        Ranking every match of a common word over a million entries would take far longer
        than a reply may; news readers want recent stories anyway, so bm25 (title weighted
        four times the text, the source not at all) orders the newest ``window`` matches,
        newer first on a tie. Each comes with its story, for /search to keep one entry a
        story (pruned entries are left out).
        """
        await self.index_pending()
        if self._db.dialect == "postgresql":
            found = await postgres_fulltext.newest(
                self._db,
                postgres_fulltext.tsquery(expression),
                limit=window,
                before=2**62,
                ranked=True,
            )
            # Higher ts_rank is better (bm25 is lower-better): the same order as SQLite's.
            found.sort(key=lambda match: (-match.rank, -match.entry_id))
            return [(match.entry_id, match.story) for match in found]
        rows = await self._db.fetchall(
            """
            WITH recent AS (
                SELECT rowid, bm25(entries_fts, 4.0, 1.0, 0.0) AS score FROM entries_fts
                WHERE entries_fts MATCH :expression
                ORDER BY rowid DESC LIMIT :window
            )
            SELECT recent.rowid, e.story FROM recent JOIN entries AS e ON e.id = recent.rowid
            ORDER BY recent.score, recent.rowid DESC
            """,
            {"expression": expression, "window": window},
        )
        return [(row[0], row[1]) for row in rows]

    async def _newest_on_postgres(
        self,
        expression: str,
        *,
        limit: int,
        before_id: int | None,
        published_since: dt.datetime | None,
        seen_since: dt.datetime | None,
        seen_before: dt.datetime | None,
    ) -> list[Entry]:
        found = await postgres_fulltext.newest(
            self._db,
            postgres_fulltext.tsquery(expression),
            limit=limit,
            before=before_id if before_id is not None else 2**62,
        )
        if not found:
            return []
        rows = await self._db.fetchall(
            f"SELECT {ENTRY_COLUMNS} FROM {ENTRY_FROM}"
            " WHERE e.id IN (SELECT value FROM json_each(:ids))"
            " AND e.published_at >= :published"
            " AND e.first_seen_at > :seen AND e.first_seen_at <= :seen_before"
            " ORDER BY e.id DESC",
            {
                "ids": json.dumps([match.entry_id for match in found]),
                "published": to_epoch(published_since) if published_since else float("-inf"),
                "seen": to_epoch(seen_since) if seen_since else float("-inf"),
                "seen_before": to_epoch(seen_before) if seen_before else float("inf"),
            },
        )
        return [entry_from_row(row) for row in rows]

    async def save_search(
        self,
        chat_id: int,
        query: str,
        *,
        now: dt.datetime,
        results: Sequence[int] | None = None,
    ) -> int:
        """Keep a search for its buttons: the query and, for /search, its result ids."""
        async with self._db.transaction() as sql:
            cursor = await sql.execute(
                "INSERT INTO searches (chat_id, query, created_at, results) VALUES (?, ?, ?, ?)"
                " RETURNING id",
                (
                    chat_id,
                    query,
                    to_epoch(now),
                    None if results is None else json.dumps(list(results)),
                ),
            )
            row = await cursor.fetchone()
            assert row is not None
            search_id = int(row[0])
            # Buttons on old listings stop working after a week; nobody pages that far back.
            await sql.execute(
                "DELETE FROM searches WHERE created_at < ?",
                (to_epoch(now - dt.timedelta(days=7)),),
            )
        return search_id

    async def saved_search(self, search_id: int, chat_id: int) -> str | None:
        value = await self._db.fetchvalue(
            "SELECT query FROM searches WHERE id = ? AND chat_id = ?", (search_id, chat_id)
        )
        return None if value is None else str(value)

    async def saved_results(self, search_id: int, chat_id: int) -> list[int] | None:
        """The result ids a search kept at its first page; None if it expired."""
        value = await self._db.fetchvalue(
            "SELECT results FROM searches WHERE id = ? AND chat_id = ?", (search_id, chat_id)
        )
        return None if value is None else [int(entry_id) for entry_id in json.loads(value)]
