"""The emulator as an HTTP server: routing, tokens, parameter encodings, lifecycle, counters."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from bot.sandbox.emulator import BotApiEmulator, FloodLimits
from tests.sandbox.helpers import BotApiClient

KEYBOARD = {"inline_keyboard": [[{"text": "More", "callback_data": "more:1"}]]}


async def test_wrong_token_is_unauthorized(emulator: BotApiEmulator) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{emulator.api_root}/bot1:wrong/getMe")

    assert response.status_code == 401
    assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}


async def test_unknown_method_is_not_found(api: BotApiClient) -> None:
    assert await api.error("sendTelepathy") == (404, "Not Found")


async def test_paths_outside_the_api_are_not_found(emulator: BotApiEmulator) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{emulator.api_root}/index.html")

    assert response.status_code == 404
    assert response.json() == {"ok": False, "error_code": 404, "description": "Not Found"}


async def test_method_names_ignore_case(api: BotApiClient) -> None:
    me = await api.result("GETME")

    assert me["username"] == "herald_bot"


async def test_get_me_describes_the_bot(api: BotApiClient, emulator: BotApiEmulator) -> None:
    me = await api.result("getMe")

    assert me == {
        "id": 123456789,
        "is_bot": True,
        "first_name": "Herald",
        "username": "herald_bot",
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": True,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }
    assert me["id"] == emulator.bot.id == int(emulator.token.split(":")[0])


async def test_parameters_arrive_in_every_encoding(emulator: BotApiEmulator) -> None:
    chat = emulator.private_chat(emulator.add_user("Ada"))
    form = {
        "chat_id": str(chat.id),
        "text": "<b>Seoul</b>",
        "parse_mode": "HTML",
        "reply_markup": json.dumps(KEYBOARD),
    }
    url = f"{emulator.api_root}/bot{emulator.token}/sendMessage"

    async with httpx.AsyncClient() as http:
        responses = [
            await http.get(url, params=form),
            await http.post(url, data=form),
            await http.post(url, files={name: (None, value) for name, value in form.items()}),
            await http.post(url, json={**form, "chat_id": chat.id, "reply_markup": KEYBOARD}),
        ]

    assert [response.status_code for response in responses] == [200] * 4
    assert "multipart/form-data" in responses[2].request.headers["content-type"]
    records = emulator.messages(chat)
    assert [record.text for record in records] == ["Seoul"] * 4
    assert {record.buttons for record in records} == {((records[0].buttons[0][0],),)}
    assert records[0].buttons[0][0].callback_data == "more:1"


async def test_malformed_json_body_is_a_bad_request(emulator: BotApiEmulator) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{emulator.api_root}/bot{emulator.token}/getMe",
            content=b"{not json",
            headers={"content-type": "application/json"},
        )

    assert response.status_code == 400
    assert response.json()["description"] == "Bad Request: can't parse JSON object"


async def test_malformed_json_parameter_is_a_bad_request(
    api: BotApiClient, emulator: BotApiEmulator
) -> None:
    chat = emulator.private_chat(emulator.add_user("Ada"))

    error = await api.error("sendMessage", chat_id=chat.id, text="x", reply_markup="{oops")

    assert error == (400, "Bad Request: can't parse reply_markup JSON object")


async def test_api_root_needs_a_running_emulator() -> None:
    emulator = BotApiEmulator()

    with pytest.raises(RuntimeError, match="not running"):
        _ = emulator.api_root


async def test_two_emulators_get_different_free_ports() -> None:
    async with BotApiEmulator() as first, BotApiEmulator() as second:
        assert first.api_root != second.api_root
        assert first.api_root.startswith("http://127.0.0.1:")


async def test_stopping_does_not_wait_for_an_open_long_poll() -> None:
    emulator = BotApiEmulator()
    await emulator.start()
    async with httpx.AsyncClient(base_url=f"{emulator.api_root}/bot{emulator.token}/") as http:
        poll = asyncio.create_task(http.post("getUpdates", json={"timeout": 60}))
        await emulator.wait_until(lambda: emulator.long_polling, description="long poll")

        async with asyncio.timeout(5):
            await emulator.stop()
            response = await poll

    assert response.json() == {"ok": True, "result": []}


async def test_requests_are_logged_with_method_params_status_and_time(
    api: BotApiClient, emulator: BotApiEmulator
) -> None:
    chat = emulator.private_chat(emulator.add_user("Ada"))

    await api.result("sendMessage", chat_id=chat.id, text="one")
    await api.error("sendMessage", chat_id=chat.id, text="")

    first, second = emulator.requests
    assert (first.method, first.params, first.status) == (
        "sendMessage",
        {"chat_id": chat.id, "text": "one"},
        200,
    )
    assert (second.status, second.description) == (400, "Bad Request: message text is empty")
    assert first.at <= second.at


async def test_counters_count_calls_and_responses_by_status(
    api: BotApiClient, emulator: BotApiEmulator
) -> None:
    chat = emulator.private_chat(emulator.add_user("Ada"))
    emulator.limits = FloodLimits(overall=None, group_chat=None)

    for _ in range(5):
        await api.call("sendMessage", chat_id=chat.id, text="hello")
    await api.call("getMe")

    assert emulator.calls == {"sendMessage": 5, "getMe": 1}
    assert emulator.responses == {
        ("sendMessage", 200): 3,
        ("sendMessage", 429): 2,
        ("getMe", 200): 1,
    }
    assert emulator.flood_rejections == 2
