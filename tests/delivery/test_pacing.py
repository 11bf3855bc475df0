"""The budgets that keep sends under Telegram's flood limits."""

import asyncio

from bot.delivery.pacing import GROUP_MESSAGES, TAKEOVER_CAUTION, Pacer


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_private_chat_gets_a_short_burst_then_one_message_a_second() -> None:
    clock = FakeClock()
    pacer = Pacer(30, clock=clock)

    waits = []
    for _ in range(3):
        waits.append(pacer.chat_wait(42))
        if waits[-1] == 0:
            pacer.spend_chat(42)

    assert waits[:2] == [0, 0]
    assert 0.9 < waits[2] <= 1.0
    clock.now += 1.0
    assert pacer.chat_wait(42) == 0


def test_a_group_gets_at_most_twenty_messages_a_minute() -> None:
    clock = FakeClock()
    pacer = Pacer(30, clock=clock)

    for _ in range(GROUP_MESSAGES):
        assert pacer.chat_wait(-100) == 0
        pacer.spend_chat(-100)
        clock.now += 1.0

    assert pacer.chat_wait(-100) == 40.0
    clock.now += 40.0
    assert pacer.chat_wait(-100) == 0


def test_a_held_chat_waits_out_retry_after_while_others_flow() -> None:
    clock = FakeClock()
    pacer = Pacer(30, clock=clock)

    pacer.hold(42, 7)

    assert pacer.chat_wait(42) == 7
    assert pacer.chat_wait(43) == 0
    clock.now += 7
    assert pacer.chat_wait(42) == 0


async def test_urgent_callers_are_served_before_queued_bulk_ones() -> None:
    pacer = Pacer(20)
    served: list[str] = []

    async def take(name: str, *, urgent: bool) -> None:
        await pacer.acquire(urgent=urgent)
        served.append(name)

    bulk = [asyncio.create_task(take(f"bulk {i}", urgent=False)) for i in range(6)]
    await asyncio.sleep(0)
    reply = asyncio.create_task(take("reply", urgent=True))
    await asyncio.gather(reply, *bulk)

    # The burst of two goes at once; the reply takes the very next slot.
    assert served.index("reply") <= 3


async def test_the_overall_rate_is_never_exceeded() -> None:
    rate = 50.0
    pacer = Pacer(rate)
    loop = asyncio.get_running_loop()
    started = loop.time()
    grants: list[float] = []

    async def take() -> None:
        await pacer.acquire(urgent=False)
        grants.append(loop.time() - started)

    await asyncio.gather(*(take() for _ in range(40)))

    burst = max(2.0, rate / 10)
    for count, moment in enumerate(grants, start=1):
        assert count <= burst + rate * moment + 1e-6


def test_after_a_takeover_a_chat_first_sent_to_starts_with_its_budget_spent() -> None:
    now = [100.0]
    pacer = Pacer(30, clock=lambda: now[0])
    assert pacer.chat_wait(7) == 0

    pacer.took_over()

    assert pacer.chat_wait(8) > 0.5  # a private chat the last sender may have just used
    now[0] += TAKEOVER_CAUTION + 1
    assert pacer.chat_wait(9) == 0  # caution is over
