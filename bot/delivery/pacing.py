"""Telegram's flood limits as budgets Herald spends before each send, never after a 429.

Three limits apply to every message Herald sends or edits (Telegram's FAQ for bots):
about 30 messages a second overall, about one a second in a private chat, and twenty a
minute in a group or channel. ``Pacer`` holds a budget for each, shared by command replies
and the outbox sender, and lets replies jump the queue for the overall budget so a big
fan-out never delays an answer to a person.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

Clock = Callable[[], float]
# ``grant(wanted)``: up to ``wanted`` sends from a budget other processes share, and the
# seconds until the next one (see SharedBudget).
Grant = Callable[[int], Awaitable[tuple[int, float]]]
# After a failed grant, the wait before asking again, in seconds.
GRANT_RETRY = 1.0

# A private chat may burst a little (Telegram tolerates a few at once) but not sustain more
# than one a second; the burst stays below the emulator's and Telegram's observed three.
PRIVATE_RATE = 1.0
PRIVATE_BURST = 2.0
GROUP_WINDOW = 60.0
GROUP_MESSAGES = 20
# Idle per-chat state is forgotten after this long, so memory follows active chats only.
_FORGET_AFTER = 120.0
# After taking over from another process, chats first sent to within this many seconds are
# taken to have had a burst from it just now: it may have sent to any of them a moment ago.
TAKEOVER_CAUTION = 3.0


@dataclasses.dataclass(slots=True)
class TokenBucket:
    rate: float
    capacity: float
    tokens: float
    updated: float

    def wait_time(self, now: float) -> float:
        """Seconds until one token is available (0 when one is there now)."""
        self._refill(now)
        return 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) / self.rate

    def take(self, now: float) -> None:
        self._refill(now)
        self.tokens -= 1.0

    def _refill(self, now: float) -> None:
        if now > self.updated:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now


@dataclasses.dataclass(slots=True)
class _ChatBudget:
    bucket: TokenBucket | None  # private chats
    window: collections.deque[float] | None  # groups and channels: send times in the window
    held_until: float = 0.0  # after a 429 for this chat
    last_used: float = 0.0


class Pacer:
    """Budgets for the overall rate and for each chat.

    Chat ids say the chat's kind: Telegram gives users positive ids and groups and channels
    negative ones, so the per-chat limit needs no lookup.
    """

    def __init__(
        self,
        rate: float,
        *,
        clock: Clock = time.monotonic,
        shared: SharedBudget | None = None,
        on_hold: Callable[[int, float], None] | None = None,
        on_spend: Callable[[int], None] | None = None,
    ) -> None:
        """``rate`` messages a second overall; with ``shared``, each of them is also drawn
        from a budget that other processes spend too. ``on_hold(chat_id, seconds)`` hears
        of each 429 ``hold`` records, and ``on_spend(chat_id)`` of each message sent (to
        tell other processes). Raises ValueError for a rate not above 0."""
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.shared = shared
        self.on_hold = on_hold
        self.on_spend = on_spend
        self._clock = clock
        # A small burst, a tenth of a second's worth: enough to make up for timers that fire
        # late, far too little for a receiver counting any one-second window to see more
        # than ``rate`` plus that tenth.
        burst = max(2.0, rate / 10)
        self._overall = TokenBucket(rate, burst, burst, clock())
        self._chats: dict[int, _ChatBudget] = {}
        self._urgent: collections.deque[asyncio.Future[None]] = collections.deque()
        self._bulk: collections.deque[asyncio.Future[None]] = collections.deque()
        self._timer: asyncio.TimerHandle | None = None
        self._cautious_until = float("-inf")

    def took_over(self) -> None:
        """This process now sends in another's place: for the next ``TAKEOVER_CAUTION``
        seconds a chat's budget starts spent (a private chat's bucket empty, half a
        group's minute used) rather than full."""
        self._cautious_until = self._clock() + TAKEOVER_CAUTION

    # Per-chat budgets

    def chat_wait(self, chat_id: int) -> float:
        """Seconds until ``chat_id`` may receive another message (0 if now)."""
        now = self._clock()
        budget = self._chats.get(chat_id)
        if budget is None:
            if now >= self._cautious_until:
                return 0.0
            budget = self._budget(chat_id, now)
        wait = max(0.0, budget.held_until - now)
        if budget.bucket is not None:
            wait = max(wait, budget.bucket.wait_time(now))
        if budget.window is not None:
            while budget.window and budget.window[0] <= now - GROUP_WINDOW:
                budget.window.popleft()
            if len(budget.window) >= GROUP_MESSAGES:
                wait = max(wait, budget.window[0] + GROUP_WINDOW - now)
        return wait

    def spend_chat(self, chat_id: int, *, told: bool = False) -> None:
        """Record a message to ``chat_id``; call only when ``chat_wait`` is 0.

        ``told``: another process sent it and said so; it is not passed on again.
        """
        now = self._clock()
        budget = self._budget(chat_id, now)
        budget.last_used = now
        if budget.bucket is not None:
            budget.bucket.take(now)
        if budget.window is not None:
            budget.window.append(now)
        if self.on_spend is not None and not told:
            self.on_spend(chat_id)

    def hold(self, chat_id: int, seconds: float, *, told: bool = False) -> None:
        """Telegram said 429 for this chat: send it nothing for ``seconds``.

        ``told``: another process met the 429 and said so; it is not passed on again.
        """
        now = self._clock()
        budget = self._budget(chat_id, now)
        budget.held_until = max(budget.held_until, now + seconds)
        budget.last_used = now
        if self.on_hold is not None and not told:
            self.on_hold(chat_id, seconds)

    def _budget(self, chat_id: int, now: float) -> _ChatBudget:
        budget = self._chats.get(chat_id)
        if budget is None:
            if len(self._chats) > 1024:
                self._forget_idle(now)
            cautious = now < self._cautious_until
            if chat_id > 0:
                tokens = 0.0 if cautious else PRIVATE_BURST
                bucket = TokenBucket(PRIVATE_RATE, PRIVATE_BURST, tokens, now)
                budget = _ChatBudget(bucket=bucket, window=None)
            else:
                spent = [now] * (GROUP_MESSAGES // 2) if cautious else []
                budget = _ChatBudget(bucket=None, window=collections.deque(spent))
            self._chats[chat_id] = budget
        return budget

    def _forget_idle(self, now: float) -> None:
        idle = [
            chat_id
            for chat_id, budget in self._chats.items()
            if now - budget.last_used > _FORGET_AFTER and budget.held_until <= now
        ]
        for chat_id in idle:
            del self._chats[chat_id]

    async def wait_for_chat(self, chat_id: int) -> None:
        """Wait until ``chat_id`` has budget, then spend it."""
        # Sleeps exactly until the budget refills; a loop only because another caller may
        # spend it first.
        while (wait := self.chat_wait(chat_id)) > 0:  # noqa: ASYNC110
            await asyncio.sleep(wait)
        self.spend_chat(chat_id)

    # The overall budget

    async def acquire(self, *, urgent: bool) -> None:
        """Wait for a slot in the overall rate; urgent callers are served before bulk ones."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        (self._urgent if urgent else self._bulk).append(waiter)
        self._dispatch()
        await waiter
        if self.shared is not None:
            await self.shared.acquire(urgent=urgent)

    def _dispatch(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        while True:
            queue = self._urgent if self._has_waiter(self._urgent) else self._bulk
            if not self._has_waiter(queue):
                return
            now = self._clock()
            wait = self._overall.wait_time(now)
            if wait > 0:
                self._timer = asyncio.get_running_loop().call_later(wait, self._dispatch)
                return
            self._overall.take(now)
            queue.popleft().set_result(None)

    @staticmethod
    def _has_waiter(queue: collections.deque[asyncio.Future[None]]) -> bool:
        while queue and queue[0].done():  # cancelled while waiting
            queue.popleft()
        return bool(queue)

    @property
    def waiting(self) -> int:
        return sum(not waiter.done() for waiter in (*self._urgent, *self._bulk))


class SharedBudget:
    """The overall rate several processes keep to together: each send is granted by
    ``grant``, which draws on one budget they all spend (``Coordinator.grant``).

    Waiters are granted in batches, urgent ones first; when the budget is empty the pump
    waits as long as ``grant`` says the next send takes. A grant that fails (the database is
    away) is logged and asked again after ``GRANT_RETRY`` seconds: sends wait rather than
    risk going over the rate together.
    """

    def __init__(self, grant: Grant, *, burst: float) -> None:
        self._grant = grant
        self._batch = max(1, int(burst))
        self._urgent: collections.deque[asyncio.Future[None]] = collections.deque()
        self._bulk: collections.deque[asyncio.Future[None]] = collections.deque()
        self._pump: asyncio.Task[None] | None = None

    async def acquire(self, *, urgent: bool) -> None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        (self._urgent if urgent else self._bulk).append(waiter)
        if self._pump is None or self._pump.done():
            self._pump = asyncio.create_task(self._run(), name="shared send budget")
        await waiter

    def _waiting(self) -> int:
        for queue in (self._urgent, self._bulk):
            while queue and queue[0].done():
                queue.popleft()
        return sum(not waiter.done() for waiter in (*self._urgent, *self._bulk))

    async def _run(self) -> None:
        failing = False
        while wanted := self._waiting():
            try:
                granted, wait = await self._grant(min(wanted, self._batch))
            except Exception as error:
                if not failing:
                    log.warning("Sends wait: %s", error)
                    failing = True
                await asyncio.sleep(GRANT_RETRY)
                continue
            failing = False
            for _ in range(granted):
                if not self._waiting():
                    break
                queue = self._urgent if self._urgent else self._bulk
                queue.popleft().set_result(None)
            if granted < wanted:
                await asyncio.sleep(max(wait, 0.002))
