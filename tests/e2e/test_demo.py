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

    def wait_for(self, text: str, *, within: float) -> None:
        deadline = time.monotonic() + within
        while text not in self.text:
            assert time.monotonic() < deadline, f"no {text!r} on the screen:\n{self.text}"
            ready = os.read(self.terminal, 65536) if _readable(self.terminal, deadline) else b""
            self.text += ready.decode(errors="replace")


def _readable(fd: int, deadline: float) -> bool:
    import select

    readable, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
    return bool(readable)
