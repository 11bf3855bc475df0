"""setWebhook, deleteWebhook and getWebhookInfo, and updates POSTed as Telegram posts them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from bot.sandbox.emulator import BotApiEmulator
from tests.sandbox.helpers import BotApiClient


class Receiver:
    """A bot's webhook endpoint on loopback: records every request, answers ``status``."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.status = 200
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append((dict(request.headers), json.loads(await request.read())))
        return web.Response(status=self.status)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    receiver.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    try:
        yield receiver
    finally:
        await runner.cleanup()


async def test_updates_are_posted_to_the_webhook_with_the_secret_header(
    api: BotApiClient, emulator: BotApiEmulator, receiver: Receiver
) -> None:
    ada = emulator.add_user("Ada")
    assert await api.result("setWebhook", url=receiver.url, secret_token="s3cret_-X")

    said = await emulator.user_says(ada.id, ada.id, "/start")
    await emulator.wait_until(lambda: receiver.requests, description="webhook request")

    [(headers, update)] = receiver.requests
    assert headers["X-Telegram-Bot-Api-Secret-Token"] == "s3cret_-X"
    assert headers["Content-Type"] == "application/json"
    assert update["message"] == said.json
    assert emulator.pending_updates == []


async def test_get_updates_is_refused_while_a_webhook_is_set(
    api: BotApiClient, emulator: BotApiEmulator, receiver: Receiver
) -> None:
    await api.result("setWebhook", url=receiver.url)

    refused = await api.error("getUpdates")
    await api.result("deleteWebhook")
    polled = await api.result("getUpdates")

    assert refused == (
        409,
        "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook "
        "to delete the webhook first",
    )
    assert polled == []


async def test_setting_a_webhook_ends_a_long_poll_under_way_with_the_conflict(
    api: BotApiClient, emulator: BotApiEmulator, receiver: Receiver
) -> None:
    poll = asyncio.create_task(api.call("getUpdates", timeout=30))
    await emulator.wait_until(lambda: emulator.long_polling, description="long poll")

    await api.result("setWebhook", url=receiver.url)
    async with asyncio.timeout(5):
        status, body = await poll

    assert status == 409
    assert "while webhook is active" in body["description"]


@pytest.mark.parametrize(
    ("url", "description"),
    [
        ("http://bot.example/hook", "bad webhook: An HTTPS URL must be provided for webhook"),
        ("ftp://bot.example/hook", "bad webhook: An HTTPS URL must be provided for webhook"),
        (
            "https://bot.example:8080/hook",
            "bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443",
        ),
    ],
)
async def test_a_url_telegram_would_not_post_to_is_refused(
    api: BotApiClient, emulator: BotApiEmulator, url: str, description: str
) -> None:
    assert await api.error("setWebhook", url=url) == (400, f"Bad Request: {description}")
    assert emulator.webhook is None


@pytest.mark.parametrize("secret", ["has space", "colon:s", "é", "x" * 257])
async def test_a_secret_token_outside_telegrams_alphabet_is_refused(
    api: BotApiClient, emulator: BotApiEmulator, receiver: Receiver, secret: str
) -> None:
    refused = await api.error("setWebhook", url=receiver.url, secret_token=secret)

    assert refused == (400, "Bad Request: secret token contains unallowed characters")
    assert emulator.webhook is None


async def test_an_update_the_bot_refuses_stays_queued_and_is_retried_with_the_error_shown(
    api: BotApiClient, emulator: BotApiEmulator, receiver: Receiver
) -> None:
    ada = emulator.add_user("Ada")
    receiver.status = 401
    await api.result("setWebhook", url=receiver.url, secret_token="right")

    await emulator.user_says(ada.id, ada.id, "hello")
    await emulator.wait_until(lambda: len(receiver.requests) >= 2, description="a retry")
    info = await api.result("getWebhookInfo")
    receiver.status = 200
    await emulator.wait_until(lambda: not emulator.pending_updates, description="delivery")

    assert info["url"] == receiver.url
    assert info["pending_update_count"] == 1
    assert info["last_error_message"] == "Wrong response from the webhook: 401 Unauthorized"
    assert {update["update_id"] for _, update in receiver.requests} == {
        receiver.requests[0][1]["update_id"]
    }


async def test_set_webhook_keeps_allowed_updates_and_an_empty_url_removes_it(
    api: BotApiClient, emulator: BotApiEmulator, receiver: Receiver
) -> None:
    ada = emulator.add_user("Ada")
    await api.result("setWebhook", url=receiver.url, allowed_updates=["callback_query"])

    await emulator.user_says(ada.id, ada.id, "not delivered: messages aren't allowed")
    info = await api.result("getWebhookInfo")
    await api.result("setWebhook", url="")
    removed = await api.result("getWebhookInfo")

    assert info["allowed_updates"] == ["callback_query"]
    assert info["pending_update_count"] == 0
    assert removed["url"] == ""
