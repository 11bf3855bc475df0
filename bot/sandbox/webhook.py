"""The emulator's webhooks: setWebhook's rules, and updates POSTed to the bot's URL.

Telegram's rules (Bot API, setWebhook): an HTTPS URL on port 80, 88, 443 or 8443; a
``secret_token`` of 1-256 characters of ``A-Z a-z 0-9 _ -`` sent back in the
``X-Telegram-Bot-Api-Secret-Token`` header of every request; while a webhook is set,
getUpdates answers 409. The emulator also takes plain http to a loopback address (on any
port), since the bot under test listens there; anything else it refuses as Telegram does.
Updates go out one at a time in order; one the bot doesn't answer with a 2xx stays first
in line and is tried again after a pause, its error kept for getWebhookInfo.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import ipaddress
import json
import logging
import re
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import aiohttp

from bot.sandbox.errors import bad_request
from bot.sandbox.world import JSON, World

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
HTTPS_PORTS = frozenset({80, 88, 443, 8443})
DEFAULT_MAX_CONNECTIONS = 40
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
# Telegram waits longer and longer between tries; a test needs only to see the retry.
RETRY_AFTER = 0.5
REQUEST_TIMEOUT = 10.0

NEED_HTTPS = "bad webhook: An HTTPS URL must be provided for webhook"
BAD_PORT = "bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443"
BAD_SECRET = "secret token contains unallowed characters"
WEBHOOK_ACTIVE = (
    "can't use getUpdates method while webhook is active; use deleteWebhook to delete the "
    "webhook first"
)


@dataclasses.dataclass(slots=True)
class Webhook:
    url: str
    secret_token: str | None
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    last_error_date: int | None = None
    last_error_message: str | None = None
    delivered: int = 0
    refused: int = 0


def check_webhook_url(url: str) -> None:
    """Raise Telegram's ApiError for a URL it would not post to."""
    parts = urlsplit(url)
    if parts.scheme == "http" and _is_loopback(parts.hostname or ""):
        return
    if parts.scheme != "https" or not parts.hostname:
        raise bad_request(NEED_HTTPS)
    if (parts.port or 443) not in HTTPS_PORTS:
        raise bad_request(BAD_PORT)


def check_secret_token(secret: str) -> None:
    if not _SECRET.fullmatch(secret):
        raise bad_request(BAD_SECRET)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class WebhookDelivery:
    """Posts the world's pending updates to the webhook ``current()`` names, until stopped."""

    def __init__(self, world: World, current: Callable[[], Webhook | None]) -> None:
        self._world = world
        self._current = current
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="emulator webhook delivery")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _run(self) -> None:
        # No proxy from the environment may see the bot's loopback traffic.
        self._session = aiohttp.ClientSession(
            trust_env=False, timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
        )
        while True:
            webhook = self._current()
            if webhook is None or not self._world.updates:
                await self._world.changed.wait(60.0)
                continue
            update = self._world.updates[0]
            if await self._post(webhook, update):
                if self._world.updates and self._world.updates[0] is update:
                    self._world.updates.pop(0)
                webhook.delivered += 1
                self._world.changed.notify()
            else:
                webhook.refused += 1
                self._world.changed.notify()
                await asyncio.sleep(RETRY_AFTER)

    async def _post(self, webhook: Webhook, update: JSON) -> bool:
        assert self._session is not None
        headers = {"Content-Type": "application/json"}
        if webhook.secret_token is not None:
            headers[SECRET_HEADER] = webhook.secret_token
        try:
            async with self._session.post(
                webhook.url, data=json.dumps(update), headers=headers
            ) as response:
                await response.read()
                if 200 <= response.status < 300:
                    return True
                error = f"Wrong response from the webhook: {response.status} {response.reason}"
        except (aiohttp.ClientError, TimeoutError) as failure:
            error = f"Connection failed: {type(failure).__name__}"
        webhook.last_error_date = int(time.time())
        webhook.last_error_message = error
        return False
