"""Flood limits as token buckets, alone and over HTTP, on a clock the tests move by hand."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import httpx
import pytest

from bot.sandbox.emulator import BotApiEmulator
from bot.sandbox.flood import FloodControl, FloodLimits, Rate
from tests.sandbox.helpers import BotApiClient, FakeClock

PRIVATE, GROUP = 42, -100


def control(limits: FloodLimits, clock: FakeClock) -> FloodControl:
    return FloodControl(limits, clock)


def test_private_chat_allows_a_burst_of_three_then_asks_to_wait_a_second() -> None:
    flood = control(FloodLimits(), FakeClock())

    accepted = [flood.acquire(PRIVATE, private=True) for _ in range(3)]

    assert accepted == [None, None, None]
    assert flood.acquire(PRIVATE, private=True) == 1


def test_a_refused_message_takes_no_token() -> None:
    clock = FakeClock()
    flood = control(FloodLimits(), clock)
    for _ in range(3):
        flood.acquire(PRIVATE, private=True)
    for _ in range(5):
        assert flood.acquire(PRIVATE, private=True) == 1

    clock.advance(1.0)

    assert flood.acquire(PRIVATE, private=True) is None
    assert flood.acquire(PRIVATE, private=True) == 1


def test_group_allows_twenty_a_minute_then_one_every_three_seconds() -> None:
    clock = FakeClock()
    flood = control(FloodLimits(), clock)

    assert [flood.acquire(GROUP, private=False) for _ in range(20)] == [None] * 20
    assert flood.acquire(GROUP, private=False) == 3
    clock.advance(2.0)
    assert flood.acquire(GROUP, private=False) == 1
    clock.advance(1.0)
    assert flood.acquire(GROUP, private=False) is None


def test_overall_limit_counts_every_chat() -> None:
    flood = control(FloodLimits(), FakeClock())

    accepted = [flood.acquire(chat_id, private=True) for chat_id in range(1, 31)]

    assert accepted == [None] * 30
    assert flood.acquire(31, private=True) == 1


def test_overall_limit_refills_at_its_rate() -> None:
    clock = FakeClock()
    flood = control(FloodLimits(), clock)
    for chat_id in range(1, 31):
        flood.acquire(chat_id, private=True)

    clock.advance(0.5)

    assert [flood.acquire(chat_id, private=True) for chat_id in range(31, 47)] == [None] * 15 + [1]


def test_chats_have_separate_buckets() -> None:
    flood = control(FloodLimits(), FakeClock())
    for _ in range(3):
        flood.acquire(1, private=True)

    assert flood.acquire(1, private=True) == 1
    assert flood.acquire(2, private=True) is None


def test_retry_after_is_whole_seconds_rounded_up() -> None:
    flood = control(FloodLimits(overall=None, private_chat=Rate(0.4, burst=1)), FakeClock())
    flood.acquire(PRIVATE, private=True)

    assert flood.acquire(PRIVATE, private=True) == 3


def test_unlimited_never_refuses() -> None:
    flood = control(FloodLimits.unlimited(), FakeClock())

    assert all(flood.acquire(PRIVATE, private=True) is None for _ in range(1000))


def test_reset_applies_new_limits_with_full_buckets() -> None:
    flood = control(FloodLimits(), FakeClock())
    for _ in range(3):
        flood.acquire(PRIVATE, private=True)

    flood.reset(FloodLimits(private_chat=Rate(1, burst=10)))

    assert [flood.acquire(PRIVATE, private=True) for _ in range(11)] == [None] * 10 + [1]


def test_per_minute_rates_read_naturally() -> None:
    assert Rate.per_minute(20, burst=20) == Rate(20 / 60, burst=20)


@pytest.mark.parametrize(("per_second", "burst"), [(0, 1), (-1, 1), (1, 0)])
def test_rates_that_could_never_send_are_refused(per_second: float, burst: int) -> None:
    with pytest.raises(ValueError, match="rate needs"):
        Rate(per_second, burst)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def limited(clock: FakeClock) -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(limits=FloodLimits(), clock=clock) as emulator:
        yield emulator


@pytest.fixture
async def limited_api(limited: BotApiEmulator) -> AsyncIterator[BotApiClient]:
    async with httpx.AsyncClient(base_url=f"{limited.api_root}/bot{limited.token}/") as http:
        yield BotApiClient(http)


async def test_fourth_quick_message_to_a_private_chat_is_told_to_retry(
    limited: BotApiEmulator, limited_api: BotApiClient
) -> None:
    chat = limited.private_chat(limited.add_user("Ada"))
    for _ in range(3):
        await limited_api.result("sendMessage", chat_id=chat.id, text="alert")

    status, body = await limited_api.call("sendMessage", chat_id=chat.id, text="alert")

    assert (status, body) == (
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 1",
            "parameters": {"retry_after": 1},
        },
    )
    assert len(limited.messages(chat)) == 3


async def test_retrying_after_the_wait_succeeds(
    limited: BotApiEmulator, limited_api: BotApiClient, clock: FakeClock
) -> None:
    chat = limited.private_chat(limited.add_user("Ada"))
    for _ in range(4):
        await limited_api.call("sendMessage", chat_id=chat.id, text="alert")

    clock.advance(1)

    await limited_api.result("sendMessage", chat_id=chat.id, text="alert")
    assert limited.flood_rejections == 1


async def test_twenty_first_message_a_minute_to_a_group_waits_three_seconds(
    limited: BotApiEmulator, limited_api: BotApiClient
) -> None:
    group = limited.add_group("Newsroom", members=[limited.add_user("Ada")])
    for _ in range(20):
        await limited_api.result("sendMessage", chat_id=group.id, text="alert")

    status, description = await limited_api.error("sendMessage", chat_id=group.id, text="alert")

    assert (status, description) == (429, "Too Many Requests: retry after 3")


async def test_thirty_first_message_a_second_overall_is_refused(
    limited: BotApiEmulator, limited_api: BotApiClient
) -> None:
    chats = [limited.private_chat(limited.add_user(f"User {n}")) for n in range(31)]
    for chat in chats[:30]:
        await limited_api.result("sendMessage", chat_id=chat.id, text="alert")

    assert await limited_api.error("sendMessage", chat_id=chats[30].id, text="alert") == (
        429,
        "Too Many Requests: retry after 1",
    )


async def test_edits_count_but_answers_actions_and_reads_do_not(
    limited: BotApiEmulator, limited_api: BotApiClient
) -> None:
    ada = limited.add_user("Ada")
    chat = limited.private_chat(ada)
    markup = {"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}
    sent = await limited_api.result("sendMessage", chat_id=chat.id, text="0", reply_markup=markup)
    for _ in range(5):
        query_id = await limited.press_button(chat, sent["message_id"], ada, "Go")
        await limited_api.result("answerCallbackQuery", callback_query_id=query_id)
        await limited_api.result("sendChatAction", chat_id=chat.id, action="typing")
        await limited_api.result("getChat", chat_id=chat.id)
    await limited_api.result(
        "editMessageText",
        chat_id=chat.id,
        message_id=sent["message_id"],
        text="1",
        reply_markup=markup,
    )
    await limited_api.result(
        "editMessageReplyMarkup", chat_id=chat.id, message_id=sent["message_id"]
    )

    status, _ = await limited_api.error(
        "editMessageText", chat_id=chat.id, message_id=sent["message_id"], text="2"
    )

    assert status == 429


async def test_limits_can_be_lifted_for_tests_that_do_not_study_them(
    limited: BotApiEmulator, limited_api: BotApiClient
) -> None:
    chat = limited.private_chat(limited.add_user("Ada"))

    limited.limits = FloodLimits.unlimited()

    for _ in range(50):
        await limited_api.result("sendMessage", chat_id=chat.id, text="alert")


async def test_hundreds_of_concurrent_sends_are_all_accounted_for() -> None:
    limits = FloodLimits(overall=Rate(300, burst=300), private_chat=None)
    async with BotApiEmulator(limits=limits) as emulator:
        chats = [emulator.private_chat(emulator.add_user(f"User {n}")) for n in range(310)]
        base_url = f"{emulator.api_root}/bot{emulator.token}/"
        limits_http = httpx.Limits(max_connections=20)
        async with httpx.AsyncClient(base_url=base_url, limits=limits_http) as http:
            api = BotApiClient(http)
            results = await asyncio.gather(
                *(api.call("sendMessage", chat_id=chat.id, text="alert") for chat in chats)
            )

    statuses = Counter(status for status, _ in results)
    assert statuses[200] >= 300
    assert statuses[200] + statuses[429] == 310
    assert len(emulator.all_messages) == statuses[200]
    assert emulator.flood_rejections == statuses[429]
