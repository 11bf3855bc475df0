"""Every statement the bot runs per message or on a schedule is served by an index."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.domain import ChatKind
from bot.services.reading import ReadingService
from bot.storage.database import Database
from tests.services.conftest import StepClock
from tests.services.newsdesk import Newsdesk

# Tables that grow with the archive, the audience or time: a full scan of one freezes the
# bot once a real instance has millions of rows.
GROWING = {"entries", "outbox", "outbox_items", "ledger", "pruned_keys", "searches", "topics"}
# Partial indexes over rows waiting for work: they hold the queue, not the history.
BOUNDED_INDEXES = {"outbox_pending", "outbox_due", "outbox_waiting", "entries_unrouted"}
_ALIAS = re.compile(r"\b(?:FROM|JOIN)\s+(\w+)(?:\s+AS\s+(\w+))?", re.IGNORECASE)
_SCAN = re.compile(r"\bSCAN (\w+)(.*)")


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    """SQLite's: these tests read its query plans (EXPLAIN QUERY PLAN)."""
    db = await Database.open(tmp_path / "herald.db")
    try:
        yield db
    finally:
        await db.close()


async def run_a_day_of_work(desk: Newsdesk, clock: StepClock) -> None:
    """What a running bot does: polls, routing, sends, holds, digests, pushes, upkeep."""
    reading = ReadingService(desk.entries, clock=clock)
    await desk.publish(baseline=True)
    await desk.publish(baseline=True, feed_url="https://other.example/rss")
    await desk.chat(1, "Gaza", "Putin OR Kremlin")
    await desk.chat(2, "sanctions -Iran")
    await desk.chats.start(-100, ChatKind.SUPERGROUP, "Newsroom")
    await desk.topics.add(-100, "Gaza")
    await desk.topics.add(-100, "Kremlin", thread_id=7)
    clock.advance(minutes=1)
    await desk.publish("Gaza aid arrives", "Kremlin denies the report", "New sanctions")
    await desk.publish("Gaza aid arrives", feed_url="https://other.example/rss")
    await desk.deliver()
    await desk.outbox.thread_gone(-100, 7, notice="gone", now=clock())
    await desk.chat_repository.add_manager(-100, 1, now=clock())
    await desk.chats.managed_by(1)
    first = await desk.chats.get(1)
    assert first is not None
    await desk.quiet.mute(first, "1h")
    await desk.publish("Gaza talks resume")
    await desk.deliver()
    await desk.quiet.unmute(first)
    await desk.digests.set_digest(first, enabled=True, at=dt.time(8, 0))
    await desk.quiet.set_quiet_hours(first, "22:00-07:00")
    await desk.minute_job()
    await desk.digests.send_now(first)
    await desk.deliver()
    [entry] = await desk.publish("Putin in Beijing")
    await desk.broadcasts.breaking(str(entry))
    await desk.deliver()
    await reading.latest(1, 5)
    await reading.latest(1, 5, "Gaza")
    page = await reading.search(1, "Gaza aid")
    await reading.search_page(1, page.search_id, 1)
    await desk.notices.report_failures()
    clock.advance(days=100)
    await desk.entries.prune(published_before=clock() - dt.timedelta(days=90), now=clock())
    await desk.notices.prune()
    await desk.chats.stop(2)
    feed = await desk.feeds.by_url("https://other.example/rss")
    assert feed is not None
    await desk.feeds.remove(feed.id)


def full_scans(statement: str, plan: list[str]) -> list[str]:
    """The plan's scans of growing tables that read more than a bounded number of rows.

    An index scan is bounded when its index holds only waiting work, or when the index
    gives the order a LIMIT needs (no temporary sort), so reading stops after LIMIT rows.
    """
    aliases = {alias or table: table for table, alias in _ALIAS.findall(statement)}
    stops_early = "LIMIT" in statement.upper() and not any("TEMP B-TREE" in x for x in plan)
    scans = []
    for line in plan:
        found = _SCAN.search(line)
        if found is None or "VIRTUAL TABLE" in line:
            continue
        if aliases.get(found[1], found[1]) not in GROWING:
            continue
        index = re.search(r"USING (?:COVERING )?INDEX (\w+)", line)
        if index is not None and (index[1] in BOUNDED_INDEXES or stops_early):
            continue
        scans.append(line)
    return scans


async def test_no_statement_on_a_hot_or_scheduled_path_scans_a_growing_table(
    database: Database,
) -> None:
    clock = StepClock()
    statements: set[str] = set()

    def keep(statement: str) -> None:
        text = statement.strip()
        if (
            text
            and not text.startswith("--")
            and re.match(r"(?i)(SELECT|INSERT|UPDATE|DELETE|WITH)", text)
        ):
            statements.add(text)

    desk = Newsdesk(database, clock, admin_ids=(1,))
    await database.trace(keep)
    await run_a_day_of_work(desk, clock)
    await database.trace(None)

    offenders = {}
    for statement in sorted(statements):
        # The trace writes infinite bounds as Inf, which SQL spells 1e999.
        runnable = re.sub(r"\bInf\b", "1e999", statement)
        rows = await database.fetchall(f"EXPLAIN QUERY PLAN {runnable}")
        scans = full_scans(statement, [row[3] for row in rows])
        if scans:
            offenders[statement] = scans

    assert len(statements) > 40
    report = "\n\n".join(
        f"{' '.join(sql.split())}\n  -> {scans}" for sql, scans in offenders.items()
    )
    assert offenders == {}, report


async def test_every_foreign_key_deleted_or_updated_through_has_an_index(
    database: Database,
) -> None:
    tables = [
        row[0]
        for row in await database.fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE '%VIRTUAL%'"
            " AND name NOT LIKE 'entries_fts%'"
        )
    ]
    unindexed = []
    for table in tables:
        leading = {
            row[0]
            for row in await database.fetchall(
                "SELECT i.name FROM pragma_index_list(?) AS l, pragma_index_info(l.name) AS i"
                " WHERE i.seqno = 0",
                (table,),
            )
        }
        for key in await database.fetchall("SELECT * FROM pragma_foreign_key_list(?)", (table,)):
            if key["from"] not in leading:
                unindexed.append(f"{table}.{key['from']} -> {key['table']}")

    assert len(tables) > 8
    assert unindexed == []
