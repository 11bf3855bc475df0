"""Use cases the handlers call."""

from __future__ import annotations

import dataclasses

from bot.domain import Clock
from bot.services.broadcasts import BroadcastService
from bot.services.chats import ChatService
from bot.services.feeds import FeedService
from bot.services.health import HealthService
from bot.services.outbox import OutboxService
from bot.services.stats import StatsService


@dataclasses.dataclass(frozen=True, slots=True)
class Services:
    """Every service the handlers may call; built once by the composition root."""

    clock: Clock
    chats: ChatService
    feeds: FeedService
    health: HealthService
    outbox: OutboxService
    broadcasts: BroadcastService
    stats: StatsService
