"""A loopback WebSub hub (W3C WebSub, https://www.w3.org/TR/websub/) for tests and the demo.

It takes subscription requests (§5.1) with 202, verifies each subscriber's intent at its
callback (§5.3), grants leases and lets them lapse, and distributes a topic's new content
to its verified subscribers (§7) signed with their secret (§8). Tests read back what it
asked and delivered, and can forge what a hostile party would send.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Callable
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

log = logging.getLogger(__name__)

DEFAULT_LEASE = 864_000
REQUEST_TIMEOUT = 10.0


@dataclasses.dataclass(slots=True)
class HubSubscription:
    callback: str
    topic: str
    secret: str | None
    lease_seconds: int
    expires_at: float  # wall-clock seconds

    def live(self, now: float) -> bool:
        return now < self.expires_at


@dataclasses.dataclass(frozen=True, slots=True)
class SubscriptionRequest:
    """A (un)subscription request as the hub received it, and its answer."""

    mode: str
    topic: str
    callback: str
    secret: str | None
    lease_seconds: str | None
    status: int


@dataclasses.dataclass(frozen=True, slots=True)
class Verification:
    """The hub's GET to a callback: what it asked and whether the subscriber confirmed."""

    mode: str
    topic: str
    callback: str
    status: int
    confirmed: bool


@dataclasses.dataclass(frozen=True, slots=True)
class Delivery:
    callback: str
    topic: str
    status: int
    signature: str | None
    at: float  # wall-clock seconds when the POST was sent


class WebSubHub:
    """The hub at ``hub_url``. ``lease_seconds``, if given, is the lease granted whatever
    a subscriber asks (a short one makes renewals testable); otherwise the asked lease, or
    ten days."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        lease_seconds: int | None = None,
        signature_method: str = "sha256",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._host = host
        self._port = port
        self._lease = lease_seconds
        self._method = signature_method
        self._clock = clock
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._changed = asyncio.Event()
        self.subscriptions: dict[tuple[str, str], HubSubscription] = {}
        self.requests: list[SubscriptionRequest] = []
        self.verifications: list[Verification] = []
        self.deliveries: list[Delivery] = []

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hub", self._request)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._port)
        await site.start()
        self._port = runner.addresses[0][1]
        self._runner = runner
        # No proxy from the environment may see loopback traffic.
        self._session = aiohttp.ClientSession(
            trust_env=False, timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
        )

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def hub_url(self) -> str:
        return f"http://{self._host}:{self._port}/hub"

    def link_header(self, topic: str) -> str:
        """The ``Link`` header a publisher serves its topic with to name this hub (§4)."""
        return f'<{self.hub_url}>; rel="hub", <{topic}>; rel="self"'

    def live(self, topic: str) -> list[HubSubscription]:
        """The topic's subscriptions whose lease has not ended."""
        now = self._clock()
        return [sub for sub in self.subscriptions.values() if sub.topic == topic and sub.live(now)]

    # Publishing

    async def publish(
        self, topic: str, body: bytes, *, content_type: str = "application/rss+xml"
    ) -> list[Delivery]:
        """Distribute ``body`` as the topic's new content to every live subscriber (§7)."""
        sent = await asyncio.gather(
            *(self._deliver(sub, body, content_type) for sub in self.live(topic))
        )
        return list(sent)

    async def _deliver(self, sub: HubSubscription, body: bytes, content_type: str) -> Delivery:
        signature = None
        if sub.secret is not None:
            digest = hmac.new(sub.secret.encode(), body, getattr(hashlib, self._method))
            signature = f"{self._method}={digest.hexdigest()}"
        return await self.post_content(
            sub.callback, body, topic=sub.topic, signature=signature, content_type=content_type
        )

    async def post_content(
        self,
        callback: str,
        body: bytes,
        *,
        topic: str,
        signature: str | None,
        content_type: str = "application/rss+xml",
    ) -> Delivery:
        """POST content to a callback as a hub does; a test forges a bad one with this."""
        assert self._session is not None, "the hub is not running"
        headers = {"Content-Type": content_type, "Link": self.link_header(topic)}
        if signature is not None:
            headers["X-Hub-Signature"] = signature
        at = self._clock()
        try:
            async with self._session.post(callback, data=body, headers=headers) as response:
                await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError):
            status = 0
        delivery = Delivery(callback, topic, status, signature, at)
        self.deliveries.append(delivery)
        self._notify()
        return delivery

    # Subscriptions

    async def _request(self, request: web.Request) -> web.Response:
        form = await request.post()
        fields = {name: value for name, value in form.items() if isinstance(value, str)}
        mode = fields.get("hub.mode", "")
        topic = fields.get("hub.topic", "")
        callback = fields.get("hub.callback", "")
        secret = fields.get("hub.secret")
        lease = fields.get("hub.lease_seconds")
        status, problem = 202, ""
        if mode not in {"subscribe", "unsubscribe"}:
            status, problem = 400, "hub.mode must be subscribe or unsubscribe"
        elif not _http_url(topic) or not _http_url(callback):
            status, problem = 400, "hub.topic and hub.callback must be http(s) URLs"
        elif secret is not None and len(secret.encode()) >= 200:
            status, problem = 400, "hub.secret must be less than 200 bytes"
        self.requests.append(SubscriptionRequest(mode, topic, callback, secret, lease, status))
        self._notify()
        if status != 202:
            return web.Response(status=status, text=problem)
        granted = self._lease or _positive(lease) or DEFAULT_LEASE
        task = asyncio.create_task(self._verify(mode, topic, callback, secret, granted))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return web.Response(status=202, text="Accepted")

    async def _verify(
        self, mode: str, topic: str, callback: str, secret: str | None, lease: int
    ) -> None:
        _, confirmed = await self.verify_intent(callback, topic, mode=mode, lease=lease)
        if confirmed and mode == "subscribe":
            self.subscriptions[callback, topic] = HubSubscription(
                callback, topic, secret, lease, self._clock() + lease
            )
        elif confirmed:
            self.subscriptions.pop((callback, topic), None)
        self._notify()

    async def verify_intent(
        self, callback: str, topic: str, *, mode: str = "subscribe", lease: int = DEFAULT_LEASE
    ) -> tuple[int, bool]:
        """GET the callback to verify intent (§5.3): its status, and whether it echoed the
        challenge. A test calls it for a subscription nobody asked for."""
        assert self._session is not None, "the hub is not running"
        challenge = secrets.token_urlsafe(16)
        params = {"hub.mode": mode, "hub.topic": topic, "hub.challenge": challenge}
        if mode == "subscribe":
            params["hub.lease_seconds"] = str(lease)
        try:
            async with self._session.get(callback, params=params) as response:
                text = await response.text()
                status = response.status
        except (aiohttp.ClientError, TimeoutError):
            status, text = 0, ""
        confirmed = 200 <= status < 300 and text == challenge
        self.verifications.append(Verification(mode, topic, callback, status, confirmed))
        self._notify()
        return status, confirmed

    # Waiting

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_until(
        self,
        condition: Callable[[], object],
        *,
        timeout: float = 10.0,  # noqa: ASYNC109 - the deadline is part of what a test states
        description: str = "the condition",
    ) -> None:
        """Until ``condition()`` holds, re-checked on every change at the hub and every 50 ms
        (leases lapse with no event)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not condition():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(
                    f"no {description} within {timeout}s; requests: {self.requests}, "
                    f"verifications: {self.verifications}"
                )
            changed = self._changed
            try:
                async with asyncio.timeout(min(remaining, 0.05)):
                    await changed.wait()
            except TimeoutError:
                pass


def _http_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in {"http", "https"} and bool(parts.netloc)


def _positive(value: str | None) -> int | None:
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if number > 0 else None
