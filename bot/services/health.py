"""The bot's heartbeat, and the check `herald health` runs against it."""

from __future__ import annotations

import dataclasses
import datetime as dt

from bot.domain import Clock
from bot.storage.interfaces import Meta, StorageError

BEAT_EVERY = dt.timedelta(seconds=30)
# Four missed beats: long enough to ride out a slow disk, short enough for an orchestrator
# to restart a wedged bot within a few minutes.
STALE_AFTER = dt.timedelta(minutes=2)


@dataclasses.dataclass(frozen=True, slots=True)
class HealthReport:
    healthy: bool
    detail: str


class HealthService:
    def __init__(self, meta: Meta, *, clock: Clock) -> None:
        self._meta = meta
        self._clock = clock

    async def beat(self) -> None:
        await self._meta.beat(self._clock())

    async def stopped(self) -> None:
        """The bot stopped cleanly: clear the heartbeat."""
        await self._meta.clear_beat()

    async def check(self) -> HealthReport:
        try:
            last = await self._meta.last_beat()
        except StorageError as error:
            return HealthReport(False, f"cannot read the database: {error}")
        if last is None:
            return HealthReport(False, "no bot is running against this database")
        age = self._clock() - last
        if age > STALE_AFTER:
            return HealthReport(False, f"no heartbeat for {age.total_seconds():.0f} s")
        return HealthReport(True, f"heartbeat {age.total_seconds():.0f} s ago")
