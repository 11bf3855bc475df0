"""The composition root: builds the Application and wires every part of Herald together."""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import logging
import os
import time
from typing import Any

import httpx
from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import Conflict, TelegramError
from telegram.ext import Application, Defaults

import handlers
from bot.delivery.pacing import Pacer
from bot.delivery.sender import PacedRateLimiter, TelegramSender
from bot.delivery.worker import Deliverer
from bot.domain import Clock, utc_now
from bot.feeds import AddressPolicy, HttpFeedFetcher, feed_client
from bot.services import Services
from bot.services.alerts import AlertRouter
from bot.services.broadcasts import BroadcastService
from bot.services.chats import ChatService
from bot.services.digests import DigestService
from bot.services.feeds import FeedService
from bot.services.health import HealthReport, HealthService
from bot.services.outbox import OutboxService
from bot.services.quiet import QuietService
from bot.services.reading import ReadingService
from bot.services.stats import StatsService
from bot.services.topics import TopicService
from bot.storage.backends import open_storage, open_storage_read_only
from bot.storage.chats import ChatRepository
from bot.storage.database import Database
from bot.storage.entries import EntryRepository
from bot.storage.feeds import FeedRepository
from bot.storage.interfaces import StorageError
from bot.storage.meta import MetaRepository
from bot.storage.outbox import OutboxRepository
from bot.storage.topics import TopicRepository
from bot.topics import TopicIndex
from config import Settings
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
]


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

    async def post_init(self, application: HeraldApplication) -> None:
        settings, clock = self.settings, self.clock
        self.database = database = await open_storage(
            settings.database, pool_size=settings.database_pool_size
        )
        # Feeds get their own client: redirects are followed by the fetcher hop by hop, every
        # connection is checked against the address policy, and a slow feed server must
        # never hold a connection the Bot API needs.
        self.http = feed_client(
            AddressPolicy(settings.allow_private_networks),
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
        outbox_service = OutboxService(
            outbox,
            MetaRepository(database),
            admin_ids=settings.admin_ids,
            clock=clock,
            wake=deliverer.wake,
            keep_sent=dt.timedelta(days=settings.outbox_retention_days),
        )
        topic_repository = TopicRepository(database)
        index = TopicIndex()
        topics = TopicService(topic_repository, entries, index, clock=clock)
        self.router = router = AlertRouter(
            entries, topic_repository, index, clock=clock, wake=deliverer.wake
        )
        feeds = FeedService(
            FeedRepository(database),
            entries,
            HttpFeedFetcher(self.http),
            poll_interval=dt.timedelta(seconds=settings.poll_interval),
            retention=dt.timedelta(days=settings.retention_days),
            clock=clock,
            notify_failing=outbox_service.feed_failing,
            on_new_entries=router.wake,
            concurrency=settings.poll_concurrency,
        )
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
            broadcasts=BroadcastService(outbox, chats, entries, clock=clock, wake=deliverer.wake),
            stats=StatsService(
                chats, entries, outbox, topic_repository, deliverer.stats, clock=clock
            ),
            topics=topics,
            reading=ReadingService(entries, clock=clock),
            digests=DigestService(
                chats, topic_repository, entries, outbox, clock=clock, wake=deliverer.wake
            ),
            quiet=QuietService(chats, outbox, clock=clock, wake=deliverer.wake),
        )
        application.bot_data.services = self.services
        application.bot_data.admin_ids = settings.admin_ids
        await topics.load_index()
        # The index is built once and lives as long as the bot: moving it out of the
        # collector's reach keeps full collections from walking it (they'd take seconds).
        gc.freeze()
        await feeds.ensure(settings.feeds)
        await handlers.set_menus(application.bot, settings.admin_ids)
        deliverer.start()
        # Entries stored but not routed when the bot last stopped are routed first.
        router.start()
        router.wake()
        feeds.start()
        log.info("Herald is up as @%s", application.bot.username)

    async def post_stop(self, application: HeraldApplication) -> None:
        # Sends in flight finish and are recorded; what is still queued waits in the
        # outbox for the next start.
        if self.deliverer is not None:
            await self.deliverer.stop()
        if self.services is not None:
            await self.services.feeds.close()
        if self.router is not None:
            await self.router.close()
        if self.services is not None:
            # A clean stop says so at once: `herald health` fails now, not minutes later.
            await self.services.health.stopped()
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


async def run_application(application: HeraldApplication, *, stop: asyncio.Event) -> None:
    """Run the bot until ``stop`` is set: the same steps as PTB's run_polling, in our loop.

    `herald run` and `herald demo` both come here, so the demo runs the bot exactly as
    production does; only where the Bot API and the feeds live differs.
    """
    try:
        try:
            await application.initialize()
        except (TypeError, KeyError, ValueError) as error:
            # getMe answered JSON that isn't a Bot API user: not a Bot API server.
            raise TelegramError("Invalid server response") from error
        if application.post_init is not None:
            await application.post_init(application)
        if stop.is_set():
            return
        assert application.updater is not None
        await application.updater.start_polling(
            allowed_updates=ALLOWED_UPDATES, error_callback=PollingErrors().report
        )
        await application.start()
        # Scheduled once the job queue runs: APScheduler moves a first run that is already
        # past when it starts to the next interval, so a slow start-up would put off the
        # first heartbeat by 30 s and the first prune by 6 hours.
        handlers.schedule_jobs(application)
        await stop.wait()
    finally:
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
            if application.post_stop is not None:
                await application.post_stop(application)
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)
