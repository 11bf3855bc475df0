"""Notices to admins and the outbox's upkeep, against a real SQLite outbox."""

from __future__ import annotations

from bot.domain import ChatKind
from bot.services.outbox import KEEP_SENT, OutboxService
from bot.storage.chats import ChatRepository
from bot.storage.database import Database
from bot.storage.feeds import FeedRepository
from bot.storage.meta import MetaRepository
from bot.storage.outbox import OutboxRepository
from tests.services.conftest import StepClock


async def test_a_feed_failing_for_a_day_queues_one_notice_per_admin_with_a_chat(
    database: Database, clock: StepClock
) -> None:
    chats = ChatRepository(database)
    for chat_id in (1, 2, 3):
        await chats.register(chat_id, ChatKind.PRIVATE, "x", timezone="UTC", now=clock())
    wakes: list[None] = []
    notices = OutboxService(
        OutboxRepository(database),
        MetaRepository(database),
        admin_ids=[1, 2, 99],  # 99 never started a chat with the bot
        clock=clock,
        wake=lambda: wakes.append(None),
    )
    feeds = FeedRepository(database)
    feed = await feeds.add("https://down.example/rss", now=clock(), next_poll_at=clock())
    failing = await feeds.record_failure(
        feed.id, "HTTP 503 <Service Unavailable>", now=clock(), next_poll_at=clock()
    )
    assert failing is not None

    await notices.feed_failing(failing)

    rows = await database.fetchall("SELECT chat_id, kind, text FROM outbox ORDER BY chat_id")
    assert [(row[0], row[1]) for row in rows] == [(1, "notice"), (2, "notice")]
    assert "has failed for over 24 hours" in rows[0][2]
    assert "HTTP 503 &lt;Service Unavailable&gt;" in rows[0][2]
    assert "/feeds remove 1" in rows[0][2]
    assert wakes


async def test_sent_messages_are_pruned_after_a_week(database: Database, clock: StepClock) -> None:
    chats = ChatRepository(database)
    await chats.register(1, ChatKind.PRIVATE, "x", timezone="UTC", now=clock())
    outbox = OutboxRepository(database)
    service = OutboxService(
        outbox, MetaRepository(database), admin_ids=[1], clock=clock, wake=lambda: None
    )
    await service.notify_admins("old notice")
    rows = await database.fetchall("SELECT id FROM outbox")
    await outbox.mark_sent([rows[0][0]], now=clock(), message_id=1)

    clock.advance(days=KEEP_SENT.days - 1)
    kept = await service.prune()
    clock.advance(days=2)
    pruned = await service.prune()

    assert (kept, pruned) == (0, 1)
