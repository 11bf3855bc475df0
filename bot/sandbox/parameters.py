"""Bot API request parameters, read from any encoding Telegram accepts, with typed access."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from bot.sandbox.errors import bad_request

_INTEGER = re.compile(r"\s*[+-]?\d+\s*")
_NUMBER = re.compile(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)\s*")


async def read_params(request: web.Request) -> Params:
    """Merges the query string with the body (form, multipart or JSON); the body wins."""
    values: dict[str, Any] = dict(request.query)
    if request.method != "POST" or not request.can_read_body:
        return Params(values)
    if request.content_type == "application/json":
        try:
            body = json.loads(await request.read() or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise bad_request("can't parse JSON object") from error
        if not isinstance(body, dict):
            raise bad_request("can't parse JSON object")
        values.update(body)
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        for name, value in form.items():
            # Uploaded files are irrelevant to the methods the emulator offers.
            if isinstance(value, str):
                values[name] = value
    return Params(values)


class Params:
    """Parameter values as they arrived: strings from forms, JSON values from a JSON body.

    python-telegram-bot posts forms in which every non-string value is JSON-encoded (numbers
    as ``"42"``, objects as ``'{"inline_keyboard": ...}'``), so each accessor accepts both.
    """

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.values: dict[str, Any] = dict(values)

    def has(self, name: str) -> bool:
        return self.values.get(name) not in (None, "")

    def string(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None:
            return None
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        raise bad_request(f'field "{name}" must be of type String')

    def integer(self, name: str) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and _INTEGER.fullmatch(value):
            return int(value)
        raise bad_request(f'field "{name}" must be of type Integer')

    def number(self, name: str) -> float | None:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str) and _NUMBER.fullmatch(value):
            return float(value)
        raise bad_request(f'field "{name}" must be a number')

    def flag(self, name: str) -> bool:
        # The Bot API reads "true" and "1" as true and anything else as false.
        value = self.values.get(name)
        if isinstance(value, bool):
            return value
        return isinstance(value, str | int) and str(value).lower() in ("true", "1")

    def json(self, name: str) -> Any:
        """A JSON-typed parameter, decoded from its string form if it came in a form."""
        value = self.values.get(name)
        if not isinstance(value, str):
            return value
        if value == "":
            return None
        try:
            return json.loads(value)
        except json.JSONDecodeError as error:
            raise bad_request(f"can't parse {name} JSON object") from error

    def chat_id(self) -> int | str | None:
        """An integer id or an ``@username``; None when missing."""
        value = self.values.get("chat_id")
        if value is None or value == "":
            return None
        if isinstance(value, str) and value.strip().startswith("@"):
            return value.strip()
        if isinstance(value, str) and not _INTEGER.fullmatch(value):
            return value
        return self.integer("chat_id")
