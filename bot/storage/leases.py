"""Named leases and taken update ids: how processes sharing one database split the work."""

from __future__ import annotations

import datetime as dt

from bot.storage.database import Database, to_epoch


class LeaseRepository:
    """The ``leases`` and ``updates_taken`` tables (migration 0017)."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def claim(self, name: str, holder: str, *, until: dt.datetime, now: dt.datetime) -> bool:
        """Take the lease ``name`` for ``holder`` until ``until`` if it is free at ``now``
        (never taken, or its last holder's time is over); True when taken.

        One statement: of processes claiming together, exactly one gets it.
        """
        changed = await self._db.execute(
            "INSERT INTO leases (name, holder, until) VALUES (?, ?, ?)"
            " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until"
            " WHERE leases.until <= ?",
            (name, holder, to_epoch(until), to_epoch(now)),
        )
        return changed > 0

    async def release(self, holder: str) -> None:
        """Free every lease ``holder`` holds, at once (it stops)."""
        await self._db.execute("UPDATE leases SET until = 0 WHERE holder = ?", (holder,))

    async def take_update(self, update_id: int, *, now: dt.datetime, keep: dt.timedelta) -> bool:
        """Record a webhook update as taken; False when some process took it already.

        Ids older than ``keep`` are forgotten as they go (Telegram resends an update for at
        most a day).
        """
        async with self._db.transaction() as sql:
            cursor = await sql.execute(
                "INSERT INTO updates_taken (update_id, taken_at) VALUES (?, ?)"
                " ON CONFLICT (update_id) DO NOTHING",
                (update_id, to_epoch(now)),
            )
            taken = cursor.rowcount > 0
            if taken and update_id % 100 == 0:
                await sql.execute(
                    "DELETE FROM updates_taken WHERE taken_at < ?", (to_epoch(now - keep),)
                )
        return taken

    async def forget_update(self, update_id: int) -> None:
        """An update whose handling could not start is to be taken again when resent."""
        await self._db.execute("DELETE FROM updates_taken WHERE update_id = ?", (update_id,))
