"""`herald run` refuses bad settings with one line and exit code 2, before touching Telegram."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

TOKEN = "123456789:AAHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0"


def herald(tmp_path: Path, *args: str, **variables: str) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("HERALD_")}
    env.update(variables)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("HERALD_SEND_RATE", "fast"),
        ("HERALD_TIMEZONE", "Mars/Base"),
        ("HERALD_ADMIN_IDS", "abc"),
        ("HERALD_FEEDS", "gopher://example.com/feed"),
        ("HERALD_ALLOW_PRIVATE_NETWORKS", "10.0.0.0/8,intranet"),
        ("HERALD_POLL_CONCURRENCY", "none"),
        ("HERALD_RETENTION_DAYS", "99999999999999999999"),
        ("HERALD_OUTBOX_RETENTION_DAYS", "1000000"),
        ("HERALD_POLL_INTERVAL", "99999999999999999999"),
    ],
)
def test_a_bad_setting_stops_start_up_with_one_line_and_exit_code_2(
    tmp_path: Path, variable: str, value: str
) -> None:
    result = herald(tmp_path, "run", HERALD_TELEGRAM_TOKEN=TOKEN, **{variable: value})

    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert variable in lines[0]
    assert "Traceback" not in result.stderr
    assert TOKEN not in result.stderr + result.stdout


def test_run_without_a_token_explains_how_to_get_one(tmp_path: Path) -> None:
    result = herald(tmp_path, "run")

    assert result.returncode == 2
    assert "@BotFather" in result.stderr
    assert "HERALD_TELEGRAM_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_dotenv_file_is_read_from_the_working_directory(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("HERALD_SEND_RATE=fast\n")

    result = herald(tmp_path, "run", HERALD_TELEGRAM_TOKEN=TOKEN)

    assert result.returncode == 2
    assert "HERALD_SEND_RATE" in result.stderr


def test_an_unknown_command_gets_usage(tmp_path: Path) -> None:
    result = herald(tmp_path, "fly")

    assert result.returncode == 2
    assert "usage: herald" in result.stderr


def test_run_help_lists_every_setting_with_its_default(tmp_path: Path) -> None:
    result = herald(tmp_path, "run", "--help")

    assert result.returncode == 0
    for variable, default in [
        ("HERALD_TELEGRAM_TOKEN", "(none)"),
        ("HERALD_POLL_INTERVAL", "120"),
        ("HERALD_DIGEST_TIME", "08:00"),
        ("HERALD_OUTBOX_RETENTION_DAYS", "7"),
    ]:
        [line] = [line for line in result.stdout.splitlines() if variable in line]
        assert line.split()[-1] == default
