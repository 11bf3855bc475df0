"""Fixtures shared by every test: a fixed clock, a real SQLite file, a loopback feed server."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.sandbox.feedserver import FeedServer
from bot.storage.database import Database

NOW = dt.datetime(2026, 3, 14, 9, 30, tzinfo=dt.UTC)


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
