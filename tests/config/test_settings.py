"""Settings from the environment and .env, and the one-line refusals of bad values."""

import datetime as dt
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from config import SettingsError, configure_logging, load_settings
from config.settings import DEFAULT_FEED

TOKEN = "123456789:AAHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No HERALD_* variable or .env file of the developer's leaks into a test."""
    import os

    for name in list(os.environ):
        if name.startswith("HERALD_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_defaults_match_the_documented_contract() -> None:
    settings = load_settings()

    assert settings.token is None
    assert settings.telegram_api_url == "https://api.telegram.org"
    assert settings.admin_ids == frozenset()
    assert settings.feeds == (DEFAULT_FEED,)
    assert settings.database == Path("herald.db")
    assert settings.poll_interval == 120
    assert settings.send_rate == 30
    assert settings.digest_time == dt.time(8, 0)
    assert settings.timezone == "UTC"
    assert settings.log_level == "INFO"
    assert settings.allow_private_networks == ()
    assert settings.poll_concurrency == 64
    assert settings.cluster_window_hours == 48
    assert settings.listen_address == ("127.0.0.1", 8080)
    assert settings.webhook_url == ""
    assert settings.webhook_secret is None
    assert settings.websub_base == ""


def test_every_variable_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERALD_TELEGRAM_TOKEN", TOKEN)
    monkeypatch.setenv("HERALD_TELEGRAM_API_URL", "http://127.0.0.1:8081/")
    monkeypatch.setenv("HERALD_ADMIN_IDS", "12345, 67890")
    monkeypatch.setenv("HERALD_FEEDS", "https://a.example/rss, http://b.example/atom.xml")
    monkeypatch.setenv("HERALD_DATABASE", "/data/herald.db")
    monkeypatch.setenv("HERALD_POLL_INTERVAL", "1.5")
    monkeypatch.setenv("HERALD_SEND_RATE", "100")
    monkeypatch.setenv("HERALD_DIGEST_TIME", "7:05")
    monkeypatch.setenv("HERALD_TIMEZONE", "Asia/Kathmandu")
    monkeypatch.setenv("HERALD_LOG_LEVEL", "debug")
    monkeypatch.setenv("HERALD_CLUSTER_WINDOW_HOURS", "12")

    settings = load_settings()

    assert settings.token == TOKEN
    assert settings.telegram_api_url == "http://127.0.0.1:8081"
    assert settings.admin_ids == frozenset({12345, 67890})
    assert settings.feeds == ("https://a.example/rss", "http://b.example/atom.xml")
    assert settings.database == Path("/data/herald.db")
    assert settings.poll_interval == 1.5
    assert settings.send_rate == 100
    assert settings.digest_time == dt.time(7, 5)
    assert settings.timezone == "Asia/Kathmandu"
    assert settings.log_level == "DEBUG"
    assert settings.cluster_window_hours == 12


def test_a_dotenv_file_in_the_working_directory_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("HERALD_SEND_RATE=12\nHERALD_ADMIN_IDS=42\n")

    settings = load_settings()

    assert settings.send_rate == 12
    assert settings.admin_ids == frozenset({42})


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("HERALD_SEND_RATE", "fast", "messages per second"),
        ("HERALD_SEND_RATE", "0", "messages per second"),
        ("HERALD_TIMEZONE", "Mars/Base", "IANA time zone"),
        ("HERALD_ADMIN_IDS", "abc", "numeric Telegram user ids"),
        ("HERALD_ADMIN_IDS", "12,abc", "numeric Telegram user ids"),
        ("HERALD_FEEDS", "ftp://example.com/feed", "http(s) feed URLs"),
        ("HERALD_FEEDS", "https://ok.example/rss,not a url", "http(s) feed URLs"),
        ("HERALD_POLL_INTERVAL", "0.5", "from 1 to 86400"),
        ("HERALD_DIGEST_TIME", "25:99", "HH:MM"),
        ("HERALD_DIGEST_TIME", "noon", "HH:MM"),
        ("HERALD_LOG_LEVEL", "LOUD", "DEBUG, INFO"),
        ("HERALD_TELEGRAM_API_URL", "api.telegram.org", "http(s) URL"),
        ("HERALD_ALLOW_PRIVATE_NETWORKS", "10.0.0.0/33", "CIDR ranges"),
        ("HERALD_ALLOW_PRIVATE_NETWORKS", "intranet", "CIDR ranges"),
        ("HERALD_POLL_CONCURRENCY", "0", "whole number of polls"),
        ("HERALD_CLUSTER_WINDOW_HOURS", "0", "whole number of hours from 1 to 168"),
        ("HERALD_CLUSTER_WINDOW_HOURS", "two days", "whole number of hours from 1 to 168"),
        ("HERALD_CLUSTER_WINDOW_HOURS", "1000", "whole number of hours from 1 to 168"),
        ("HERALD_LISTEN", "8080", "host:port"),
        ("HERALD_LISTEN", "localhost:http", "host:port"),
        ("HERALD_LISTEN", "127.0.0.1:65536", "host:port"),
        ("HERALD_WEBHOOK_URL", "bot.example/telegram", "https URL Telegram posts"),
        ("HERALD_PUBLIC_URL", "ftp://bot.example", "base URL a WebSub hub"),
    ],
)
def test_a_bad_value_names_the_variable_and_what_it_expects(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)

    with pytest.raises(SettingsError) as raised:
        load_settings()

    message = str(raised.value)
    assert message.startswith(f"{variable} is not valid")
    assert expected in message
    assert "\n" not in message


def test_a_malformed_token_is_refused_without_echoing_it(monkeypatch: pytest.MonkeyPatch) -> None:
    almost_a_token = "123456789 AAHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0"
    monkeypatch.setenv("HERALD_TELEGRAM_TOKEN", almost_a_token)

    with pytest.raises(SettingsError) as raised:
        load_settings()

    assert "HERALD_TELEGRAM_TOKEN" in str(raised.value)
    assert "AAHfiqksKZ8WmR2zSjiQ7" not in str(raised.value)


def test_the_token_never_shows_in_the_settings_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERALD_TELEGRAM_TOKEN", TOKEN)

    settings = load_settings()

    assert TOKEN not in repr(settings)
    assert TOKEN not in str(settings)
    assert TOKEN not in settings.model_dump_json()


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.usefixtures("restore_logging")
def test_log_lines_never_contain_the_token(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", secrets=[TOKEN])
    logger = logging.getLogger("test.redaction")

    logger.info("GET https://api.telegram.org/bot%s/getMe", TOKEN)
    try:
        raise RuntimeError(f"The token `{TOKEN}` was rejected by the server.")
    except RuntimeError:
        logger.exception("start-up failed")

    err = capsys.readouterr().err
    assert "getMe" in err
    assert "was rejected" in err
    assert TOKEN not in err
    assert "AAHfiqksKZ8WmR2zSjiQ7" not in err


def test_private_networks_are_read_as_cidr_ranges(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERALD_ALLOW_PRIVATE_NETWORKS", "10.0.0.0/8, 127.0.0.1, fd00::/8")
    monkeypatch.setenv("HERALD_POLL_CONCURRENCY", "200")

    settings = load_settings()

    assert [str(net) for net in settings.allow_private_networks] == [
        "10.0.0.0/8",
        "127.0.0.1/32",
        "fd00::/8",
    ]
    assert settings.poll_concurrency == 200


def test_a_postgresql_url_is_kept_whole_and_any_other_value_is_a_sqlite_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = "postgresql://herald:secret@db.internal:5432/herald"
    monkeypatch.setenv("HERALD_DATABASE", url)
    monkeypatch.setenv("HERALD_DATABASE_POOL_SIZE", "12")

    settings = load_settings()

    assert settings.database == url
    assert settings.database_pool_size == 12
    monkeypatch.setenv("HERALD_DATABASE", "data/herald.db")
    assert load_settings().database == Path("data/herald.db")


def test_a_database_url_of_another_kind_is_refused_without_echoing_its_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HERALD_DATABASE", "mysql://herald:hunter2@db.internal/herald")

    with pytest.raises(SettingsError) as error:
        load_settings()

    assert "HERALD_DATABASE" in str(error.value)
    assert "postgresql://" in str(error.value)
    assert "hunter2" not in str(error.value)


@pytest.mark.parametrize(
    ("listen", "address"),
    [
        ("0.0.0.0:8080", ("0.0.0.0", 8080)),
        ("127.0.0.1:0", ("127.0.0.1", 0)),
        ("[::1]:9100", ("::1", 9100)),
        (" Off ", None),
    ],
)
def test_listen_takes_host_port_or_off(
    monkeypatch: pytest.MonkeyPatch, listen: str, address: tuple[str, int] | None
) -> None:
    monkeypatch.setenv("HERALD_LISTEN", listen)

    assert load_settings().listen_address == address


def test_a_malformed_webhook_secret_is_refused_without_echoing_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HERALD_WEBHOOK_SECRET", "s3cret:with:colons")

    with pytest.raises(SettingsError) as raised:
        load_settings()

    assert str(raised.value) == (
        "HERALD_WEBHOOK_SECRET is not valid: expected 1 to 256 characters of A-Z, a-z, 0-9, "
        "_ and -"
    )


@pytest.mark.parametrize("variable", ["HERALD_WEBHOOK_URL", "HERALD_PUBLIC_URL"])
def test_webhook_or_websub_without_the_http_server_is_refused_in_one_line(
    monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv(variable, "https://bot.example/telegram")
    monkeypatch.setenv("HERALD_LISTEN", "off")

    with pytest.raises(SettingsError) as raised:
        load_settings()

    assert str(raised.value).startswith(f"{variable} needs the HTTP server")
    assert "\n" not in str(raised.value)


def test_websub_callbacks_default_to_the_webhook_urls_origin(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HERALD_WEBHOOK_URL", "https://bot.example:8443/telegram")

    assert load_settings().websub_base == "https://bot.example:8443"

    monkeypatch.setenv("HERALD_PUBLIC_URL", "https://hub-facing.example/herald/")

    assert load_settings().websub_base == "https://hub-facing.example/herald"


@pytest.mark.parametrize(
    "listen",
    [
        "http://127.0.0.1:8080",
        "[::1:8080",
        "1.2.3.4]:80",
        "::1:8080",
        "127.0.0.1:\u0668\u0660\u0668\u0660",
        "127.0.0.1:99999",
        "[]:80",
        "[not-v6]:80",
        "bot example:80",
        "8080",
    ],
)
def test_a_listen_address_that_is_not_host_port_is_refused_in_one_line(
    monkeypatch: pytest.MonkeyPatch, listen: str
) -> None:
    monkeypatch.setenv("HERALD_LISTEN", listen)

    with pytest.raises(SettingsError) as raised:
        load_settings()

    assert str(raised.value).startswith("HERALD_LISTEN is not valid")
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://bot.example:99999/telegram", "a port from 1 to 65535"),
        ("https://user:pass@bot.example/telegram", "no user name or password"),
        ("https://bot.example/healthz", "a path Herald's server doesn't use itself"),
        ("https://bot.example/metrics", "a path Herald's server doesn't use itself"),
        ("https://bot.example/websub/abc", "a path Herald's server doesn't use itself"),
        ("https://bot.example/a/../telegram", "a path without . or .. segments"),
    ],
)
def test_a_webhook_url_herald_cannot_serve_is_refused_in_one_line(
    monkeypatch: pytest.MonkeyPatch, url: str, why: str
) -> None:
    monkeypatch.setenv("HERALD_WEBHOOK_URL", url)

    with pytest.raises(SettingsError) as raised:
        load_settings()

    assert str(raised.value).startswith("HERALD_WEBHOOK_URL is not valid")
    assert why in str(raised.value)
    assert "user:pass@" not in str(raised.value)


def test_a_public_url_with_credentials_is_refused_without_echoing_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HERALD_PUBLIC_URL", "https://user:hunter2@bot.example")

    with pytest.raises(SettingsError) as raised:
        load_settings()

    assert str(raised.value).startswith("HERALD_PUBLIC_URL is not valid")
    assert "hunter2" not in str(raised.value)
