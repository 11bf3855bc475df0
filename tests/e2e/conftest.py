"""Fixtures for end-to-end tests: the emulator, and herald running against it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.sandbox.emulator import BotApiEmulator, FloodLimits


@pytest.fixture
async def emulator() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(limits=FloodLimits()) as emulator:
        yield emulator
