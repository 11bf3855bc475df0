"""The deliverer against a real outbox, with a sender that answers as Telegram would."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from bot.delivery.pacing import Pacer
from bot.delivery.worker import (
    ChatGoneError,
    ChatMigratedError,
    Deliverer,
    RejectedError,
    ThrottledError,
    TransientError,
)
from bot.domain import ChatKind, InactiveReason, Keyboard, LinkPreview, MessageKind
from bot.metrics import REGISTRY
from tests.conftest import NOW
from tests.delivery.conftest import Archive

Answer = Callable[[int, str, bool], Exception | None]


class ScriptedSender:
    """Records every send; ``answers`` may make a chat's sends fail, as Telegram would."""

    def __init__(self, **answers: Answer) -> None:
        self.sent: list[tuple[int, str, bool]] = []
        self.edits: list[tuple[int, int, str]] = []
        self.attempts: list[int] = []
        self._answer = answers.get("answer")

    async def send(
        self,
        chat_id: int,
        text: str,
        *,
        html: bool = True,
        thread_id: int | None = None,
        **options: object,
    ) -> int:
        self.attempts.append(chat_id)
        if self._answer is not None:
            error = self._answer(chat_id, text, html)
            if error is not None:
                raise error
        self.sent.append((chat_id, text, html))
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
        return [text for chat, text, _ in self.sent if chat == chat_id]


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> dt.datetime:
        return self.now


def deliverer(archive: Archive, sender: ScriptedSender, clock: Clock | None = None) -> Deliverer:
    clock = clock or Clock()
    # A generous rate, on the test's clock: these tests are about what is sent, not how fast.
    pacer = Pacer(1000, clock=lambda: clock.now.timestamp())
    return Deliverer(archive.outbox, sender, pacer, clock=clock)


async def test_every_queued_alert_is_sent_once_oldest_first(archive: Archive) -> None:
    chat = await archive.chat(42)
    first, second = await archive.entries("Older story", "Newer story")
    await archive.outbox.enqueue_alerts([(chat, second, ["Putin"])], now=NOW)
    await archive.outbox.enqueue_alerts(
        [(chat, first, ["Putin"]), (chat, second, ["Kremlin"])], now=NOW
    )
    sender = ScriptedSender()

    await deliverer(archive, sender).drain()

    [newer, older] = sender.texts(chat)
    assert "Newer story" in newer
    assert "Older story" in older
    assert await archive.states(chat) == ["sent", "sent"]


async def test_three_waiting_alerts_go_as_one_list(archive: Archive) -> None:
    chat = await archive.chat(42)
    entries = await archive.entries("One", "Two", "Three", "Four")
    await archive.outbox.enqueue_alerts([(chat, e, ["Putin"]) for e in entries], now=NOW)
    sender = ScriptedSender()

    await deliverer(archive, sender).drain()

    [message] = sender.texts(chat)
    assert "4 new stories" in message
    for title in ("One", "Two", "Three", "Four"):
        assert f">{title}</a>" in message
    assert await archive.states(chat) == ["sent"] * 4


async def test_throttled_chat_is_deferred_not_lost_while_others_flow(archive: Archive) -> None:
    slow, other = await archive.chat(42), await archive.chat(43)
    [entry] = await archive.entries("Story")
    await archive.outbox.enqueue_alerts([(slow, entry, []), (other, entry, [])], now=NOW)
    clock = Clock()
    throttled = {slow}

    def answer(chat_id: int, text: str, html: bool) -> Exception | None:
        return ThrottledError(3) if chat_id in throttled else None

    sender = ScriptedSender(answer=answer)
    worker = deliverer(archive, sender, clock)

    await worker.drain()
    states_while_held = await archive.states(slow)
    throttled.clear()
    clock.now += dt.timedelta(seconds=3)
    await worker.drain()

    assert states_while_held == ["pending"]
    assert [chat for chat, _, _ in sender.sent] == [other, slow]
    assert worker.stats.throttled == 1


async def test_a_chat_that_blocked_the_bot_is_tried_once_and_its_queue_cancelled(
    archive: Archive,
) -> None:
    chat = await archive.chat(42)
    entries = await archive.entries("One", "Two")
    for entry in entries:
        await archive.outbox.enqueue_alerts([(chat, entry, [])], now=NOW)
    await archive.outbox.enqueue_text([chat], MessageKind.BROADCAST, "📣 Hello", now=NOW)

    def blocked(chat_id: int, text: str, html: bool) -> Exception:
        return ChatGoneError(InactiveReason.BLOCKED, "Forbidden: bot was blocked by the user")

    sender = ScriptedSender(answer=blocked)

    await deliverer(archive, sender).drain()

    assert sender.attempts == [chat]
    assert await archive.states(chat) == ["blocked", "blocked", "blocked"]
    assert await archive.inactive_reason(chat) is InactiveReason.BLOCKED


async def test_a_migrated_group_gets_its_message_at_the_new_id(archive: Archive) -> None:
    group = await archive.chat(-100, ChatKind.GROUP)
    await archive.outbox.enqueue_text([group], MessageKind.BROADCAST, "📣 Hello", now=NOW)
    new_id = -1001234567890

    def answer(chat_id: int, text: str, html: bool) -> Exception | None:
        return ChatMigratedError(new_id) if chat_id == group else None

    sender = ScriptedSender(answer=answer)

    await deliverer(archive, sender).drain()

    assert sender.sent == [(new_id, "📣 Hello", True)]
    assert await archive.chats.get(group) is None
    moved = await archive.chats.get(new_id)
    assert moved is not None
    assert moved.kind is ChatKind.SUPERGROUP
    assert await archive.states(new_id) == ["sent"]


async def test_refused_markup_is_resent_once_as_plain_text(archive: Archive) -> None:
    chat = await archive.chat(42)
    await archive.outbox.enqueue_text(
        [chat], MessageKind.NOTICE, "<b>Feed</b> &amp; more", now=NOW
    )

    def answer(chat_id: int, text: str, html: bool) -> Exception | None:
        return RejectedError("Bad Request: can't parse entities") if html else None

    sender = ScriptedSender(answer=answer)

    await deliverer(archive, sender).drain()

    assert sender.sent == [(chat, "Feed & more", False)]
    assert await archive.states(chat) == ["sent"]


async def test_a_message_refused_twice_fails_for_good_without_looping(archive: Archive) -> None:
    chat = await archive.chat(42)
    await archive.outbox.enqueue_text([chat], MessageKind.NOTICE, "<b>x</b>", now=NOW)

    def answer(chat_id: int, text: str, html: bool) -> Exception:
        return RejectedError("Bad Request: message is too long")

    sender = ScriptedSender(answer=answer)

    await deliverer(archive, sender).drain()

    assert sender.attempts == [chat, chat]
    assert await archive.states(chat) == ["failed"]


async def test_server_errors_are_retried_with_growing_delays_and_never_dropped(
    archive: Archive,
) -> None:
    chat = await archive.chat(42)
    await archive.outbox.enqueue_text([chat], MessageKind.NOTICE, "Hello", now=NOW)
    clock = Clock()
    failures = 12

    def answer(chat_id: int, text: str, html: bool) -> Exception | None:
        return TransientError("Bad Gateway") if len(sender.attempts) <= failures else None

    sender = ScriptedSender(answer=answer)
    worker = deliverer(archive, sender, clock)
    delays = []
    while not sender.sent:
        await worker.drain()
        next_due = await archive.outbox.next_due_at()
        if next_due is not None:
            delays.append(next_due - clock.now)
            clock.now = next_due

    assert len(sender.attempts) == failures + 1
    assert delays[1] > delays[0]
    assert max(delays) == dt.timedelta(minutes=10)
    assert await archive.states(chat) == ["sent"]


async def test_an_entry_reaches_a_chat_once_however_often_it_is_queued(
    archive: Archive,
) -> None:
    chat = await archive.chat(42)
    [entry] = await archive.entries("Story")

    first = await archive.outbox.enqueue_alerts([(chat, entry, ["Putin"])], now=NOW)
    again = await archive.outbox.enqueue_alerts(
        [(chat, entry, ["Kremlin"]), (chat, entry, ["Putin"])], now=NOW
    )
    breaking, had_it = await archive.outbox.enqueue_breaking(entry, now=NOW)

    assert (first, again, breaking, had_it) == (1, 0, 0, 1)


@pytest.mark.parametrize("kind", [MessageKind.BROADCAST, MessageKind.NOTICE, MessageKind.DIGEST])
async def test_ready_messages_are_sent_as_they_were_queued(
    archive: Archive, kind: MessageKind
) -> None:
    chat = await archive.chat(42)
    await archive.outbox.enqueue_text([chat], kind, "<b>Ready</b> text", now=NOW)
    sender = ScriptedSender()

    await deliverer(archive, sender).drain()

    assert sender.sent == [(chat, "<b>Ready</b> text", True)]


async def test_nothing_is_marked_sent_before_telegram_confirms_it(archive: Archive) -> None:
    chat = await archive.chat(42)
    await archive.outbox.enqueue_text([chat], MessageKind.NOTICE, "Hello", now=NOW)
    seen: list[list[str]] = []

    class PeekingSender(ScriptedSender):
        async def send(
            self,
            chat_id: int,
            text: str,
            *,
            html: bool = True,
            thread_id: int | None = None,
            **options: object,
        ) -> int:
            seen.append(await archive.states(chat_id))
            return await super().send(chat_id, text, html=html)

    await deliverer(archive, PeekingSender()).drain()

    assert seen == [["pending"]]
    assert await archive.states(chat) == ["sent"]


def sends(outcome: str) -> float:
    return REGISTRY.get_sample_value("herald_sends_total", {"outcome": outcome}) or 0.0


async def test_metrics_count_each_send_by_outcome_with_its_latency(archive: Archive) -> None:
    ok, throttled, blocked, failing = [await archive.chat(n) for n in (41, 42, 43, 44)]
    [entry] = await archive.entries("Story")
    await archive.outbox.enqueue_alerts(
        [(chat, entry, []) for chat in (ok, throttled, blocked, failing)], now=NOW
    )
    errors: dict[int, Exception] = {
        throttled: ThrottledError(3),
        blocked: ChatGoneError(InactiveReason.BLOCKED, "Forbidden: bot was blocked by the user"),
        failing: TransientError("Bad Gateway"),
    }
    before = {outcome: sends(outcome) for outcome in ("ok", "429", "403", "other")}
    timed_before = REGISTRY.get_sample_value("herald_send_latency_seconds_count") or 0.0

    await deliverer(archive, ScriptedSender(answer=lambda chat, _, __: errors.get(chat))).drain()

    moved = {outcome: sends(outcome) - count for outcome, count in before.items()}
    assert moved == {"ok": 1, "429": 1, "403": 1, "other": 1}
    assert REGISTRY.get_sample_value("herald_send_latency_seconds_count") == timed_before + 4
