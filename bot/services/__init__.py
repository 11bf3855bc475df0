"""Use cases the handlers call."""

from __future__ import annotations

import dataclasses

from bot.domain import Clock
from bot.services.broadcasts import BroadcastService
from bot.services.chats import ChatService
from bot.services.digests import DigestService
from bot.services.feeds import FeedService
from bot.services.health import HealthService
from bot.services.jobs import JobService
from bot.services.outbox import OutboxService
from bot.services.quiet import QuietService
from bot.services.reading import ReadingService
from bot.services.stats import StatsService
from bot.services.topics import TopicService


@dataclasses.dataclass(frozen=True, slots=True)
class Services:
    """Every service the handlers may call; built once by the composition root."""

    clock: Clock
    default_timezone: str
    chats: ChatService
    feeds: FeedService
    health: HealthService
    outbox: OutboxService
    broadcasts: BroadcastService
    stats: StatsService
    topics: TopicService
    reading: ReadingService
    digests: DigestService
    quiet: QuietService
    jobs: JobService
