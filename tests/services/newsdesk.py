"""The whole delivery path on a fixed clock: router, holds, digests, pushes and the sender."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from bot.delivery.pacing import Pacer
from bot.delivery.worker import Deliverer
from bot.domain import Chat, Keyboard, LinkPreview
from bot.services.broadcasts import BroadcastService
from bot.services.digests import DigestService
from bot.services.outbox import OutboxService
from bot.services.quiet import QuietService
from bot.storage.database import Database
from bot.storage.ledger import LedgerRepository
from bot.storage.meta import MetaRepository
from tests.services.conftest import StepClock
from tests.services.newsroom import Newsroom

_HREF = re.compile(r'href="([^"]+)"')


class Crash(BaseException):
    """The process dies: raised past every ``except Exception``, as a kill would stop it."""


class RecordingSender:
    """Takes every message as Telegram would, unless ``answer`` says otherwise.

    ``answer(chat_id, text)`` may return an exception to raise instead (after recording the
    message when it is a ``Crash``: Telegram had it, the process died before hearing so).
    """

    def __init__(self) -> None:
        self.sent: list[tuple[int, str]] = []
        self.edits: list[tuple[int, int, str]] = []
        self.threads: list[int | None] = []  # the forum thread of each message sent
        self.answer: Callable[[int, str], BaseException | None] = lambda chat_id, text: None

    async def send(
        self,
        chat_id: int,
        text: str,
        *,
        html: bool = True,
        thread_id: int | None = None,
        **options: object,
    ) -> int:
        error = self.answer(chat_id, text)
        if isinstance(error, Crash):
            self.sent.append((chat_id, text))
            self.threads.append(thread_id)
        if error is not None:
            raise error
        self.sent.append((chat_id, text))
        self.threads.append(thread_id)
        return len(self.sent)

    async def edit(
        self,
        chat_id: int,
        message_id: int,
        text: str,
        *,
        preview: tuple[str, LinkPreview] | None = None,
        buttons: Keyboard = (),
    ) -> None:
        self.edits.append((chat_id, message_id, text))

    def texts(self, chat_id: int) -> list[str]:
        return [text for chat, text in self.sent if chat == chat_id]

    def in_thread(self, chat_id: int, thread_id: int | None) -> list[str]:
        return [
            text
            for (chat, text), thread in zip(self.sent, self.threads, strict=True)
            if chat == chat_id and thread == thread_id
        ]

    def links(self, chat_id: int) -> list[str]:
        """Every story link the chat was shown, once per message that showed it."""
        return [link for text in self.texts(chat_id) for link in _HREF.findall(text)]


class Newsdesk(Newsroom):
    """A newsroom with everything that decides what reaches a chat, and a sender to watch."""

    def __init__(self, database: Database, clock: StepClock, *, admin_ids: tuple[int, ...] = ()):
        super().__init__(database, clock)
        self.sender = RecordingSender()
        self.digests = DigestService(
            self.chat_repository,
            self.topic_repository,
            self.entries,
            self.outbox,
            clock=clock,
            wake=lambda: None,
        )
        self.quiet = QuietService(
            self.chat_repository, self.outbox, clock=clock, wake=lambda: None
        )
        self.broadcasts = BroadcastService(
            self.outbox, self.chat_repository, self.entries, clock=clock, wake=lambda: None
        )
        self.notices = OutboxService(
            self.outbox,
            MetaRepository(database),
            admin_ids=admin_ids,
            clock=clock,
            wake=lambda: None,
        )
        self.ledger = LedgerRepository(database)
        self.restart()

    def restart(self) -> None:
        """A new deliverer, as after a restart: nothing in memory survives."""
        # A generous rate on the test's clock: these tests are about what is sent.
        pacer = Pacer(1000, clock=lambda: self.clock().timestamp())
        self.deliverer = Deliverer(self.outbox, self.sender, pacer, clock=self.clock)

    async def subscriber_muted(self, chat_id: int, *topics: str, duration: str = "1h") -> Chat:
        """A chat following ``topics``, muted for ``duration`` from a minute from now."""
        await self.chat(chat_id, *topics)
        self.clock.advance(minutes=1)
        chat = await self.chats.get(chat_id)
        assert chat is not None
        await self.quiet.mute(chat, duration)
        return chat

    async def subscriber_with_digest(self, chat_id: int, *topics: str, at: dt.time) -> Chat:
        await self.chat(chat_id, *topics)
        chat = await self.chats.get(chat_id)
        assert chat is not None
        return await self.digests.set_digest(chat, enabled=True, at=at)

    async def deliver(self) -> None:
        """Route what is waiting, then send everything due.

        A private chat takes about one message a second, so the clock moves a second at a
        time while messages are still due.
        """
        await self.router.route_pending()
        for _ in range(100):
            await self.deliverer.drain()
            if not await self.outbox.due_heads(now=self.clock(), limit=1):
                return
            self.clock.advance(seconds=1)

    async def minute_job(self) -> None:
        await self.digests.send_due()
        await self.quiet.refresh_all()
        await self.notices.report_failures()

    async def states(self, chat_id: int) -> list[tuple[str, str]]:
        rows = await self.database.fetchall(
            "SELECT kind, state FROM outbox WHERE chat_id = ? ORDER BY id", (chat_id,)
        )
        return [(row[0], row[1]) for row in rows]
