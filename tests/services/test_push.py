"""WebSub subscriptions over time: when Herald asks a hub, renews, and asks again."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import ipaddress
from collections.abc import AsyncIterator
from urllib.parse import parse_qs

import httpx
import pytest

from bot.domain import Feed, PushState
from bot.feeds import AddressPolicy, Fetched, HttpFeedFetcher
from bot.feeds.parser import parse_feed
from bot.formatting import push_status
from bot.services.feeds import FeedService
from bot.services.push import PushService
from bot.storage.database import Database
from bot.storage.entries import EntryRepository
from bot.storage.feeds import FeedRepository
from bot.storage.websub import SubscriptionRepository
from tests.services.conftest import StepClock

# Documentation addresses (RFC 5737): reserved, so opened to the policy explicitly, and
# IP literals, so nothing is looked up.
HUB = "https://203.0.113.5/hub"
PLAIN_HUB = "http://203.0.113.5/hub"
TOPIC = "http://203.0.113.9/world.xml"
BASE = "https://herald.example"


class Hub:
    """A hub's front door: records each request's form, answers ``status``."""

    def __init__(self) -> None:
        self.forms: list[dict[str, str]] = []
        self.status = 202
        self.feed_fetches = 0
        self.hub_url = HUB  # the hub the feed names

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/world.xml":
            self.feed_fetches += 1
            served = fetched(self.hub_url)
            return httpx.Response(200, content=served.body, headers=served.headers)
        form = parse_qs(request.content.decode())
        self.forms.append({name: values[0] for name, values in form.items()})
        return httpx.Response(self.status)


@pytest.fixture
def hub() -> Hub:
    return Hub()


@contextlib.asynccontextmanager
async def push_service(
    database: Database, hub: Hub, clock: StepClock
) -> AsyncIterator[PushService]:
    """A process's PushService on ``database``, asking ``hub``."""
    policy = AddressPolicy([ipaddress.ip_network("203.0.113.0/24")])
    async with httpx.AsyncClient(transport=httpx.MockTransport(hub)) as client:
        service = PushService(
            SubscriptionRepository(database), client, policy, base_url=BASE, clock=clock
        )

        async def ingest(feed_id: int, body: bytes, content_type: str | None, url: str) -> None:
            raise AssertionError("nothing is pushed in these tests")

        await service.load(ingest)
        yield service
        await service.close()


@pytest.fixture
async def push(database: Database, hub: Hub, clock: StepClock) -> AsyncIterator[PushService]:
    async with push_service(database, hub, clock) as service:
        yield service


@pytest.fixture
async def feed(database: Database, clock: StepClock) -> Feed:
    return await FeedRepository(database).add(TOPIC, now=clock(), next_poll_at=clock())


def fetched(hub_url: str = HUB) -> Fetched:
    return Fetched(
        url=TOPIC,
        body=b"<rss><channel><title>World</title></channel></rss>",
        headers={"link": f'<{hub_url}>; rel="hub", <{TOPIC}>; rel="self"'},
        etag=None,
        last_modified=None,
    )


async def subscribe_and_verify(push: PushService, feed: Feed, hub: Hub, lease: int) -> str:
    push.seen(feed, fetched())
    await push.wait_idle()
    token = hub.forms[-1]["hub.callback"].rsplit("/", 1)[1]
    challenge = await push.verify(
        token, mode="subscribe", topic=TOPIC, challenge="c-1", lease_seconds=str(lease)
    )
    assert challenge == "c-1"
    return token


async def test_a_ten_day_lease_is_renewed_an_hour_before_it_ends_once(
    push: PushService, feed: Feed, hub: Hub, clock: StepClock
) -> None:
    await subscribe_and_verify(push, feed, hub, lease=10 * 86_400)

    clock.advance(days=9, hours=22, minutes=59)
    early = await push.renew_due()
    clock.advance(minutes=2)
    due = await push.renew_due()
    await push.wait_idle()
    again = await push.renew_due()

    [first, renewal] = hub.forms
    assert (early, due, again) == (0, 1, 0)
    assert first["hub.mode"] == renewal["hub.mode"] == "subscribe"
    assert first["hub.callback"] == renewal["hub.callback"]
    assert first["hub.secret"] == renewal["hub.secret"]
    assert first["hub.lease_seconds"] == "864000"
    assert first["hub.callback"].startswith(f"{BASE}/websub/")
    # Still pushed while the renewal awaits the hub's verification.
    assert push.live(feed.id)


async def test_a_lapsed_lease_is_asked_for_again_at_the_next_fetch(
    push: PushService, feed: Feed, hub: Hub, clock: StepClock
) -> None:
    await subscribe_and_verify(push, feed, hub, lease=60)

    clock.advance(seconds=61)
    lapsed = push.live(feed.id)
    push.seen(feed, fetched())
    await push.wait_idle()

    assert lapsed is False
    assert len(hub.forms) == 2


async def test_a_hub_that_refuses_is_asked_again_only_after_an_hour(
    push: PushService, feed: Feed, hub: Hub, clock: StepClock
) -> None:
    hub.status = 400
    push.seen(feed, fetched())
    await push.wait_idle()
    failed = push.subscription(feed.id)
    push.seen(feed, fetched())
    await push.wait_idle()
    soon = len(hub.forms)
    clock.advance(minutes=61)
    hub.status = 202
    push.seen(feed, fetched())
    await push.wait_idle()

    assert failed is not None
    assert failed.state is PushState.FAILED
    assert failed.error == "the hub answered 400"
    assert soon == 1
    assert len(hub.forms) == 2


async def test_a_verification_with_the_right_token_but_no_lease_is_refused(
    push: PushService, feed: Feed, hub: Hub
) -> None:
    push.seen(feed, fetched())
    await push.wait_idle()
    token = hub.forms[-1]["hub.callback"].rsplit("/", 1)[1]

    answer = await push.verify(
        token, mode="subscribe", topic=TOPIC, challenge="c", lease_seconds=None
    )

    assert answer is None
    assert not push.live(feed.id)


async def test_a_renewal_the_hub_refuses_once_is_retried_before_the_lease_ends(
    push: PushService, feed: Feed, hub: Hub, clock: StepClock
) -> None:
    await subscribe_and_verify(push, feed, hub, lease=10 * 86_400)

    clock.advance(days=9, hours=23)
    hub.status = 503
    await push.renew_due()
    await push.wait_idle()
    failing = push.subscription(feed.id)
    clock.advance(minutes=29)
    early = await push.renew_due()
    clock.advance(minutes=2)
    hub.status = 202
    retried = await push.renew_due()
    await push.wait_idle()

    assert failing is not None
    assert failing.state is PushState.ACTIVE
    assert failing.error == "the hub answered 503"
    assert (early, retried) == (0, 1)
    assert len(hub.forms) == 3
    assert push.live(feed.id)


@pytest.fixture
async def feeds(
    database: Database, push: PushService, hub: Hub, clock: StepClock
) -> AsyncIterator[FeedService]:
    """The feed watcher, polling every 2 minutes, fetching from ``hub`` (which serves the
    feed too), told of ``push``."""
    async with httpx.AsyncClient(transport=httpx.MockTransport(hub)) as client:
        service = FeedService(
            FeedRepository(database),
            EntryRepository(database),
            HttpFeedFetcher(client, clock=clock),
            poll_interval=dt.timedelta(minutes=2),
            retention=dt.timedelta(days=90),
            clock=clock,
        )
        service.watch_pushes(push)
        yield service
        await service.close()


async def test_a_lease_whose_renewal_is_never_verified_ends_and_polling_resumes_at_once(
    database: Database,
    feeds: FeedService,
    push: PushService,
    feed: Feed,
    hub: Hub,
    clock: StepClock,
) -> None:
    interval = dt.timedelta(minutes=2)
    await feeds.poll(feed)
    await push.wait_idle()
    token = hub.forms[-1]["hub.callback"].rsplit("/", 1)[1]
    await push.verify(token, mode="subscribe", topic=TOPIC, challenge="c", lease_seconds="600")
    pushed = await feeds.poll(feed)
    # The hub takes every renewal (202) but never verifies one.
    for _ in range(12):
        clock.advance(seconds=60)
        await push.renew_due()
        await push.wait_idle()
    await feeds.poll_due()
    await feeds.wait_idle()
    after = await FeedRepository(database).get(feed.id)

    sub = push.subscription(feed.id)
    assert pushed.next_poll_at == clock.now - dt.timedelta(minutes=12) + dt.timedelta(minutes=10)
    assert not push.live(feed.id)
    assert sub is not None
    assert sub.state is PushState.FAILED
    assert sub.error == "not renewed: the hub did not verify the renewal"
    # Polled as soon as the lease ended, and every usual interval from then on.
    assert after is not None
    assert after.next_poll_at == clock.now + interval
    renewals = len(hub.forms) - 1
    assert 2 <= renewals <= 5


async def test_a_tiny_lease_has_herald_ask_the_hub_at_most_once_a_minute(
    push: PushService, feed: Feed, hub: Hub, clock: StepClock
) -> None:
    token = await subscribe_and_verify(push, feed, hub, lease=2)

    for _ in range(30):
        clock.advance(seconds=4)
        asked = len(hub.forms)
        push.seen(feed, fetched())
        await push.renew_due()
        await push.wait_idle()
        if len(hub.forms) > asked:
            # The hub verifies each request at once, granting 2 s again.
            await push.verify(
                token, mode="subscribe", topic=TOPIC, challenge="c", lease_seconds="2"
            )

    # Two minutes of polls every 4 s: the first request and at most one a minute after.
    assert 1 < len(hub.forms) <= 3


async def test_unsigned_pushes_make_herald_poll_and_three_in_a_row_end_the_push(
    feeds: FeedService, push: PushService, feed: Feed, hub: Hub, clock: StepClock
) -> None:
    # A hub that drops hub.secret (W3C WebSub §5.1 lets it over plain HTTP) signs nothing.
    token = await subscribe_and_verify(push, feed, hub, lease=10 * 86_400)
    await feeds.poll_due()
    await feeds.wait_idle()
    hub.feed_fetches = 0
    body = b"<rss><channel><title>Forged</title></channel></rss>"

    outcomes = []
    polls = []
    for _ in range(3):
        outcome = await push.push(token, body, signature=None, content_type="application/rss+xml")
        outcomes.append(outcome)
        await feeds.poll_due()
        await feeds.wait_idle()
        polls.append(hub.feed_fetches)
        clock.advance(seconds=61)
    sub = push.subscription(feed.id)
    wrong = await push.push(token, body, signature="sha256=00", content_type="application/rss+xml")

    assert [(o.status, o.outcome) for o in outcomes] == [(202, "unsigned")] * 3
    assert wrong.outcome == "bad_signature"
    # Each unsigned push had the feed polled; its body was never taken.
    assert polls == [1, 2, 3]
    assert not push.live(feed.id)
    assert sub is not None
    assert sub.error == "3 pushes in a row failed the signature check"
    assert "pushes from 203.0.113.5 are ignored: 3 pushes in a row failed" in push_status(
        sub, dt.timedelta(minutes=2), now=clock()
    )


async def test_unsigned_pushes_poll_the_feed_at_most_once_a_minute(
    feeds: FeedService, push: PushService, feed: Feed, hub: Hub, clock: StepClock
) -> None:
    token = await subscribe_and_verify(push, feed, hub, lease=10 * 86_400)
    await feeds.poll_due()
    await feeds.wait_idle()
    hub.feed_fetches = 0

    for _ in range(2):
        await push.push(token, b"<rss/>", signature=None, content_type=None)
        await feeds.poll_due()
        await feeds.wait_idle()
        clock.advance(seconds=20)

    assert hub.feed_fetches == 1


async def test_a_signed_push_after_the_hub_denied_the_subscription_is_gone(
    push: PushService, feed: Feed, hub: Hub
) -> None:
    token = await subscribe_and_verify(push, feed, hub, lease=10 * 86_400)
    await push.denied(token, topic=TOPIC, reason="no more")
    sub = push.subscription(feed.id)
    assert sub is not None
    body = b"<rss/>"
    signature = "sha256=" + hmac.new(sub.secret.encode(), body, hashlib.sha256).hexdigest()

    outcome = await push.push(token, body, signature=signature, content_type=None)

    assert (outcome.status, outcome.outcome) == (410, "unknown")


async def test_a_push_stored_after_its_feed_was_removed_is_dropped_not_an_error(
    database: Database, feed: Feed, clock: StepClock
) -> None:
    # The push was parsed while /feeds remove deleted the feed (W3C WebSub §7 push racing
    # the removal): storing it finds no feed.
    repository = FeedRepository(database)
    body = (
        b"<rss><channel><title>World</title><item><title>Harbour</title>"
        b"<link>https://n.example/1</link></item></channel></rss>"
    )
    parsed = parse_feed(body, url=TOPIC, content_type="application/rss+xml", now=clock())
    await repository.remove(feed.id)

    stored = await repository.record_push(
        feed, parsed.entries, title=parsed.title, now=clock(), keep_after=clock()
    )

    assert stored is None
    assert await EntryRepository(database).count() == 0


@pytest.mark.parametrize("granted", ["9" * 30, str(10**12)])
async def test_a_lease_longer_than_a_year_is_taken_as_a_year(
    push: PushService, feed: Feed, hub: Hub, clock: StepClock, granted: str
) -> None:
    push.seen(feed, fetched())
    await push.wait_idle()
    token = hub.forms[-1]["hub.callback"].rsplit("/", 1)[1]

    answer = await push.verify(
        token, mode="subscribe", topic=TOPIC, challenge="c", lease_seconds=granted
    )

    sub = push.subscription(feed.id)
    assert answer == "c"
    assert sub is not None
    assert sub.expires_at == clock() + dt.timedelta(days=365)


@pytest.mark.parametrize("granted", ["86400.0", "-5", "0", "\u0668\u0660", " 60", "1e6"])
async def test_a_lease_that_is_no_whole_number_of_seconds_is_refused(
    push: PushService, feed: Feed, hub: Hub, granted: str
) -> None:
    push.seen(feed, fetched())
    await push.wait_idle()
    token = hub.forms[-1]["hub.callback"].rsplit("/", 1)[1]

    answer = await push.verify(
        token, mode="subscribe", topic=TOPIC, challenge="c", lease_seconds=granted
    )

    assert answer is None
    assert not push.live(feed.id)


async def test_a_plain_http_hub_gets_no_secret_and_its_pushes_only_prompt_a_poll(
    feeds: FeedService, push: PushService, feed: Feed, hub: Hub, clock: StepClock
) -> None:
    # W3C WebSub §5.1: hub.secret SHOULD only be sent over HTTPS. Without a secret no push
    # can be authenticated: each one only has the feed polled (at most once a minute).
    hub.hub_url = PLAIN_HUB
    push.seen(feed, fetched(PLAIN_HUB))
    await push.wait_idle()
    [form] = hub.forms
    token = form["hub.callback"].rsplit("/", 1)[1]
    await push.verify(token, mode="subscribe", topic=TOPIC, challenge="c", lease_seconds="864000")
    await feeds.poll_due()
    await feeds.wait_idle()
    hub.feed_fetches = 0

    outcomes = []
    for _ in range(4):
        body = b"<rss><channel><title>Forged</title></channel></rss>"
        # An HMAC under an empty key is anyone's to compute: it proves nothing.
        signature = "sha256=" + hmac.new(b"", body, hashlib.sha256).hexdigest()
        outcomes.append(await push.push(token, body, signature=signature, content_type=None))
        await feeds.poll_due()
        await feeds.wait_idle()
        clock.advance(seconds=61)

    assert "hub.secret" not in form
    assert [o.outcome for o in outcomes] == ["unsigned"] * 4
    assert hub.feed_fetches == 4
    # Pushes from a hub that can't sign are expected: the subscription stays live.
    assert push.live(feed.id)
    sub = push.subscription(feed.id)
    assert sub is not None
    assert "each push only prompts a poll" in push_status(
        sub, dt.timedelta(minutes=2), now=clock()
    )


async def test_a_hub_at_a_refused_address_is_retried_hourly_not_in_a_loop(
    push: PushService, feed: Feed, hub: Hub, clock: StepClock, caplog: pytest.LogCaptureFixture
) -> None:
    refused = Fetched(
        url=TOPIC,
        body=fetched().body,
        headers={"link": f'<http://10.0.0.1/hub>; rel="hub", <{TOPIC}>; rel="self"'},
        etag=None,
        last_modified=None,
    )
    push.seen(feed, refused)
    await push.wait_idle()

    clock.advance(minutes=61)
    retried = await push.renew_due()
    await push.wait_idle()
    again = await push.renew_due()
    await push.wait_idle()

    assert (retried, again) == (1, 0)
    assert caplog.text.count("not subscribing: 10.0.0.1 is a private address") == 2
    assert hub.forms == []


async def test_a_process_that_didnt_subscribe_keeps_the_subscription_another_made(
    database: Database, push: PushService, feed: Feed, hub: Hub, clock: StepClock
) -> None:
    # Another process on the database, started before the subscription was made.
    async with push_service(database, hub, clock) as other:
        token = await subscribe_and_verify(push, feed, hub, lease=10 * 86_400)
        clock.advance(hours=1)

        other.seen(feed, fetched())  # it polls the feed, whose hub it has no copy of
        await other.wait_idle()
        live = other.live(feed.id)

    stored = await SubscriptionRepository(database).for_feed(feed.id)
    assert len(hub.forms) == 1  # no second subscription under a new callback
    assert stored is not None
    assert stored.callback_token == token
    assert live
