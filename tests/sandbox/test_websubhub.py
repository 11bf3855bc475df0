"""The sandbox WebSub hub behaves as the W3C recommendation asks of a hub."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import web

from bot.sandbox.websubhub import WebSubHub

TOPIC = "http://127.0.0.1:9/world.xml"


class Subscriber:
    """A callback on loopback: confirms verifications when ``agree``, records pushes."""

    def __init__(self) -> None:
        self.agree = True
        self.pushes: list[tuple[bytes, str | None]] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        if request.method == "GET":
            if not self.agree:
                return web.Response(status=404)
            return web.Response(text=request.query["hub.challenge"])
        self.pushes.append((await request.read(), request.headers.get("X-Hub-Signature")))
        return web.Response(status=202)


@pytest.fixture
async def subscriber() -> AsyncIterator[Subscriber]:
    subscriber = Subscriber()
    app = web.Application()
    app.router.add_route("*", "/callback", subscriber.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    subscriber.url = f"http://127.0.0.1:{runner.addresses[0][1]}/callback"
    try:
        yield subscriber
    finally:
        await runner.cleanup()


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


async def subscribe(hub: WebSubHub, callback: str, **extra: str) -> httpx.Response:
    form = {"hub.mode": "subscribe", "hub.topic": TOPIC, "hub.callback": callback, **extra}
    async with httpx.AsyncClient(trust_env=False) as client:
        return await client.post(hub.hub_url, data=form)


async def test_a_verified_subscriber_gets_content_signed_with_its_secret(
    subscriber: Subscriber,
) -> None:
    async with WebSubHub() as hub:
        answer = await subscribe(hub, subscriber.url, **{"hub.secret": "s3cret"})
        await hub.wait_until(lambda: hub.live(TOPIC), description="subscription")
        [delivery] = await hub.publish(TOPIC, b"<rss>news</rss>")

    [(body, signature)] = subscriber.pushes
    expected = hmac.new(b"s3cret", b"<rss>news</rss>", hashlib.sha256).hexdigest()
    assert answer.status_code == 202
    assert hub.verifications[0].confirmed
    assert body == b"<rss>news</rss>"
    assert signature == f"sha256={expected}"
    assert delivery.status == 202


async def test_a_subscriber_that_does_not_confirm_is_not_subscribed(
    subscriber: Subscriber,
) -> None:
    subscriber.agree = False
    async with WebSubHub() as hub:
        await subscribe(hub, subscriber.url)
        await hub.wait_until(lambda: hub.verifications, description="verification")
        delivered = await hub.publish(TOPIC, b"<rss>news</rss>")

    assert hub.verifications[0].status == 404
    assert not hub.verifications[0].confirmed
    assert delivered == []
    assert subscriber.pushes == []


async def test_a_lease_lapses_and_then_nothing_is_delivered(subscriber: Subscriber) -> None:
    clock = Clock()
    async with WebSubHub(lease_seconds=60, clock=clock) as hub:
        await subscribe(hub, subscriber.url, **{"hub.lease_seconds": "864000"})
        await hub.wait_until(lambda: hub.live(TOPIC), description="subscription")
        clock.now += 61
        delivered = await hub.publish(TOPIC, b"<rss>late</rss>")

    assert hub.subscriptions[subscriber.url, TOPIC].lease_seconds == 60
    assert hub.live(TOPIC) == []
    assert delivered == []


@pytest.mark.parametrize(
    ("extra", "status"),
    [
        ({"hub.secret": "x" * 200}, 400),
        ({"hub.mode": "follow"}, 400),
        ({"hub.topic": "not a url"}, 400),
    ],
)
async def test_malformed_requests_are_refused(
    subscriber: Subscriber, extra: dict[str, str], status: int
) -> None:
    async with WebSubHub() as hub:
        answer = await subscribe(hub, subscriber.url, **extra)

    assert answer.status_code == status
    assert hub.verifications == []
