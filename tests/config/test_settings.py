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
