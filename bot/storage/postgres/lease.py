"""The leader's lease on PostgreSQL: of the Herald processes on a database, one leads.

A session advisory lock held on a connection of its own. PostgreSQL releases it the moment
that connection ends: at once when the holder's process dies (the kernel closes its
socket), and within ``keepalives_idle + keepalives_interval × keepalives_count`` seconds
(25 s) when its machine or network goes silent, so another process takes the lead within 30 s.
"""

from __future__ import annotations

import contextlib

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from bot.domain import first_line
from bot.storage.interfaces import StorageError

RUNNING_LOCK = 0x6865_7261_6C64_0002
# How often a process waiting to lead asks for the lock, in seconds (Coordinator.lead).
STANDBY_POLL = 1.0
# TCP keepalives on the lease's connection: a holder that goes silent loses it in 25 s.
KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "tcp_user_timeout": 25_000,
}
# The same on the server's side of it, so the server too ends a silent holder's session,
# and its lock, within 25 s (libpq's keepalives only make the client notice).
SERVER_KEEPALIVES = (
    "-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3"
    " -c tcp_user_timeout=25000"
)


def watched_conninfo(url: str, application_name: str) -> str:
    """``url`` with keepalives on both ends, for a connection whose end must be noticed."""
    options = conninfo_to_dict(url).get("options") or ""
    return make_conninfo(
        url,
        application_name=application_name,
        options=f"{options} {SERVER_KEEPALIVES}".strip(),
        **KEEPALIVES,
    )


class Lease:
    """The lead on ``url``: ``try_take()`` takes it if no other process holds it, and it is
    held until ``close()`` or until the connection holding it ends (``alive()`` says)."""

    def __init__(self, url: str) -> None:
        self._url = url
        self.held = False
        self._connection: psycopg.AsyncConnection[tuple[object, ...]] | None = None

    async def connect(self) -> None:
        """Open the lease's own connection; raises StorageError when the server can't be
        reached."""
        if self._connection is not None and not self._connection.closed:
            return
        self.held = False
        try:
            conninfo = watched_conninfo(self._url, "herald lease")
            self._connection = await psycopg.AsyncConnection.connect(conninfo, autocommit=True)
        except psycopg.Error as error:
            raise StorageError(f"cannot connect to PostgreSQL: {first_line(error)}") from None

    async def try_take(self) -> bool:
        """Take the lock if it is free; ``held`` says whether this lease holds it now.

        A broken connection is opened again first; raises StorageError when it can't be.
        """
        if not self.held:
            await self.connect()
            assert self._connection is not None
            try:
                cursor = await self._connection.execute(
                    "SELECT pg_try_advisory_lock(%s)", (RUNNING_LOCK,)
                )
                row = await cursor.fetchone()
            except psycopg.Error as error:
                with contextlib.suppress(psycopg.Error):
                    await self._connection.close()
                raise StorageError(f"cannot take the lead: {first_line(error)}") from None
            self.held = bool(row and row[0])
        return self.held

    async def alive(self) -> bool:
        """Whether the connection holding the lock still answers (the lock goes with it)."""
        if self._connection is None or self._connection.closed:
            return False
        try:
            await self._connection.execute("SELECT 1")
        except psycopg.Error:
            return False
        return True

    async def close(self) -> None:
        """Give the lead up, if held: closing the session releases the lock."""
        if self._connection is not None:
            # A failure here changes nothing: the lock goes with the session either way.
            with contextlib.suppress(psycopg.Error):
                await self._connection.close()
            self._connection = None
        self.held = False
