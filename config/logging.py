"""Logging set-up: one stderr handler whose output never contains a secret."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import ClassVar

REDACTED = "[REDACTED]"

# Libraries that log every HTTP request at INFO; the Bot API URL carries the token, and the
# request lines drown out Herald's own logs anyway.
_CHATTY_LOGGERS = ("httpx", "httpcore", "apscheduler", "aiohttp.access", "aiosqlite")


class OneLineLibraryErrors(logging.Filter):
    """Keeps python-telegram-bot's tracebacks out of what it reports and Herald handles.

    PTB logs a traceback when the Bot API URL answers with something that isn't JSON and
    then raises an error Herald turns into one clear line (so that record goes); and it
    logs one when its last ``getUpdates`` at shutdown times out, which loses nothing
    (Telegram sends those updates again): one warning line instead.
    """

    _QUIET: ClassVar[dict[str, str]] = {
        # Herald reports this one itself, with the URL: nothing to add here.
        "Can not load invalid JSON data": "",
        "Error while calling `get_updates` one more": (
            "Telegram didn't answer the last getUpdates at shutdown; it resends those updates"
        ),
    }

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("telegram"):
            for start, line in self._QUIET.items():
                if str(record.msg).startswith(start):
                    if not line:
                        return False
                    record.exc_info, record.exc_text = None, None
                    record.levelno, record.levelname = logging.WARNING, "WARNING"
                    record.msg, record.args = line, ()
        return True


class RedactingFormatter(logging.Formatter):
    """Formats records, then blanks out every secret in the finished text.

    Redacting the final string (rather than ``record.msg``) also covers arguments,
    exception messages and tracebacks, where httpx puts request URLs.
    """

    def __init__(self, fmt: str, secrets: Iterable[str]) -> None:
        super().__init__(fmt)
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), self._secrets)

    def add_secrets(self, secrets: Iterable[str]) -> None:
        self._secrets = sorted({*self._secrets, *(s for s in secrets if s)}, key=len, reverse=True)


def add_secrets(*secrets: str) -> None:
    """Redact ``secrets`` too from now on (one learnt after start-up, such as a webhook
    secret kept in the database)."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler.formatter, RedactingFormatter):
            handler.formatter.add_secrets(secrets)


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


def configure_logging(level: str, *, secrets: Iterable[str] = ()) -> None:
    """Route every logger to stderr at ``level``, redacting ``secrets``; safe to call twice."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", secrets)
    )
    handler.addFilter(OneLineLibraryErrors())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in _CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
