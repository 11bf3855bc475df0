"""The composition root: builds the Application and wires every part of Herald together."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import gc
import logging
import os
import secrets
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any
from urllib.parse import urlsplit

import httpx
from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import Conflict, TelegramError
from telegram.ext import Application, Defaults

import handlers
from bot import metrics
from bot.delivery.pacing import Pacer, SharedBudget
from bot.delivery.sender import PacedRateLimiter, TelegramSender
from bot.delivery.worker import Deliverer
from bot.domain import Clock, Topic, first_line, utc_now
from bot.feeds import AddressPolicy, HttpFeedFetcher, feed_client
from bot.server import HttpServer
from bot.services import Services
from bot.services.alerts import AlertRouter
from bot.services.broadcasts import BroadcastService
from bot.services.chats import ChatService
from bot.services.digests import DigestService
from bot.services.feeds import FeedService
from bot.services.health import HealthReport, HealthService
from bot.services.jobs import JobService
from bot.services.outbox import OutboxService
from bot.services.push import PushService
from bot.services.quiet import QuietService
from bot.services.reading import ReadingService
from bot.services.stats import StatsService
from bot.services.stories import StoryWindow
from bot.services.topics import TopicService
from bot.storage import coordination
from bot.storage.backends import open_coordinator, open_storage, open_storage_read_only
from bot.storage.chats import ChatRepository
from bot.storage.coordination import Coordinator
from bot.storage.database import Database
from bot.storage.entries import EntryRepository
from bot.storage.feeds import FeedRepository
from bot.storage.interfaces import StorageError
from bot.storage.leases import LeaseRepository
from bot.storage.meta import MetaRepository
from bot.storage.outbox import OutboxRepository
from bot.storage.topics import TopicRepository
from bot.storage.websub import SubscriptionRepository
from bot.topics import TopicIndex
from config import Settings
from config.logging import add_secrets
from handlers.context import CONTEXT_TYPES, BotContext, BotData

log = logging.getLogger(__name__)

HeraldApplication = Application[Any, BotContext, dict[Any, Any], dict[Any, Any], BotData, Any]

# Updates Herald acts on; anything else Telegram would send is not fetched at all. Channel
# posts carry the commands admins type in a channel.
ALLOWED_UPDATES = [
    Update.MESSAGE,
    Update.CHANNEL_POST,
    Update.CALLBACK_QUERY,
    Update.MY_CHAT_MEMBER,
    Update.INLINE_QUERY,
]
# The meta key of the webhook secret Herald made itself, when HERALD_WEBHOOK_SECRET is unset.
WEBHOOK_SECRET_KEY = "webhook_secret"
# The task of a process waiting to lead.
WAIT_TO_LEAD = "wait to lead"
# How long the webhook remembers, across processes, the update ids it took: Telegram gives
# up resending an update within a day.
UPDATES_KEPT = dt.timedelta(days=1)


class StartupError(Exception):
    """Start-up can't go on; ``str()`` is the one line for the operator."""


class Herald:
    """Owns what lives as long as the bot: the database, HTTP clients and services."""

    def __init__(self, settings: Settings, *, clock: Clock = utc_now) -> None:
        self.settings = settings
        self.clock = clock
        self.pacer = Pacer(settings.send_rate)
        self.database: Database | None = None
        self.http: httpx.AsyncClient | None = None
        self.services: Services | None = None
        self.deliverer: Deliverer | None = None
        self.router: AlertRouter | None = None
        self.server: HttpServer | None = None
        self.push: PushService | None = None
        self.coordinator: Coordinator | None = None
        self.topics: TopicService | None = None
        # Set once this process leads: it sends, routes and (long polling) takes updates.
        self.leading = asyncio.Event()
        # run_application's: set to stop the bot (this process lost the lead).
        self.stop: asyncio.Event | None = None
        # This process led, lost the lead to a broken connection, and stopped.
        self.stepped_down = False
        self._lag: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def post_init(self, application: HeraldApplication) -> None:
        settings, clock = self.settings, self.clock
        self.database = database = await open_storage(
            settings.database, pool_size=settings.database_pool_size
        )
        self.coordinator = coordinator = await open_coordinator(database, settings.database)
        if coordinator.shared:
            # Together the processes keep to HERALD_SEND_RATE, and a 429 one of them meets
            # holds the chat for all.
            rate, burst = self.pacer.rate, max(2.0, self.pacer.rate / 10)
            self.pacer.shared = SharedBudget(
                functools.partial(coordinator.grant, rate=rate, burst=burst), burst=burst
            )
            self.pacer.on_hold = lambda chat_id, seconds: coordinator.publish(
                coordination.HOLDS, coordination.hold_item(chat_id, seconds)
            )
            # Replies go out from whichever process took the update: each tells the others
            # which chat it sent to, so a chat's pacing holds across processes.
            self.pacer.on_spend = lambda chat_id: coordinator.publish(
                coordination.SENT, str(chat_id)
            )
            coordinator.subscribe(coordination.HOLDS, self._held_elsewhere)
            coordinator.subscribe(coordination.SENT, self._sent_elsewhere)
        # Feeds get their own client: redirects are followed by the fetcher hop by hop, every
        # connection is checked against the address policy, and a slow feed server must
        # never hold a connection the Bot API needs.
        policy = AddressPolicy(settings.allow_private_networks)
        self.http = feed_client(
            policy,
            limits=httpx.Limits(
                max_connections=settings.poll_concurrency * 2,
                max_keepalive_connections=settings.poll_concurrency,
            ),
        )
        chats, entries = ChatRepository(database), EntryRepository(database)
        outbox = OutboxRepository(database)
        self.deliverer = deliverer = Deliverer(
            outbox, TelegramSender(application.bot), self.pacer, clock=clock
        )

        def wake_sender() -> None:
            """Something was queued: the leader's deliverer sends it."""
            deliverer.wake()
            coordinator.publish(coordination.OUTBOX)

        coordinator.subscribe(coordination.OUTBOX, lambda _: deliverer.wake())
        outbox_service = OutboxService(
            outbox,
            MetaRepository(database),
            admin_ids=settings.admin_ids,
            clock=clock,
            wake=wake_sender,
            keep_sent=dt.timedelta(days=settings.outbox_retention_days),
        )
        topic_repository = TopicRepository(database)
        index = TopicIndex()
        self.topics = topics = TopicService(
            topic_repository,
            entries,
            index,
            clock=clock,
            announce=lambda ids: coordinator.publish(coordination.TOPICS, ",".join(map(str, ids))),
        )
        self.router = router = AlertRouter(
            entries,
            topic_repository,
            index,
            clock=clock,
            wake=wake_sender,
            stories=StoryWindow(
                entries, window=dt.timedelta(hours=settings.cluster_window_hours), clock=clock
            ),
        )

        def route_soon() -> None:
            """New entries are stored: the leader's router routes them."""
            router.wake()
            coordinator.publish(coordination.ENTRIES)

        coordinator.subscribe(coordination.ENTRIES, lambda _: router.wake())
        coordinator.subscribe(coordination.TOPICS, self._topics_changed_elsewhere)
        # What other processes said while listening broke is gone: look again at what
        # may wait to be routed and sent, and compare the topic index with the database.
        coordinator.on_reconnect(router.wake)
        coordinator.on_reconnect(deliverer.wake)
        coordinator.on_reconnect(self._resync_topics)
        feeds = FeedService(
            FeedRepository(database),
            entries,
            HttpFeedFetcher(self.http),
            poll_interval=dt.timedelta(seconds=settings.poll_interval),
            retention=dt.timedelta(days=settings.retention_days),
            clock=clock,
            notify_failing=outbox_service.feed_failing,
            on_new_entries=route_soon,
            concurrency=settings.poll_concurrency,
        )
        # Hubs call back at HERALD_PUBLIC_URL, which only means something with the server on.
        self.push = push = PushService(
            SubscriptionRepository(database),
            self.http,
            policy,
            base_url=settings.websub_base if settings.listen_address else "",
            clock=clock,
        )
        await push.load(feeds.ingest_push)
        feeds.watch_pushes(push)
        self.services = Services(
            clock=clock,
            default_timezone=settings.timezone,
            chats=ChatService(
                chats,
                topics,
                default_timezone=settings.timezone,
                default_digest_time=settings.digest_time,
                clock=clock,
            ),
            feeds=feeds,
            health=HealthService(MetaRepository(database), clock=clock),
            outbox=outbox_service,
            broadcasts=BroadcastService(outbox, chats, entries, clock=clock, wake=wake_sender),
            stats=StatsService(
                chats, entries, outbox, topic_repository, deliverer.stats, clock=clock
            ),
            topics=topics,
            reading=ReadingService(entries, clock=clock),
            digests=DigestService(
                chats, topic_repository, entries, outbox, clock=clock, wake=wake_sender
            ),
            quiet=QuietService(chats, outbox, clock=clock, wake=wake_sender),
            jobs=JobService(
                LeaseRepository(database),
                holder=coordinator.name,
                clock=clock,
                leading=self.leading.is_set,
            ),
        )
        application.bot_data.services = self.services
        application.bot_data.admin_ids = settings.admin_ids
        await topics.load_index()
        # The index is built once and lives as long as the bot: moving it out of the
        # collector's reach keeps full collections from walking it (they'd take seconds).
        gc.freeze()
        await feeds.ensure(settings.feeds)
        await handlers.set_menus(application.bot, settings.admin_ids)
        self._lag = asyncio.create_task(metrics.watch_event_loop(), name="event-loop lag")
        # Listening before any poll: a hub verifies a subscription the moment it is asked.
        await self.start_server(application)
        # Every process polls feeds; the leader also sends, routes and keeps WebSub leases.
        if await coordinator.try_lead():
            self._lead()
        else:
            log.info(
                "Another Herald leads on this database: this one polls feeds, runs jobs and "
                "takes webhook updates, and stands by to lead"
            )
            self._spawn(self._lead_when_free(), WAIT_TO_LEAD)
        feeds.start()
        log.info("Herald is up as @%s", application.bot.username)

    def _lead(self) -> None:
        assert self.deliverer
        assert self.router
        assert self.push
        assert self.coordinator
        if self.coordinator.shared:
            log.info("This Herald leads: it sends, routes and keeps WebSub leases")
            self._spawn(self._step_down_when_lost(self.coordinator), "watch the lead")
        self.deliverer.start()
        # Entries stored but not routed when the last leader stopped are routed first.
        self.router.start()
        self.router.wake()
        self.push.start()
        self.leading.set()

    async def _lead_when_free(self) -> None:
        assert self.coordinator is not None
        assert self.push is not None
        await self.coordinator.lead()
        # The process that led before may have sent to any chat a moment ago.
        self.pacer.took_over()
        self._lead()
        # What changed while another led is read afresh: topics announced before this
        # process listened, subscriptions the last leader made.
        self._resync_topics()
        await _retrying("Reading the WebSub subscriptions", self.push.reload)

    async def _step_down_when_lost(self, coordinator: Coordinator) -> None:
        await coordinator.lost.wait()
        # Another process may lead by now: this one sends no more, stops, and exits with
        # an error so that its supervisor restarts it, to rejoin as a follower.
        self.stepped_down = True
        self.leading.clear()
        if self.deliverer is not None:
            self.deliverer.halt()
        if self.stop is not None:
            self.stop.set()
        if self.router is not None:
            await self.router.close()

    def stopping(self) -> None:
        """The bot is stopping: a process waiting to lead waits no more (it would lead
        until it exits, keeping the lead from one that stays)."""
        for task in self._tasks:
            if task.get_name() == WAIT_TO_LEAD:
                task.cancel()

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(_log_failure)
        task.add_done_callback(self._tasks.discard)

    def _held_elsewhere(self, payload: str) -> None:
        for chat_id, seconds in coordination.holds(payload):
            self.pacer.hold(chat_id, seconds, told=True)

    def _sent_elsewhere(self, payload: str) -> None:
        for chat_id in coordination.ids(payload):
            self.pacer.spend_chat(chat_id, told=True)

    def _topics_changed_elsewhere(self, payload: str) -> None:
        self._spawn(self._sync_topics(coordination.ids(payload)), "sync topics")

    async def _sync_topics(self, topic_ids: list[int]) -> None:
        assert self.topics is not None
        topics = self.topics

        async def sync() -> None:
            await self._learned(await topics.sync(topic_ids))

        # A topic missing from the index would never alert: the database must answer.
        await _retrying(f"Learning of topics {topic_ids}", sync)

    def _resync_topics(self) -> None:
        self._spawn(_retrying("Comparing the topic index", self._resync_topics_now), "resync")

    async def _resync_topics_now(self) -> None:
        assert self.topics is not None
        added = await self.topics.reload_index()
        if added:
            log.info("Topic index: %d topics learned after a break", len(added))
        await self._learned(added)

    async def _learned(self, added: list[Topic]) -> None:
        """Topics new to the index: the leader matches them against what it routed."""
        assert self.router is not None
        if added and self.leading.is_set():
            await self.router.reroute(added)

    async def start_server(self, application: HeraldApplication) -> None:
        """Start the HTTP server on HERALD_LISTEN (unless it is off), with the webhook path
        when HERALD_WEBHOOK_URL is set; raises StartupError when it can't listen."""
        settings = self.settings
        address = settings.listen_address
        if address is None or self.services is None:
            return
        server = HttpServer(
            *address,
            check_health=functools.partial(check_health, settings, clock=self.clock),
            refresh_gauges=self.services.stats.refresh_gauges,
        )
        if self.push is not None and self.push.enabled:
            server.add_websub(self.push)
        if settings.webhook_url:
            # Processes sharing the database record the updates they take, for each other.
            leases = (
                LeaseRepository(self.database)
                if self.database is not None and self.coordinator and self.coordinator.shared
                else None
            )
            server.add_webhook(
                urlsplit(settings.webhook_url).path or "/",
                await self.webhook_secret(),
                functools.partial(_take_update, application),
                first_time=functools.partial(_first_time, leases, self.clock) if leases else None,
                forget=leases.forget_update if leases else None,
            )
        # The first heartbeat before the port opens: an orchestrator's probe may come at once.
        await self.services.health.beat()
        try:
            await server.start()
        except OSError as error:
            await self.services.health.stopped()
            raise StartupError(
                f"HERALD_LISTEN {settings.listen}: cannot listen there: {error.strerror or error}"
            ) from None
        self.server = server

    async def webhook_secret(self) -> str:
        """HERALD_WEBHOOK_SECRET, or the one Herald made at its first start in webhook mode
        and keeps in the database, so a restart needn't wait for Telegram to learn anew."""
        configured = self.settings.webhook_secret
        if configured is not None:
            secret = configured.get_secret_value()
        else:
            assert self.database is not None
            # token_urlsafe uses exactly the characters Telegram allows in a secret_token.
            secret = await MetaRepository(self.database).set_text_once(
                WEBHOOK_SECRET_KEY, secrets.token_urlsafe(32)
            )
        add_secrets(secret)
        return secret

    async def stop_server(self) -> None:
        if self.server is not None:
            await self.server.stop()
            self.server = None

    async def post_stop(self, application: HeraldApplication) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._lag is not None:
            self._lag.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._lag
            self._lag = None
        # Sends in flight finish and are recorded; what is still queued waits in the
        # outbox for the next start.
        if self.deliverer is not None:
            await self.deliverer.stop()
        if self.push is not None:
            await self.push.close()
        if self.services is not None:
            await self.services.feeds.close()
        if self.router is not None:
            await self.router.close()
        shared = self.coordinator is not None and self.coordinator.shared
        with contextlib.suppress(Exception):  # the database may be what went away
            if self.services is not None and not shared:
                # A clean stop says so at once: `herald health` fails now, not minutes
                # later. Processes sharing a database share the heartbeat, which the
                # others go on beating.
                await self.services.health.stopped()
            if self.services is not None:
                await self.services.jobs.stop()
        if self.coordinator is not None:
            # Giving up the lead at once lets another process take it without waiting.
            await self.coordinator.close()
        log.info("Herald stopped taking updates")

    async def post_shutdown(self, application: HeraldApplication) -> None:
        if self.http is not None:
            await self.http.aclose()
            self.http = None
        if self.database is not None:
            await self.database.close()
            self.database = None
            log.info("Herald shut down")


def build_application(settings: Settings, *, clock: Clock = utc_now) -> HeraldApplication:
    # Opt in to PTB's timedelta durations (RetryAfter.retry_after and the like); the int
    # form is deprecated and warns on every 429.
    os.environ["PTB_TIMEDELTA"] = "true"
    token = settings.token
    if token is None:
        raise ValueError("build_application needs HERALD_TELEGRAM_TOKEN")
    herald = Herald(settings, clock=clock)
    application: HeraldApplication = (
        Application.builder()
        .token(token)
        .base_url(f"{settings.telegram_api_url}/bot{{token}}")
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .context_types(CONTEXT_TYPES)
        # Updates are handled concurrently so a slow command (a feed fetch, a big search)
        # never holds up everyone else's replies.
        .concurrent_updates(16)
        .rate_limiter(PacedRateLimiter(herald.pacer))
        .post_init(herald.post_init)
        .post_stop(herald.post_stop)
        .post_shutdown(herald.post_shutdown)
        .build()
    )
    handlers.register(application)
    return application


def herald_of(application: HeraldApplication) -> Herald:
    """The Herald that build_application made ``application`` for."""
    herald = getattr(application.post_init, "__self__", None)
    if not isinstance(herald, Herald):
        raise TypeError("the application was not made by build_application")
    return herald


async def _take_update(application: HeraldApplication, data: dict[str, Any]) -> None:
    """One update from the webhook into PTB's queue, as long polling would put it."""
    try:
        update = Update.de_json(data, application.bot)
    except Exception as error:
        log.warning("Ignored update %s that is not readable: %s", data.get("update_id"), error)
        return
    await application.update_queue.put(update)


# Between tries of work the database must answer for, in seconds.
RETRY_EVERY = 2.0


async def _retrying(what: str, work: Callable[[], Awaitable[None]]) -> None:
    """``await work()`` until it succeeds, saying once that it failed and once that it
    succeeded after all."""
    failed = False
    while True:
        try:
            await work()
        except Exception as error:
            if not failed:
                log.warning("%s failed (%s); trying again", what, first_line(error))
                failed = True
            await asyncio.sleep(RETRY_EVERY)
            continue
        if failed:
            log.info("%s succeeded after all", what)
        return


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and (error := task.exception()) is not None:
        log.error("%s failed: %s", task.get_name(), first_line(error))


async def _first_time(leases: LeaseRepository, clock: Clock, update_id: int) -> bool:
    return await leases.take_update(update_id, now=clock(), keep=UPDATES_KEPT)


async def check_database(settings: Settings) -> None:
    """Open (and migrate) the database once; raises StorageError when it can't be used."""
    database = await open_storage(settings.database, pool_size=settings.database_pool_size)
    await database.close()


async def check_health(settings: Settings, *, clock: Clock = utc_now) -> HealthReport:
    """What `herald health` reports: whether a bot on this database is alive."""
    try:
        # Read-only: a health check must never migrate or write the live database.
        database = await open_storage_read_only(settings.database)
    except StorageError as error:
        return HealthReport(False, str(error))
    try:
        return await HealthService(MetaRepository(database), clock=clock).check()
    finally:
        await database.close()


class PollingErrors:
    """What long polling runs into, as one log line each, and a Conflict once a minute.

    A Conflict means another process polls with the same token (a second deployment, a
    developer's laptop): worth a warning, not a traceback every few seconds.
    """

    EVERY = 60.0

    def __init__(self) -> None:
        self._last_conflict = -self.EVERY

    def report(self, error: TelegramError) -> None:
        if isinstance(error, Conflict):
            now = time.monotonic()
            if now - self._last_conflict >= self.EVERY:
                self._last_conflict = now
                log.warning(
                    "Another process is polling Telegram with this bot's token (%s); "
                    "updates go to whichever asks first",
                    error.message,
                )
            return
        log.warning("Polling Telegram failed, retrying: %s: %s", type(error).__name__, error)


async def _first(wanted: asyncio.Event, stop: asyncio.Event) -> bool:
    """Wait until ``wanted`` or ``stop`` is set; True when ``wanted`` is."""
    waits = {asyncio.ensure_future(wanted.wait()), asyncio.ensure_future(stop.wait())}
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
    return wanted.is_set() and not stop.is_set()


async def run_application(application: HeraldApplication, *, stop: asyncio.Event) -> None:
    """Run the bot until ``stop`` is set: the same steps as PTB's run_polling, in our loop.

    `herald run` and `herald demo` both come here, so the demo runs the bot exactly as
    production does; only where the Bot API and the feeds live differs.
    """
    started = False  # post_init ran: the workers it starts must be stopped
    try:
        try:
            await application.initialize()
        except (TypeError, KeyError, ValueError) as error:
            # getMe answered JSON that isn't a Bot API user: not a Bot API server.
            raise TelegramError("Invalid server response") from error
        if application.post_init is not None:
            started = True
            await application.post_init(application)
        if stop.is_set():
            return
        herald = herald_of(application)
        herald.stop = stop
        settings = herald.settings
        if settings.webhook_url:
            try:
                await application.bot.set_webhook(
                    settings.webhook_url,
                    secret_token=await herald.webhook_secret(),
                    allowed_updates=ALLOWED_UPDATES,
                )
            except TelegramError as error:
                raise StartupError(
                    f"Telegram refused HERALD_WEBHOOK_URL {settings.webhook_url}: {error.message}"
                ) from None
            log.info("Taking updates at the webhook %s", settings.webhook_url)
        await application.start()
        # Scheduled once the job queue runs: APScheduler moves a first run that is already
        # past when it starts to the next interval, so a slow start-up would put off the
        # first heartbeat by 30 s and the first prune by 6 hours.
        handlers.schedule_jobs(application)
        if not settings.webhook_url and await _first(herald.leading, stop):
            assert application.updater is not None
            # Long polling: only the leader asks getUpdates, or Telegram answers Conflict.
            # start_polling deletes any webhook first: Telegram refuses getUpdates while
            # one is set.
            await application.updater.start_polling(
                allowed_updates=ALLOWED_UPDATES, error_callback=PollingErrors().report
            )
        await stop.wait()
    finally:
        herald_of(application).stopping()
        # No more updates come in; those taken are handled before the application stops.
        await herald_of(application).stop_server()
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        # Also when start-up stopped between post_init and start (a webhook Telegram
        # refused): the deliverer and router it started stop before the database closes.
        if started and application.post_stop is not None:
            await application.post_stop(application)
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)
