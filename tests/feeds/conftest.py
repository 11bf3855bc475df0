"""Fixtures for the feed tests: a loopback feed server, HTTP clients and a fixed clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

NOW = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)

Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture
async def mock_client() -> AsyncIterator[Callable[[Handler], httpx.AsyncClient]]:
    """Makes clients whose every request goes to a handler instead of the network."""
    clients: list[httpx.AsyncClient] = []

    def make(handler: Handler) -> httpx.AsyncClient:
        clients.append(httpx.AsyncClient(transport=httpx.MockTransport(handler)))
        return clients[-1]

    yield make
    for made in clients:
        await made.aclose()
