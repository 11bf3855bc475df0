"""The poll queue: which feeds to poll next, within a global limit and a limit per host."""

from __future__ import annotations

import enum
import heapq
import itertools
from urllib.parse import urlsplit


def host_of(url: str) -> str:
    """The server a URL names (host and port), for per-server politeness."""
    return urlsplit(url).netloc.lower()


class _Place(enum.Enum):
    WAITING = "waiting"  # in the heap, by due time
    PARKED = "parked"  # due, but its host has its polls under way already
    FLYING = "flying"  # being polled


class PollQueue:
    """Feeds by due time, handed out at most ``concurrency`` at once and ``per_host`` a host.

    A due feed whose host is full waits behind that host, not in front of everyone else: a
    host whose polls all hang holds up only its own feeds. Times are plain seconds (epoch);
    entries are never updated in place, so the heaps hold stale copies that are skipped.
    """

    def __init__(self, *, concurrency: int, per_host: int) -> None:
        self.concurrency = concurrency
        self.per_host = per_host
        self._heap: list[tuple[float, int, int]] = []
        self._parked: dict[str, list[tuple[float, int, int]]] = {}
        self._where: dict[int, tuple[_Place, float]] = {}
        self._host: dict[int, str] = {}
        self._busy: dict[str, int] = {}
        self._gone: set[int] = set()  # removed while being polled
        self._flying = 0
        self._order = itertools.count()

    def __len__(self) -> int:
        return len(self._where)

    @property
    def flying(self) -> int:
        return self._flying

    def set(self, feed_id: int, url: str, due: float) -> None:
        """Add a feed or move its due time; a feed being polled gets its time from done()."""
        self._gone.discard(feed_id)
        self._host[feed_id] = host_of(url)
        place = self._where.get(feed_id)
        # Unchanged, it keeps its place: re-reading every feed's time from the database
        # neither grows the heap with copies nor unparks a feed waiting behind its host.
        if place is None or (place[0] is not _Place.FLYING and place[1] != due):
            self._wait(feed_id, due)

    def discard(self, feed_id: int) -> None:
        place = self._where.get(feed_id)
        if place is None:
            return
        if place[0] is _Place.FLYING:
            # Its slot is freed by done(), when the poll under way ends.
            self._gone.add(feed_id)
            return
        del self._where[feed_id]
        del self._host[feed_id]

    def take(self, now: float) -> list[tuple[int, float]]:
        """Feeds to poll now, each with the time it was due; they count as flying until done."""
        taken: list[tuple[int, float]] = []
        while self._flying < self.concurrency and self._heap:
            due, _, feed_id = self._heap[0]
            if self._where.get(feed_id) != (_Place.WAITING, due):
                heapq.heappop(self._heap)
                continue
            if due > now:
                break
            heapq.heappop(self._heap)
            host = self._host[feed_id]
            if self._busy.get(host, 0) >= self.per_host:
                self._where[feed_id] = (_Place.PARKED, due)
                heapq.heappush(
                    self._parked.setdefault(host, []), (due, next(self._order), feed_id)
                )
                continue
            self._busy[host] = self._busy.get(host, 0) + 1
            self._flying += 1
            self._where[feed_id] = (_Place.FLYING, due)
            taken.append((feed_id, due))
        return taken

    def done(self, feed_id: int, next_due: float, url: str | None = None) -> None:
        """The poll of ``feed_id`` ended; it is due again at ``next_due``."""
        host = self._host.get(feed_id, "")
        self._busy[host] -= 1
        if self._busy[host] <= 0:
            del self._busy[host]
        self._flying -= 1
        if feed_id in self._gone:
            self._gone.discard(feed_id)
            self._where.pop(feed_id, None)
            self._host.pop(feed_id, None)
        else:
            if url is not None:
                self._host[feed_id] = host_of(url)
            self._wait(feed_id, next_due)
        # The host has room again: its earliest parked feed goes back into the line.
        parked = self._parked.get(host)
        while parked:
            due, _, waiting = heapq.heappop(parked)
            if self._where.get(waiting) == (_Place.PARKED, due):
                self._wait(waiting, due)
                break
        if not parked:
            self._parked.pop(host, None)

    def next_due(self) -> float | None:
        """When the earliest waiting feed is due, or None when nothing waits."""
        while self._heap:
            due, _, feed_id = self._heap[0]
            if self._where.get(feed_id) == (_Place.WAITING, due):
                return due
            heapq.heappop(self._heap)
        return None

    def _wait(self, feed_id: int, due: float) -> None:
        self._where[feed_id] = (_Place.WAITING, due)
        heapq.heappush(self._heap, (due, next(self._order), feed_id))
