"""Use cases the handlers call."""

from __future__ import annotations

import dataclasses

from bot.services.chats import ChatService
from bot.services.health import HealthService


@dataclasses.dataclass(frozen=True, slots=True)
class Services:
    """Every service the handlers may call; built once by the composition root."""

    chats: ChatService
    health: HealthService
