"""The rewriting of the repositories' SQL for PostgreSQL, and of FTS5 expressions to tsquery."""

from __future__ import annotations

import pytest

from bot.storage.database import Database
from bot.storage.entries import EntryRepository
from bot.storage.postgres.database import PostgresDatabase
from bot.storage.postgres.dialect import DialectError, translate
from bot.storage.postgres.fulltext import ExpressionError, tsquery, tsvector
from bot.topics import parse_query
from bot.topics.fts import document, expression
from tests.services.conftest import StepClock
from tests.services.newsroom import Newsroom


def test_parameters_become_psycopgs_and_a_literal_percent_doubles() -> None:
    sql = "SELECT id FROM t WHERE a = ? AND b = :name AND c LIKE '50%' AND d::text = ?"

    assert translate(sql) == (
        "SELECT id FROM t WHERE a = %s AND b = %(name)s AND c LIKE '50%%' AND d::text = %s"
    )


async def test_a_percent_sign_in_a_literal_reaches_postgresql_as_one(postgres_url: str) -> None:
    database = await PostgresDatabase.connect(postgres_url)
    try:
        value = await database.fetchvalue("SELECT '50%' || ?", ("?",))
    finally:
        await database.close()

    assert value == "50%?"


def test_text_inside_quotes_is_left_alone() -> None:
    sql = "SELECT 'what? :not_a_name' AS \"odd?name\", ? FROM t"

    assert translate(sql) == "SELECT 'what? :not_a_name' AS \"odd?name\", %s FROM t"


def test_insert_or_ignore_becomes_on_conflict_do_nothing_before_returning() -> None:
    plain = translate("INSERT OR IGNORE INTO t (a) VALUES (?)")
    returning = translate("INSERT OR IGNORE INTO t (a) SELECT ? RETURNING id")

    assert plain == "INSERT INTO t (a) VALUES (%s) ON CONFLICT DO NOTHING"
    assert returning == "INSERT INTO t (a) SELECT %s ON CONFLICT DO NOTHING RETURNING id"


@pytest.mark.parametrize(
    "sql",
    ["UPDATE OR IGNORE t SET a = 1", "INSERT OR REPLACE INTO t (a) VALUES (1)"],
)
def test_sqlite_only_statements_are_refused_by_name(sql: str) -> None:
    with pytest.raises(DialectError, match="no PostgreSQL form"):
        translate(sql)


def test_a_phrase_is_adjacent_tokens_and_title_narrows_to_the_title() -> None:
    query = tsquery(expression(parse_query('"North Korea" title:missile', mode="search")) or "")

    assert "('north' <-> 'korea')" in query
    assert "('missil':A)" in query


async def test_a_phrase_never_runs_from_the_title_into_the_text(database: Database) -> None:
    # The title ends with "North", the text starts with "Korea": not the phrase.
    await Newsroom(database, StepClock()).publish("Talks in the North")
    await database.execute(
        "UPDATE entries SET summary = 'Korea responds' WHERE title = 'Talks in the North'"
    )
    entries = EntryRepository(database)
    phrase = expression(parse_query('"north korea"', mode="search")) or ""
    words = expression(parse_query("north korea", mode="search")) or ""

    assert await entries.newest_matches(phrase, limit=5) == []
    assert len(await entries.newest_matches(words, limit=5)) == 1


def test_an_exclusion_is_and_not_and_alternatives_are_or() -> None:
    excluded = tsquery('(("north korea")) NOT ("vietnam")')
    either = tsquery('("kremlin") OR ("putin")')

    assert excluded == "(('north' <-> 'korea') & !('vietnam'))"
    assert either == "(('kremlin') | ('putin'))"


def test_the_index_holds_herald_tokens_weighted_by_field_with_a_gap_between_fields() -> None:
    vector = tsvector(
        document("Kim Jong-un’s visit", "O'Brien reports", link="https://bbc.co.uk/x", feed_id=3)
    )

    assert vector == (
        "'kim':1A 'jong':2A 'un':3A 'visit':4A 'o':6B 'brien':7B 'report':8B"
        " '§sbbc·co·uk':10C '§sco·uk':11C '§suk':12C '§f3':13C"
    )


def test_ascii_punctuation_separates_tokens_as_fts5s_ascii_tokenizer_does() -> None:
    assert tsvector(("it's a\\b", "", "")) == "'it':1A 's':2A 'a':3A 'b':4A"


def test_a_word_too_long_for_postgresql_matches_nothing_instead_of_failing() -> None:
    long_word = "x" * 3000

    assert tsquery(f'("{long_word}")') == "'§':D"
    assert long_word not in tsvector((long_word, "", ""))


@pytest.mark.parametrize("text", ['"unclosed', "title :", "(a)", '("a" AND)'])
def test_anything_outside_the_grammar_is_an_expression_error(text: str) -> None:
    with pytest.raises(ExpressionError):
        tsquery(text)
