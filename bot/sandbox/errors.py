"""Bot API errors, worded and coded as Telegram answers them."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An answer with ``"ok": false``; ``status`` is both the HTTP status and ``error_code``."""

    def __init__(
        self, status: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.parameters is not None:
            body["parameters"] = self.parameters
        return body


class SandboxError(Exception):
    """The control API was asked for something Telegram could not produce."""


def bad_request(detail: str, parameters: dict[str, Any] | None = None) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}", parameters)


def forbidden(detail: str) -> ApiError:
    return ApiError(403, f"Forbidden: {detail}")


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized")


def not_found() -> ApiError:
    return ApiError(404, "Not Found")


def conflict(detail: str) -> ApiError:
    return ApiError(409, f"Conflict: {detail}")


def too_many_requests(retry_after: int) -> ApiError:
    return ApiError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


CHAT_NOT_FOUND = "chat not found"
MESSAGE_THREAD_NOT_FOUND = "message thread not found"
TOPIC_CLOSED = "TOPIC_CLOSED"
MESSAGE_TEXT_EMPTY = "message text is empty"
MESSAGE_TOO_LONG = "message is too long"
MESSAGE_TO_EDIT_NOT_FOUND = "message to edit not found"
MESSAGE_TO_DELETE_NOT_FOUND = "message to delete not found"
MESSAGE_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"
GETUPDATES_CONFLICT = (
    "terminated by other getUpdates request; make sure that only one bot instance is running"
)
