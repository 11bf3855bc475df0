"""What an operator meets when `herald run` can't start or shares its token: one clear line."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web

from bot.sandbox.emulator import BotApiEmulator
from tests.e2e.harness import herald_environment, running_herald

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def herald_run(workdir: Path, within: float = 30.0, **variables: str) -> tuple[int, str]:
    """`herald run` to its end: the exit code and what it wrote to stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=workdir,
        env=herald_environment(HERALD_FEEDS="", **variables),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), within)
    assert process.returncode is not None
    return process.returncode, stderr.decode()


@contextlib.asynccontextmanager
async def serving(answer: Handler) -> AsyncIterator[str]:
    """An HTTP server on loopback answering every request with ``answer``; its root URL."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest.fixture
async def web_page() -> AsyncIterator[str]:
    """An ordinary web server on loopback: every request gets an HTML page."""

    async def page(request: web.Request) -> web.Response:
        return web.Response(text="<html><body>Welcome!</body></html>", content_type="text/html")

    async with serving(page) as url:
        yield url


async def test_a_second_herald_on_the_same_database_refuses_with_one_line(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    async with running_herald(emulator, tmp_path) as first:
        code, stderr = await herald_run(
            tmp_path,
            HERALD_TELEGRAM_TOKEN=emulator.token,
            HERALD_TELEGRAM_API_URL=emulator.api_root,
            HERALD_DATABASE=str(tmp_path / "herald.db"),
        )
        still_running = first.process.returncode is None

    assert code == 1
    assert stderr.strip().splitlines() == [stderr.strip()]
    assert "is in use by another herald" in stderr
    assert "Traceback" not in stderr
    assert still_running


async def test_a_bot_api_url_that_is_an_ordinary_web_server_gets_one_line(
    web_page: str, tmp_path: Path
) -> None:
    code, stderr = await herald_run(
        tmp_path,
        HERALD_TELEGRAM_TOKEN="123456:ABC-not-a-real-token",
        HERALD_TELEGRAM_API_URL=web_page,
        HERALD_DATABASE=str(tmp_path / "herald.db"),
    )

    assert code == 1
    [line] = stderr.strip().splitlines()
    assert web_page in line
    assert "isn't the Bot API" in line
    assert "Herald shut down" not in stderr
    assert "ABC-not-a-real-token" not in stderr


async def test_the_database_is_checked_before_telegram_is_asked_anything(
    web_page: str, tmp_path: Path
) -> None:
    (tmp_path / "not-a-database").write_bytes(b"this is no SQLite file" * 100)

    code, stderr = await herald_run(
        tmp_path,
        HERALD_TELEGRAM_TOKEN="123456:ABC-not-a-real-token",
        HERALD_TELEGRAM_API_URL=web_page,
        HERALD_DATABASE=str(tmp_path / "not-a-database"),
    )

    assert code == 2
    [line] = stderr.strip().splitlines()
    assert "HERALD_DATABASE" in line
    assert web_page not in stderr


async def test_another_process_polling_the_same_token_is_a_warning_not_a_traceback(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    warning = "Another process is polling Telegram"
    async with (
        running_herald(emulator, tmp_path / "a") as first,
        running_herald(emulator, tmp_path / "b") as second,
    ):
        # The two take turns: each long poll ends the other's with a 409 Conflict.
        await emulator.wait_until(
            lambda: warning in first.log and warning in second.log,
            timeout=20,
            description="a Conflict warning from each",
        )
        await asyncio.sleep(3)  # more Conflicts come meanwhile; none may log again
        logs = first.log + second.log

    assert logs.count(warning) == 2
    assert "Traceback" not in logs


@pytest.fixture
async def json_but_not_the_bot_api() -> AsyncIterator[str]:
    """A server that answers getMe with JSON Telegram would never send."""

    async def answer(request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "result": {"id": "x"}})

    async with serving(answer) as url:
        yield url


async def test_a_bot_api_url_answering_odd_json_gets_one_line(
    json_but_not_the_bot_api: str, tmp_path: Path
) -> None:
    code, stderr = await herald_run(
        tmp_path,
        HERALD_TELEGRAM_TOKEN="123456:ABC-not-a-real-token",
        HERALD_TELEGRAM_API_URL=json_but_not_the_bot_api,
        HERALD_DATABASE=str(tmp_path / "herald.db"),
    )

    assert code == 1
    [line] = stderr.strip().splitlines()
    assert "isn't the Bot API" in line


@pytest.mark.parametrize("database", ["", "{tmp}", "{tmp}/alias.db"])
async def test_a_database_that_is_empty_a_folder_or_a_second_name_gets_one_line(
    emulator: BotApiEmulator, tmp_path: Path, database: str
) -> None:
    (tmp_path / "alias.db").symlink_to(tmp_path / "herald.db")
    async with running_herald(emulator, tmp_path):
        code, stderr = await herald_run(
            tmp_path,
            HERALD_TELEGRAM_TOKEN=emulator.token,
            HERALD_TELEGRAM_API_URL=emulator.api_root,
            HERALD_DATABASE=database.format(tmp=tmp_path),
        )

    [line] = stderr.strip().splitlines()
    assert "HERALD_DATABASE" in line
    assert code == (1 if database.endswith("alias.db") else 2)
