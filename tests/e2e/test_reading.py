"""/latest and /search in a running bot, hostile input included."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.sandbox.emulator import BotApiEmulator, Chat, SentMessage, User
from tests.e2e.harness import ask, running_herald, seed_entries

ARCHIVE = [
    ("Putin meets Xi in Beijing", "The Kremlin said talks covered trade and energy."),
    ("Kim Jong Un visits Moscow", "North Korea's leader arrived by armoured train."),
    ("Grain corridor reopens", "Ships left Odesa with grain for the first time in weeks."),
    ("New sanctions on Russian banks", "The EU sanctioned twelve lenders on Monday."),
    ("Putin warns the West", "In a long speech Putin warned of consequences."),
    ("Zelénsky addresses parliament", "Ukraine's president asked for more air defence."),
    *(
        (f"Tariffs round {n}", f"Tariffs rose again in round {n} of the dispute.")
        for n in range(7)
    ),
]


@pytest.fixture
async def reader(emulator: BotApiEmulator, tmp_path: Path) -> tuple[Chat, User]:
    await seed_entries(tmp_path, ARCHIVE)
    user = emulator.add_user("Ada")
    return emulator.private_chat(user), user


async def test_latest_lists_the_newest_entries_and_more_pages_back(
    emulator: BotApiEmulator, tmp_path: Path, reader: tuple[Chat, User]
) -> None:
    chat, user = reader

    async with running_herald(emulator, tmp_path):
        latest = await ask(emulator, chat, user, "/latest")
        three = await ask(emulator, chat, user, "/latest 3 Putin")
        await emulator.press_button(chat, latest.message_id, user, "More ▼")
        more = await emulator.wait_for_message(chat)
        too_many = await ask(emulator, chat, user, "/latest 50")

    lines = latest.text.splitlines()
    assert lines[0] == "🗞 Latest"
    assert len(lines) == 6
    assert lines[1].startswith("• Tariffs round 6 · World Desk · ")
    assert lines[1].endswith("min ago") or lines[1].endswith("just now")
    assert latest.entities[1].type == "text_link"
    assert not latest.buttons
    assert latest.history[0].buttons
    assert three.text.splitlines()[1:] == [
        line for line in three.text.splitlines()[1:] if "Putin" in line
    ]
    assert [line.split(" · ")[0] for line in three.text.splitlines()[1:]] == [
        "• Putin warns the West",
        "• Putin meets Xi in Beijing",
    ]
    assert more.text.splitlines()[1].startswith("• Tariffs round 1")
    assert too_many.text.startswith("🗞 Latest")
    assert "20 at a time at most" in too_many.text


async def test_search_ranks_matches_shows_snippets_and_pages(
    emulator: BotApiEmulator, tmp_path: Path, reader: tuple[Chat, User]
) -> None:
    chat, user = reader

    async with running_herald(emulator, tmp_path):
        found = await ask(emulator, chat, user, "/search sanction")
        kim = await ask(emulator, chat, user, "/search Kim Jong-un")
        tariffs = await ask(emulator, chat, user, "/search tariffs")
        await emulator.press_button(chat, tariffs.message_id, user, "Next ▶")
        await emulator.wait_until(lambda: tariffs.edit_count == 1, description="page 2")
        page_two = tariffs.text
        await emulator.press_button(chat, tariffs.message_id, user, "◀ Prev")
        await emulator.wait_until(lambda: tariffs.edit_count == 2, description="page 1 again")
        nothing = await ask(emulator, chat, user, "/search unicorn")
        asked = await ask(emulator, chat, user, "/search")
        await emulator.user_says(chat, user, "tariffs", reply_to_message_id=asked.message_id)
        answered = await emulator.wait_for_message(chat)

    assert found.text.startswith("🔎 sanction\n\n1. New sanctions on Russian banks\nWorld Desk · ")
    assert "The EU sanctioned twelve lenders" in found.text
    assert any(e.type == "bold" for e in found.entities)
    assert "Kim Jong Un visits Moscow" in kim.text
    assert "page 2" in page_two
    assert "6. Tariffs round" in page_two
    assert tariffs.text.startswith("🔎 tariffs\n\n1. ")
    assert [b.text for row in tariffs.buttons for b in row] == ["Next ▶"]
    assert "Nothing found for unicorn" in nothing.text
    assert "Putin OR Kremlin" in nothing.text
    # A bare /search (tapped from the menu) asks, and the reply is searched for.
    assert asked.text == "What should I search the archive for? Reply with the words."
    assert answered.text.startswith("🔎 tariffs\n\n1. ")


HOSTILE = [
    '"',
    "*",
    "AND",
    "OR",
    "NOT",
    "NEAR(",
    ":",
    "^",
    "-",
    "'",
    "AT&T",
    "C++",
    "🚀",
    "مرحبا",
    "x" * 4000,
    "NEAR(putin kremlin, 3) title:x ^y",
]


async def test_every_hostile_search_and_latest_gets_a_reply(
    emulator: BotApiEmulator, tmp_path: Path, reader: tuple[Chat, User]
) -> None:
    chat, user = reader
    # A reader each, asking at once: one chat gets about one reply a second.
    readers = [emulator.add_user(f"Reader {n}") for n in range(len(HOSTILE))]

    async def try_both(reader: User, text: str) -> list[SentMessage]:
        own = emulator.private_chat(reader)
        return [
            await ask(emulator, own, reader, f"/search {text}"),
            await ask(emulator, own, reader, f"/latest {text}"),
        ]

    async with running_herald(emulator, tmp_path) as herald:
        answers = await asyncio.gather(
            *(try_both(reader, text) for reader, text in zip(readers, HOSTILE, strict=True))
        )
        still_working = await ask(emulator, chat, user, "/search Putin")
    replies = [reply for pair in answers for reply in pair]

    assert len(replies) == 2 * len(HOSTILE)
    assert all(reply.text for reply in replies)
    assert "Sorry, something went wrong" not in "".join(reply.text for reply in replies)
    assert "Putin" in still_working.text
    assert "Traceback" not in herald.log


async def test_an_inline_query_answers_with_matching_stories_from_any_chat(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    # More stories mention tariffs than one answer may carry (50): the rest come by scrolling.
    many = [(f"Tariffs round {n}", f"Tariffs & duties rose in round {n}.") for n in range(60)]
    await seed_entries(tmp_path, [*ARCHIVE[:6], *many, ("<Tariffs> & “quotes”", "Odd title.")])
    user = emulator.add_user("Ada")

    async with running_herald(emulator, tmp_path):
        putin = await emulator.wait_for_inline_answer(
            await emulator.inline_query(user, "Putin", chat_type="supergroup")
        )
        tariffs = await emulator.wait_for_inline_answer(
            await emulator.inline_query(user, "tariffs")
        )
        pages = [tariffs]
        while pages[-1].next_offset and len(pages) < 10:
            pages.append(
                await emulator.wait_for_inline_answer(
                    await emulator.inline_query(user, "tariffs", offset=pages[-1].next_offset)
                )
            )
        newest = await emulator.wait_for_inline_answer(await emulator.inline_query(user, ""))
        broken = await emulator.wait_for_inline_answer(
            await emulator.inline_query(user, '"unclosed')
        )

    assert [result.title for result in putin.results] == [
        "Putin warns the West",
        "Putin meets Xi in Beijing",
    ]
    card = putin.results[0]
    assert card.description is not None
    assert card.description.startswith("World Desk · ")
    assert card.description.endswith(" ago")
    assert card.url == "https://news.example/5"
    assert card.text.startswith("Putin warns the West\nWorld Desk · ")
    assert " UTC\n" in card.text
    assert not putin.is_personal
    assert putin.cache_time <= 60
    assert 0 < len(tariffs.results) <= 50
    assert tariffs.next_offset
    titles = [result.title for page in pages for result in page.results]
    assert len(titles) == len(set(titles)) == 61
    assert "<Tariffs> & “quotes”" in titles
    assert newest.results[0].title == "<Tariffs> & “quotes”"
    assert broken.results == ()
    assert broken.button is not None
    assert broken.button.startswith("⚠️ ")
