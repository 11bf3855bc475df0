"""`herald demo`: a newcomer's first command, scripted and typed at a terminal."""

from __future__ import annotations

import asyncio
import os
import pty
import signal
import subprocess
import sys
import time
from pathlib import Path

from bot.demo import fresh_story, sample_news
from tests.e2e.harness import herald_environment

SCRIPT = """\
/start
/topic Putin
#wait Kremlin says Putin
/search tariffs
/latest 3
/broadcast Hello from the demo
1
#wait Broadcast #1: done
"""


async def test_a_scripted_demo_session_shows_herald_doing_its_job(tmp_path: Path) -> None:
    script = tmp_path / "session.txt"
    script.write_text(SCRIPT)
    scratch = tmp_path / "scratch"
    scratch.mkdir()

    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "demo",
        "--script",
        str(script),
        cwd=tmp_path,
        env=herald_environment(TMPDIR=str(scratch)),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    shown = output.decode()

    assert process.returncode == 0, shown
    assert "Herald demo: you are chatting with the real bot" in shown
    assert "Welcome to Herald!" in shown
    assert "This chat now follows Putin." in shown
    alert = shown.index("you › #wait Kremlin says Putin")
    assert "Kremlin says Putin will attend the regional summit <https://" in shown[alert:]
    assert "🏷 Putin" in shown[alert:]
    assert "🔎 tariffs" in shown
    assert "1. Tariffs on steel imports to rise next month" in shown
    assert "🗞 Latest" in shown
    assert "Broadcast #1, preview. It goes to 3 active chats." in shown
    assert "[1] 📣 Send to 3 chats   [2] Cancel" in shown
    assert "queued 0 · sent 3 · blocked 0 · failed 0" in shown
    assert "Demo over; everything it created is gone." in shown
    assert "Traceback" not in shown
    assert list(scratch.iterdir()) == []


def test_the_demo_at_a_terminal_answers_typing_and_quits_cleanly_on_ctrl_c(
    tmp_path: Path,
) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    terminal, attached = pty.openpty()
    started = time.monotonic()
    demo = subprocess.Popen(
        [sys.executable, "-m", "bot", "demo"],
        cwd=tmp_path,
        env=herald_environment(TMPDIR=str(scratch)),
        stdin=attached,
        stdout=attached,
        stderr=attached,
    )
    os.close(attached)
    screen = Screen(terminal)
    try:
        screen.wait_for("you › ", within=10)
        shown_after = time.monotonic() - started
        os.write(terminal, b"/help\n")
        screen.wait_for("Topic language", within=10)
        screen.wait_for("you › ", within=5, after="Topic language")
        demo.send_signal(signal.SIGINT)
        screen.wait_for("Demo over", within=15)
        code = demo.wait(timeout=15)
    finally:
        demo.kill()
        os.close(terminal)

    assert shown_after < 10
    assert code == 0
    assert list(scratch.iterdir()) == []


class Screen:
    """What a pseudo-terminal has shown so far."""

    def __init__(self, terminal: int) -> None:
        self.terminal = terminal
        self.text = ""

    def wait_for(self, text: str, *, within: float, after: str = "") -> None:
        """Until ``text`` is on the screen (after the last ``after``, if given)."""
        deadline = time.monotonic() + within
        while text not in self.text[self.text.rfind(after) if after else 0 :]:
            assert time.monotonic() < deadline, f"no {text!r} on the screen:\n{self.text}"
            ready = os.read(self.terminal, 65536) if _readable(self.terminal, deadline) else b""
            self.text += ready.decode(errors="replace")


def _readable(fd: int, deadline: float) -> bool:
    import select

    readable, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
    return bool(readable)


async def run_demo(
    tmp_path: Path, stdin: bytes | None, *args: str, **variables: str
) -> tuple[int, str]:
    """`herald demo` with ``stdin`` piped in (None: /dev/null); exit code and output."""
    scratch = tmp_path / "scratch"
    scratch.mkdir(exist_ok=True)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "demo",
        *args,
        cwd=tmp_path,
        env=herald_environment(TMPDIR=str(scratch), **variables),
        stdin=asyncio.subprocess.DEVNULL if stdin is None else asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(stdin), timeout=90)
    assert process.returncode is not None
    return process.returncode, output.decode()


async def test_the_demo_with_nothing_to_read_starts_lingers_and_ends_cleanly(
    tmp_path: Path,
) -> None:
    code, shown = await run_demo(tmp_path, None, "--linger", "1")

    assert code == 0, shown
    assert "Herald demo" in shown
    assert "Demo over" in shown
    assert "Traceback" not in shown
    assert "Error" not in shown


async def test_a_stale_button_is_answered_and_the_script_goes_on(tmp_path: Path) -> None:
    # Remove a topic and undo it; then mute, and press the mute button that is gone.
    script = b"/topic Gaza\n/topic\n3\n1\n/mute\n1\n1\n/help\n"

    code, shown = await run_demo(tmp_path, script, "--linger", "0")

    assert code == 0, shown
    assert "(notice) Removed" in shown
    assert "(notice) Back: “Gaza”" in shown
    assert "(that button is gone)" in shown
    assert "Topic language" in shown[shown.index("you › /help") :]
    assert "Traceback" not in shown


async def test_each_scripted_answer_stays_under_its_own_line(tmp_path: Path) -> None:
    script = b"/latest 3\n/broadcast Hello\n1\n/help\n"

    code, shown = await run_demo(tmp_path, script, "--linger", "0")

    assert code == 0, shown
    preview = shown.index("you › /broadcast Hello")
    press = shown.index("you › 1")
    help_asked = shown.index("you › /help")
    assert "🗞 Latest" in shown[shown.index("you › /latest 3") : preview]
    assert "Broadcast #1, preview" in shown[preview:press]
    assert "Broadcast #1" in shown[press:help_asked]
    assert "Topic language" in shown[help_asked:]


async def test_the_demo_reads_no_setting_but_the_log_level(tmp_path: Path) -> None:
    code, shown = await run_demo(
        tmp_path, b"/help\n", "--linger", "0", HERALD_FEEDS="notaurl", HERALD_SEND_RATE="fast"
    )

    assert code == 0, shown
    assert "Topic language" in shown


async def test_a_scripted_demo_shows_a_pushed_alert_for_the_suggested_topic(
    tmp_path: Path,
) -> None:
    code, shown = await run_demo(tmp_path, b"/topic Putin\n", "--linger", "45")

    assert code == 0, shown
    after = shown[shown.index("you › /topic Putin") :]
    assert "🏷 Putin" in after
    assert "Update 1:" not in shown


async def test_the_demo_feed_is_pushed_through_its_websub_hub(tmp_path: Path) -> None:
    code, shown = await run_demo(
        tmp_path,
        b"/topic Putin\n#wait Kremlin says Putin\n",
        "--linger",
        "0",
        HERALD_LOG_LEVEL="INFO",
    )

    assert code == 0, shown
    assert "Feed 1 is pushed by 127.0.0.1:" in shown
    assert "Feed 1 pushed: 1 new entries" in shown
    assert "Ignored a WebSub push" not in shown


def test_the_sample_feed_never_reruns_a_story() -> None:
    titles = [sample_news_title(number) for number in range(300)]

    assert len(set(titles)) == len(titles)
    assert not any(title.startswith("Update") for title in titles)


def sample_news_title(number: int) -> str:
    stories = sample_news()
    if number < len(stories):
        return stories[number]["title"]
    return fresh_story(number - len(stories))[0]


async def test_a_script_that_is_not_there_gets_one_line(tmp_path: Path) -> None:
    code, shown = await run_demo(tmp_path, None, "--script", str(tmp_path / "nothing.txt"))

    assert code == 2
    assert shown.strip().splitlines() == [
        f"herald: --script {tmp_path / 'nothing.txt'}: no such file"
    ]
