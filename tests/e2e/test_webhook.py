"""Webhook mode: Telegram posts updates to herald's HTTP server, with the secret header."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.sandbox.emulator import BotApiEmulator, User
from bot.server import HttpServer
from bot.services.health import HealthReport
from tests.e2e.harness import free_port, query, running_herald
from tests.e2e.test_operator import herald_run

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def webhook_address() -> tuple[str, str]:
    """HERALD_LISTEN and HERALD_WEBHOOK_URL for a herald about to start on a free port."""
    port = free_port()
    return f"127.0.0.1:{port}", f"http://127.0.0.1:{port}/telegram"


def forged_start(user: User) -> dict[str, Any]:
    """An update as Telegram would post it: /start from ``user`` in their private chat."""
    sender = {"id": user.id, "is_bot": False, "first_name": user.first_name}
    return {
        "update_id": 990_001,
        "message": {
            "message_id": 77,
            "date": int(dt.datetime.now(dt.UTC).timestamp()),
            "chat": {"id": user.id, "type": "private", "first_name": user.first_name},
            "from": sender,
            "text": "/start",
            "entities": [{"offset": 0, "length": 6, "type": "bot_command"}],
        },
    }


async def test_commands_are_answered_through_the_webhook_and_getupdates_is_never_called(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    ada = emulator.add_user("Ada")
    chat = emulator.private_chat(ada)
    listen, url = webhook_address()

    async with running_herald(
        emulator, tmp_path, HERALD_LISTEN=listen, HERALD_WEBHOOK_URL=url
    ) as herald:
        await emulator.user_says(chat, ada, "/start")
        welcome = await emulator.wait_for_message(chat)
        webhook = emulator.webhook
        log = herald.log

    assert webhook is not None
    assert webhook.url == url
    assert webhook.delivered >= 1
    assert "Herald" in welcome.text
    assert emulator.calls["getUpdates"] == 0
    # Made at the first start, kept in the database, never written to the log.
    secret = webhook.secret_token
    assert secret is not None
    assert len(secret) >= 32
    assert query(tmp_path, "SELECT value FROM meta WHERE key = 'webhook_secret'") == [(secret,)]
    assert secret not in log


async def test_a_restart_keeps_the_secret_and_long_polling_deletes_the_webhook(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    ada = emulator.add_user("Ada")
    chat = emulator.private_chat(ada)

    listen, url = webhook_address()
    async with running_herald(emulator, tmp_path, HERALD_LISTEN=listen, HERALD_WEBHOOK_URL=url):
        first = emulator.webhook
    listen, url = webhook_address()
    async with running_herald(emulator, tmp_path, HERALD_LISTEN=listen, HERALD_WEBHOOK_URL=url):
        second = emulator.webhook
    async with running_herald(emulator, tmp_path):
        await emulator.user_says(chat, ada, "/start")
        await emulator.wait_for_message(chat)
        polling_webhook = emulator.webhook

    assert first is not None
    assert second is not None
    assert first.secret_token == second.secret_token
    assert polling_webhook is None


async def test_a_wrong_or_missing_secret_is_refused_with_401_and_changes_nothing(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    mallory = emulator.add_user("Mallory")
    chat = emulator.private_chat(mallory)
    listen, url = webhook_address()

    async with running_herald(
        emulator,
        tmp_path,
        HERALD_LISTEN=listen,
        HERALD_WEBHOOK_URL=url,
        HERALD_WEBHOOK_SECRET="the_configured-secret",
    ) as herald:
        async with httpx.AsyncClient(trust_env=False, timeout=5) as client:
            wrong = await client.post(
                url, json=forged_start(mallory), headers={SECRET_HEADER: "guessed"}
            )
            missing = await client.post(url, json=forged_start(mallory))
            not_an_update = await client.post(
                url, content=b"[1, 2]", headers={SECRET_HEADER: "the_configured-secret"}
            )
        # A real update after the forged ones: its answer is the first thing the chat gets.
        await emulator.user_says(chat, mallory, "/id")
        first = await emulator.wait_for_message(chat)
        log = herald.log
        webhook = emulator.webhook

    assert webhook is not None
    assert webhook.secret_token == "the_configured-secret"
    assert (wrong.status_code, missing.status_code) == (401, 401)
    assert not_an_update.status_code == 400
    assert [message.text for message in emulator.messages(chat)] == [first.text]
    assert str(mallory.id) in first.text
    assert query(tmp_path, "SELECT COUNT(*) FROM chats WHERE id = ?", mallory.id) == [(0,)]
    assert "Refused a webhook request from 127.0.0.1: wrong secret token" in log
    assert "Refused a webhook request from 127.0.0.1: no secret token" in log
    assert "the_configured-secret" not in log
    assert "guessed" not in log


async def test_a_webhook_url_telegram_refuses_stops_start_up_with_one_line(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    code, stderr = await herald_run(
        tmp_path,
        HERALD_TELEGRAM_TOKEN=emulator.token,
        HERALD_TELEGRAM_API_URL=emulator.api_root,
        HERALD_DATABASE=str(tmp_path / "herald.db"),
        HERALD_WEBHOOK_URL="https://bot.example:8080/telegram",
    )

    # The log lines of the start-up before it, then the one line that says why it stopped.
    last = stderr.strip().splitlines()[-1]
    assert code == 2
    assert last.startswith(
        "herald: Telegram refused HERALD_WEBHOOK_URL https://bot.example:8080/telegram: "
    )
    assert last.endswith("can be set up only on ports 80, 88, 443 or 8443")
    assert "Traceback" not in stderr


@pytest.mark.parametrize(
    ("path", "posted"),
    [
        ("/t%C3%A9l", "/t%C3%A9l"),
        ("/tél", "/t%C3%A9l"),
        ("/{tok}", "/%7Btok%7D"),
        ("/a b", "/a%20b"),
    ],
)
async def test_the_webhook_path_is_matched_exactly_as_written_in_the_url(
    path: str, posted: str
) -> None:
    taken: list[dict[str, Any]] = []

    async def healthy() -> HealthReport:
        return HealthReport(True, "fine")

    async def take(update: dict[str, Any]) -> None:
        taken.append(update)

    server = HttpServer("127.0.0.1", 0, check_health=healthy)
    server.add_webhook(path, "s3cret", take)
    await server.start()
    try:
        async with httpx.AsyncClient(trust_env=False, timeout=5) as client:
            headers = {SECRET_HEADER: "s3cret"}
            right = await client.post(
                f"{server.url}{posted}", json={"update_id": 1}, headers=headers
            )
            other = await client.post(
                f"{server.url}/anything", json={"update_id": 2}, headers=headers
            )
    finally:
        await server.stop()

    assert right.status_code == 200
    assert other.status_code == 404
    assert taken == [{"update_id": 1}]


def webhook_count(page: str, outcome: str) -> float:
    """herald_webhook_updates_total{outcome=...} on a /metrics page; 0 when absent."""
    line = f'herald_webhook_updates_total{{outcome="{outcome}"}} '
    found = [row for row in page.splitlines() if row.startswith(line)]
    return float(found[0].removeprefix(line)) if found else 0.0


async def test_odd_bodies_with_the_right_secret_are_refused_or_acknowledged_not_crashing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    taken: list[dict[str, Any]] = []

    async def healthy() -> HealthReport:
        return HealthReport(True, "fine")

    async def take(update: dict[str, Any]) -> None:
        taken.append(update)

    server = HttpServer("127.0.0.1", 0, check_health=healthy)
    server.add_webhook("/telegram", "s3cret", take)
    await server.start()
    try:
        async with httpx.AsyncClient(trust_env=False, timeout=30) as client:
            url, headers = f"{server.url}/telegram", {SECRET_HEADER: "s3cret"}
            before = (await client.get(f"{server.url}/metrics")).text
            deep = await client.post(url, content=b"[" * 100_000 + b"]" * 100_000, headers=headers)
            boolean = await client.post(url, content=b'{"update_id": true}', headers=headers)
            huge = await client.post(url, content=b" " * (12 << 20), headers=headers)
            first = await client.post(url, json={"update_id": 7}, headers=headers)
            # Telegram resends an update it got no 200 for; handled once, acknowledged twice.
            again = await client.post(url, json={"update_id": 7}, headers=headers)
            after = (await client.get(f"{server.url}/metrics")).text
    finally:
        await server.stop()

    assert (deep.status_code, boolean.status_code, huge.status_code) == (400, 400, 413)
    assert (first.status_code, again.status_code) == (200, 200)
    assert taken == [{"update_id": 7}]
    assert webhook_count(after, "bad") - webhook_count(before, "bad") == 3
    assert webhook_count(after, "duplicate") - webhook_count(before, "duplicate") == 1
    assert "Traceback" not in caplog.text
