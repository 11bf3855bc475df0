"""The typed callback context every handler receives."""

from __future__ import annotations

import dataclasses
from typing import Any

from telegram.ext import CallbackContext, ContextTypes, ExtBot

from bot.services import Services


@dataclasses.dataclass
class BotData:
    """Application-wide state; PTB creates it empty, ``post_init`` fills it."""

    services: Services | None = None
    admin_ids: frozenset[int] = frozenset()
    # chat id → (monotonic expiry, ids of the group's admins)
    group_admins: dict[int, tuple[float, frozenset[int]]] = dataclasses.field(default_factory=dict)


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    @property
    def services(self) -> Services:
        services = self.bot_data.services
        if services is None:
            raise RuntimeError("services are not ready: the application has not initialised")
        return services


CONTEXT_TYPES = ContextTypes(context=BotContext, bot_data=BotData)
