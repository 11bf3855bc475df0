"""The chats table: registering, deactivating and deleting chats."""

import datetime as dt

from bot.domain import ChatKind, InactiveReason
from bot.storage.chats import ChatRepository
from bot.storage.database import Database
from tests.conftest import NOW


async def test_registering_a_chat_twice_keeps_one_row_and_says_it_is_not_new(
    database: Database,
) -> None:
    chats = ChatRepository(database)

    _, first_is_new = await chats.register(
        7, ChatKind.PRIVATE, "Ada", timezone="Europe/London", now=NOW
    )
    again, again_is_new = await chats.register(
        7, ChatKind.PRIVATE, "Ada L.", timezone="UTC", now=NOW + dt.timedelta(days=1)
    )

    assert (first_is_new, again_is_new) == (True, False)
    assert again.title == "Ada L."
    assert again.timezone == "Europe/London"
    assert again.created_at == NOW
    assert await chats.count() == (1, 0)


async def test_an_inactive_chat_is_active_again_when_it_registers(database: Database) -> None:
    chats = ChatRepository(database)
    await chats.register(-100, ChatKind.GROUP, "Newsroom", timezone="UTC", now=NOW)

    assert await chats.set_inactive(-100, InactiveReason.REMOVED, NOW)
    assert not await chats.set_inactive(-100, InactiveReason.REMOVED, NOW)
    inactive = await chats.get(-100)
    await chats.register(-100, ChatKind.GROUP, "Newsroom", timezone="UTC", now=NOW)
    active = await chats.get(-100)

    assert inactive is not None
    assert inactive.inactive_reason is InactiveReason.REMOVED
    assert active is not None
    assert active.active


async def test_deleting_a_chat_forgets_it(database: Database) -> None:
    chats = ChatRepository(database)
    await chats.register(7, ChatKind.PRIVATE, "Ada", timezone="UTC", now=NOW)

    assert await chats.delete(7)
    assert not await chats.delete(7)
    assert await chats.get(7) is None
