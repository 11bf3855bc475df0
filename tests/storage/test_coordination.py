"""Processes sharing one database: leading, telling each other, one send budget, job leases."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import sys
import time
from collections.abc import AsyncIterator, Callable

from bot.delivery.pacing import Pacer, SharedBudget
from bot.storage import coordination
from bot.storage.database import Database
from bot.storage.leases import LeaseRepository
from bot.storage.postgres.coordination import PostgresCoordinator
from bot.storage.postgres.database import PostgresDatabase
from tests.conftest import NOW


@contextlib.asynccontextmanager
async def process(url: str) -> AsyncIterator[PostgresCoordinator]:
    """What one Herald process has: its own pool and its coordinator."""
    database = await PostgresDatabase.connect(url)
    coordinator = PostgresCoordinator(database, url)
    await coordinator.start()
    try:
        yield coordinator
    finally:
        await coordinator.close()
        await database.close()


async def _soon(condition: Callable[[], bool]) -> None:
    """Wait up to 5 s for ``condition``, which a message from another process makes true."""
    async with asyncio.timeout(5):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def test_what_one_process_publishes_reaches_the_others_and_not_itself(
    postgres_url: str,
) -> None:
    async with process(postgres_url) as first, process(postgres_url) as second:
        heard: dict[str, list[str]] = {"first": [], "second": []}
        first.subscribe(coordination.TOPICS, heard["first"].append)
        second.subscribe(coordination.TOPICS, heard["second"].append)

        first.publish(coordination.TOPICS, "7,9")
        await _soon(lambda: bool(heard["second"]))
        await asyncio.sleep(0.2)

    assert heard == {"first": [], "second": ["7,9"]}


async def test_signals_published_together_arrive_at_least_once(postgres_url: str) -> None:
    async with process(postgres_url) as first, process(postgres_url) as second:
        woken: list[str] = []
        second.subscribe(coordination.OUTBOX, woken.append)
        for _ in range(50):
            first.publish(coordination.OUTBOX)
        await _soon(lambda: bool(woken))
        await asyncio.sleep(0.2)

    assert 1 <= len(woken) < 50


async def test_one_process_leads_and_another_takes_over_when_it_stops(
    postgres_url: str,
) -> None:
    async with process(postgres_url) as first, process(postgres_url) as second:
        assert await first.try_lead()
        assert not await second.try_lead()
        waiting = asyncio.create_task(second.lead())
        await asyncio.sleep(0.3)
        assert not waiting.done()

        started = time.monotonic()
        await first.close()
        await asyncio.wait_for(waiting, 5)

        assert time.monotonic() - started < 2.5


async def test_processes_sharing_the_send_budget_keep_to_the_rate_together(
    postgres_url: str,
) -> None:
    rate, seconds = 50.0, 2.0
    async with process(postgres_url) as first, process(postgres_url) as second:
        sent: list[float] = []

        async def send_flat_out(coordinator: PostgresCoordinator) -> None:
            burst = max(2.0, rate / 10)
            pacer = Pacer(
                rate,
                shared=SharedBudget(
                    lambda wanted: coordinator.grant(wanted, rate=rate, burst=burst),
                    burst=burst,
                ),
            )
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                await pacer.acquire(urgent=False)
                sent.append(time.monotonic())

        started = time.monotonic()
        await asyncio.gather(send_flat_out(first), send_flat_out(second))
        elapsed = time.monotonic() - started

    # Each alone would send ``rate`` a second; together they send no more than that, plus
    # the small burst a full budget allows.
    burst = max(2.0, rate / 10)
    assert rate * seconds * 0.8 <= len(sent) <= rate * elapsed + burst
    busiest = max(sum(1 for t in sent if start <= t < start + 1) for start in sent)
    assert busiest <= rate + burst


async def test_a_429_or_a_send_in_one_process_spends_the_chat_in_the_others(
    postgres_url: str,
) -> None:
    async with process(postgres_url) as first, process(postgres_url) as second:
        here, there = Pacer(30), Pacer(30)
        here.on_hold = lambda chat_id, s: first.publish(
            coordination.HOLDS, coordination.hold_item(chat_id, s)
        )
        here.on_spend = lambda chat_id: first.publish(coordination.SENT, str(chat_id))

        def held(payload: str) -> None:
            for chat_id, seconds in coordination.holds(payload):
                there.hold(chat_id, seconds, told=True)

        def sent(payload: str) -> None:
            for chat_id in coordination.ids(payload):
                there.spend_chat(chat_id, told=True)

        second.subscribe(coordination.HOLDS, held)
        second.subscribe(coordination.SENT, sent)

        here.hold(42, 10.0)
        for _ in range(3):
            here.spend_chat(7)  # three replies from this process to one private chat
        await _soon(lambda: there.chat_wait(42) > 0 and there.chat_wait(7) > 0)

        assert there.chat_wait(42) > 8
        assert there.chat_wait(7) > 1.5  # its burst spent, and more: wait for the next
        assert there.chat_wait(43) == 0


async def test_of_processes_claiming_a_job_together_exactly_one_runs_it(
    database: Database,
) -> None:
    leases = LeaseRepository(database)
    until = NOW + dt.timedelta(seconds=54)

    won = await asyncio.gather(
        *(leases.claim("job:prune", f"process {n}", until=until, now=NOW) for n in range(6))
    )
    later = await leases.claim("job:prune", "process 9", until=until, now=NOW)
    after = await leases.claim(
        "job:prune", "process 9", until=until + dt.timedelta(minutes=1), now=until
    )

    assert sum(won) == 1
    assert not later
    assert after


async def test_a_stopping_process_frees_its_leases_at_once(database: Database) -> None:
    leases = LeaseRepository(database)
    until = NOW + dt.timedelta(hours=5)
    assert await leases.claim("job:prune", "old", until=until, now=NOW)

    await leases.release("old")

    assert await leases.claim("job:prune", "new", until=until, now=NOW)


async def test_an_update_is_taken_by_one_process_and_forgotten_if_not_handled(
    database: Database,
) -> None:
    leases = LeaseRepository(database)
    keep = dt.timedelta(days=1)

    first = await asyncio.gather(*(leases.take_update(7, now=NOW, keep=keep) for _ in range(4)))
    await leases.forget_update(7)
    again = await leases.take_update(7, now=NOW, keep=keep)

    assert sorted(first) == [False, False, False, True]
    assert again


async def _cut(url: str, application_name: str, *, keep_lock_holders: bool) -> int:
    """End the server sessions named ``application_name`` (as a restart or a network cut
    would), sparing those holding an advisory lock if asked; how many were ended."""
    database = await PostgresDatabase.connect(url)
    try:
        rows = await database.fetchall(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name = ?"
            + (
                " AND pid NOT IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory')"
                if keep_lock_holders
                else ""
            ),
            (application_name,),
        )
    finally:
        await database.close()
    return len(rows)


async def test_a_process_waiting_to_lead_leads_after_its_connection_was_cut(
    postgres_url: str,
) -> None:
    async with process(postgres_url) as first, process(postgres_url) as second:
        assert await first.try_lead()
        waiting = asyncio.create_task(second.lead())
        await asyncio.sleep(0.3)
        assert await _cut(postgres_url, "herald lease", keep_lock_holders=True) == 1
        await asyncio.sleep(1.5)  # its next try meets the broken connection
        assert not waiting.done()

        await first.close()
        await asyncio.wait_for(waiting, 5)


async def test_a_leader_whose_lease_connection_breaks_knows_it_lost_the_lead(
    postgres_url: str,
) -> None:
    async with process(postgres_url) as first, process(postgres_url) as second:
        assert await first.try_lead()

        await _cut(postgres_url, "herald lease", keep_lock_holders=False)
        await asyncio.wait_for(first.lost.wait(), 3)

        assert await second.try_lead()


async def test_after_listening_broke_messages_flow_again_and_the_break_is_reported(
    postgres_url: str,
) -> None:
    async with process(postgres_url) as first, process(postgres_url) as second:
        heard: list[str] = []
        resumed = asyncio.Event()
        second.subscribe(coordination.TOPICS, heard.append)
        second.on_reconnect(resumed.set)

        await _cut(postgres_url, "herald listen", keep_lock_holders=False)
        await asyncio.wait_for(resumed.wait(), 10)
        first.publish(coordination.TOPICS, "5")
        await _soon(lambda: bool(heard))

    assert heard == ["5"]


async def test_the_lead_of_a_killed_process_passes_to_one_waiting(postgres_url: str) -> None:
    holder = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import asyncio, sys\n"
        "from bot.storage.postgres.lease import Lease\n"
        "async def main():\n"
        "    lease = Lease(sys.argv[1])\n"
        "    assert await lease.try_take()\n"
        "    print('held', flush=True)\n"
        "    await asyncio.sleep(3600)\n"
        "asyncio.run(main())\n",
        postgres_url,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None
        assert await asyncio.wait_for(holder.stdout.readline(), 30) == b"held\n"
        async with process(postgres_url) as waiting:
            leading = asyncio.create_task(waiting.lead())
            await asyncio.sleep(0.5)
            assert not leading.done()

            holder.kill()

            await asyncio.wait_for(leading, 10)
    finally:
        if holder.returncode is None:
            holder.kill()
        await holder.wait()
