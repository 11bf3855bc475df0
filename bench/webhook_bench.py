"""Benchmark: command reply time with updates by webhook against long polling.

Herald runs as ``herald run`` in its own process against the loopback Bot API emulator
(Telegram's limits), once long-polling (the baseline) and once in webhook mode, where the
emulator posts each update to Herald's HTTP server with the secret header, one at a time
in order. Users send ``/id`` at ``--rate`` commands a second in all, spread over enough
private chats that none asks more than once every two seconds (Telegram allows about one
message a second into a private chat). Telegram's overall limit of about 30 messages a
second would cap 50 replies a second whatever brings the updates in, so the emulator's
overall limit and ``HERALD_SEND_RATE`` are raised to ``--send-rate`` (100), as for a bot
with paid broadcasts. A reply's time runs from the user's message to the bot's answer
reaching the emulator. The figures are printed, not asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import logging
import math
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bot.sandbox.emulator import BotApiEmulator, Chat, FloodLimits, Rate, SentMessage, User
from tests.e2e.harness import free_port, running_herald

GRACE = 15.0


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


async def run(mode: str, rate: float, seconds: float, send_rate: int) -> tuple[list[float], int]:
    """Ask for ``seconds`` at ``rate``; each reply's time, and how many were asked."""
    limits = FloodLimits(overall=Rate(send_rate, burst=send_rate))
    async with BotApiEmulator(limits=limits) as emulator:
        users: list[tuple[User, Chat]] = []
        for n in range(math.ceil(rate * 2)):
            user = emulator.add_user(f"Asker {n}")
            users.append((user, emulator.private_chat(user)))
        asked: dict[int, collections.deque[float]] = {
            chat.id: collections.deque() for _, chat in users
        }
        replies: list[float] = []

        def received(message: SentMessage) -> None:
            waiting = asked.get(message.chat_id)
            if waiting and message.edit_count == 0:
                replies.append(time.monotonic() - waiting.popleft())

        port = free_port()
        webhook = f"http://127.0.0.1:{port}/telegram" if mode == "webhook" else ""
        with tempfile.TemporaryDirectory() as folder:
            async with running_herald(
                emulator,
                Path(folder),
                HERALD_LOG_LEVEL="WARNING",
                HERALD_SEND_RATE=str(send_rate),
                HERALD_LISTEN=f"127.0.0.1:{port}",
                HERALD_WEBHOOK_URL=webhook,
            ):
                # Warm up: every chat once, unmeasured.
                for user, chat in users:
                    await emulator.user_says(chat, user, "/id")
                    await emulator.wait_for_message(chat, timeout=30)
                unsubscribe = emulator.on_message(received)
                total = int(rate * seconds)
                started = time.monotonic()
                for n in range(total):
                    user, chat = users[n % len(users)]
                    asked[chat.id].append(time.monotonic())
                    await emulator.user_says(chat, user, "/id")
                    await asyncio.sleep(max(started + (n + 1) / rate - time.monotonic(), 0))
                with contextlib.suppress(TimeoutError):
                    await emulator.wait_until(lambda: len(replies) >= total, timeout=GRACE)
                unsubscribe()
    return replies, total


def summary(name: str, replies: Sequence[float], asked: int) -> str:
    if not replies:
        return f"{name}: no replies of {asked}"
    return (
        f"{name}: {len(replies)}/{asked} replies, p50 {percentile(replies, 0.5) * 1000:.0f} ms,"
        f" p95 {percentile(replies, 0.95) * 1000:.0f} ms, max {max(replies) * 1000:.0f} ms"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=50.0, help="commands a second")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--send-rate", type=int, default=100, help="messages a second overall")
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    started = time.monotonic()
    for mode in ("polling", "webhook"):
        replies, asked = await run(mode, arguments.rate, arguments.seconds, arguments.send_rate)
        print(summary(f"{mode} at {arguments.rate:g}/s", replies, asked), flush=True)
    print(f"ran {time.monotonic() - started:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main())
