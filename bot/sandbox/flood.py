"""Telegram's flood limits as token buckets: overall, per private chat, per group or channel."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

# Float refills land a hair under a whole token (20/60 * 3 = 0.999...); don't refuse those.
_EPSILON = 1e-9


@dataclass(frozen=True, slots=True)
class Rate:
    """A sustained rate and the burst a full bucket allows at once."""

    per_second: float
    burst: int

    def __post_init__(self) -> None:
        if self.per_second <= 0 or self.burst < 1:
            raise ValueError(f"a rate needs per_second > 0 and burst >= 1, got {self}")

    @classmethod
    def per_minute(cls, count: float, *, burst: int) -> Rate:
        return cls(count / 60, burst)


@dataclass(frozen=True, slots=True)
class FloodLimits:
    """The limits the emulator enforces on message-producing methods; None turns one off.

    The defaults are Telegram's published ones: about 30 messages a second overall, about one
    a second in a private chat (a short burst is tolerated) and 20 a minute in a group.
    """

    overall: Rate | None = Rate(30, burst=30)
    private_chat: Rate | None = Rate(1, burst=3)
    group_chat: Rate | None = Rate(20 / 60, burst=20)

    @classmethod
    def unlimited(cls) -> FloodLimits:
        return cls(overall=None, private_chat=None, group_chat=None)


class _Bucket:
    __slots__ = ("rate", "tokens", "updated")

    def __init__(self, rate: Rate, now: float) -> None:
        self.rate = rate
        self.tokens = float(rate.burst)
        self.updated = now

    def wait(self, now: float) -> float:
        """Seconds until a token is available; refills first."""
        elapsed = max(now - self.updated, 0.0)
        self.tokens = min(float(self.rate.burst), self.tokens + elapsed * self.rate.per_second)
        self.updated = now
        missing = 1.0 - self.tokens
        return 0.0 if missing <= _EPSILON else missing / self.rate.per_second

    def take(self) -> None:
        self.tokens -= 1.0


class FloodControl:
    """Decides whether one more message may go out now."""

    def __init__(self, limits: FloodLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._limits = limits
        self._overall: _Bucket | None = None
        self._chats: dict[int, _Bucket] = {}
        self.reset(limits)

    @property
    def limits(self) -> FloodLimits:
        return self._limits

    def reset(self, limits: FloodLimits) -> None:
        """Switches to new limits with every bucket full."""
        self._limits = limits
        now = self._clock()
        self._overall = _Bucket(limits.overall, now) if limits.overall else None
        self._chats = {}

    def acquire(self, chat_id: int, *, private: bool) -> int | None:
        """Takes a token for a message to ``chat_id``, or returns the seconds to wait.

        The wait is what Telegram puts in ``retry_after``: whole seconds, at least one. A
        refused message takes no token from any bucket, so retrying after the wait succeeds.
        """
        now = self._clock()
        buckets = [self._overall] if self._overall else []
        chat_rate = self._limits.private_chat if private else self._limits.group_chat
        if chat_rate is not None:
            bucket = self._chats.get(chat_id)
            if bucket is None:
                bucket = self._chats[chat_id] = _Bucket(chat_rate, now)
            buckets.append(bucket)
        wait = max((bucket.wait(now) for bucket in buckets), default=0.0)
        if wait > 0:
            return max(1, math.ceil(wait - _EPSILON))
        for bucket in buckets:
            bucket.take()
        return None
