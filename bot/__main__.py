"""The `herald` command (also `python -m bot`): `herald run` and `herald demo`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import re
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

import httpx
from telegram.error import InvalidToken, TelegramError

from bot.app import (
    StartupError,
    build_application,
    check_database,
    check_health,
    herald_of,
    run_application,
)
from bot.server import HEALTH_PATH, local_url
from bot.storage.backends import is_postgres_url
from bot.storage.database import instance_lock
from bot.storage.interfaces import DatabaseInUseError, StorageError
from config import Settings, SettingsError, configure_logging, load_settings, redact
from config.settings import DEFAULT_API_URL, settings_help

log = logging.getLogger("bot")

# Docker's HEALTHCHECK gives the command 10 s; an answer takes milliseconds.
HEALTH_TIMEOUT = 5.0

NO_TOKEN = (
    "herald: HERALD_TELEGRAM_TOKEN is not set. Talk to @BotFather in Telegram, send /newbot, "
    "and put the token it gives you in HERALD_TELEGRAM_TOKEN (environment or .env). "
    "To try Herald without a token, run: herald demo"
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="herald",
        description="Herald: a Telegram bot that pushes news-feed entries to the chats "
        "whose topics they match.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "run",
        help="run the bot against Telegram (needs HERALD_TELEGRAM_TOKEN)",
        description="Run the bot: long-poll Telegram, watch feeds, deliver alerts and digests.",
        epilog=settings_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo_command = commands.add_parser(
        "demo", help="try Herald with no token and no network: a terminal chat with the bot"
    )
    demo_command.add_argument(
        "--script", type=Path, help="run the lines of FILE as the conversation, then quit"
    )
    demo_command.add_argument(
        "--linger",
        type=float,
        default=8.0,
        metavar="SECONDS",
        help="how long a script's demo goes on after its last line (default 8), so the "
        "alerts it set in motion arrive",
    )
    commands.add_parser(
        "health", help="exit 0 if a bot running on HERALD_DATABASE is alive (for health checks)"
    )
    arguments = parser.parse_args(argv)

    if arguments.command == "demo":
        # Imported here: the sandbox is for the demo, and `herald run` needn't load it. The
        # demo makes its own world and reads no setting but HERALD_LOG_LEVEL.
        from bot import demo

        if arguments.script is not None and not arguments.script.is_file():
            print(f"herald: --script {arguments.script}: no such file", file=sys.stderr)
            return 2
        try:
            return demo.main(arguments.script, linger=max(arguments.linger, 0.0))
        except SettingsError as error:
            print(f"herald: {error}", file=sys.stderr)
            return 2
        except OSError as error:
            print(f"herald: --script {arguments.script}: {error.strerror}", file=sys.stderr)
            return 2
    try:
        settings = load_settings()
    except SettingsError as error:
        print(f"herald: {error}", file=sys.stderr)
        return 2
    if arguments.command == "health":
        return health(settings)
    return run(settings)


def health(settings: Settings) -> int:
    """Ask the running bot's /healthz when its HTTP server is on at a known port (the slim
    image has no curl); otherwise read the heartbeat it writes to the database."""
    address = settings.listen_address
    if address is not None and address[1] != 0:
        return _health_over_http(*address)
    try:
        report = asyncio.run(check_health(settings))
    except StorageError as error:
        print(f"herald: unhealthy: {error}", file=sys.stderr)
        return 1
    print(f"herald: {'healthy' if report.healthy else 'unhealthy'}: {report.detail}")
    return 0 if report.healthy else 1


def _health_over_http(host: str, port: int) -> int:
    url = local_url(host, port) + HEALTH_PATH
    try:
        response = httpx.get(url, timeout=HEALTH_TIMEOUT, trust_env=False)
    except httpx.HTTPError as error:
        print(f"herald: unhealthy: nothing answers at {url} ({error})", file=sys.stderr)
        return 1
    try:
        detail = str(response.json()["detail"])
    except (ValueError, KeyError, TypeError):
        detail = f"{url} answered HTTP {response.status_code} with something else than Herald's"
        print(f"herald: unhealthy: {detail}", file=sys.stderr)
        return 1
    healthy = response.status_code == 200
    print(f"herald: {'healthy' if healthy else 'unhealthy'}: {detail}")
    return 0 if healthy else 1


def run(settings: Settings) -> int:
    token = settings.token
    if token is None:
        print(NO_TOKEN, file=sys.stderr)
        return 2
    configure_logging(settings.log_level, secrets=[token])
    try:
        # On PostgreSQL, several processes share the work (bot.storage.coordination).
        with (
            contextlib.nullcontext()
            if is_postgres_url(settings.database)
            else instance_lock(Path(settings.database))
        ):
            if not asyncio.run(_run_until_signalled(settings)):
                print(
                    "herald: this process lost the lead on HERALD_DATABASE (the connection "
                    "holding it broke) and stopped; started again, it rejoins",
                    file=sys.stderr,
                )
                return 1
    except InvalidToken:
        where = (
            "Telegram"
            if settings.telegram_api_url == DEFAULT_API_URL
            else f"The Bot API at {settings.telegram_api_url} (HERALD_TELEGRAM_API_URL)"
        )
        print(
            f"herald: {where} rejected HERALD_TELEGRAM_TOKEN; check it with @BotFather",
            file=sys.stderr,
        )
        return 2
    except StartupError as error:
        print(f"herald: {error}", file=sys.stderr)
        return 2
    except DatabaseInUseError as error:
        print(f"herald: HERALD_DATABASE: {error}", file=sys.stderr)
        return 1
    except StorageError as error:
        print(f"herald: HERALD_DATABASE: {error}", file=sys.stderr)
        return 2
    except TelegramError as error:
        # NetworkError and the rest: what start-up got from the Bot API, in one line.
        print(
            f"herald: {_bot_api_failure(settings, redact(str(error), [token]))}", file=sys.stderr
        )
        return 1
    return 0


def _bot_api_failure(settings: Settings, message: str) -> str:
    """One line saying what answered at HERALD_TELEGRAM_API_URL, or why nothing did."""
    url = settings.telegram_api_url
    if "Invalid server response" in message or "Parsing the server response" in message:
        status = re.search(r"\((\d{3})\)", message)
        answered = f" (HTTP {status[1]})" if status else ""
        return (
            f"HERALD_TELEGRAM_API_URL {url} answered{answered} with something that isn't "
            "the Bot API (an HTML page?); point it at https://api.telegram.org or a Bot API "
            "server"
        )
    return f"cannot reach the Bot API at {url}: {message[:200]}"


async def _run_until_signalled(settings: Settings) -> bool:
    """Run until SIGINT or SIGTERM; False when the bot stopped of itself instead (it lost
    the lead on a shared database)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # The database first: a bad HERALD_DATABASE is found before Telegram is asked anything.
    await check_database(settings)
    # On PostgreSQL, every process started on the database works with the others
    # (bot.storage.coordination); on SQLite, the file's lock kept a second one out.
    application = build_application(settings)
    await run_application(application, stop=stop)
    return not herald_of(application).stepped_down


if __name__ == "__main__":
    sys.exit(main())
