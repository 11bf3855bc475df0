"""Scheduled jobs run once across the processes that share a database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from bot.domain import Clock
from bot.storage.interfaces import Leases

# A run's lease lasts this share of the job's interval: the process that ran it this time
# has it again next time only if it asks first, and one that died is replaced at the next.
LEASE_SHARE = 0.9


class JobService:
    """Which process runs each scheduled job this time.

    Every process schedules every job; each run first claims the job's lease for most of
    its interval, so of the processes whose schedules fire within that time exactly one
    runs it. With one process on the database it always does.
    """

    def __init__(
        self,
        leases: Leases,
        *,
        holder: str,
        clock: Clock,
        leading: Callable[[], bool] = lambda: True,
    ) -> None:
        """``leading()``: whether this process leads (it alone sends to Telegram in bulk)."""
        self._leases = leases
        self._holder = holder
        self._clock = clock
        self.leading = leading

    async def claim(self, job: str, every: dt.timedelta) -> bool:
        """Whether this process runs ``job`` (scheduled ``every``) now; raises
        StorageError-like database errors when the lease can't be read."""
        now = self._clock()
        return await self._leases.claim(
            f"job:{job}", self._holder, until=now + every * LEASE_SHARE, now=now
        )

    async def stop(self) -> None:
        """Free this process's job leases: a process started next runs them at once."""
        await self._leases.release(self._holder)
