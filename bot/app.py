"""The composition root: builds the Application and wires every part of Herald together."""

from __future__ import annotations

import logging
import os
from typing import Any

from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import Application, Defaults

import handlers
from bot.delivery.pacing import Pacer
from bot.delivery.sender import PacedRateLimiter
from bot.domain import Clock, utc_now
from bot.services import Services
from bot.services.chats import ChatService
from bot.services.health import HealthReport, HealthService
from bot.storage.chats import ChatRepository
from bot.storage.database import Database
from bot.storage.meta import MetaRepository
from config import Settings
from handlers.context import CONTEXT_TYPES, BotContext, BotData

log = logging.getLogger(__name__)

HeraldApplication = Application[Any, BotContext, dict[Any, Any], dict[Any, Any], BotData, Any]

# Updates Herald acts on; anything else Telegram would send is not fetched at all.
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.MY_CHAT_MEMBER]


class Herald:
    """Owns the resources that live as long as the bot: the database and the services."""

    def __init__(self, settings: Settings, *, clock: Clock = utc_now) -> None:
        self.settings = settings
        self.clock = clock
        self.database: Database | None = None
        self.pacer = Pacer(settings.send_rate)

    async def post_init(self, application: HeraldApplication) -> None:
        self.database = await Database.open(self.settings.database)
        application.bot_data.services = Services(
            chats=ChatService(
                ChatRepository(self.database),
                default_timezone=self.settings.timezone,
                clock=self.clock,
            ),
            health=HealthService(MetaRepository(self.database), clock=self.clock),
        )
        await application.bot.set_my_commands(
            [BotCommand(command, description) for command, description in handlers.BOT_COMMANDS]
        )
        handlers.schedule_jobs(application)
        log.info("Herald is up as @%s", application.bot.username)

    async def post_stop(self, application: HeraldApplication) -> None:
        log.info("Herald stopped taking updates")

    async def post_shutdown(self, application: HeraldApplication) -> None:
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


async def check_health(settings: Settings, *, clock: Clock = utc_now) -> HealthReport:
    """What `herald health` reports: whether a bot on this database is alive."""
    if not settings.database.exists():
        return HealthReport(False, f"no database at {settings.database}")
    database = await Database.open(settings.database)
    try:
        return await HealthService(MetaRepository(database), clock=clock).check()
    finally:
        await database.close()
