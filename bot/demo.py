"""`herald demo`: the real bot against the sandbox Bot API and a sample feed, from a terminal."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import ipaddress
import json
import os
import signal
import socket
import stat
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path
from typing import TextIO

from bot.app import build_application, run_application
from bot.sandbox.emulator import BotApiEmulator, CallbackAnswer, Chat, SentMessage, User
from bot.sandbox.errors import SandboxError
from bot.sandbox.feedserver import FeedItem, FeedServer, render_rss
from bot.sandbox.websubhub import WebSubHub
from config import configure_logging, load_settings

FEED_PATH = "/world.xml"
FEED_TITLE = "Herald Sample Wire"
BASELINE = 12  # sample stories already in the feed when the demo starts
NEW_STORY_EVERY = 4.0  # seconds
REPLY_TIMEOUT = 10.0  # how long a script waits for the bot to answer a line
WAIT_TIMEOUT = 60.0  # how long `#wait <text>` waits
# A scripted line's answer is complete once the bot has been quiet this long (a reply may
# come as a message and then an edit), so the next line's answers stay under it.
QUIET_FOR = 0.8
LINGER = 8.0  # seconds a scripted demo goes on after its last line, so pushes arrive

INTRO = f"""\
Herald demo: you are chatting with the real bot. Telegram is a loopback stand-in and the
news comes from a built-in sample feed that publishes a new story every few seconds
(sample text, not real news) and pushes it to the bot through a loopback WebSub hub, so
an alert arrives within a second of publication. You are an admin. Try:
  /topic Putin   (then wait a few seconds: alerts arrive as stories do)
  /topic sanctions -Iran   /latest   /search tariffs   /digest now
  /broadcast Hello everyone   /stats   /help
Type a number to press one of the buttons shown under the last message.
A script (--script FILE, or piped input) is one line per message; `#wait <text>` waits
until a message with that text arrives.
Ctrl-D or Ctrl-C quits and removes everything the demo created.
{"-" * 78}"""


def sample_news() -> list[dict[str, str]]:
    text = resources.files("bot.sandbox").joinpath("data/sample_news.json").read_text("utf-8")
    items: list[dict[str, str]] = json.loads(text)
    return items


class SampleWire:
    """The sample feed: a baseline at start, then one new story at a time, round and round,
    each pushed by ``hub`` the moment it is published (the feed names the hub)."""

    def __init__(self, server: FeedServer, hub: WebSubHub) -> None:
        self._server = server
        self._hub = hub
        self._stories = sample_news()
        self._items: list[FeedItem] = []
        self._published = 0

    @property
    def url(self) -> str:
        return self._server.url(FEED_PATH)

    def start(self) -> None:
        now = dt.datetime.now(dt.UTC)
        for n in range(BASELINE):
            self._items.append(self._item(n, now - dt.timedelta(minutes=20 * (BASELINE - n))))
        self._publish()

    async def next_story(self) -> None:
        self._items.append(self._item(self._published, dt.datetime.now(dt.UTC)))
        # Feeds list their newest entries; fifty is plenty.
        self._items = self._items[-50:]
        await self._hub.publish(self.url, self._publish())

    async def run(self, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            await self.next_story()

    def _item(self, number: int, published: dt.datetime) -> FeedItem:
        self._published = number + 1
        if number < len(self._stories):
            title, summary = self._stories[number]["title"], self._stories[number]["summary"]
        else:
            title, summary = fresh_story(number - len(self._stories))
        return FeedItem(
            title=title,
            link=f"https://sample.herald.invalid/story/{number}",
            summary=summary,
            published=published,
        )

    def _publish(self) -> bytes:
        """Serve the feed as it now stands; its document, for the hub to push."""
        document = render_rss(
            list(reversed(self._items)), title=FEED_TITLE, link=self._server.url("/")
        )
        self._server.publish(
            FEED_PATH, document, headers={"Link": self._hub.link_header(self.url)}
        )
        return document


_WHO = ("Putin", "Xi Jinping", "Kim Jong Un", "Zelensky", "Erdogan", "Modi", "Lula")
_WHERE = ("Geneva", "Beijing", "Pyongyang", "Kyiv", "Ankara", "Delhi", "Brasilia", "Vienna")
_WHAT = ("sanctions", "tariffs", "grain exports", "energy prices", "a ceasefire", "trade")
_HOW = (
    "{who} arrives in {where} for talks on {what}",
    "{who} says {what} will top the agenda in {where}",
    "Envoys in {where} report progress on {what} after {who} calls",
    "{who} rejects a proposal on {what} tabled in {where}",
)


def fresh_story(number: int) -> tuple[str, str]:
    """Story ``number`` after the sample list runs out: new words each time, never a rerun."""
    # Every combination once, in a shuffled order (389 is prime to their count), so
    # neighbouring stories differ in more than one word.
    combinations = len(_WHO) * len(_WHERE) * len(_WHAT) * len(_HOW)
    rest, round_ = (number * 389) % combinations, number // combinations
    rest, who_index = divmod(rest, len(_WHO))
    rest, where_index = divmod(rest, len(_WHERE))
    how, what_index = divmod(rest, len(_WHAT))
    who, where, what = _WHO[who_index], _WHERE[where_index], _WHAT[what_index]
    title = _HOW[how].format(who=who, where=where, what=what)
    if round_:
        title += f" (round {round_ + 1})"
    summary = (
        f"Officials in {where} said discussions on {what} would continue, "
        f"with a statement from {who}'s office expected later (sample text, story {number})."
    )
    return title[0].upper() + title[1:], summary


@dataclasses.dataclass
class Terminal:
    """Prints what the bot sends to one chat, and numbers the buttons of the last message."""

    out: TextIO
    chat_id: int
    color: bool
    choices: dict[int, tuple[int, str]] = dataclasses.field(default_factory=dict)
    seen: int = 0  # messages and edits shown, so a script can wait for the next one
    last_shown: float = 0.0  # time.monotonic() of the last one
    at_prompt: bool = False  # a person is typing after "you ›": redraw it after a message

    def prompt(self) -> None:
        self.out.write("you › ")
        self.out.flush()
        self.at_prompt = True

    def show(self, message: SentMessage) -> None:
        if message.chat_id != self.chat_id or message.deleted:
            return
        edited = " (updated)" if message.edit_count else ""
        self.out.write(f"\nherald{edited} ›\n{self.render(message)}\n")
        buttons = [button for row in message.buttons for button in row]
        if buttons:
            self.choices = {
                number: (message.message_id, button.callback_data or "")
                for number, button in enumerate(buttons, start=1)
                if button.callback_data
            }
            labels = "   ".join(
                f"[{number}] {button.text}" for number, button in enumerate(buttons, start=1)
            )
            self.out.write(f"  {labels}\n")
        self._done()

    def notice(self, answer: CallbackAnswer) -> None:
        """The pop-up or toast a button press showed."""
        if answer.text:
            kind = "alert" if answer.show_alert else "notice"
            self.out.write(f"\n  ({kind}) {answer.text}\n")
            self._done()

    def _done(self) -> None:
        self.seen += 1
        self.last_shown = time.monotonic()
        if self.at_prompt:
            self.out.write("you › ")
        self.out.flush()

    def render(self, message: SentMessage) -> str:
        """Bold as bold (on a colour terminal), links with their address after them."""
        text, units = message.text, _utf16_index(message.text)
        inserts: list[tuple[int, int, str]] = []  # (position, order, text)
        for entity in message.entities:
            start, end = units[entity.offset], units[entity.offset + entity.length]
            if entity.type == "text_link" and entity.url:
                inserts.append((end, 0, f" <{entity.url}>"))
            elif entity.type in _STYLES and self.color:
                inserts.append((start, 1, _STYLES[entity.type]))
                inserts.append((end, -1, "\033[0m"))
        for position, _, piece in sorted(inserts, key=lambda item: (-item[0], item[1])):
            text = text[:position] + piece + text[position:]
        return "  " + text.replace("\n", "\n  ")


_STYLES = {"bold": "\033[1m", "italic": "\033[3m", "underline": "\033[4m", "code": "\033[2m"}


def _utf16_index(text: str) -> list[int]:
    """For each UTF-16 offset into ``text``, the index of the same place in the str."""
    index = []
    for position, character in enumerate(text):
        index.extend([position] * (2 if ord(character) > 0xFFFF else 1))
    index.append(len(text))
    return index


async def _lines(source: TextIO) -> AsyncIterator[str]:
    """Lines typed or piped in, read without blocking the bot."""
    loop = asyncio.get_running_loop()
    if not _watchable(source):
        # A regular file or a device such as /dev/null (a script, `< /dev/null`, a container
        # without -i) can't be watched by the event loop, and needs no waiting.
        for line in source:
            yield line.rstrip("\n")
        return
    reader = asyncio.StreamReader()
    transport, _ = await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), source
    )
    try:
        while line_bytes := await reader.readline():
            yield line_bytes.decode("utf-8", errors="replace").rstrip("\n")
    finally:
        transport.close()
        # The loop made the descriptor non-blocking; the shell that gets it back expects
        # it blocking.
        with contextlib.suppress(OSError, ValueError):  # ValueError: the pipe is closed
            os.set_blocking(source.fileno(), True)


def _watchable(source: TextIO) -> bool:
    """Whether the event loop can wait on ``source``: a terminal, a pipe or a socket."""
    try:
        mode = os.fstat(source.fileno()).st_mode
    except (OSError, ValueError):
        return False
    return source.isatty() or stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


class Demo:
    def __init__(self, emulator: BotApiEmulator, you: User, chat: Chat, terminal: Terminal):
        self.emulator = emulator
        self.you = you
        self.chat = chat
        self.terminal = terminal

    async def say(self, line: str, *, wait: bool) -> None:
        """One line from the person: a command or message, a button number, or a directive."""
        seen = self.terminal.seen
        if line.startswith("#wait "):
            await self._wait_for(line.removeprefix("#wait ").strip())
            return
        if line.isdigit():
            choice = self.terminal.choices.get(int(line))
            if choice is None:
                self.terminal.out.write("  (no button with that number)\n")
                return
            try:
                await self.emulator.press_button(self.chat, choice[0], self.you, choice[1])
            except SandboxError:
                # Its message changed or went away since it was shown.
                self.terminal.out.write("  (that button is gone)\n")
                return
        else:
            # A question the bot asked with ForceReply: the client sends the line as its reply.
            sent = self.emulator.messages(self.chat)
            asked = sent[-1] if sent and sent[-1].force_reply else None
            await self.emulator.user_says(
                self.chat,
                self.you,
                line,
                reply_to_message_id=asked.message_id
                if asked is not None and not line.startswith("/")
                else None,
            )
        if wait:
            await self._answered(seen)

    async def _answered(self, seen: int) -> None:
        """Until the bot has answered and then been quiet a moment, or REPLY_TIMEOUT."""
        deadline = time.monotonic() + REPLY_TIMEOUT
        while time.monotonic() < deadline:
            quiet = time.monotonic() - self.terminal.last_shown >= QUIET_FOR
            if self.terminal.seen > seen and quiet:
                return
            await asyncio.sleep(0.05)

    async def _wait_for(self, text: str) -> None:
        def arrived() -> bool:
            return any(text in message.text for message in self.emulator.messages(self.chat))

        try:
            await self.emulator.wait_until(arrived, timeout=WAIT_TIMEOUT)
        except TimeoutError:
            self.terminal.out.write(f"  (nothing with “{text}” arrived in {WAIT_TIMEOUT:.0f} s)\n")


async def run_demo(
    source: TextIO,
    *,
    scripted: bool,
    out: TextIO = sys.stdout,
    every: float = NEW_STORY_EVERY,
    linger: float = LINGER,
) -> int:
    """Run the demo until the input ends or Ctrl-C; everything it made is removed."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    with tempfile.TemporaryDirectory(prefix="herald-demo-") as folder:
        async with BotApiEmulator() as emulator, FeedServer() as feeds, WebSubHub() as hub:
            wire = SampleWire(feeds, hub)
            wire.start()
            # The hub must reach the bot's callbacks, so the port is chosen before it starts.
            port = _free_port()
            you = emulator.add_user("You", username="you")
            chat = emulator.private_chat(you)
            settings = load_settings(
                isolated=True,
                telegram_token=emulator.token,
                telegram_api_url=emulator.api_root,
                feeds=(wire.url,),
                # The sample feed is served on loopback, which feeds may not use otherwise.
                allow_private_networks=(ipaddress.ip_network("127.0.0.1/32"),),
                database=Path(folder) / "herald.db",
                poll_interval=1.0,
                # A free port, so a demo never collides with a bot running on 8080.
                listen=f"127.0.0.1:{port}",
                public_url=f"http://127.0.0.1:{port}",
                admin_ids=frozenset({you.id}),
                log_level="WARNING",
            )
            configure_logging(settings.log_level, secrets=[emulator.token])
            bot = asyncio.create_task(run_application(build_application(settings), stop=stop))
            await _until_ready(emulator, bot)
            await _other_readers(emulator)
            # Subscribed right after its first poll; if the hub were slow, polling (every
            # second until then) still brings the news.
            with contextlib.suppress(TimeoutError):
                await hub.wait_until(lambda: hub.live(wire.url), timeout=REPLY_TIMEOUT)
            terminal = Terminal(out, chat.id, color=not scripted and out.isatty())
            unsubscribe = emulator.on_message(terminal.show)
            no_notices = emulator.on_callback_answer(terminal.notice)
            out.write(INTRO + "\n")
            out.flush()
            publishing = asyncio.create_task(wire.run(every))
            demo = Demo(emulator, you, chat, terminal)
            reading = asyncio.create_task(
                _converse(demo, source, scripted=scripted, out=out, linger=linger)
            )
            stopped = asyncio.create_task(stop.wait())
            await asyncio.wait({reading, stopped, bot}, return_when=asyncio.FIRST_COMPLETED)
            stop.set()
            for task in (reading, publishing, stopped):
                task.cancel()
            await asyncio.gather(reading, publishing, stopped, return_exceptions=True)
            unsubscribe()
            no_notices()
            await bot
    out.write("\nDemo over; everything it created is gone.\n")
    return 0


async def _converse(
    demo: Demo, source: TextIO, *, scripted: bool, out: TextIO, linger: float
) -> None:
    terminal = demo.terminal
    if not scripted:
        terminal.prompt()
    async for raw in _lines(source):
        line = raw.strip()
        if not line:
            if not scripted:
                terminal.prompt()
            continue
        terminal.at_prompt = False
        if scripted:
            out.write(f"\nyou › {line}\n")
        # At a terminal too: the answer shows before the next prompt, never under it.
        await demo.say(line, wait=True)
        if not scripted:
            terminal.prompt()
    if scripted and linger > 0:
        # What the script set in motion (alerts, a broadcast) still arrives.
        await asyncio.sleep(linger)


async def _until_ready(emulator: BotApiEmulator, bot: asyncio.Task[None]) -> None:
    ready = asyncio.ensure_future(emulator.wait_until(lambda: emulator.long_polling, timeout=30.0))
    await asyncio.wait({ready, bot}, return_when=asyncio.FIRST_COMPLETED)
    if bot.done():
        ready.cancel()
        bot.result()  # the start-up error, if any
        raise RuntimeError("the bot stopped during start-up")
    ready.result()


async def _other_readers(emulator: BotApiEmulator) -> None:
    """Two more subscribers, so broadcasts and /stats have an audience; then wait until the
    bot has read the sample feed once, so the person starts with a filled archive."""
    readers = [emulator.add_user(name) for name in ("Ben", "Chloe")]
    chats = [emulator.private_chat(reader) for reader in readers]
    for reader, chat, topic in zip(readers, chats, ("sanctions", "tariffs OR trade"), strict=True):
        for text in ("/start", f"/topic {topic}"):
            await emulator.user_says(chat, reader, text)
            await emulator.wait_for_message(chat, timeout=REPLY_TIMEOUT)
    reader, chat = readers[-1], chats[-1]
    for _ in range(int(REPLY_TIMEOUT)):
        await emulator.user_says(chat, reader, "/latest 1")
        answer = await emulator.wait_for_message(chat, timeout=REPLY_TIMEOUT)
        if FEED_TITLE in answer.text:
            return


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main(script: Path | None, *, linger: float = LINGER) -> int:
    """`herald demo [--script FILE] [--linger SECONDS]`; piped input is a script too."""
    if script is not None:
        with script.open(encoding="utf-8") as source:
            return asyncio.run(run_demo(source, scripted=True, linger=linger))
    return asyncio.run(run_demo(sys.stdin, scripted=not sys.stdin.isatty(), linger=linger))
