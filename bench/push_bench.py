"""Benchmark: publish → alert latency of a WebSub-pushed feed against the same feed polled.

Herald runs as ``herald run`` in its own process against the loopback Bot API emulator
(Telegram's limits) and one loopback feed. Stories are published one every ``--spacing``
seconds; story i mentions one of ten words, and ten chats each follow one word, so no chat
gets more than Telegram's one message a second. Latency is from the moment a story is
published (served, and in push mode handed to the loopback WebSub hub) to the moment its
alert reaches the emulator. The baseline is the same feed with no hub, polled at
``--poll-interval`` (the default, 120 s); publishing lasts at least one interval so every
phase of the poll cycle is sampled. The figures are printed, not asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import logging
import math
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bot.sandbox.emulator import BotApiEmulator, Chat, FloodLimits, SentMessage, User
from bot.sandbox.feedserver import FeedItem, FeedServer, render_rss
from bot.sandbox.websubhub import WebSubHub
from tests.e2e.harness import free_port, running_herald

PATH = "/wire.xml"
WORDS = [f"zebra{letter}" for letter in "abcdefghij"]
GRACE = 30.0  # after the last expected alert time, how long to wait for stragglers


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


def summary(name: str, latencies: Sequence[float], expected: int) -> str:
    if not latencies:
        return f"{name}: no alerts arrived (expected {expected})"
    return (
        f"{name}: {len(latencies)}/{expected} alerts, p50 {percentile(latencies, 0.5):.3f} s,"
        f" p95 {percentile(latencies, 0.95):.3f} s, max {max(latencies):.3f} s"
    )


async def run(
    mode: str, stories: int, spacing: float, poll_interval: float, keep: int
) -> list[float]:
    """Publish ``stories`` and return each one's publish → alert latency in seconds."""
    async with (
        BotApiEmulator(limits=FloodLimits()) as emulator,
        FeedServer() as feeds,
        WebSubHub() as hub,
    ):
        readers: list[tuple[User, Chat]] = []
        for word in WORDS:
            user = emulator.add_user(word.title())
            readers.append((user, emulator.private_chat(user)))
        topic = feeds.url(PATH)
        items: list[FeedItem] = [
            FeedItem(f"Archive story {n}", f"https://bench.example/old/{n}") for n in range(5)
        ]
        pushed = mode == "push"

        def document() -> bytes:
            return render_rss(items[:keep], title="Bench Wire", link=feeds.url("/"))

        def serve() -> bytes:
            body = document()
            headers = {"Link": hub.link_header(topic)} if pushed else {}
            feeds.publish(PATH, body, headers=headers)
            return body

        serve()
        published: dict[str, float] = {}
        arrived: dict[str, float] = {}

        def received(message: SentMessage) -> None:
            for title in published:
                if title in message.text and title not in arrived:
                    arrived[title] = time.time()

        port = free_port()
        with tempfile.TemporaryDirectory() as folder:
            async with running_herald(
                emulator,
                Path(folder),
                HERALD_FEEDS=topic,
                HERALD_POLL_INTERVAL=str(poll_interval),
                HERALD_LISTEN=f"127.0.0.1:{port}",
                HERALD_PUBLIC_URL=f"http://127.0.0.1:{port}" if pushed else "",
                HERALD_LOG_LEVEL="WARNING",
            ):
                for (user, chat), word in zip(readers, WORDS, strict=True):
                    for text in ("/start", f"/topic {word}"):
                        await emulator.user_says(chat, user, text)
                        await emulator.wait_for_message(chat, timeout=30)
                if pushed:
                    await hub.wait_until(lambda: hub.live(topic), timeout=60)
                else:
                    # The first poll's baseline alerts nobody; stories come after it.
                    await asyncio.sleep(2.0)
                unsubscribe = emulator.on_message(received)
                for n in range(stories):
                    title = f"Story {n} about {WORDS[n % len(WORDS)]}"
                    items.insert(
                        0,
                        FeedItem(
                            title,
                            f"https://bench.example/{mode}/{n}",
                            summary="Bench text.",
                            published=dt.datetime.now(dt.UTC),
                        ),
                    )
                    published[title] = time.time()
                    body = serve()
                    if pushed:
                        await hub.publish(topic, body)
                    await asyncio.sleep(spacing)
                with contextlib.suppress(TimeoutError):
                    await emulator.wait_until(
                        lambda: len(arrived) >= stories,
                        timeout=(0 if pushed else poll_interval) + GRACE,
                    )
                unsubscribe()
        return [arrived[title] - published[title] for title in arrived]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stories", type=int, default=200)
    parser.add_argument("--spacing", type=float, default=0.75, help="seconds between stories")
    parser.add_argument(
        "--poll-interval", type=float, default=120.0, help="the polled baseline's interval"
    )
    parser.add_argument(
        "--keep",
        type=int,
        default=250,
        help="stories the feed lists; fewer than a poll interval publishes loses stories",
    )
    parser.add_argument("--only", choices=["push", "poll"])
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    started = time.monotonic()
    timing = (arguments.stories, arguments.spacing, arguments.poll_interval, arguments.keep)
    if arguments.only != "poll":
        push = await run("push", *timing)
        print(summary("pushed (WebSub)", push, arguments.stories), flush=True)
    if arguments.only != "push":
        polled = await run("poll", *timing)
        print(
            summary(f"polled every {arguments.poll_interval:g} s", polled, arguments.stories),
            flush=True,
        )
    print(f"ran {time.monotonic() - started:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main())
