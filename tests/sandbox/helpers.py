"""Test doubles for the emulator tests: a hand-moved clock and a raw Bot API client."""

from __future__ import annotations

from typing import Any

import httpx


class FakeClock:
    """A monotonic clock that moves only when a test moves it."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class BotApiClient:
    """Raw Bot API calls over httpx, returning the HTTP status and the decoded body."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def call(self, method: str, **params: Any) -> tuple[int, dict[str, Any]]:
        response = await self.http.post(method, json=params)
        body: dict[str, Any] = response.json()
        return response.status_code, body

    async def result(self, method: str, **params: Any) -> Any:
        """The result of a call that must succeed."""
        status, body = await self.call(method, **params)
        assert (status, body["ok"]) == (200, True), body
        return body["result"]

    async def error(self, method: str, **params: Any) -> tuple[int, str]:
        """The status and description of a call that must fail."""
        status, body = await self.call(method, **params)
        assert body["ok"] is False, body
        assert body["error_code"] == status
        return status, body["description"]
