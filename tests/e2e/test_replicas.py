"""Two `herald run` on one PostgreSQL database: one works, the other takes over at its death."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path

from bot.domain import ChatKind
from bot.sandbox.emulator import BotApiEmulator, FloodLimits, Rate
from bot.storage.chats import ChatRepository
from bot.storage.postgres.database import PostgresDatabase
from tests.e2e.harness import HeraldProcess, received, running_herald

RATE = 100
AUDIENCE = 400
# The sender keeps at most this many messages in flight (bot.delivery.worker.CONCURRENCY):
# a process killed mid-send may have had Telegram take those without recording it.
IN_FLIGHT = 8


async def _seed(url: str, chat_ids: list[int]) -> None:
    database = await PostgresDatabase.connect(url)
    try:
        chats = ChatRepository(database)
        now = dt.datetime.now(dt.UTC)
        for chat_id in chat_ids:
            await chats.register(
                chat_id, ChatKind.PRIVATE, f"Chat {chat_id}", timezone="UTC", now=now
            )
    finally:
        await database.close()


async def _until(condition: Callable[[], bool], description: str, within: float) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"not within {within} s: {description}"
        await asyncio.sleep(0.05)


async def test_a_standby_takes_over_updates_and_a_fan_out_when_the_running_herald_dies(
    emulator: BotApiEmulator, tmp_path: Path, postgres_url: str
) -> None:
    emulator.limits = FloodLimits(overall=Rate(RATE, burst=RATE))
    admin = emulator.add_user("Ada")
    admin_chat = emulator.private_chat(admin)
    readers = [emulator.private_chat(emulator.add_user(f"Reader {n}")) for n in range(AUDIENCE)]
    audience = [chat.id for chat in readers]
    await _seed(postgres_url, [admin_chat.id, *audience])

    def start() -> contextlib.AbstractAsyncContextManager[HeraldProcess]:
        return running_herald(
            emulator,
            tmp_path,
            HERALD_DATABASE=postgres_url,
            HERALD_ADMIN_IDS=str(admin.id),
            HERALD_SEND_RATE=str(RATE),
        )

    async with start() as first, start() as second, start() as third:
        await _until(lambda: "standing by" in second.log, "the second herald stands by", 30)
        await _until(lambda: "standing by" in third.log, "the third herald stands by", 30)
        await third.kill()  # a standby's death changes nothing
        await emulator.user_says(admin_chat, admin, "/broadcast Polls open at 9")
        preview = await emulator.wait_for_message(admin_chat)
        await emulator.press_button(admin_chat, preview.message_id, admin, "broadcast:send:1")
        await emulator.wait_until(
            lambda: (
                sum(map(bool, received(emulator, audience, "Polls open").values()))
                >= AUDIENCE * 0.3
            ),
            timeout=30,
            description="30% of the fan-out",
        )

        await first.kill()
        await emulator.user_says(admin_chat, admin, "/help")
        # The survivor answers within 30 s of the death, as the README promises.
        help_reply = await emulator.wait_for_message(
            admin_chat, lambda message: "pushes news as it breaks" in message.text, timeout=30
        )
        await emulator.wait_until(
            lambda: all(received(emulator, audience, "Polls open").values()),
            timeout=60,
            description="the broadcast in every chat",
        )

    counts = received(emulator, audience, "Polls open")
    assert help_reply is not None
    assert min(counts.values()) == 1  # nothing lost
    assert sum(count - 1 for count in counts.values()) <= IN_FLIGHT
    assert emulator.flood_rejections == 0
    assert "holds the running lease" in second.log
