"""Shared work on PostgreSQL: the leader's lease, LISTEN/NOTIFY between processes, and the
send budget every process draws on.

Notifications carry ``<process name>|<payload>``, so a process skips its own. A listening
connection that breaks is opened again, and ``on_reconnect`` callbacks run, since what was
published meanwhile is gone (NOTIFY is not stored).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import logging
from collections.abc import Callable

import psycopg

from bot.domain import first_line
from bot.storage.coordination import CHANNELS, Listener, process_name
from bot.storage.interfaces import StorageError
from bot.storage.postgres.database import PostgresDatabase
from bot.storage.postgres.lease import STANDBY_POLL, Lease, watched_conninfo

log = logging.getLogger(__name__)

# How often the leader checks that its lease's connection still answers, in seconds: the
# longest it may go on sending after another process could have taken the lead.
LEASE_CHECK = 0.5
# NOTIFY payloads are limited to 8,000 bytes; items are joined up to this many.
PAYLOAD_BYTES = 7_000
# After a broken listening connection, the wait before opening it again, in seconds.
RELISTEN_AFTER = 1.0

# One statement under the row's lock: refill by the server's clock, take what is there. The
# clock is read before the lock is granted, so a statement that waited may hold a moment
# earlier than the last one's: time never runs backwards in ``updated``.
_GRANT = """
WITH now AS (SELECT extract(epoch FROM clock_timestamp()) AS t),
budget AS (
    SELECT LEAST(%(burst)s, tokens + GREATEST(0, now.t - updated) * %(rate)s) AS have,
        GREATEST(now.t, updated) AS t
    FROM send_budget, now WHERE id = 1 FOR UPDATE OF send_budget
)
UPDATE send_budget
SET tokens = budget.have - LEAST(floor(budget.have), %(wanted)s), updated = budget.t
FROM budget WHERE send_budget.id = 1
RETURNING LEAST(floor(budget.have), %(wanted)s)::int, budget.have
"""


class PostgresCoordinator:
    """The ``Coordinator`` of processes sharing one PostgreSQL database."""

    shared = True

    def __init__(self, database: PostgresDatabase, url: str) -> None:
        self._database = database
        self._url = url
        self.name = process_name()
        self.lost = asyncio.Event()
        self._lease = Lease(url)
        self._watch: asyncio.Task[None] | None = None
        self._listeners: dict[str, list[Listener]] = collections.defaultdict(list)
        self._reconnected: list[Callable[[], None]] = []
        self._listening: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._outgoing: collections.deque[tuple[str, str]] = collections.deque()
        self._signalled: set[str] = set()
        self._send = asyncio.Event()
        self._sending: asyncio.Task[None] | None = None

    # Listening and telling

    async def start(self) -> None:
        # The first connection is made here, so a server that can't be reached is an error
        # at start-up rather than a retry loop.
        connection = await self._connect()
        self._listening = asyncio.create_task(self._listen(connection), name="listen")
        self._sending = asyncio.create_task(self._publish_forever(), name="notify")
        await self._ready.wait()

    async def _connect(self) -> psycopg.AsyncConnection[tuple[object, ...]]:
        try:
            conninfo = watched_conninfo(self._url, "herald listen")
            connection = await psycopg.AsyncConnection.connect(conninfo, autocommit=True)
            for channel in CHANNELS:
                await connection.execute(f"LISTEN {channel}")
        except psycopg.Error as error:
            raise StorageError(f"cannot listen on PostgreSQL: {first_line(error)}") from None
        return connection

    async def _listen(self, connection: psycopg.AsyncConnection[tuple[object, ...]]) -> None:
        try:
            while True:
                self._ready.set()
                try:
                    async for notify in connection.notifies():
                        self._deliver(notify.channel, notify.payload)
                except psycopg.Error as error:
                    log.warning(
                        "Listening to other Herald processes broke (%s); resuming",
                        first_line(error),
                    )
                with contextlib.suppress(psycopg.Error):
                    await connection.close()
                connection = await self._reconnect()
                log.info("Listening to other Herald processes again")
                for callback in self._reconnected:
                    self._call(callback)
        finally:
            with contextlib.suppress(psycopg.Error):
                await connection.close()

    async def _reconnect(self) -> psycopg.AsyncConnection[tuple[object, ...]]:
        failures = 0
        while True:
            await asyncio.sleep(RELISTEN_AFTER)
            try:
                return await self._connect()
            except StorageError as error:
                # Once at first, then once a minute while the database stays away.
                if failures % 60 == 0:
                    log.warning("%s; trying again every second", error)
                failures += 1

    def _deliver(self, channel: str, message: str) -> None:
        origin, _, payload = message.partition("|")
        if origin == self.name:
            return
        for listener in self._listeners.get(channel, ()):
            self._call(listener, payload)

    @staticmethod
    def _call(callback: Callable[..., None], *arguments: str) -> None:
        try:
            callback(*arguments)
        except Exception:
            log.exception("Handling a message from another Herald process failed")

    def subscribe(self, channel: str, listener: Listener) -> None:
        if channel not in CHANNELS:
            raise ValueError(f"unknown channel {channel!r}")
        self._listeners[channel].append(listener)

    def on_reconnect(self, callback: Callable[[], None]) -> None:
        self._reconnected.append(callback)

    def publish(self, channel: str, payload: str = "") -> None:
        if not payload:
            if channel in self._signalled:
                return
            self._signalled.add(channel)
        self._outgoing.append((channel, payload))
        self._send.set()

    def _next_batch(self) -> tuple[str, str, int]:
        """The first queued channel, its payloads queued in a row joined by commas (as
        many as fit one notification), and how many they are."""
        channel, payload = self._outgoing[0]
        taken = 1
        for other, more in itertools.islice(self._outgoing, 1, None):
            if other != channel or not payload or len(payload) + len(more) > PAYLOAD_BYTES:
                break
            payload = f"{payload},{more}"
            taken += 1
        return channel, payload, taken

    async def _publish_forever(self) -> None:
        failing = False
        while True:
            await self._send.wait()
            self._send.clear()
            while self._outgoing:
                channel, payload, taken = self._next_batch()
                try:
                    async with self._database.session() as connection:
                        await connection.execute(
                            "SELECT pg_notify(%s, %s)", (channel, f"{self.name}|{payload}")
                        )
                except psycopg.Error as error:
                    if not failing:
                        log.warning(
                            "Telling other Herald processes failed (%s); retrying",
                            first_line(error),
                        )
                        failing = True
                    await asyncio.sleep(RELISTEN_AFTER)
                    continue
                failing = False
                for _ in range(taken):
                    self._outgoing.popleft()
                if not payload:
                    self._signalled.discard(channel)

    # Leading

    async def try_lead(self) -> bool:
        await self._lease.connect()
        if await self._lease.try_take():
            self._watch_lease()
            return True
        return False

    async def lead(self) -> None:
        # Asked again every STANDBY_POLL: a blocking pg_advisory_lock would tie the wait to
        # one statement that a dropped connection could leave waiting forever. A database
        # that went away (a restart) is asked again until it is back.
        failures = 0
        while True:
            try:
                if await self.try_lead():
                    return
                failures = 0  # the database answers: a later outage is reported again
            except StorageError as error:
                if failures % 60 == 0:
                    log.warning("Waiting to lead: %s; trying again every second", error)
                failures += 1
            await asyncio.sleep(STANDBY_POLL)

    def _watch_lease(self) -> None:
        if self._watch is None:
            self._watch = asyncio.create_task(self._watch_forever(), name="watch lease")

    async def _watch_forever(self) -> None:
        # The lock lives as long as its connection; only asking shows the connection broke.
        while await self._lease.alive():  # noqa: ASYNC110
            await asyncio.sleep(LEASE_CHECK)
        log.error("This process lost the lead: the connection holding its lease broke")
        self.lost.set()

    # The shared send budget

    async def grant(self, wanted: int, *, rate: float, burst: float) -> tuple[int, float]:
        try:
            async with self._database.session() as connection:
                cursor = await connection.execute(
                    _GRANT, {"wanted": wanted, "rate": rate, "burst": burst}
                )
                row = await cursor.fetchone()
        except psycopg.Error as error:
            raise StorageError(f"the shared send budget can't be read: {error}") from None
        assert row is not None
        granted, have = int(row[0]), float(row[1])
        left = have - granted
        return granted, 0.0 if left >= 1 else (1 - left) / rate

    async def close(self) -> None:
        tasks = [task for task in (self._listening, self._sending, self._watch) if task]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._listening = self._sending = self._watch = None
        await self._lease.close()
