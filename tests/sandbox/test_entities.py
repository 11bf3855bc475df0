"""UTF-16 counting, entity clean-up and the bot commands Telegram marks in users' messages."""

from __future__ import annotations

from bot.sandbox.entities import Entity, bot_commands, normalize, utf16_length, utf16_slice


def test_astral_characters_count_two_utf16_units() -> None:
    assert utf16_length("abc") == 3
    assert utf16_length("é") == 1
    assert utf16_length("😀") == 2
    assert utf16_length("🇰🇵") == 4


def test_utf16_slice_reads_what_an_entity_covers() -> None:
    assert utf16_slice("😀 /start now", 3, 6) == "/start"


def test_command_at_the_start_is_marked() -> None:
    assert bot_commands("/start") == [Entity("bot_command", 0, 6)]


def test_command_addressed_to_a_bot_includes_the_username() -> None:
    assert bot_commands("/latest@herald_bot 3 sanctions") == [Entity("bot_command", 0, 18)]


def test_commands_later_in_the_text_are_marked_at_utf16_offsets() -> None:
    assert bot_commands("😀 try /help or /topic") == [
        Entity("bot_command", 7, 5),
        Entity("bot_command", 16, 6),
    ]


def test_slashes_inside_words_and_paths_are_not_commands() -> None:
    assert bot_commands("and/or https://x.org/path a//b") == []


def test_overlong_command_is_not_marked() -> None:
    assert bot_commands("/" + "a" * 65) == []


def test_entities_beyond_the_text_are_clipped() -> None:
    assert normalize("abc", [Entity("bold", 1, 10)]) == ("abc", [Entity("bold", 1, 2)])


def test_partially_overlapping_entity_is_dropped() -> None:
    entities = [Entity("text_link", 0, 3, url="https://x.org/"), Entity("code", 2, 3)]

    assert normalize("abcdef", entities) == ("abcdef", [entities[0]])


def test_blockquotes_do_not_nest() -> None:
    outer, inner = Entity("blockquote", 0, 5), Entity("blockquote", 1, 2)

    assert normalize("abcde", [outer, inner]) == ("abcde", [outer])
