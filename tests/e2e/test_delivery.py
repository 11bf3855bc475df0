"""Pushes in a running bot: broadcasts, breaking news, crash safety, /stats."""

from __future__ import annotations

import datetime as dt
import signal
from pathlib import Path

from bot.domain import ChatKind, MessageKind
from bot.sandbox.emulator import BotApiEmulator, FloodLimits, Rate
from bot.storage.database import Database
from bot.storage.outbox import OutboxRepository
from tests.e2e.harness import query, received, running_herald, seed_chats, seed_entries

RATE = 100


def flood_limits() -> FloodLimits:
    """Telegram's limits, with the overall rate raised to match HERALD_SEND_RATE."""
    return FloodLimits(overall=Rate(RATE, burst=RATE))


async def test_a_broadcast_reaches_300_chats_once_without_a_single_429(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    emulator.limits = flood_limits()
    admin = emulator.add_user("Ada")
    admin_chat = emulator.private_chat(admin)
    readers = [emulator.private_chat(emulator.add_user(f"Reader {n}")) for n in range(296)]
    blocker, deleted = emulator.add_user("Blocker"), emulator.add_user("Deleted")
    blocked_chat, deleted_chat = emulator.private_chat(blocker), emulator.private_chat(deleted)
    owner = emulator.add_user("Olga")
    group = emulator.add_group("Newsroom", admins=[owner])
    audience = [
        admin_chat.id,
        *(chat.id for chat in readers),
        blocked_chat.id,
        deleted_chat.id,
        group.id,
    ]
    await seed_chats(
        tmp_path,
        [(chat_id, ChatKind.GROUP if chat_id < 0 else ChatKind.PRIVATE) for chat_id in audience],
    )
    # While the bot is down: it learns of the block and the migration from the updates
    # waiting for it, but of the deleted account only when it sends there.
    await emulator.block_bot(blocker)
    await emulator.deactivate_user(deleted)
    new_group_id = await emulator.migrate_group(group, by_user=owner)

    async with running_herald(
        emulator, tmp_path, HERALD_ADMIN_IDS=str(admin.id), HERALD_SEND_RATE=str(RATE)
    ):
        await emulator.user_says(
            admin_chat, admin, "/broadcast Polls open <b>at 9</b> & close at 5"
        )
        preview = await emulator.wait_for_message(admin_chat)
        await emulator.press_button(admin_chat, preview.message_id, admin, "broadcast:send:1")
        delivered = [*(chat.id for chat in readers), admin_chat.id, new_group_id]
        await emulator.wait_until(
            lambda: all(received(emulator, delivered, "Polls open").values()),
            timeout=30,
            description="the broadcast in every chat",
        )
        await emulator.wait_until(
            lambda: "done" in preview.text, timeout=10, description="final progress"
        )

    assert "It goes to 299 active chats" in preview.history[0].text
    assert [button.text for button in preview.history[0].buttons[0]] == [
        "📣 Send to 299 chats",
        "Cancel",
    ]
    counts = received(emulator, delivered, "Polls open")
    assert set(counts.values()) == {1}
    broadcast = emulator.messages(readers[0])[0]
    # What the admin typed arrives as typed: markup characters too, never interpreted.
    assert broadcast.text == "📣 Polls open <b>at 9</b> & close at 5"
    assert not broadcast.entities
    assert emulator.flood_rejections == 0

    def sends_to(chat_id: int) -> int:
        return sum(r.params.get("chat_id") == str(chat_id) for r in emulator.requests)

    assert sends_to(blocked_chat.id) == 0
    assert sends_to(deleted_chat.id) == 1
    assert sends_to(group.id) == 0
    assert "sent 298 · blocked 1 · failed 0" in preview.text
    assert not preview.buttons


async def test_a_broadcast_can_be_cancelled_and_non_admins_cannot_send_one(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    admin, stranger = emulator.add_user("Ada"), emulator.add_user("Eve")
    admin_chat, stranger_chat = emulator.private_chat(admin), emulator.private_chat(stranger)
    await seed_chats(
        tmp_path, [(admin_chat.id, ChatKind.PRIVATE), (stranger_chat.id, ChatKind.PRIVATE)]
    )

    async with running_herald(emulator, tmp_path, HERALD_ADMIN_IDS=str(admin.id)):
        await emulator.user_says(stranger_chat, stranger, "/broadcast Free crypto")
        refusal = await emulator.wait_for_message(stranger_chat)
        await emulator.user_says(admin_chat, admin, "/broadcast Never mind")
        preview = await emulator.wait_for_message(admin_chat)
        query = await emulator.press_button(admin_chat, preview.message_id, admin, "Cancel")
        toast = await emulator.wait_for_answer(query)
        await emulator.wait_until(lambda: "cancelled" in preview.text, description="cancelled")
        await emulator.user_says(admin_chat, admin, "/broadcast")
        usage = await emulator.wait_for_message(admin_chat)

    assert "only for Herald's admins" in refusal.text
    assert "Cancelled" in (toast.text or "")
    assert "sent 0" in preview.text
    assert "Usage: /broadcast" in usage.text
    assert received(emulator, [stranger_chat.id], "Never mind") == {stranger_chat.id: 0}
    assert received(emulator, [stranger_chat.id], "crypto") == {stranger_chat.id: 0}


async def test_all_900_queued_messages_arrive_after_a_sigkill_mid_fanout(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    emulator.limits = flood_limits()
    chats = [emulator.private_chat(emulator.add_user(f"Reader {n}")) for n in range(900)]
    await seed_chats(tmp_path, [(chat.id, ChatKind.PRIVATE) for chat in chats])
    database = await Database.open(tmp_path / "herald.db")
    await OutboxRepository(database).enqueue_text(
        [chat.id for chat in chats],
        MessageKind.BROADCAST,
        "📣 Evacuation routes are open",
        now=dt.datetime.now(dt.UTC),
    )
    await database.close()
    ids = [chat.id for chat in chats]

    async with running_herald(emulator, tmp_path, HERALD_SEND_RATE=str(RATE)) as herald:
        await emulator.wait_until(
            lambda: sum(received(emulator, ids, "Evacuation").values()) >= 300,
            timeout=30,
            description="a third of the fan-out",
        )
        herald.process.send_signal(signal.SIGKILL)
        await herald.process.wait()
    delivered_before = sum(received(emulator, ids, "Evacuation").values())

    async with running_herald(emulator, tmp_path, HERALD_SEND_RATE=str(RATE)) as restarted:
        await emulator.wait_until(
            lambda: all(received(emulator, ids, "Evacuation").values()),
            timeout=60,
            description="every chat's message after the restart",
        )
        assert await restarted.stop() == 0

    counts = received(emulator, ids, "Evacuation")
    duplicates = sum(count - 1 for count in counts.values())
    assert delivered_before < 900
    assert min(counts.values()) == 1
    assert duplicates <= 10
    assert query(tmp_path, "SELECT COUNT(*) FROM outbox WHERE state = 'pending'") == [(0,)]


async def test_breaking_news_reaches_every_active_chat_once_even_with_a_hostile_title(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    admin = emulator.add_user("Ada")
    admin_chat = emulator.private_chat(admin)
    readers = [emulator.private_chat(emulator.add_user(f"Reader {n}")) for n in range(3)]
    await seed_chats(tmp_path, [(chat.id, ChatKind.PRIVATE) for chat in (admin_chat, *readers)])
    title = '<script>alert("x")</script> Tom & Jerry < Spike > <b>unbalanced'
    await seed_entries(tmp_path, [(title, "Long text " * 2000)], feed_title="")

    async with running_herald(emulator, tmp_path, HERALD_ADMIN_IDS=str(admin.id)):
        await emulator.user_says(admin_chat, admin, "/breaking 1")
        confirmation = await emulator.wait_for_message(admin_chat, lambda m: "queued" in m.text)
        ids = [chat.id for chat in readers]
        await emulator.wait_until(
            lambda: all(received(emulator, ids, "Tom & Jerry").values()),
            description="breaking card everywhere",
        )
        await emulator.user_says(admin_chat, admin, "/breaking https://news.example/1")
        again = await emulator.wait_for_message(admin_chat, lambda m: "queued" in m.text)
        await emulator.user_says(admin_chat, admin, "/breaking 999")
        missing = await emulator.wait_for_message(admin_chat, lambda m: "No stored" in m.text)
        await emulator.user_says(admin_chat, admin, "/stats")
        stats = await emulator.wait_for_message(admin_chat, lambda m: "Herald" in m.text)

    card = emulator.messages(readers[0])[0]
    assert card.text.startswith("🔴 BREAKING\n" + title)
    assert len(card.text) < 1000
    assert "queued to 4 chats" in confirmation.text
    assert "queued to 0 chats; 4 already had it" in again.text
    assert "No stored story matches '999'" in missing.text
    assert "chats: 4 active, 0 inactive" in stats.text
    assert "stories: 1" in stats.text
    assert "0 × 429" in stats.text
    assert not [r for r in emulator.requests if r.status == 400]


async def test_stats_are_for_admins_only(emulator: BotApiEmulator, tmp_path: Path) -> None:
    stranger = emulator.add_user("Eve")
    chat = emulator.private_chat(stranger)

    async with running_herald(emulator, tmp_path, HERALD_ADMIN_IDS="1"):
        await emulator.user_says(chat, stranger, "/stats")
        refusal = await emulator.wait_for_message(chat)

    assert "only for Herald's admins" in refusal.text
