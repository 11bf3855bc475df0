"""A subscriber's first minutes: /start, /help, /stop, in private and in groups."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import sys
import time
from pathlib import Path

import httpx

from bot.sandbox.emulator import BotApiEmulator, Chat, SentMessage, User
from bot.sandbox.feedserver import FeedServer
from tests.e2e.harness import (
    ask,
    following_gaza,
    herald_environment,
    query,
    running_herald,
    wait_for_rows,
)

REPLY_WITHIN = 2.0


async def confirm_stop(
    emulator: BotApiEmulator, chat: Chat, user: User, command: str = "/stop"
) -> SentMessage:
    """Send /stop, press its confirmation, and return the message as it ends up."""
    await emulator.user_says(chat, user, command)
    asked = await emulator.wait_for_message(chat, timeout=REPLY_WITHIN)
    await emulator.press_button(chat, asked.message_id, user, "🗑 Yes, unsubscribe")
    await emulator.wait_until(
        lambda: asked.edit_count > 0, timeout=REPLY_WITHIN, description="the answer edited"
    )
    return asked


async def test_start_help_and_stop_in_a_private_chat(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    ada = emulator.add_user("Ada", username="ada")
    chat = emulator.private_chat(ada)

    async with running_herald(emulator, tmp_path) as herald:
        await emulator.user_says(chat, ada, "/start")
        welcome = await emulator.wait_for_message(chat, timeout=REPLY_WITHIN)
        await emulator.user_says(chat, ada, "/help")
        help_text = await emulator.wait_for_message(chat, timeout=REPLY_WITHIN)
        stopped = await confirm_stop(emulator, chat, ada)
        await emulator.user_says(chat, ada, "/stop")
        again = await emulator.wait_for_message(chat, timeout=REPLY_WITHIN)
        assert await herald.stop() == 0

    assert "Welcome to Herald" in welcome.text
    assert "/topic North Korea" in welcome.text
    for command in ("/start", "/stop", "/help", "/topic", "/latest", "/search", "/digest"):
        assert command in help_text.text
    assert "Putin OR Kremlin" in help_text.text
    assert "deleted" in stopped.text
    assert "isn't subscribed" in again.text
    assert _chat_ids(tmp_path) == []


async def test_start_help_and_stop_in_a_group_addressed_to_the_bot(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    owner, member = emulator.add_user("Olga"), emulator.add_user("Max")
    group = emulator.add_group("Newsroom", admins=[owner], members=[member])

    async with running_herald(emulator, tmp_path):
        await emulator.user_says(group, member, "/start@herald_bot")
        refused_start = await emulator.wait_for_message(group, timeout=REPLY_WITHIN)
        subscribed_by_member = _chat_ids(tmp_path)
        await emulator.user_says(group, owner, "/start@herald_bot")
        welcome = await emulator.wait_for_message(group, timeout=REPLY_WITHIN)
        await emulator.user_says(group, member, "/help@herald_bot")
        help_text = await emulator.wait_for_message(group, timeout=REPLY_WITHIN)
        await emulator.user_says(group, member, "/stop@herald_bot")
        refused = await emulator.wait_for_message(group, timeout=REPLY_WITHIN)
        subscribed_after_refusal = _chat_ids(tmp_path)
        stopped = await confirm_stop(emulator, group, owner, "/stop@herald_bot")

    assert "Only this group's admins can subscribe it" in refused_start.text
    assert subscribed_by_member == []
    assert "Welcome to Herald" in welcome.text
    assert "/topic" in help_text.text
    assert "Only this group's admins" in refused.text
    assert subscribed_after_refusal == [group.id]
    assert "deleted" in stopped.text
    assert _chat_ids(tmp_path) == []


async def test_after_a_groups_admins_stop_it_no_member_command_subscribes_it_again(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    owner, member = emulator.add_user("Olga"), emulator.add_user("Max")
    group = emulator.add_group("Newsroom", admins=[owner], members=[member])

    async with running_herald(emulator, tmp_path):
        await emulator.user_says(group, owner, "/start@herald_bot")
        await emulator.wait_for_message(group, timeout=REPLY_WITHIN)
        await confirm_stop(emulator, group, owner, "/stop@herald_bot")
        answers = []
        for command in ("start", "timezone", "timezone Europe/Paris", "digest", "quiet"):
            name, _, argument = command.partition(" ")
            await emulator.user_says(group, member, f"/{name}@herald_bot {argument}".strip())
            answers.append((await emulator.wait_for_message(group, timeout=REPLY_WITHIN)).text)

    assert _chat_ids(tmp_path) == []
    assert "Only this group's admins can subscribe it" in answers[0]
    assert "This chat's time zone is UTC" in answers[1]
    assert "Daily digest: off" in answers[3]
    assert "No quiet hours are set" in answers[4]
    assert "Only this group's admins" in answers[2]


async def test_commands_for_another_bot_are_left_alone(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    member = emulator.add_user("Max")
    group = emulator.add_group("Newsroom", members=[member])

    async with running_herald(emulator, tmp_path):
        await emulator.user_says(group, member, "/start@other_bot")
        await emulator.user_says(group, member, "/help@herald_bot")
        answer = await emulator.wait_for_message(group, timeout=REPLY_WITHIN)

    assert "/topic" in answer.text
    assert len(emulator.messages(group)) == 1


async def test_each_reply_arrives_within_two_seconds(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    ada = emulator.add_user("Ada")
    chat = emulator.private_chat(ada)

    async with running_herald(emulator, tmp_path):
        for command in ("/start", "/help", "/stop"):
            started = time.monotonic()
            await emulator.user_says(chat, ada, command)
            await emulator.wait_for_message(chat, timeout=REPLY_WITHIN)
            assert time.monotonic() - started < REPLY_WITHIN


async def test_the_command_menu_is_registered_at_start(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    async with running_herald(emulator, tmp_path):
        commands = {command.command for command in emulator.commands}

    assert {"start", "help", "topic", "mute"} <= commands
    # Deleting a chat's data is never one tap away in the menu.
    assert "stop" not in commands


async def test_a_user_who_blocks_the_bot_makes_the_chat_inactive_until_unblocked(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    ada = emulator.add_user("Ada")
    chat = emulator.private_chat(ada)

    async with running_herald(emulator, tmp_path):
        await emulator.user_says(chat, ada, "/start")
        await emulator.wait_for_message(chat, timeout=REPLY_WITHIN)
        await emulator.block_bot(ada)
        await _wait_for_state(tmp_path, chat.id, "blocked")
        await emulator.unblock_bot(ada)
        await _wait_for_state(tmp_path, chat.id, None)


async def test_a_group_that_removes_the_bot_is_inactive_and_greeted_when_it_returns(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    owner = emulator.add_user("Olga")
    group = emulator.add_group("Newsroom", admins=[owner])

    async with running_herald(emulator, tmp_path):
        await emulator.user_says(group, owner, "/start")
        await emulator.wait_for_message(group, timeout=REPLY_WITHIN)
        await emulator.remove_bot_from_group(group, by_user=owner)
        await _wait_for_state(tmp_path, group.id, "removed")
        await emulator.add_bot_to_group(group, owner)
        greeting = await emulator.wait_for_message(group, timeout=REPLY_WITHIN)
        await _wait_for_state(tmp_path, group.id, None)

    assert "Welcome back" in greeting.text


async def test_a_failure_while_handling_a_command_gets_an_apology_not_silence(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    ada = emulator.add_user("Ada")
    chat = emulator.private_chat(ada)

    async with running_herald(emulator, tmp_path) as herald:
        with sqlite3.connect(tmp_path / "herald.db") as database:
            database.execute("DROP TABLE chats")
        await emulator.user_says(chat, ada, "/start")
        apology = await emulator.wait_for_message(chat, timeout=REPLY_WITHIN)
        await emulator.user_says(chat, ada, "/help")
        still_answering = await emulator.wait_for_message(chat, timeout=REPLY_WITHIN)

    assert "Sorry, something went wrong" in apology.text
    assert "/topic" in still_answering.text
    assert "no such table: chats" in herald.log
    assert "command '/start'" in herald.log


async def test_sigterm_stops_the_bot_with_exit_code_0_within_ten_seconds(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    async with running_herald(emulator, tmp_path) as herald:
        started = time.monotonic()
        code = await herald.stop(signal.SIGTERM, within=10)

    assert code == 0
    assert time.monotonic() - started < 10


async def test_sigint_stops_the_bot_with_exit_code_0(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    async with running_herald(emulator, tmp_path) as herald:
        code = await herald.stop(signal.SIGINT, within=10)

    assert code == 0


async def test_the_token_never_appears_in_the_log(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    ada = emulator.add_user("Ada")
    chat = emulator.private_chat(ada)

    async with running_herald(emulator, tmp_path) as herald:
        await emulator.user_says(chat, ada, "/start")
        await emulator.wait_for_message(chat, timeout=REPLY_WITHIN)
        await herald.stop()

    assert "getUpdates" in herald.log or "Herald is up" in herald.log
    assert emulator.token not in herald.log
    assert emulator.token.split(":")[1] not in herald.log


def _chat_ids(workdir: Path) -> list[int]:
    return [row[0] for row in query(workdir, "SELECT id FROM chats ORDER BY id")]


async def _wait_for_state(workdir: Path, chat_id: int, reason: str | None) -> None:
    """Until the bot has recorded the chat's state, as it does on handling the update."""
    await wait_for_rows(
        workdir,
        "SELECT 1 FROM chats WHERE id = ? AND inactive_reason IS ?",
        chat_id,
        reason,
        within=REPLY_WITHIN,
    )


async def test_health_reports_a_running_bot_healthy_and_a_missing_one_not(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    environment = herald_environment(HERALD_DATABASE=str(tmp_path / "herald.db"))
    before = await _health(tmp_path, environment)
    async with running_herald(emulator, tmp_path) as herald:
        # The first heartbeat follows the first poll by a moment.
        deadline = time.monotonic() + 10
        while (during := await _health(tmp_path, environment))[0] != 0:
            assert time.monotonic() < deadline, during
        await herald.stop()
        after_stop = await _health(tmp_path, environment)

    assert before[0] == 1
    assert "no database" in before[1]
    assert during[0] == 0
    assert "healthy: heartbeat" in during[1]
    assert after_stop[0] == 1
    assert "no bot is running" in after_stop[1]


async def test_health_never_migrates_or_writes_the_database(tmp_path: Path) -> None:
    path = tmp_path / "herald.db"
    old = sqlite3.connect(path)
    old.execute("PRAGMA journal_mode = WAL")
    old.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value ANY)")
    old.execute("PRAGMA user_version = 1")
    old.commit()
    old.close()
    written = path.stat().st_mtime_ns
    files = _files(tmp_path)
    environment = herald_environment(HERALD_DATABASE=str(path))

    code, output = await _health(tmp_path, environment)
    after = _files(tmp_path)

    assert code == 1
    assert "no bot is running" in output
    with sqlite3.connect(path) as database:
        assert database.execute("PRAGMA user_version").fetchone() == (1,)
        tables = [row[0] for row in database.execute("SELECT name FROM sqlite_master")]
    assert "outbox" not in tables
    assert path.stat().st_mtime_ns == written
    assert after == files  # not even a -wal or -shm file


def _files(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


async def _health(workdir: Path, environment: dict[str, str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "health",
        cwd=workdir,
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode()


async def test_unknown_commands_and_plain_text_in_a_private_chat_get_a_pointer(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    ada = emulator.add_user("Ada")
    chat = emulator.private_chat(ada)
    olga = emulator.add_user("Olga")
    group = emulator.add_group("Newsroom", admins=[olga])

    async with running_herald(emulator, tmp_path):
        unknown = await ask(emulator, chat, ada, "/frobnicate now")
        plain = await ask(emulator, chat, ada, "North   Korea")
        await emulator.user_says(group, olga, "/frobnicate")
        help_text = await ask(emulator, group, olga, "/help@herald_bot")

    assert unknown.text == "I don't know /frobnicate. /help lists what I can do."
    assert "send /topic North Korea" in plain.text
    assert "send /search North Korea" in plain.text
    assert "/topic" in help_text.text
    assert len(emulator.messages(group)) == 1


async def test_a_button_from_an_older_message_is_answered_not_left_spinning(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    ada = emulator.add_user("Ada")
    chat = emulator.private_chat(ada)

    async with running_herald(emulator, tmp_path), httpx.AsyncClient() as http:
        # A message as an earlier version of the bot might have left it.
        keyboard = {"inline_keyboard": [[{"text": "Old", "callback_data": "legacy:42"}]]}
        sent = await http.post(
            f"{emulator.api_root}/bot{emulator.token}/sendMessage",
            json={"chat_id": chat.id, "text": "An old message", "reply_markup": keyboard},
        )
        message_id = sent.json()["result"]["message_id"]
        query = await emulator.press_button(chat, message_id, ada, "Old")
        answer = await emulator.wait_for_answer(query)

    assert answer.show_alert
    assert "no longer works" in (answer.text or "")


async def test_start_in_a_subscribed_chat_says_so_and_shows_its_topics(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    user = emulator.add_user("Ada")
    chat = emulator.private_chat(user)

    async with running_herald(emulator, tmp_path):
        await ask(emulator, chat, user, "/start")
        await ask(emulator, chat, user, "/topic Gaza")
        again = await ask(emulator, chat, user, "/start")
        ids = await ask(emulator, chat, user, "/id")

    assert again.text.startswith("This chat is already subscribed to Herald")
    assert "1. Gaza" in again.text
    assert "Welcome back" not in again.text
    assert f"Your user id: {user.id}" in ids.text
    assert f"This chat's id: {chat.id}" in ids.text
    assert "HERALD_ADMIN_IDS" in ids.text


async def test_stop_with_a_mistyped_chat_or_any_other_argument_changes_nothing(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    user = emulator.add_user("Olga")
    chat = emulator.private_chat(user)

    async with running_herald(emulator, tmp_path):
        await ask(emulator, chat, user, "/topic North Korea")
        typo = await ask(emulator, chat, user, "/stop @mynewz")
        user_id = await ask(emulator, chat, user, "/stop 1000002")
        topics = query(tmp_path, "SELECT query FROM topics")

    assert "I can't see the chat @mynewz" in typo.text
    assert "Nothing was changed" in user_id.text
    assert topics == [("North Korea",)]


async def test_stop_asks_first_and_alerts_keep_coming_until_it_is_confirmed(
    emulator: BotApiEmulator, feed_server: FeedServer, tmp_path: Path
) -> None:
    async with following_gaza(emulator, feed_server, tmp_path) as ada:
        asked = await ask(emulator, ada.chat, ada.user, "/stop")
        ada.publish("Gaza talks resume")
        alert = await emulator.wait_for_message(
            ada.chat, lambda m: "Gaza talks" in m.text, timeout=15
        )
        await emulator.press_button(ada.chat, asked.message_id, ada.user, "🗑 Yes, unsubscribe")
        await emulator.wait_until(
            lambda: asked.edit_count > 0, timeout=REPLY_WITHIN, description="the answer edited"
        )

    assert "Alerts keep coming until you confirm" in asked.history[0].text
    assert "Gaza talks resume" in alert.text
    assert "deleted" in asked.text
    assert _chat_ids(tmp_path) == []


async def test_a_bare_mute_offers_lengths_and_one_press_mutes(
    emulator: BotApiEmulator, feed_server: FeedServer, tmp_path: Path
) -> None:
    async with following_gaza(emulator, feed_server, tmp_path) as ada:
        offer = await ask(emulator, ada.chat, ada.user, "/mute")
        await emulator.press_button(ada.chat, offer.message_id, ada.user, "2 h")
        await emulator.wait_until(
            lambda: offer.edit_count > 0, timeout=REPLY_WITHIN, description="the answer edited"
        )
        ada.publish("Gaza talks resume")
        await wait_for_rows(tmp_path, "SELECT 1 FROM outbox WHERE state = 'held'", within=15)
        chat = ada.chat

    labels = [button.text for row in offer.history[0].buttons for button in row]
    assert labels == ["30 min", "2 h", "8 h", "1 day", "Until 08:00"]
    assert "Alerts muted until" in offer.text
    assert not any("Gaza talks" in message.text for message in emulator.messages(chat))


async def test_admins_get_the_admin_commands_in_their_menu_and_no_one_else_does(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    admin, late_admin, reader = (emulator.add_user(name) for name in ("Ada", "Bo", "Cy"))
    admin_chat = emulator.private_chat(admin)
    reader_chat = emulator.private_chat(reader)

    async with running_herald(emulator, tmp_path, HERALD_ADMIN_IDS=f"{admin.id},{late_admin.id}"):
        # Bo never opened a chat with the bot: Telegram knows no chat to scope a menu to.
        late_chat = emulator.private_chat(late_admin)
        await ask(emulator, late_chat, late_admin, "/start")
        await ask(emulator, reader_chat, reader, "/start")

    def menu(scope: str, chat: Chat | None = None) -> set[str]:
        return {command.command for command in emulator.commands_for(scope, chat=chat)}

    assert {"feeds", "broadcast", "breaking", "stats"} <= menu("chat", admin_chat)
    assert "feeds" in menu("chat", late_chat)
    assert "feeds" not in menu("default")
    assert menu("chat", reader_chat) == set()
    assert "topic" in menu("all_group_chats")
    assert "feeds" not in menu("all_group_chats")


async def test_the_welcome_offers_to_add_a_topic_and_the_answer_is_followed(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    user = emulator.add_user("Ada")
    chat = emulator.private_chat(user)

    async with running_herald(emulator, tmp_path):
        welcome = await ask(emulator, chat, user, "/start")
        await emulator.press_button(chat, welcome.message_id, user, "➕ Add a topic")
        asked = await emulator.wait_for_message(chat, timeout=REPLY_WITHIN)
        await emulator.user_says(
            chat, user, "Putin OR Kremlin", reply_to_message_id=asked.message_id
        )
        followed = await emulator.wait_for_message(chat, timeout=REPLY_WITHIN)

    assert [button.text for row in welcome.buttons for button in row] == ["➕ Add a topic"]
    assert asked.text.startswith("Which topic should this chat follow?")
    assert "now follows Putin OR Kremlin" in followed.text
