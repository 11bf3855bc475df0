"""Herald's settings: every HERALD_* variable, read once from the environment or `.env`."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import unquote, urlsplit

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from config.timezones import parse_timezone

DEFAULT_FEED = "https://www.independent.co.uk/news/world/rss"
DEFAULT_API_URL = "https://api.telegram.org"

# Telegram tokens are "<bot id>:<secret>"; the secret is URL-safe base64-ish.
_TOKEN_SHAPE = re.compile(r"\d+:[A-Za-z0-9_-]+")
_CLOCK_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
# Telegram's rule for setWebhook's secret_token (Bot API, setWebhook).
_WEBHOOK_SECRET_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,256}")
_LISTEN_SHAPE = re.compile(
    r"(?:(?P<name>[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)|\[(?P<v6>[0-9A-Fa-f:.]+)\])"
    r":(?P<port>[0-9]{1,5})",
    re.ASCII,
)
# Paths Herald's HTTP server answers itself: a webhook path may not be, or be under, one.
_SERVED_PATHS = ("/healthz", "/metrics", "/websub/")


class _Refused(ValueError):
    """A setting's value refused for a stated reason; ``echo``: whether the one-line error
    may show the value (not when it holds a password)."""

    def __init__(self, reason: str, *, echo: bool = True) -> None:
        super().__init__(reason)
        self.echo = echo


LISTEN_OFF = "off"

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]

# What each variable expects, in the words of the one-line start-up error.
_EXPECTED = {
    "telegram_token": "a bot token from @BotFather, shaped like 123456789:AAE...",
    "telegram_api_url": "an http(s) URL such as https://api.telegram.org",
    "admin_ids": "comma-separated numeric Telegram user ids, e.g. 12345,67890",
    "feeds": "comma-separated http(s) feed URLs",
    "database": "a path to the SQLite file, e.g. herald.db, or a postgresql:// URL",
    "database_pool_size": "a whole number of connections from 2 to 100, e.g. 5",
    "poll_interval": "a number of seconds from 1 to 86400 (fractions allowed), e.g. 120",
    "send_rate": "a number of messages per second above 0 and at most 1000, e.g. 30",
    "digest_time": "a time of day as HH:MM, e.g. 08:00",
    "timezone": "an IANA time zone such as Europe/London, or an offset such as UTC+3",
    "log_level": "one of DEBUG, INFO, WARNING, ERROR, CRITICAL",
    "retention_days": "a whole number of days from 1 to 36500, e.g. 90",
    "outbox_retention_days": "a whole number of days from 1 to 36500, e.g. 7",
    "cluster_window_hours": "a whole number of hours from 1 to 168, e.g. 48",
    "allow_private_networks": "comma-separated CIDR ranges, e.g. 10.0.0.0/8,fd00::/8",
    "poll_concurrency": "a whole number of polls at once, from 1 to 10000, e.g. 64",
    "listen": "host:port (port 0 picks a free one), e.g. 127.0.0.1:8080, or off",
    "webhook_url": "the https URL Telegram posts updates to, e.g. https://bot.example/telegram",
    "webhook_secret": "1 to 256 characters of A-Z, a-z, 0-9, _ and -",
    "public_url": "the http(s) base URL a WebSub hub can reach, e.g. https://bot.example",
}

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def settings_help() -> str:
    """Every setting as an operator sets it: variable, default and what it takes."""
    lines = ["settings (environment variables, or a .env file in the working directory):"]
    for name, field in Settings.model_fields.items():
        default = field.get_default(call_default_factory=True)
        if isinstance(default, tuple | frozenset):
            default = ",".join(str(item) for item in default)
        elif isinstance(default, dt.time):
            default = f"{default:%H:%M}"
        elif isinstance(default, float):
            default = f"{default:g}"
        shown = "(none)" if default in (None, "") else str(default)
        lines.append(f"  HERALD_{name.upper():<24} default {shown}")
        if name in _EXPECTED:
            lines.append(f"  {'':<31}{_EXPECTED[name]}")
    return "\n".join(lines)


class SettingsError(Exception):
    """A setting is missing or malformed; ``str()`` is the one line to show the operator."""


def parse_clock_time(text: str) -> dt.time:
    """``"8:05"`` or ``"08:05"`` → 08:05; raises ValueError for anything else."""
    match = _CLOCK_TIME.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not HH:MM")
    hour, minute = int(match[1]), int(match[2])
    if hour > 23 or minute > 59:
        raise ValueError(f"{text!r} is not a time of day")
    return dt.time(hour, minute)


def _split_commas(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """Validated settings; built once by the entry point and passed down as a value."""

    model_config = SettingsConfigDict(
        env_prefix="HERALD_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )

    telegram_token: SecretStr | None = None
    telegram_api_url: str = DEFAULT_API_URL
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    feeds: Annotated[tuple[str, ...], NoDecode] = (DEFAULT_FEED,)
    # A SQLite file, or a postgresql:// URL (kept a string: a Path would fold its //).
    database: Path | str = Path("herald.db")
    database_pool_size: int = Field(default=5, ge=2, le=100)
    poll_interval: float = Field(default=120.0, ge=1.0, le=86_400.0)
    send_rate: float = Field(default=30.0, gt=0.0, le=1000.0)
    digest_time: dt.time = dt.time(8, 0)
    timezone: str = "UTC"
    log_level: LogLevel = "INFO"
    # A century: past that, dates overflow Python's datetime before anything is pruned.
    retention_days: int = Field(default=90, ge=1, le=36_500)
    outbox_retention_days: int = Field(default=7, ge=1, le=36_500)
    # How far back a new entry looks for the same story. A week bounds the window's memory
    # (about 1.4 KB an entry) on a busy instance.
    cluster_window_hours: int = Field(default=48, ge=1, le=168)
    allow_private_networks: Annotated[tuple[Network, ...], NoDecode] = ()
    poll_concurrency: int = Field(default=64, ge=1, le=10_000)
    listen: str = "127.0.0.1:8080"
    webhook_url: str = ""
    webhook_secret: SecretStr | None = None
    public_url: str = ""

    @field_validator("telegram_token", mode="before")
    @classmethod
    def _check_token(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return None
            if not _TOKEN_SHAPE.fullmatch(value):
                # Never echo the value: it may be a real token with a typo.
                raise ValueError("malformed token")
        return value

    @field_validator("database", mode="before")
    @classmethod
    def _check_database(cls, value: Any) -> Any:
        if isinstance(value, str):
            if not value.strip():
                raise ValueError("empty")
            if value.startswith(("postgresql://", "postgres://")):
                # Not echoed back: the URL may carry a password.
                return value
            if "://" in value:
                raise ValueError("an URL that isn't postgresql://")
            return Path(value)
        return value

    @field_validator("telegram_api_url", mode="before")
    @classmethod
    def _check_api_url(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip().rstrip("/")
            parts = urlsplit(value)
            if parts.scheme not in {"http", "https"} or not parts.netloc:
                raise ValueError("not an http(s) URL")
        return value

    @field_validator("listen", mode="before")
    @classmethod
    def _check_listen(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            if value.lower() == LISTEN_OFF:
                return LISTEN_OFF
            parse_listen(value)
        return value

    @field_validator("webhook_url", "public_url", mode="before")
    @classmethod
    def _check_public_url(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return ""
            parts = urlsplit(value)
            if parts.username is not None or parts.password is not None:
                raise _Refused("no user name or password", echo=False)
            if parts.scheme not in {"http", "https"} or not parts.hostname:
                raise ValueError("not an http(s) URL")
            if parts.query or parts.fragment or "?" in value or "#" in value:
                raise _Refused("no query or fragment")
            try:
                port = parts.port
            except ValueError:
                port = 0
            if port == 0:
                raise _Refused("a port from 1 to 65535")
            segments = unquote(parts.path).split("/")
            if "." in segments or ".." in segments:
                raise _Refused("a path without . or .. segments")
            path = unquote(parts.path)
            if info.field_name == "webhook_url" and any(
                path == served.rstrip("/") or path.startswith(served.rstrip("/") + "/")
                for served in _SERVED_PATHS
            ):
                raise _Refused(
                    "a path Herald's server doesn't use itself (/healthz, /metrics, /websub/)"
                )
        return value

    @field_validator("webhook_secret", mode="before")
    @classmethod
    def _check_webhook_secret(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return None
            if not _WEBHOOK_SECRET_SHAPE.fullmatch(value):
                # Never echo the value: it is a secret.
                raise ValueError("malformed secret")
        return value

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_admin_ids(cls, value: Any) -> Any:
        return _split_commas(value)

    @field_validator("feeds", mode="before")
    @classmethod
    def _check_feeds(cls, value: Any) -> Any:
        urls = _split_commas(value)
        if isinstance(urls, list | tuple):
            for url in urls:
                parts = urlsplit(str(url))
                if parts.scheme not in {"http", "https"} or not parts.netloc:
                    raise ValueError(f"{url!r} is not an http(s) URL")
        return urls

    @field_validator("allow_private_networks", mode="before")
    @classmethod
    def _parse_networks(cls, value: Any) -> Any:
        parts = _split_commas(value)
        if isinstance(parts, list):
            # Host bits are forgiven (10.1.2.3/8 is 10.0.0.0/8): the range is what matters.
            return tuple(ipaddress.ip_network(part, strict=False) for part in parts)
        return parts

    @field_validator("digest_time", mode="before")
    @classmethod
    def _parse_digest_time(cls, value: Any) -> Any:
        return parse_clock_time(value) if isinstance(value, str) else value

    @field_validator("timezone", mode="before")
    @classmethod
    def _parse_timezone(cls, value: Any) -> Any:
        return parse_timezone(value) if isinstance(value, str) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _webhook_needs_the_server(self) -> Settings:
        for variable, value in (
            ("HERALD_WEBHOOK_URL", self.webhook_url),
            ("HERALD_PUBLIC_URL", self.public_url),
        ):
            if value and self.listen == LISTEN_OFF:
                raise ValueError(
                    f"{variable} needs the HTTP server: set HERALD_LISTEN to host:port "
                    "(the address your reverse proxy forwards to)"
                )
        return self

    @property
    def token(self) -> str | None:
        return self.telegram_token.get_secret_value() if self.telegram_token else None

    @property
    def listen_address(self) -> tuple[str, int] | None:
        """Where the HTTP server listens, as (host, port); None when it is off."""
        return None if self.listen == LISTEN_OFF else parse_listen(self.listen)

    @property
    def websub_base(self) -> str:
        """The base URL WebSub callbacks are built on: ``public_url``, else the webhook
        URL's origin; empty when neither is set (no WebSub subscriptions then)."""
        if self.public_url:
            return self.public_url.rstrip("/")
        if self.webhook_url:
            parts = urlsplit(self.webhook_url)
            return f"{parts.scheme}://{parts.netloc}"
        return ""


def parse_listen(text: str) -> tuple[str, int]:
    """``"127.0.0.1:8080"``, ``"localhost:80"`` or ``"[::1]:0"`` → (host, port): a host
    name or IPv4 address, or an IPv6 address in brackets (RFC 3986 §3.2.2), then ASCII
    digits for a port from 0 to 65535; raises ValueError otherwise."""
    match = _LISTEN_SHAPE.fullmatch(text)
    if match is None or int(match["port"]) > 65_535:
        raise ValueError(f"{text!r} is not host:port")
    host = match["name"]
    if host is None:
        host = match["v6"]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError(f"{text!r} is not host:port") from None
    return host, int(match["port"])


def load_settings(*, isolated: bool = False, **overrides: Any) -> Settings:
    """Read and validate the settings, or raise SettingsError with one line for the operator.

    ``isolated`` (the demo, which makes its own world): only ``HERALD_LOG_LEVEL`` is read
    from the environment, so an operator's settings can't break or leak into it.
    """
    try:
        if not isolated:
            return Settings(**overrides)
        level = os.environ.get("HERALD_LOG_LEVEL", "").strip()
        if level:
            overrides["log_level"] = level.upper()
        return Settings(_env_prefix="HERALD_NOT_FOR_THE_DEMO_", _env_file=None, **overrides)
    except ValidationError as error:
        raise SettingsError(describe_errors(error)) from None


def describe_errors(error: ValidationError) -> str:
    problems: list[str] = []
    for detail in error.errors():
        field = str(detail["loc"][0]) if detail["loc"] else ""
        if not field:
            # A rule across settings: its message names them.
            problems.append(str(detail["msg"]).removeprefix("Value error, "))
            continue
        variable = f"HERALD_{field.upper()}"
        expected = _EXPECTED.get(field, detail["msg"])
        shown = detail.get("input")
        if field in {"telegram_token", "webhook_secret"} or (
            field == "database" and "://" in str(shown)
        ):
            # A token, a secret, or a URL that may carry a password: never echoed.
            problems.append(f"{variable} is not valid: expected {expected}")
            continue
        refused = (detail.get("ctx") or {}).get("error")
        given = f" (got {shown!r})" if isinstance(shown, str | int | float) else ""
        if isinstance(refused, _Refused):
            given = given if refused.echo else ""
            expected = f"{expected}, with {refused}"
        problems.append(f"{variable} is not valid{given}: expected {expected}")
    return "; ".join(dict.fromkeys(problems))
