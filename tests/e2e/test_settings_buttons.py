"""Settings by buttons and questions: /digest, /quiet, /timezone, /preview, t.me/?start=help."""

from __future__ import annotations

from pathlib import Path

from bot.sandbox.emulator import BotApiEmulator, Chat, SentMessage, User
from tests.e2e.harness import ask, query, running_herald

REPLY_WITHIN = 2.0


async def press(
    emulator: BotApiEmulator, chat: Chat, user: User, message: SentMessage, button: str
) -> str | None:
    answer = await emulator.wait_for_answer(
        await emulator.press_button(chat, message.message_id, user, button)
    )
    return answer.text


async def reply_to(
    emulator: BotApiEmulator, chat: Chat, user: User, asked: SentMessage, text: str
) -> SentMessage:
    await emulator.user_says(chat, user, text, reply_to_message_id=asked.message_id)
    return await emulator.wait_for_message(chat, timeout=REPLY_WITHIN)


async def test_buttons_in_a_chat_that_never_subscribed_subscribe_it_and_act(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    user = emulator.add_user("Ada")
    chat = emulator.private_chat(user)

    async with running_herald(emulator, tmp_path):
        quiet = await ask(emulator, chat, user, "/quiet")
        await press(emulator, chat, user, quiet, "22:00–07:00")
        await emulator.wait_until(lambda: quiet.edit_count == 1, description="quiet set")
        preview = await ask(emulator, chat, user, "/preview")
        await press(emulator, chat, user, preview, "Small")
        await emulator.wait_until(lambda: preview.edit_count == 1, description="preview set")

    assert quiet.text.startswith("🌙 Quiet hours 22:00–07:00")
    assert "a small link preview" in preview.text
    assert query(tmp_path, "SELECT quiet_start, quiet_end, link_preview FROM chats") == [
        ("22:00", "07:00", "small")
    ]


async def test_the_digest_time_and_the_time_zone_are_asked_for_and_taken_from_replies(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    user = emulator.add_user("Ada")
    chat = emulator.private_chat(user)

    async with running_herald(emulator, tmp_path):
        await ask(emulator, chat, user, "/start")
        digest = await ask(emulator, chat, user, "/digest")
        await press(emulator, chat, user, digest, "🕗 Time…")
        asked = await emulator.wait_for_message(chat, timeout=REPLY_WITHIN)
        refused = await reply_to(emulator, chat, user, asked, "7pm")
        asked_again = await emulator.wait_for_message(chat, timeout=REPLY_WITHIN)
        taken = await reply_to(emulator, chat, user, asked_again, "19:30")
        await ask(emulator, chat, user, "/timezone")
        city = await emulator.wait_for_message(chat, timeout=REPLY_WITHIN)
        zone = await reply_to(emulator, chat, user, city, "Lisbon")
        unknown = await ask(emulator, chat, user, "/timezone Europe/Londn")
        await press(emulator, chat, user, unknown, "Europe/London")
        await emulator.wait_until(lambda: unknown.edit_count == 1, description="zone set")

    assert asked.force_reply
    assert "What time should the daily digest come?" in asked.text
    assert refused.text == "“7pm” isn't a time like 07:30 (24-hour clock)."
    assert asked_again.force_reply
    assert "daily at 19:30" in taken.text
    assert city.force_reply
    assert zone.text.startswith("Time zone set to Europe/Lisbon")
    assert unknown.text.startswith("Time zone set to Europe/London")
    assert query(tmp_path, "SELECT digest_time, timezone FROM chats") == [
        ("19:30", "Europe/London")
    ]


async def test_start_help_from_a_link_shows_the_help_without_subscribing(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    user = emulator.add_user("Ada")
    chat = emulator.private_chat(user)

    async with running_herald(emulator, tmp_path):
        shown = await ask(emulator, chat, user, "/start help")

    assert "Topic language" in shown.text
    assert "@herald_bot words" in shown.text
    assert query(tmp_path, "SELECT COUNT(*) FROM chats") == [(0,)]
