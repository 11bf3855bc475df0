"""Fixtures for the emulator tests: a running emulator and clients that speak to it over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import telegram

from bot.sandbox.emulator import BotApiEmulator, FloodLimits
from tests.sandbox.helpers import BotApiClient


@pytest.fixture
async def emulator() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(limits=FloodLimits.unlimited()) as emulator:
        yield emulator


@pytest.fixture
async def api(emulator: BotApiEmulator) -> AsyncIterator[BotApiClient]:
    base_url = f"{emulator.api_root}/bot{emulator.token}/"
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        yield BotApiClient(http)


@pytest.fixture
async def bot(emulator: BotApiEmulator) -> AsyncIterator[telegram.Bot]:
    # python-telegram-bot appends the token to base_url, as it does for api.telegram.org/bot.
    async with telegram.Bot(emulator.token, base_url=f"{emulator.api_root}/bot") as bot:
        yield bot
