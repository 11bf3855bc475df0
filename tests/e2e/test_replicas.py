"""Two `herald run` on one PostgreSQL database: both work, and either may die."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import re
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from aiohttp import web

from bot.domain import ChatKind
from bot.sandbox.emulator import BotApiEmulator, Chat, FloodLimits, Rate
from bot.sandbox.feedserver import FeedItem, FeedServer
from bot.storage.chats import ChatRepository
from bot.storage.postgres.database import PostgresDatabase
from tests.e2e.harness import HeraldProcess, ask, free_port, received, running_herald

RATE = 100
AUDIENCE = 400
# The sender keeps at most this many messages in flight (bot.delivery.worker.CONCURRENCY):
# a process killed mid-send may have had Telegram take those without recording it.
IN_FLIGHT = 8
FEEDS = 12
HELP_ASKED = 8
POLL_INTERVAL = 2.0


def _polls(metrics: str) -> float:
    """Feed polls a process made, from its /metrics."""
    return sum(
        float(value) for value in re.findall(r"^herald_polls_total\{.*\} (\S+)$", metrics, re.M)
    )


async def _metrics(process: HeraldProcess) -> str:
    async with httpx.AsyncClient(trust_env=False) as client:
        response = await client.get(await process.http_url() + "/metrics")
    return response.text


async def _seed(url: str, chat_ids: list[int]) -> None:
    database = await PostgresDatabase.connect(url)
    try:
        chats = ChatRepository(database)
        now = dt.datetime.now(dt.UTC)
        for chat_id in chat_ids:
            await chats.register(
                chat_id, ChatKind.PRIVATE, f"Chat {chat_id}", timezone="UTC", now=now
            )
    finally:
        await database.close()


async def _until(condition: Callable[[], bool], description: str, within: float) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"not within {within} s: {description}"
        await asyncio.sleep(0.05)


async def test_two_heralds_share_the_work_and_the_survivor_carries_on_at_a_death(
    emulator: BotApiEmulator, feed_server: FeedServer, tmp_path: Path, postgres_url: str
) -> None:
    emulator.limits = FloodLimits(overall=Rate(RATE, burst=RATE))
    admin = emulator.add_user("Ada")
    admin_chat = emulator.private_chat(admin)
    readers = [emulator.private_chat(emulator.add_user(f"Reader {n}")) for n in range(AUDIENCE)]
    audience = [chat.id for chat in readers]
    await _seed(postgres_url, [admin_chat.id, *audience])
    desks = [f"/desk{n}.xml" for n in range(FEEDS)]
    for n, desk in enumerate(desks):
        feed_server.publish_rss(desk, [FeedItem(title=f"Desk {n} opens", link=f"https://d{n}/0")])

    def start() -> contextlib.AbstractAsyncContextManager[HeraldProcess]:
        return running_herald(
            emulator,
            tmp_path,
            HERALD_DATABASE=postgres_url,
            HERALD_ADMIN_IDS=str(admin.id),
            HERALD_SEND_RATE=str(RATE),
            HERALD_FEEDS=",".join(feed_server.url(desk) for desk in desks),
            HERALD_POLL_INTERVAL=str(POLL_INTERVAL),
        )

    async with start() as first, start() as second, start() as third:
        await _until(lambda: "Another Herald leads" in second.log, "the second follows", 30)
        await _until(lambda: "Another Herald leads" in third.log, "the third follows", 30)
        await third.kill()  # a follower's death changes nothing

        # Both poll feeds, and each due poll is made once, not once per process.
        await asyncio.sleep(2 * POLL_INTERVAL)
        hits = sum(feed_server.hits(desk) for desk in desks)
        polls = [_polls(await _metrics(process)) for process in (first, second)]
        await asyncio.sleep(3 * POLL_INTERVAL)
        hits = sum(feed_server.hits(desk) for desk in desks) - hits
        shares = [
            _polls(await _metrics(p)) - n for p, n in zip((first, second), polls, strict=True)
        ]

        # A topic followed through the leader matches a story the follower may fetch.
        await ask(emulator, admin_chat, admin, "/topic Gaza")
        feed_server.publish_rss(
            desks[3],
            [
                FeedItem(title="Desk 3 opens", link="https://d3/0"),
                FeedItem(title="Aid convoy reaches Gaza", link="https://d3/1"),
            ],
        )
        await emulator.wait_until(
            lambda: bool(received(emulator, [admin_chat.id], "Aid convoy")[admin_chat.id]),
            timeout=30,
            description="the Gaza alert",
        )

        await emulator.user_says(admin_chat, admin, "/broadcast Polls open at 9")
        preview = await emulator.wait_for_message(admin_chat, lambda m: "Polls open" in m.text)
        await emulator.press_button(admin_chat, preview.message_id, admin, "broadcast:send:1")
        await emulator.wait_until(
            lambda: (
                sum(map(bool, received(emulator, audience, "Polls open").values()))
                >= AUDIENCE * 0.3
            ),
            timeout=30,
            description="30% of the fan-out",
        )

        await first.kill()  # the leader, mid fan-out
        killed = time.monotonic()
        await emulator.user_says(admin_chat, admin, "/help")
        # The survivor answers within 30 s of the death, as the README promises.
        help_reply = await emulator.wait_for_message(
            admin_chat, lambda message: "pushes news as it breaks" in message.text, timeout=30
        )
        answered_after = time.monotonic() - killed
        await emulator.wait_until(
            lambda: all(received(emulator, audience, "Polls open").values()),
            timeout=60,
            description="the broadcast in every chat",
        )

    counts = received(emulator, audience, "Polls open")
    assert help_reply is not None
    assert answered_after < 30
    assert min(counts.values()) == 1  # nothing lost
    assert sum(count - 1 for count in counts.values()) <= IN_FLIGHT
    throttled = [
        (n, line)
        for n, p in enumerate((first, second))
        for line in p.log.splitlines()
        if "asked to wait" in line
    ]
    assert emulator.flood_rejections == 0, throttled
    assert received(emulator, [admin_chat.id], "Aid convoy") == {admin_chat.id: 1}
    assert all(share > 0 for share in shares), shares  # both processes polled feeds
    # Polled once per interval in all (a little more: jitter, and 304s come back fast),
    # where one poll per process would be twice that.
    assert hits <= FEEDS * (3 * POLL_INTERVAL / POLL_INTERVAL) * 1.5, hits
    assert "This Herald leads" in second.log


class RoundRobin:
    """A load balancer: each request to it goes to the next of ``backends`` in turn."""

    def __init__(self, backends: list[str]) -> None:
        self.backends = backends
        self.port = free_port()
        self._next = 0
        self._runner: web.AppRunner | None = None

    async def _forward(self, request: web.Request) -> web.Response:
        backend = self.backends[self._next % len(self.backends)]
        self._next += 1
        async with httpx.AsyncClient(trust_env=False) as client:
            answer = await client.post(
                backend + request.path,
                content=await request.read(),
                headers={k: v for k, v in request.headers.items() if k.lower() != "host"},
            )
        return web.Response(status=answer.status_code, body=answer.content)

    async def __aenter__(self) -> RoundRobin:
        app = web.Application()
        app.router.add_post("/{path:.*}", self._forward)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


async def test_behind_a_load_balancer_every_herald_takes_webhook_updates_once(
    emulator: BotApiEmulator, feed_server: FeedServer, tmp_path: Path, postgres_url: str
) -> None:
    feed_server.publish_rss("/a.xml", [FeedItem(title="Markets open", link="https://a/0")])
    people = [emulator.add_user(f"Reader {n}") for n in range(6)]
    chats = [emulator.private_chat(person) for person in people]
    ports = [free_port(), free_port()]
    backends = [f"http://127.0.0.1:{port}" for port in ports]

    async with RoundRobin(backends) as balancer:

        def start(port: int) -> contextlib.AbstractAsyncContextManager[HeraldProcess]:
            return running_herald(
                emulator,
                tmp_path,
                HERALD_DATABASE=postgres_url,
                HERALD_LISTEN=f"127.0.0.1:{port}",
                HERALD_WEBHOOK_URL=f"http://127.0.0.1:{balancer.port}/telegram",
                HERALD_FEEDS=feed_server.url("/a.xml"),
                HERALD_POLL_INTERVAL="1",
            )

        async with start(ports[0]) as first, start(ports[1]) as second:
            # Each person's topic is taken by whichever process the balancer picks.
            for person, chat in zip(people, chats, strict=True):
                await ask(emulator, chat, person, "/topic Gaza")
            taken = [_accepted(await _metrics(process)) for process in (first, second)]

            # Both match a story against topics either one took, within a second or two.
            feed_server.publish_rss(
                "/a.xml",
                [
                    FeedItem(title="Markets open", link="https://a/0"),
                    FeedItem(title="Aid convoy reaches Gaza", link="https://a/1"),
                ],
            )
            ids = [chat.id for chat in chats]
            await emulator.wait_until(
                lambda: all(received(emulator, ids, "Aid convoy").values()),
                timeout=30,
                description="the Gaza alert in every chat",
            )

            # Quick commands in one chat are answered by both processes in turn, and paced
            # together: the chat's budget is spent in both whoever sends.
            for _ in range(HELP_ASKED):
                await emulator.user_says(chats[1], people[1], "/help")
            await emulator.wait_until(
                lambda: _answered(emulator, chats[1]) >= HELP_ASKED,
                timeout=30,
                description="every /help answered",
            )

            # Telegram resending an update: the process it now reaches doesn't handle it again.
            secret = await _webhook_secret(postgres_url)
            update = _start_update(people[0].id, people[0].first_name)
            async with httpx.AsyncClient(trust_env=False) as client:
                for backend in backends:
                    answer = await client.post(
                        backend + "/telegram",
                        json=update,
                        headers={"X-Telegram-Bot-Api-Secret-Token": secret},
                    )
                    assert answer.status_code == 200
            await asyncio.sleep(1.5)

    assert all(count > 0 for count in taken), taken  # both took updates
    assert received(emulator, [chat.id for chat in chats], "Aid convoy") == {
        chat.id: 1 for chat in chats
    }
    welcomes = [m for m in emulator.messages(chats[0]) if "Herald" in m.text]
    assert len(welcomes) == 1
    assert emulator.flood_rejections == 0


def _answered(emulator: BotApiEmulator, chat: Chat) -> int:
    """How many /help replies ``chat`` got."""
    return sum("pushes news" in message.text for message in emulator.messages(chat))


def _accepted(metrics: str) -> float:
    found = re.findall(
        r'^herald_webhook_updates_total\{outcome="accepted"\} (\S+)$', metrics, re.MULTILINE
    )
    return sum(float(value) for value in found)


async def _webhook_secret(url: str) -> str:
    database = await PostgresDatabase.connect(url)
    try:
        value = await database.fetchvalue("SELECT value FROM meta WHERE key = 'webhook_secret'")
    finally:
        await database.close()
    return str(value)


def _start_update(user_id: int, name: str) -> dict[str, object]:
    return {
        "update_id": 990_001,
        "message": {
            "message_id": 77,
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": name},
            "from": {"id": user_id, "is_bot": False, "first_name": name},
            "text": "/start",
            "entities": [{"offset": 0, "length": 6, "type": "bot_command"}],
        },
    }


async def test_after_every_database_session_is_cut_another_herald_leads_and_answers(
    emulator: BotApiEmulator, tmp_path: Path, postgres_url: str
) -> None:
    # What a PostgreSQL restart does to running processes: every session ends at once.
    ada = emulator.add_user("Ada")
    chat = emulator.private_chat(ada)

    def start() -> contextlib.AbstractAsyncContextManager[HeraldProcess]:
        return running_herald(emulator, tmp_path, HERALD_DATABASE=postgres_url)

    async with start() as first, start() as second:
        await _until(lambda: "Another Herald leads" in second.log, "the second follows", 30)
        await ask(emulator, chat, ada, "/start")

        await _cut_every_session(postgres_url)
        exit_code = await asyncio.wait_for(first.process.wait(), 10)
        await _until(lambda: "This Herald leads" in second.log, "the second leads", 30)
        await emulator.user_says(chat, ada, "/help")
        help_reply = await emulator.wait_for_message(
            chat, lambda message: "pushes news as it breaks" in message.text, timeout=30
        )
        await ask(emulator, chat, ada, "/topic Gaza")
        topics = await ask(emulator, chat, ada, "/topic")

    assert exit_code == 1
    assert "lost the lead" in first.log
    assert help_reply is not None
    assert "Gaza" in topics.text
    assert "Traceback" not in second.log


async def _cut_every_session(url: str) -> None:
    database = await PostgresDatabase.connect(url)
    try:
        await database.fetchall(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await database.close()


async def test_one_herald_stopping_leaves_the_other_healthy(
    emulator: BotApiEmulator, tmp_path: Path, postgres_url: str
) -> None:
    def start() -> contextlib.AbstractAsyncContextManager[HeraldProcess]:
        return running_herald(emulator, tmp_path, HERALD_DATABASE=postgres_url)

    async with start() as first, start() as second:
        await _until(lambda: "Another Herald leads" in second.log, "the second follows", 30)
        url = await second.http_url()

        assert await first.stop() == 0
        async with httpx.AsyncClient(trust_env=False) as client:
            health = await client.get(url + "/healthz")
        await _until(lambda: "This Herald leads" in second.log, "the second leads", 10)

    assert health.status_code == 200
