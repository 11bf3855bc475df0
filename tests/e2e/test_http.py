"""Herald's HTTP server as an operator meets it: /healthz, /metrics and `herald health`."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sys
import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bot.sandbox.emulator import BotApiEmulator
from bot.sandbox.feedserver import FeedItem, FeedServer
from tests.e2e.harness import HeraldProcess, herald_environment, running_herald, wait_for_rows


async def get(url: str) -> httpx.Response:
    async with httpx.AsyncClient(trust_env=False, timeout=5.0) as client:
        return await client.get(url)


async def until_status(url: str, status: int, *, within: float = 10.0) -> httpx.Response:
    deadline = time.monotonic() + within
    while (response := await get(url)).status_code != status:
        assert time.monotonic() < deadline, f"{url} kept answering {response.status_code}"
        await asyncio.sleep(0.1)
    return response


def samples(page: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text page, by name and labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(page)
        for sample in family.samples
    }


async def herald_health(workdir: Path, **variables: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "health",
        cwd=workdir,
        env=herald_environment(**variables),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 20)
    assert process.returncode is not None
    return process.returncode, (stdout + stderr).decode()


async def test_healthz_is_200_while_the_bot_lives_and_503_once_its_database_is_gone(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    async with running_herald(emulator, tmp_path) as herald:
        root = await herald.http_url()
        alive = await until_status(f"{root}/healthz", 200)
        for suffix in ("", "-wal", "-shm"):
            (tmp_path / f"herald.db{suffix}").unlink(missing_ok=True)
        gone = await get(f"{root}/healthz")

    assert alive.headers["content-type"].startswith("application/json")
    assert alive.text.endswith("\n")
    assert alive.text.count("\n") == 1
    assert json.loads(alive.text)["status"] == "ok"
    assert gone.status_code == 503
    assert json.loads(gone.text) == {
        "status": "unhealthy",
        "detail": f"no database at {tmp_path / 'herald.db'}",
    }


async def test_herald_health_asks_the_running_bot_over_http(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    # The checking side points at no database at all: only the HTTP answer can make it pass.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    async with running_herald(emulator, tmp_path) as herald:
        root = await herald.http_url()
        await until_status(f"{root}/healthz", 200)
        listen = root.removeprefix("http://")
        while_up = await herald_health(elsewhere, HERALD_LISTEN=listen)
        await herald.stop()
        after_stop = await herald_health(elsewhere, HERALD_LISTEN=listen)

    assert while_up[0] == 0, while_up[1]
    assert while_up[1].startswith("herald: healthy: heartbeat")
    assert after_stop[0] == 1
    assert f"nothing answers at {root}/healthz" in after_stop[1]


async def test_metrics_parse_and_count_the_polls_and_sends_that_happen(
    emulator: BotApiEmulator, feed_server: FeedServer, tmp_path: Path
) -> None:
    reader = emulator.add_user("Rosa")
    chat = emulator.private_chat(reader)
    now = dt.datetime.now(dt.UTC)
    old = FeedItem("Harbour reopens", "https://news.example/1", summary="Ships.", published=now)
    feed_server.publish_rss("/world.xml", [old], title="World")

    async with running_herald(
        emulator, tmp_path, HERALD_FEEDS=feed_server.url("/world.xml"), HERALD_POLL_INTERVAL="1"
    ) as herald:
        root = await herald.http_url()
        await wait_for_rows(tmp_path, "SELECT 1 FROM feeds WHERE baseline_done = 1")
        await emulator.user_says(chat, reader, "/start")
        await emulator.wait_for_message(chat)
        await emulator.user_says(chat, reader, "/topic sanctions")
        await emulator.wait_for_message(chat)
        before = samples((await get(f"{root}/metrics")).text)
        story = FeedItem(
            "New sanctions on oil", "https://news.example/2", summary="Agreed.", published=now
        )
        feed_server.publish_rss("/world.xml", [old, story], title="World")
        await emulator.wait_for_message(chat, timeout=15)
        await until_status(f"{root}/healthz", 200)
        response = await get(f"{root}/metrics")
        after = samples(response.text)

    def moved(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after[key] - before.get(key, 0.0)

    assert response.headers["content-type"].startswith("text/plain; version=")
    assert moved("herald_polls_total", outcome="200") >= 1
    assert moved("herald_entries_stored_total") == 1
    assert moved("herald_entries_routed_total") == 1
    assert moved("herald_alerts_queued_total") == 1
    assert moved("herald_sends_total", outcome="ok") >= 1
    assert moved("herald_send_latency_seconds_count") >= 1
    assert moved("herald_publish_to_alert_latency_seconds_count") == 1
    assert after["herald_active_chats", ()] == 1
    assert after["herald_topics", ()] == 1
    assert after["herald_outbox_depth", (("kind", "alert"),)] == 0
    assert ("herald_event_loop_lag_seconds", ()) in after
    assert all(name.startswith("herald_") for name, _ in after)


async def test_healthz_is_200_from_the_moment_the_server_listens(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    log_path = tmp_path / "herald.log"
    with log_path.open("wb") as log_file:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            cwd=tmp_path,
            env=herald_environment(
                HERALD_TELEGRAM_TOKEN=emulator.token,
                HERALD_TELEGRAM_API_URL=emulator.api_root,
                HERALD_DATABASE=str(tmp_path / "herald.db"),
                HERALD_FEEDS="",
            ),
            stdout=log_file,
            stderr=log_file,
        )
    herald = HeraldProcess(process, log_path)
    try:
        # An orchestrator's probe may come the moment the port opens.
        first = await get(f"{await herald.http_url()}/healthz")
    finally:
        await herald.kill()

    assert first.status_code == 200, first.text
