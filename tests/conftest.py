"""Fixtures shared by every test: a fixed clock, a real SQLite file, a loopback feed server."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from hypothesis import settings

from bot.sandbox.feedserver import FeedServer
from bot.storage.database import Database

NOW = dt.datetime(2026, 3, 14, 9, 30, tzinfo=dt.UTC)

# CI runs the same examples every time, so a red build is never a roll of the dice; a
# developer's runs keep exploring new ones.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture
async def feed_server() -> AsyncIterator[FeedServer]:
    async with FeedServer() as server:
        yield server


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    # trust_env=False: a proxy set in the environment must not see loopback traffic.
    async with httpx.AsyncClient(trust_env=False) as client:
        yield client


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = await Database.open(tmp_path / "herald.db")
    try:
        yield db
    finally:
        await db.close()
