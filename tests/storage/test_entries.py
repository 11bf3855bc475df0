"""The archive's repository on both backends: the edges a running bot reaches."""

from __future__ import annotations

import datetime as dt

from bot.storage.database import Database
from bot.storage.entries import EntryRepository
from bot.storage.outbox import OutboxRepository
from tests.conftest import NOW


async def test_pruning_when_nothing_is_old_enough_deletes_nothing(database: Database) -> None:
    entries = EntryRepository(database)

    pruned = await entries.prune(published_before=NOW - dt.timedelta(days=90), now=NOW)

    assert pruned == 0


async def test_asking_about_no_messages_answers_none_and_marks_none(database: Database) -> None:
    outbox = OutboxRepository(database)

    assert await outbox.still_pending([]) == set()
    await outbox.mark_sent([], now=NOW, message_id=None)
    assert await outbox.sent_since(NOW - dt.timedelta(days=1)) == 0
