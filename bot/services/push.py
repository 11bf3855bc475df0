"""Pushed feeds: WebSub subscriptions found through each feed's hub, kept alive, and read.

The subscriber's rules come from the W3C WebSub recommendation (https://www.w3.org/TR/websub/):
subscribe at the hub a feed names (§4, §5.1) with a callback per feed and a secret per
subscription; answer the hub's verification of intent only for what Herald asked (§5.3);
take content only with a valid signature (§7, §8), acknowledging bad ones without using
them; renew before the lease ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import ipaddress
import logging
import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import httpx

from bot import metrics
from bot.domain import Clock, Feed, PushState, Subscription
from bot.feeds import AddressPolicy, Fetched
from bot.feeds.network import address_refusal
from bot.feeds.websub import ask_hub, discover, signature_valid
from bot.storage.interfaces import StoredPoll, Subscriptions

log = logging.getLogger(__name__)

CALLBACK_PATH = "/websub/"
# What Herald asks for; hubs grant what they like (§5.3 hub.lease_seconds), and a lease
# longer than MAX_LEASE is taken as MAX_LEASE (renewed early, which hubs allow).
LEASE = dt.timedelta(days=10)
MAX_LEASE = dt.timedelta(days=365)
# Renewed this long before the lease ends, or at half a lease shorter than twice this.
RENEW_BEFORE = dt.timedelta(hours=1)
# A hub that refused or couldn't be reached is asked again no sooner than this.
RETRY_AFTER = dt.timedelta(hours=1)
# No hub is asked about one feed more often than this, whatever lease it grants; and an
# unsigned push makes Herald poll the feed no more often than this.
MIN_SPACING = dt.timedelta(seconds=60)
# This many pushes in a row failing the signature check end the subscription's trust:
# the feed is polled as usual, as if it weren't pushed.
MAX_BAD_PUSHES = 3
# A hub that never confirms an unsubscription: the row is dropped after this.
FORGET_UNSUBSCRIBING_AFTER = dt.timedelta(days=1)
MAX_IDLE = 60.0

Ingest = Callable[[int, bytes, str | None, str], Awaitable[StoredPoll | None]]


@dataclasses.dataclass(frozen=True, slots=True)
class PushOutcome:
    """What the callback answers a content distribution: HTTP status, and what happened."""

    status: int
    outcome: str  # accepted, bad_signature, unsigned, unknown, ignored


class PushService:
    """Keeps every feed that names a hub subscribed, and takes what the hubs push.

    ``base_url`` is where hubs reach Herald's callbacks (HERALD_PUBLIC_URL); empty, Herald
    subscribes to nothing. Subscriptions are cached in memory (one row per feed) and every
    change is written through.
    """

    def __init__(
        self,
        subscriptions: Subscriptions,
        client: httpx.AsyncClient,
        policy: AddressPolicy,
        *,
        base_url: str,
        clock: Clock,
    ) -> None:
        self._subscriptions = subscriptions
        self._client = client
        self._policy = policy
        self._base = base_url.rstrip("/")
        self._clock = clock
        self._ingest: Ingest | None = None
        self._cache: dict[int, Subscription] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._asking: set[int] = set()
        self._wake = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None
        self._poll_now: Callable[[int], Awaitable[None]] | None = None
        self._bad_pushes: dict[int, int] = {}
        self._hinted: dict[int, dt.datetime] = {}

    @property
    def enabled(self) -> bool:
        return bool(self._base)

    def callback_url(self, token: str) -> str:
        return f"{self._base}{CALLBACK_PATH}{token}"

    def poll_with(self, callback: Callable[[int], Awaitable[None]]) -> None:
        """``await callback(feed_id)`` to have a feed polled now: it stopped being pushed
        (its lease ran out, the hub denied it, its pushes can't be trusted), or an unsigned
        push hinted at new content."""
        self._poll_now = callback

    async def _ended(self, feed_id: int) -> None:
        if self._poll_now is not None:
            await self._poll_now(feed_id)

    async def load(self, ingest: Ingest) -> None:
        """Read the subscriptions; pushed content goes to ``ingest(feed_id, body,
        content_type, url)``."""
        self._ingest = ingest
        self._cache = {sub.feed_id: sub for sub in await self._subscriptions.all()}

    async def reload(self) -> None:
        """Read the subscriptions again (another process made or renewed them)."""
        self._cache = {sub.feed_id: sub for sub in await self._subscriptions.all()}

    def start(self) -> None:
        """Renew leases in the background until close()."""
        if self._runner is None and self.enabled:
            self._runner = asyncio.create_task(self._renew_forever(), name="renew WebSub leases")

    async def wait_idle(self) -> None:
        """Wait for the hub requests under way to be answered."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def close(self) -> None:
        tasks = [*self._tasks, *([self._runner] if self._runner else [])]
        self._runner = None
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # What the feed watcher tells

    def live(self, feed_id: int) -> bool:
        """Whether a hub pushes this feed now (verified, lease not over)."""
        sub = self._cache.get(feed_id)
        return sub is not None and sub.live(self._clock())

    def live_until(self, feed_id: int) -> dt.datetime | None:
        """When this feed's lease ends, if a hub pushes it now; None when none does."""
        sub = self._cache.get(feed_id)
        return sub.expires_at if sub is not None and sub.live(self._clock()) else None

    def subscription(self, feed_id: int) -> Subscription | None:
        sub = self._cache.get(feed_id)
        return None if sub is None or sub.state is PushState.UNSUBSCRIBING else sub

    def seen(self, feed: Feed, fetched: Fetched) -> None:
        """A poll fetched ``feed``: subscribe if it names a hub Herald isn't subscribed at.

        Of processes sharing a database, the one that polled the feed (its claim keeps the
        others from polling it meanwhile) subscribes; the leader renews.
        """
        if not self.enabled or feed.id in self._asking:
            return
        links = discover(fetched.body, fetched.headers, fetched.url)
        if links.hub is None:
            return
        topic = links.self_url or fetched.url
        sub = self._cache.get(feed.id)
        now = self._clock()
        if sub is not None and sub.hub == links.hub and sub.topic == topic:
            if sub.state is PushState.ACTIVE:
                # Renewals and their retries keep to their own schedule (renew_due).
                renew_at = self._renew_at(sub)
                if renew_at is None or renew_at > now:
                    return
            elif now - sub.requested_at < RETRY_AFTER:
                # A request unanswered, denied or failed is made again only after a while.
                return
        self._spawn(feed.id, self._subscribe(feed.id, links.hub, topic))

    def removed(self, feed: Feed) -> None:
        """The feed is gone: unsubscribe at its hub."""
        if feed.id in self._cache:
            self._spawn(feed.id, self._unsubscribe(feed.id))

    # Subscribing

    def _spawn(self, feed_id: int, work: Awaitable[None]) -> None:
        self._asking.add(feed_id)

        async def guarded() -> None:
            try:
                await work
            except Exception:
                log.exception("WebSub request for feed %s failed", feed_id)
            finally:
                self._asking.discard(feed_id)

        task = asyncio.create_task(guarded(), name=f"websub {feed_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _subscribe(self, feed_id: int, hub: str, topic: str) -> None:
        for url in (hub, topic):
            refusal = await address_refusal(url, self._policy)
            if refusal is not None:
                await self._failed(feed_id, hub, topic, f"not subscribing: {refusal}")
                return
        # Read from the database, not this process's copy: another process sharing it may
        # have subscribed since, and its callback and secret must be kept.
        known = await self._subscriptions.for_feed(feed_id)
        if known is not None and known.hub == hub and known.topic == topic:
            renew_at = self._renew_at(known)
            if known.state is PushState.ACTIVE and (renew_at is None or renew_at > self._clock()):
                self._cache[feed_id] = known
                return
        # A renewal keeps the callback and secret, so pushes signed meanwhile still verify.
        token = known.callback_token if known is not None else secrets.token_urlsafe(24)
        secret = ""
        if _confidential(hub):
            secret = known.secret if known is not None and known.secret else _new_secret()
        self._cache[feed_id] = await self._subscriptions.requested(
            feed_id, hub=hub, topic=topic, callback_token=token, secret=secret, now=self._clock()
        )
        error = await ask_hub(
            self._client,
            hub,
            mode="subscribe",
            topic=topic,
            callback=self.callback_url(token),
            secret=secret or None,
            lease_seconds=int(LEASE.total_seconds()),
        )
        if error is not None:
            await self._failed(feed_id, hub, topic, error)
            return
        log.info("Feed %s: asked %s to push %s", feed_id, _host(hub), topic)

    async def _failed(self, feed_id: int, hub: str, topic: str, error: str) -> None:
        log.warning("Feed %s: WebSub subscription at %s failed: %s", feed_id, hub, error)
        known = self._cache.get(feed_id)
        # Stamped as a request, failed or not: the next try is timed from it (_renew_at).
        await self._subscriptions.requested(
            feed_id,
            hub=hub,
            topic=topic,
            callback_token=known.callback_token if known else secrets.token_urlsafe(24),
            secret=known.secret if known else _new_secret(),
            now=self._clock(),
        )
        # A renewal that failed leaves the lease running; the error is kept for /feeds and
        # the renewal is retried before the lease ends (_renew_at).
        live = known is not None and known.live(self._clock())
        state = PushState.ACTIVE if live else PushState.FAILED
        await self._subscriptions.set_state(feed_id, state, error=error)
        await self._refresh(feed_id)

    async def _unsubscribe(self, feed_id: int) -> None:
        sub = self._cache.get(feed_id)
        if sub is None:
            return
        if sub.state not in {PushState.ACTIVE, PushState.REQUESTED}:
            await self._subscriptions.delete(feed_id)
            self._cache.pop(feed_id, None)
            return
        await self._subscriptions.set_state(feed_id, PushState.UNSUBSCRIBING)
        await self._refresh(feed_id)
        error = await ask_hub(
            self._client,
            sub.hub,
            mode="unsubscribe",
            topic=sub.topic,
            callback=self.callback_url(sub.callback_token),
        )
        if error is not None:
            log.warning("Feed %s: unsubscribing at %s failed: %s", feed_id, sub.hub, error)
            await self._subscriptions.delete(feed_id)
            self._cache.pop(feed_id, None)
            return
        log.info(
            "Feed %s removed: asked %s to stop pushing %s", feed_id, _host(sub.hub), sub.topic
        )

    async def _refresh(self, feed_id: int) -> None:
        sub = await self._subscriptions.for_feed(feed_id)
        if sub is None:
            self._cache.pop(feed_id, None)
        else:
            self._cache[feed_id] = sub
        self._wake.set()

    # The hub's requests to the callback

    async def verify(
        self, token: str, *, mode: str, topic: str, challenge: str, lease_seconds: str | None
    ) -> str | None:
        """The hub's verification of intent (§5.3): the challenge to echo when Herald asked
        for this (un)subscription, None (answer 404) when it didn't. What a caller sent is
        logged quoted (``%r``), so it can't forge a log line."""
        sub = await self._subscriptions.by_token(token)
        if sub is None or sub.topic != topic or not challenge:
            log.warning(
                "Refused a WebSub %r verification for %r: Herald asked for no such thing",
                mode[:20],
                topic[:200],
            )
            return None
        # A request that seemed to fail (the hub timed out, or verified only after the lease
        # ended) was still Herald's: its verification is taken.
        asked = {PushState.REQUESTED, PushState.ACTIVE, PushState.FAILED}
        if mode == "subscribe" and sub.state in asked:
            lease = _seconds(lease_seconds)
            if lease is None:
                log.warning(
                    "Refused a WebSub verification for %r without a valid lease: %r",
                    topic[:200],
                    (lease_seconds or "")[:40],
                )
                return None
            await self._subscriptions.verified(sub.feed_id, lease_seconds=lease, now=self._clock())
            await self._refresh(sub.feed_id)
            log.info("Feed %s is pushed by %s for %s", sub.feed_id, _host(sub.hub), _lease(lease))
            return challenge
        if mode == "unsubscribe" and sub.state is PushState.UNSUBSCRIBING:
            await self._subscriptions.delete(sub.feed_id)
            self._cache.pop(sub.feed_id, None)
            log.info("Feed %s: %s confirmed it stops pushing", sub.feed_id, _host(sub.hub))
            return challenge
        log.warning(
            "Refused a WebSub %r verification for %r: the subscription is %s",
            mode[:20],
            topic[:200],
            sub.state.value,
        )
        return None

    async def denied(self, token: str, *, topic: str, reason: str) -> None:
        """The hub refused or ended the subscription (§5.2)."""
        sub = await self._subscriptions.by_token(token)
        if sub is None or sub.topic != topic or sub.state is PushState.UNSUBSCRIBING:
            return
        await self._subscriptions.set_state(
            sub.feed_id, PushState.DENIED, error=reason[:300] or "denied"
        )
        await self._refresh(sub.feed_id)
        if sub.live(self._clock()):
            await self._ended(sub.feed_id)
        log.warning("Feed %s: %s denied the subscription: %r", sub.feed_id, sub.hub, reason[:300])

    async def push(
        self, token: str, body: bytes, *, signature: str | None, content_type: str | None
    ) -> PushOutcome:
        """Content distribution (§7): stored and routed at once when signed with the
        subscription's secret; acknowledged and ignored when not (§8)."""
        sub = await self._subscriptions.by_token(token)
        if sub is None or sub.state in {PushState.UNSUBSCRIBING, PushState.DENIED}:
            metrics.WEBSUB_PUSHES.labels("unknown").inc()
            log.warning("Ignored a WebSub push to a callback with no subscription")
            # §7: 410 Gone tells the hub the subscription was deleted.
            return PushOutcome(410, "unknown")
        if not sub.secret:
            # Subscribed without a secret (a plain-HTTP hub): nothing it sends is proof.
            return await self._bad_push(sub, signed=False, expected=True)
        if not signature_valid(body, signature, sub.secret):
            return await self._bad_push(sub, signed=bool(signature))
        self._bad_pushes.pop(sub.feed_id, None)
        assert self._ingest is not None
        stored = await self._ingest(sub.feed_id, body, content_type, sub.topic)
        if stored is None:
            metrics.WEBSUB_PUSHES.labels("ignored").inc()
            return PushOutcome(202, "ignored")
        await self._subscriptions.pushed(sub.feed_id, now=self._clock())
        await self._refresh(sub.feed_id)
        metrics.WEBSUB_PUSHES.labels("accepted").inc()
        log.info("Feed %s pushed: %d new entries", sub.feed_id, stored.new)
        return PushOutcome(202, "accepted")

    async def _bad_push(
        self, sub: Subscription, *, signed: bool, expected: bool = False
    ) -> PushOutcome:
        """A push that can't be authenticated (§8: acknowledged, its body ignored).

        An unsigned one (a hub that dropped hub.secret, as §5.1 lets it over plain HTTP,
        or any push of a subscription made without a secret, ``expected``) still says the
        topic changed: the feed is polled now, at most once a ``MIN_SPACING``.
        ``MAX_BAD_PUSHES`` unexpected ones in a row end the subscription's trust.
        """
        outcome = "bad_signature" if signed else "unsigned"
        metrics.WEBSUB_PUSHES.labels(outcome).inc()
        bad = self._bad_pushes.get(sub.feed_id, 0) + (0 if expected else 1)
        self._bad_pushes[sub.feed_id] = bad
        now = self._clock()
        hinted = self._hinted.get(sub.feed_id)
        poll = not signed and (hinted is None or now - hinted >= MIN_SPACING)
        if expected:
            log.info(
                "Feed %s: a push from a hub without a secret%s",
                sub.feed_id,
                ": polling the feed" if poll else "",
            )
        else:
            log.warning(
                "Ignored a WebSub push for feed %s: %s X-Hub-Signature%s",
                sub.feed_id,
                "a wrong" if signed else "no",
                "; polling the feed instead" if poll else "",
            )
        if bad >= MAX_BAD_PUSHES and sub.state is PushState.ACTIVE:
            error = f"{bad} pushes in a row failed the signature check"
            log.warning("Feed %s: %s; polled as usual", sub.feed_id, error)
            await self._subscriptions.set_state(sub.feed_id, PushState.FAILED, error=error)
            await self._refresh(sub.feed_id)
            poll = True
        if poll:
            self._hinted[sub.feed_id] = now
            await self._ended(sub.feed_id)
        return PushOutcome(202, outcome)

    # Leases

    def _renew_at(self, sub: Subscription) -> dt.datetime | None:
        """When to ask the hub next about ``sub``; None when nothing is to be asked.

        An active lease is renewed ``RENEW_BEFORE`` (or half the lease) before it ends. A
        renewal the hub didn't verify (it failed, or the hub never called back) is asked
        again when half the time left has passed, so the tries come closer as the end nears,
        never closer than ``MIN_SPACING``. A lease that ended, and a subscription that
        failed or was never verified, are asked for again ``RETRY_AFTER`` after the last
        request. Denied subscriptions wait for the feed's next fetch (seen()).
        """
        if sub.state in {PushState.REQUESTED, PushState.FAILED}:
            return sub.requested_at + RETRY_AFTER
        if sub.state is not PushState.ACTIVE or sub.expires_at is None:
            return None
        if not _renewal_asked(sub):
            return max(_renewal_time(sub), sub.requested_at + MIN_SPACING)
        left = sub.expires_at - sub.requested_at
        wait = min(max(left / 2, MIN_SPACING), RETRY_AFTER) if left > MIN_SPACING else RETRY_AFTER
        return sub.requested_at + wait

    async def renew_due(self) -> int:
        """Renew every lease whose renewal time has come; returns how many were asked.

        The subscriptions are read afresh first: another process sharing the database may
        have made or renewed some since.
        """
        await self.reload()
        now = self._clock()
        asked = 0
        for sub in list(self._cache.values()):
            if sub.feed_id in self._asking:
                continue
            if sub.state is PushState.ACTIVE and not sub.live(now) and _renewal_asked(sub):
                # The lease ran out unrenewed: the feed is polled as usual from now on.
                error = sub.error or "the hub did not verify the renewal"
                log.warning(
                    "Feed %s: WebSub lease at %s ended unrenewed: %s",
                    sub.feed_id,
                    _host(sub.hub),
                    error,
                )
                await self._subscriptions.set_state(
                    sub.feed_id, PushState.FAILED, error=f"not renewed: {error}"
                )
                await self._refresh(sub.feed_id)
                await self._ended(sub.feed_id)
                sub = self._cache[sub.feed_id]
            renew_at = self._renew_at(sub)
            if renew_at is not None and renew_at <= now:
                log.info("Feed %s: renewing its WebSub lease at %s", sub.feed_id, _host(sub.hub))
                self._spawn(sub.feed_id, self._subscribe(sub.feed_id, sub.hub, sub.topic))
                asked += 1
            elif (
                sub.state is PushState.UNSUBSCRIBING
                and now - sub.requested_at > FORGET_UNSUBSCRIBING_AFTER
            ):
                await self._subscriptions.delete(sub.feed_id)
                self._cache.pop(sub.feed_id, None)
        return asked

    async def _renew_forever(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.renew_due()
            except Exception:
                log.exception("Renewing WebSub leases failed")
            now = self._clock()
            times = [at for sub in self._cache.values() if (at := self._renew_at(sub)) is not None]
            delay = MAX_IDLE
            if times:
                delay = min(delay, max((min(times) - now).total_seconds(), 0.05))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._wake.wait()


def _new_secret() -> str:
    return secrets.token_urlsafe(32)


def _confidential(hub: str) -> bool:
    """Whether a secret may be sent to ``hub``: over HTTPS, or to this machine, where no
    one between can read it (§5.1: hub.secret SHOULD only be sent over HTTPS)."""
    parts = urlsplit(hub)
    if parts.scheme == "https":
        return True
    host = parts.hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _renewal_time(sub: Subscription) -> dt.datetime:
    """When an active lease is due for renewal: ``RENEW_BEFORE`` (or half the lease)
    before it ends."""
    assert sub.expires_at is not None
    lease = dt.timedelta(seconds=sub.lease_seconds or 0)
    return sub.expires_at - min(RENEW_BEFORE, lease / 2)


def _renewal_asked(sub: Subscription) -> bool:
    """Whether the hub was asked to renew this lease since its renewal came due."""
    return sub.expires_at is not None and sub.requested_at >= _renewal_time(sub)


def _seconds(value: str | None) -> int | None:
    """hub.lease_seconds (§5.3): a positive whole number of seconds in ASCII digits, at most
    ``MAX_LEASE`` (a longer lease is taken as that); None for anything else."""
    if not value or not value.isascii() or not value.isdigit() or len(value) > 30:
        return None
    seconds = min(int(value), int(MAX_LEASE.total_seconds()))
    return seconds if seconds > 0 else None


def _lease(seconds: int) -> str:
    if seconds < 3600:
        return f"{seconds} s"
    return f"{seconds / 3600:.1f} h"


def _host(url: str) -> str:
    return urlsplit(url).netloc or url
