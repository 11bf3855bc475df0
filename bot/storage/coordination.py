"""How Herald processes that share one database share the work.

Several processes may run on one PostgreSQL database; one of them leads (sends the outbox,
routes entries, takes Telegram updates by long polling, keeps WebSub leases) and every one
polls feeds, runs scheduled jobs and takes webhook updates. They tell each other what
changed through named channels (PostgreSQL's LISTEN/NOTIFY) and draw on one send budget.
On SQLite one process runs on the database (its lock file says so): it leads from the
start, and there is no one to tell.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
from collections.abc import Callable
from typing import Protocol

# What processes tell each other. A payload is a list of items joined by commas (several
# published in a row may arrive as one); an empty one is a signal.
ENTRIES = "herald_entries"  # signal: new entries stored, the leader routes them
OUTBOX = "herald_outbox"  # signal: messages queued, the leader sends them
TOPICS = "herald_topics"  # topic ids added, changed or removed
HOLDS = "herald_holds"  # "<chat id>:<seconds>": Telegram said 429 for that chat
SENT = "herald_sent"  # chat ids just sent to: their pacing budgets are spent everywhere
CHANNELS = (ENTRIES, OUTBOX, TOPICS, HOLDS, SENT)

Listener = Callable[[str], None]


def hold_item(chat_id: int, seconds: float) -> str:
    """The ``HOLDS`` item for a 429 in ``chat_id`` lasting ``seconds``."""
    return f"{chat_id}:{seconds:.3f}"


def holds(payload: str) -> list[tuple[int, float]]:
    """(chat id, seconds) of each item of a ``HOLDS`` payload; raises ValueError for one
    that isn't such an item."""
    found = []
    for item in payload.split(","):
        chat_id, _, seconds = item.partition(":")
        found.append((int(chat_id), float(seconds)))
    return found


def ids(payload: str) -> list[int]:
    """The ids of a ``TOPICS`` or ``SENT`` payload; raises ValueError for a non-number."""
    return [int(item) for item in payload.split(",") if item]


def process_name() -> str:
    """``host:pid:nonce``: which process holds a lease, in logs and in the ``leases`` table."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Coordinator(Protocol):
    """The shared-work seam: leadership, messages between processes, the send budget."""

    @property
    def shared(self) -> bool:
        """Whether other processes may work on this database too."""

    @property
    def name(self) -> str:
        """This process's ``process_name()``."""

    @property
    def lost(self) -> asyncio.Event:
        """Set when this process led and no longer does (its lease's connection broke)."""

    async def start(self) -> None:
        """Begin listening; raises StorageError when the database can't be reached."""

    async def close(self) -> None:
        """Stop listening and give up the lead, if held."""

    async def try_lead(self) -> bool:
        """Take the lead if no process holds it; True when this process leads now."""

    async def lead(self) -> None:
        """Wait until this process leads (cancel to stop waiting)."""

    def publish(self, channel: str, payload: str = "") -> None:
        """Tell every other process ``payload`` on ``channel``, soon; never blocks or raises.

        Empty payloads are signals: several published before the first goes out are one.
        """

    def subscribe(self, channel: str, listener: Listener) -> None:
        """Call ``listener(payload)`` for what other processes publish on ``channel``."""

    def on_reconnect(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` after listening resumed from a break, in which messages may
        have been missed."""

    async def grant(self, wanted: int, *, rate: float, burst: float) -> tuple[int, float]:
        """Take up to ``wanted`` sends from the budget all processes share, refilled at
        ``rate`` a second up to ``burst``: (sends granted, seconds until the next one).

        Raises StorageError when the budget can't be read.
        """


class LocalCoordinator:
    """One process on its database (SQLite): it leads, and tells no one."""

    shared = False

    def __init__(self) -> None:
        self.name = process_name()
        self.lost = asyncio.Event()

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def try_lead(self) -> bool:
        return True

    async def lead(self) -> None:
        pass

    def publish(self, channel: str, payload: str = "") -> None:
        pass

    def subscribe(self, channel: str, listener: Listener) -> None:
        pass

    def on_reconnect(self, callback: Callable[[], None]) -> None:
        pass

    async def grant(self, wanted: int, *, rate: float, burst: float) -> tuple[int, float]:
        return wanted, 0.0
