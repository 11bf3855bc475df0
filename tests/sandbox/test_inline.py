"""Inline mode: queries reach only a bot with it on; answers are checked as Telegram checks."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bot.sandbox.emulator import BotApiEmulator
from bot.sandbox.errors import SandboxError
from bot.sandbox.flood import FloodLimits
from tests.sandbox.helpers import BotApiClient, FakeClock


def article(result_id: str, text: str = "<b>Putin</b> meets Xi", **fields: Any) -> dict[str, Any]:
    return {
        "type": "article",
        "id": result_id,
        "title": "Putin meets Xi",
        "input_message_content": {"message_text": text, "parse_mode": "HTML"},
        **fields,
    }


async def asked(emulator: BotApiEmulator, api: BotApiClient, words: str = "Putin") -> str:
    user = emulator.add_user("Ada")
    query_id = await emulator.inline_query(user, words, chat_type="group")
    [update] = await api.result("getUpdates")
    assert update["inline_query"] == {
        "id": query_id,
        "from": emulator.user(user).to_json(),
        "query": words,
        "offset": "",
        "chat_type": "group",
    }
    return query_id


async def test_an_answer_is_recorded_with_its_results_parsed(
    emulator: BotApiEmulator, api: BotApiClient
) -> None:
    query_id = await asked(emulator, api)

    ok = await api.result(
        "answerInlineQuery",
        inline_query_id=query_id,
        results=[article("1", description="World Desk · 14:05", url="https://a.example/1")],
        cache_time=30,
        next_offset="20",
    )
    answer = await emulator.wait_for_inline_answer(query_id)

    assert ok is True
    [result] = answer.results
    assert (result.id, result.title, result.text) == ("1", "Putin meets Xi", "Putin meets Xi")
    assert (result.description, result.url) == ("World Desk · 14:05", "https://a.example/1")
    assert (answer.cache_time, answer.is_personal, answer.next_offset) == (30, False, "20")
    assert (await api.result("getMe"))["supports_inline_queries"] is True


@pytest.mark.parametrize(
    ("results", "error"),
    [
        ([article(str(n)) for n in range(51)], "Bad Request: RESULTS_TOO_MUCH"),
        ([article("1"), article("1")], "Bad Request: RESULT_ID_DUPLICATE"),
        ([article("x" * 65)], "Bad Request: RESULT_ID_INVALID"),
        ([article("1", text="<b>unclosed")], "Bad Request: can't parse entities"),
        ([article("1", text="   ")], "Bad Request: message text is empty"),
        ([{**article("1"), "title": ""}], 'field "title" must be a String'),
    ],
)
async def test_answers_telegram_refuses_are_refused_and_the_query_stays_open(
    emulator: BotApiEmulator, api: BotApiClient, results: list[dict[str, Any]], error: str
) -> None:
    query_id = await asked(emulator, api)

    status, description = await api.error(
        "answerInlineQuery", inline_query_id=query_id, results=results
    )
    retried = await api.result("answerInlineQuery", inline_query_id=query_id, results=[])

    assert status == 400
    assert error in description
    assert retried is True


async def test_a_query_is_answered_once_and_only_while_fresh() -> None:
    clock = FakeClock()
    async with BotApiEmulator(limits=FloodLimits.unlimited(), clock=clock) as emulator:
        base = f"{emulator.api_root}/bot{emulator.token}/"
        async with httpx.AsyncClient(base_url=base) as http:
            api = BotApiClient(http)
            first = await asked(emulator, api)
            await api.result("answerInlineQuery", inline_query_id=first, results=[])
            again = await api.error("answerInlineQuery", inline_query_id=first, results=[])
            user = emulator.add_user("Bo")
            late = await emulator.inline_query(user, "Kremlin")
            clock.advance(11)
            expired = await api.error("answerInlineQuery", inline_query_id=late, results=[])

    too_old = "Bad Request: query is too old and response timeout expired or query ID is invalid"
    assert again == (400, too_old)
    assert expired == (400, too_old)


async def test_a_bot_without_inline_mode_hears_no_queries() -> None:
    async with BotApiEmulator(inline_mode=False) as emulator:
        user = emulator.add_user("Ada")
        with pytest.raises(SandboxError, match="inline mode is off"):
            await emulator.inline_query(user, "Putin")
