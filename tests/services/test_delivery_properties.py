"""Exactly once, as a property: random interleavings of everything that decides delivery."""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.storage.database import Database
from tests.conftest import NOW
from tests.services.conftest import StepClock
from tests.services.newsdesk import Crash, Newsdesk

CHATS = (1, 2, 3)
WORDS = ("Gaza", "Iran", "Putin")
FEEDS = ("https://a.example/rss", "https://b.example/rss")

chat = st.sampled_from(CHATS)
operation = st.one_of(
    st.tuples(st.just("follow"), chat, st.sampled_from(WORDS)),
    st.tuples(
        st.just("publish"), st.sampled_from(WORDS), st.sampled_from(FEEDS), st.integers(0, 5)
    ),
    st.tuples(st.just("mute"), chat),
    st.tuples(st.just("unmute"), chat),
    st.tuples(st.just("quiet"), chat),
    st.tuples(st.just("quiet_off"), chat),
    st.tuples(st.just("breaking"), st.integers(0, 5)),
    st.tuples(st.just("deliver")),
    st.tuples(st.just("crash")),
    st.tuples(st.just("tick"), st.integers(1, 90)),
)


class Scenario:
    """Runs operations against a Newsdesk and keeps the model of what each chat must get."""

    def __init__(self, desk: Newsdesk, clock: StepClock) -> None:
        self.desk = desk
        self.clock = clock
        self.follows: dict[int, dict[str, dt.datetime]] = {chat: {} for chat in CHATS}
        self.expected: set[tuple[int, str]] = set()
        self.stories: dict[str, int] = {}  # link → the newest entry carrying it
        # Links a feed listed for two entries (under new keys): each entry is a story of
        # its own (a front page), so the chat may be shown that link once for each.
        self.shared: set[str] = set()
        self._listed: set[tuple[str, str]] = set()  # (feed, link)
        self.crashed: set[tuple[int, str]] = set()
        self.published = 0

    async def start(self) -> None:
        for feed in FEEDS:
            await self.desk.publish(baseline=True, feed_url=feed)
        for chat_id in CHATS:
            await self.desk.chat(chat_id)

    async def run(self, step: tuple[Any, ...]) -> None:
        desk, name = self.desk, step[0]
        self.clock.advance(seconds=1)
        if name == "follow":
            chat_id, word = int(step[1]), str(step[2])
            if word not in self.follows[chat_id]:
                await desk.topics.add(chat_id, word)
                self.follows[chat_id][word] = self.clock()
        elif name == "publish":
            word, feed, story = str(step[1]), str(step[2]), int(step[3])
            self.published += 1
            link = f"https://wire.example/{word}/{story}"
            if (feed, link) in self._listed:
                self.shared.add(link)
            self._listed.add((feed, link))
            [entry] = await desk.publish(
                f"{word} report {self.published}", feed_url=feed, link=link
            )
            self.stories[link] = entry
            for chat_id, words in self.follows.items():
                if word in words and words[word] <= self.clock():
                    self.expected.add((chat_id, link))
            await desk.router.route_pending()
        elif name in {"mute", "unmute", "quiet", "quiet_off"}:
            chat = await desk.chats.get(int(step[1]))
            assert chat is not None
            if name == "mute":
                await desk.quiet.mute(chat, "2h")
            elif name == "unmute":
                await desk.quiet.unmute(chat)
            elif name == "quiet":
                local = self.clock() - dt.timedelta(minutes=30)
                until = self.clock() + dt.timedelta(hours=2)
                await desk.quiet.set_quiet_hours(chat, f"{local:%H:%M}-{until:%H:%M}")
            else:
                await desk.quiet.quiet_off(chat)
        elif name == "breaking":
            found = next((link for link in self.stories if link.endswith(f"/{step[1]}")), None)
            if found is not None:
                await desk.broadcasts.breaking(str(self.stories[found]))
                self.expected.update((chat_id, found) for chat_id in CHATS)
        elif name == "deliver":
            await desk.deliver()
        elif name == "crash":
            await self.crash()
        elif name == "tick":
            self.clock.advance(minutes=int(step[1]))
            await desk.minute_job()

    async def crash(self) -> None:
        """The next message reaches Telegram, then the process dies before recording it."""
        crashed = False

        def die_once(chat_id: int, text: str) -> BaseException | None:
            nonlocal crashed
            if crashed:
                return None
            crashed = True
            for link in self.stories:
                if f'href="{link}"' in text:
                    self.crashed.add((chat_id, link))
            return Crash()

        self.desk.sender.answer = die_once
        await self.desk.deliver()
        self.desk.sender.answer = lambda chat_id, text: None
        self.desk.restart()

    async def finish(self) -> None:
        """Every hold ends, every message goes."""
        for chat_id in CHATS:
            chat = await self.desk.chats.get(chat_id)
            assert chat is not None
            await self.desk.quiet.quiet_off(chat)
            await self.desk.quiet.unmute(chat)
        await self.desk.minute_job()
        await self.desk.deliver()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(operation, min_size=1, max_size=30))
def test_every_selected_story_reaches_its_chat_once_whatever_the_interleaving(
    steps: list[tuple[Any, ...]],
) -> None:
    async def scenario() -> None:
        with tempfile.TemporaryDirectory() as folder:
            database = await Database.open(Path(folder) / "herald.db")
            try:
                clock = StepClock(NOW)
                desk = Newsdesk(database, clock)
                model = Scenario(desk, clock)
                await model.start()
                for step in steps:
                    await model.run(step)
                await model.finish()
                pending = await database.fetchall(
                    "SELECT chat_id, state FROM outbox WHERE state NOT IN"
                    " ('sent', 'cancelled', 'for_digest')"
                )
                waiting_for_digest = await database.fetchall(
                    "SELECT o.chat_id, e.link FROM outbox AS o JOIN entries AS e"
                    " ON e.id = o.entry_id WHERE o.state = 'for_digest'"
                )
            finally:
                await database.close()

        shown = collections.Counter(
            (chat_id, link) for chat_id in CHATS for link in desk.sender.links(chat_id)
        )
        in_digest = {(row[0], row[1]) for row in waiting_for_digest}
        assert [tuple(row) for row in pending] == []
        missing = {pair for pair in model.expected if pair not in shown} - in_digest
        assert missing == set()
        repeated = {
            pair for pair, count in shown.items() if count > 1 and pair[1] not in model.shared
        }
        assert repeated <= model.crashed
        assert all(shown[pair] <= 2 for pair in repeated)

    asyncio.run(scenario())
