"""Runs `herald run` as a subprocess against the loopback emulator, as an operator would."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import re
import signal
import socket
import sqlite3
import sys
import time
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

from bot.domain import ChatKind, ParsedEntry
from bot.sandbox.emulator import BotApiEmulator, Chat, SentMessage, User
from bot.sandbox.feedserver import FeedItem, FeedServer
from bot.storage.chats import ChatRepository
from bot.storage.database import Database
from bot.storage.feeds import FeedRepository
from bot.storage.interfaces import PollSuccess

START_TIMEOUT = 30.0
LISTENING = re.compile(r"HTTP server listening on (http://\S+)")


class HeraldProcess:
    def __init__(self, process: asyncio.subprocess.Process, log_path: Path) -> None:
        self.process = process
        self.log_path = log_path

    @property
    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    async def wait_until_polling(
        self, emulator: BotApiEmulator, *, within: float = START_TIMEOUT, webhook: bool = False
    ) -> None:
        """Wait until the bot long-polls (or has set its webhook), so it is ready for
        messages; fail if it exits."""
        polling = asyncio.ensure_future(
            emulator.wait_until(
                (lambda: emulator.webhook is not None)
                if webhook
                else (lambda: emulator.long_polling),
                timeout=within,
                description="setWebhook from herald" if webhook else "getUpdates long poll",
            )
        )
        exited = asyncio.ensure_future(self.process.wait())
        await asyncio.wait({polling, exited}, return_when=asyncio.FIRST_COMPLETED)
        exited.cancel()
        if not polling.done():
            polling.cancel()
            raise AssertionError(f"herald exited with {self.process.returncode}:\n{self.log}")
        try:
            polling.result()
        except TimeoutError as error:
            raise AssertionError(f"herald did not start polling:\n{self.log}") from error

    async def http_url(self, *, within: float = 10.0) -> str:
        """The root URL of herald's HTTP server, from the line it logs once listening."""
        deadline = time.monotonic() + within
        while (found := LISTENING.search(self.log)) is None:
            assert self.process.returncode is None, f"herald exited:\n{self.log}"
            assert time.monotonic() < deadline, f"herald logged no HTTP server:\n{self.log}"
            await asyncio.sleep(0.05)
        return found[1]

    async def stop(self, sig: int = signal.SIGTERM, within: float = 10.0) -> int:
        if self.process.returncode is None:
            self.process.send_signal(sig)
        return await asyncio.wait_for(self.process.wait(), within)

    async def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()


def free_port() -> int:
    """A TCP port free on loopback now, for a test that must name herald's port up front
    (a webhook URL); the system hands it out to nobody else in between, as a rule."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def herald_environment(**variables: str) -> dict[str, str]:
    # No HERALD_* setting of the developer's leaks in, and no proxy sees loopback traffic.
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("HERALD_") and not name.lower().endswith("_proxy")
    }
    env["PYTHONUNBUFFERED"] = "1"
    # Tests run side by side: each herald's HTTP server takes a free port, which it logs.
    env["HERALD_LISTEN"] = "127.0.0.1:0"
    env.update(variables)
    return env


@contextlib.asynccontextmanager
async def running_herald(
    emulator: BotApiEmulator,
    workdir: Path,
    *,
    start_within: float = START_TIMEOUT,
    **variables: str,
) -> AsyncIterator[HeraldProcess]:
    """`herald run` in ``workdir`` with its own database, no feeds unless given, polling.

    Feeds on loopback addresses are allowed, since every test feed server is one; a test
    of the refusal of private addresses passes ``HERALD_ALLOW_PRIVATE_NETWORKS=""``.
    """
    settings = {
        "HERALD_ALLOW_PRIVATE_NETWORKS": "127.0.0.0/8",
        "HERALD_TELEGRAM_TOKEN": emulator.token,
        "HERALD_TELEGRAM_API_URL": emulator.api_root,
        "HERALD_DATABASE": str(workdir / "herald.db"),
        "HERALD_FEEDS": "",
        "HERALD_LOG_LEVEL": "DEBUG",
        **variables,
    }
    log_path = workdir / f"herald-{time.monotonic_ns()}.log"
    with log_path.open("wb") as log_file:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            cwd=workdir,
            env=herald_environment(**settings),
            stdout=log_file,
            stderr=log_file,
        )
    herald = HeraldProcess(process, log_path)
    try:
        await herald.wait_until_polling(
            emulator, within=start_within, webhook=bool(settings.get("HERALD_WEBHOOK_URL"))
        )
        yield herald
    finally:
        await herald.kill()


async def seed_chats(workdir: Path, chats: Iterable[tuple[int, ChatKind]]) -> None:
    """Subscribe chats in herald's database before it starts, as if each had sent /start."""
    database = await Database.open(workdir / "herald.db")
    try:
        repository = ChatRepository(database)
        now = dt.datetime.now(dt.UTC)
        for chat_id, kind in chats:
            await repository.register(chat_id, kind, f"Chat {chat_id}", timezone="UTC", now=now)
    finally:
        await database.close()


def received(emulator: BotApiEmulator, chat_ids: Iterable[int], needle: str) -> dict[int, int]:
    """How many messages containing ``needle`` each chat received."""
    return {
        chat_id: sum(needle in message.text for message in emulator.messages(chat_id))
        for chat_id in chat_ids
    }


async def seed_entries(
    workdir: Path, entries: Iterable[tuple[str, str]], *, feed_title: str = "World Desk"
) -> None:
    """Store (title, summary) entries in herald's archive before it starts, newest last.

    The feed they come from is not due for a day, so herald won't poll it meanwhile.
    """
    database = await Database.open(workdir / "herald.db")
    try:
        feeds = FeedRepository(database)
        now = dt.datetime.now(dt.UTC)
        later = now + dt.timedelta(days=1)
        feed = await feeds.add("https://news.example/rss", now=now, next_poll_at=later)
        items = list(entries)
        await feeds.record_success(
            feed,
            PollSuccess(etag=None, last_modified=None, next_poll_at=later, title=feed_title),
            [
                ParsedEntry(
                    key=str(n),
                    title=title,
                    summary=summary,
                    link=f"https://news.example/{n}",
                    published=now - dt.timedelta(minutes=len(items) - n),
                    author="",
                )
                for n, (title, summary) in enumerate(items, start=1)
            ],
            now=now,
            keep_after=now - dt.timedelta(days=90),
        )
    finally:
        await database.close()


def query(workdir: Path, sql: str, *params: object) -> list[tuple[Any, ...]]:
    """Rows from herald's database, read as an operator would with sqlite3."""
    with sqlite3.connect(workdir / "herald.db") as database:
        return database.execute(sql, params).fetchall()


async def wait_for_rows(
    workdir: Path, sql: str, *params: object, within: float = 10.0
) -> list[tuple[Any, ...]]:
    """The rows ``sql`` returns once it returns any.

    The bot writes from another process, so there is no event to wait on: the query is
    re-read every 50 ms until the deadline.
    """
    deadline = time.monotonic() + within
    while not (rows := query(workdir, sql, *params)):
        assert time.monotonic() < deadline, f"nothing for {sql!r} {params} within {within} s"
        await asyncio.sleep(0.05)
    return rows


async def wait_for_archive(workdir: Path, count: int) -> None:
    """Until herald has stored at least ``count`` entries."""
    await wait_for_rows(
        workdir, "SELECT COUNT(*) FROM entries HAVING COUNT(*) >= ?", count, within=15
    )


async def settled(workdir: Path) -> None:
    """Until every stored entry is routed and every queued message sent."""
    await wait_for_rows(
        workdir,
        "SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM entries WHERE routed = 0)"
        " AND NOT EXISTS (SELECT 1 FROM outbox WHERE state = 'pending')",
        within=15,
    )


async def ask(emulator: BotApiEmulator, chat: Chat, user: User, text: str) -> SentMessage:
    """Say ``text`` in the chat and return the bot's next message there."""
    await emulator.user_says(chat, user, text)
    return await emulator.wait_for_message(chat)


async def follow(emulator: BotApiEmulator, chat: Chat, user: User, *topics: str) -> list[str]:
    """Follow each topic in turn; the bot's answers."""
    return [(await ask(emulator, chat, user, f"/topic {topic}")).text for topic in topics]


class Reader:
    """Ada, in her private chat, following Gaza on a feed the test publishes to."""

    def __init__(self, emulator: BotApiEmulator, feed_server: FeedServer) -> None:
        self.user = emulator.add_user("Ada")
        self.chat = emulator.private_chat(self.user)
        self._server = feed_server
        self._items = [FeedItem(title="Markets open", link="https://a.example/1")]
        feed_server.publish_rss("/a.xml", self._items)

    def publish(self, title: str) -> str:
        """Add a story to the feed; returns its link."""
        link = f"https://a.example/{len(self._items)}"
        self._items.append(FeedItem(title=title, link=link))
        self._server.publish_rss("/a.xml", self._items)
        return link


@contextlib.asynccontextmanager
async def following_gaza(
    emulator: BotApiEmulator, feed_server: FeedServer, tmp_path: Path
) -> AsyncIterator[Reader]:
    reader = Reader(emulator, feed_server)
    async with running_herald(
        emulator, tmp_path, HERALD_FEEDS=feed_server.url("/a.xml"), HERALD_POLL_INTERVAL="1"
    ):
        await wait_for_rows(tmp_path, "SELECT 1 FROM entries")
        await ask(emulator, reader.chat, reader.user, "/topic Gaza")
        yield reader
