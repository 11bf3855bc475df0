"""The topic language: what each text means, what each mistake is told, and canonical forms."""

from __future__ import annotations

import dataclasses

import pytest

from bot.domain import HeraldError
from bot.topics.query import (
    MAX_SEARCH_LENGTH,
    MAX_TOPIC_LENGTH,
    MAX_WORDS,
    InvalidQueryError,
    Phrase,
    Query,
    QueryMode,
    parse_query,
)


def topic(text: str) -> Query:
    return parse_query(text, mode="topic")


def search(text: str) -> Query:
    return parse_query(text, mode="search")


def words(*spelled: str) -> Phrase:
    return Phrase(tuple(spelled))


def exact(*spelled: str) -> Phrase:
    return Phrase(tuple(spelled), exact=True)


def query_or_refusal(text: str, mode: QueryMode) -> Query | str:
    try:
        return parse_query(text, mode=mode)
    except InvalidQueryError as refusal:
        return refusal.user_message


def error_for(text: str, mode: QueryMode = "topic", max_length: int | None = None) -> str:
    with pytest.raises(InvalidQueryError) as raised:
        parse_query(text, mode=mode, max_length=max_length)
    return raised.value.user_message


def test_bare_words_of_a_topic_form_one_phrase() -> None:
    assert topic("North Korea").clauses == ((words("north", "korea"),),)


def test_bare_words_of_a_search_are_separate_terms() -> None:
    assert search("North Korea").clauses == ((words("korea"), words("north")),)


def test_a_hyphenated_search_word_is_a_phrase() -> None:
    assert search("Jong-un").clauses == ((words("jong", "un"),),)


def test_or_gives_either() -> None:
    assert topic("Putin OR Kremlin").clauses == ((words("kremlin"),), (words("putin"),))


def test_and_gives_both() -> None:
    assert topic("Putin AND Vietnam").clauses == ((words("putin"), words("vietnam")),)


def test_and_binds_tighter_than_or() -> None:
    assert topic("Putin AND Vietnam OR Kim").clauses == (
        (words("kim"),),
        (words("putin"), words("vietnam")),
    )
    assert topic("Kim OR Putin AND Vietnam") == topic("Putin AND Vietnam OR Kim")


def test_lowercase_and_and_or_are_ordinary_words() -> None:
    assert topic("Trinidad and Tobago").clauses == ((words("trinidad", "and", "tobago"),),)
    assert topic("war or peace").clauses == ((words("war", "or", "peace"),),)


def test_a_minus_before_a_word_excludes_it() -> None:
    query = topic("North Korea -Vietnam")

    assert query.clauses == ((words("north", "korea"),),)
    assert query.exclusions == (words("vietnam"),)


def test_a_minus_before_a_quoted_phrase_excludes_that_exact_phrase() -> None:
    assert topic('North Korea -"South Korea"').exclusions == (exact("south", "korea"),)


@pytest.mark.parametrize("minus", ["−", "–", "—"])
def test_a_phone_keyboard_dash_excludes_like_a_minus(minus: str) -> None:
    assert topic(f"Korea {minus}Vietnam") == topic("Korea -Vietnam")


def test_exclusions_apply_to_the_whole_query_wherever_they_stand() -> None:
    assert topic("Putin -Trump OR Kremlin") == topic("Putin OR Kremlin -Trump")
    assert topic("Putin OR Kremlin -Trump").exclusions == (words("trump"),)


def test_an_exclusion_between_bare_words_splits_the_phrase() -> None:
    assert topic("North -Vietnam Korea").clauses == ((words("korea"), words("north")),)


def test_a_hyphen_inside_a_word_is_no_exclusion() -> None:
    query = topic("Kim Jong-un")

    assert query.clauses == ((words("kim", "jong", "un"),),)
    assert query.exclusions == ()


def test_a_minus_standing_alone_is_ignored() -> None:
    assert topic("North Korea - Vietnam") == topic("North Korea Vietnam")


def test_quoted_words_are_an_exact_phrase() -> None:
    assert topic('"Kim Jong-un"').clauses == ((exact("kim", "jong", "un"),),)


def test_an_exact_phrase_still_ignores_case_diacritics_and_apostrophes() -> None:
    assert topic('"ZELÉNSKY’s"') == topic('"zelensky"')


def test_typographic_quotes_work_like_straight_ones() -> None:
    assert topic("“North Korea”") == topic('"North Korea"')
    assert topic("«North Korea»") == topic('"North Korea"')


def test_operators_inside_quotes_are_words() -> None:
    assert topic('"war OR peace"').clauses == ((exact("war", "or", "peace"),),)


def test_bare_words_beside_a_quoted_phrase_are_a_separate_term() -> None:
    assert topic('visit "Kim Jong Un" Moscow').clauses == (
        (exact("kim", "jong", "un"), words("moscow"), words("visit")),
    )


def test_punctuation_between_words_is_ignored_as_in_the_text() -> None:
    assert topic("Trinidad & Tobago") == topic("Trinidad Tobago")


def test_brackets_without_operators_are_punctuation() -> None:
    assert topic("Kim Jong Un (North Korea)") == topic("Kim Jong Un North Korea")


def test_an_exact_phrase_matches_its_words_and_a_plain_one_their_stems() -> None:
    assert exact("sanctions").keys == ("sanctions",)
    assert words("sanctions").keys == ("sanction",)


def test_phrases_lists_each_phrase_looked_for_once() -> None:
    assert topic("Putin AND Kim OR Kim AND Xi").phrases == (
        words("kim"),
        words("putin"),
        words("xi"),
    )


def test_an_empty_topic_is_refused() -> None:
    assert error_for("") == "A topic needs at least one word to look for."


@pytest.mark.parametrize("text", ["   ", "!!!", "🔥🔥", '""', "\x00", "- —", "OR", "AND"])
def test_a_topic_without_any_word_is_refused(text: str) -> None:
    assert error_for(text) == "A topic needs at least one word to look for."


def test_a_search_without_any_word_is_refused_as_a_search() -> None:
    assert error_for("   ", mode="search") == "A search needs at least one word to look for."


def test_an_unbalanced_quote_is_refused() -> None:
    assert error_for('"North Korea') == (
        'A quote is left open: add the closing ". Did you mean: "North Korea"?'
    )
    assert error_for('Korea "South') == (
        'A quote is left open: add the closing ". Did you mean: Korea "South"?'
    )


def test_a_topic_over_200_characters_is_refused() -> None:
    assert error_for("a" * (MAX_TOPIC_LENGTH + 1)) == "A topic is at most 200 characters."


def test_a_topic_of_exactly_200_characters_is_accepted() -> None:
    assert topic("a" * MAX_TOPIC_LENGTH).clauses == ((words("a" * MAX_TOPIC_LENGTH),),)


def test_surrounding_spaces_do_not_count_towards_the_length() -> None:
    assert topic(" " * 50 + "a" * MAX_TOPIC_LENGTH + "\n" * 50).display == "a" * MAX_TOPIC_LENGTH


def test_a_search_may_be_as_long_as_a_telegram_message() -> None:
    text = "x" * MAX_SEARCH_LENGTH

    assert search(text).clauses == ((words(text),),)
    assert error_for(text + "x", mode="search") == "A search is at most 4096 characters."


def test_the_length_limit_can_be_chosen() -> None:
    assert error_for("North Korea", max_length=5) == "A topic is at most 5 characters."


@pytest.mark.parametrize("text", ["Putin OR", "OR Putin", "Putin OR OR Kremlin", "Putin OR -Kim"])
def test_or_without_words_on_both_sides_is_refused(text: str) -> None:
    assert error_for(text).startswith("OR needs words on both sides.")


@pytest.mark.parametrize("text", ["Putin AND", "AND Putin", "Putin AND 🔥", "Putin AND OR Kim"])
def test_and_without_words_on_both_sides_is_refused(text: str) -> None:
    assert error_for(text).startswith("AND needs words on both sides.")


@pytest.mark.parametrize("text", ["-Vietnam", '-"South Korea"', "-Putin OR -Kremlin"])
def test_a_topic_that_only_excludes_is_refused(text: str) -> None:
    assert error_for(text) == (
        "A topic can't only exclude words: add a word to look for before the -."
    )


def test_brackets_with_operators_are_refused_rather_than_misread() -> None:
    assert error_for("(Putin OR Kremlin) AND Xi") == (
        "Brackets aren't supported: AND binds tighter than OR. "
        "Did you mean: Putin AND Xi OR Kremlin AND Xi?"
    )


@pytest.mark.parametrize(
    ("text", "rewrite"),
    [
        ("Putin OR", "Putin"),
        ("OR Kremlin", "Kremlin"),
        ("Putin OR OR Kremlin", "Putin OR Kremlin"),
        ("Putin AND OR Kim", "Putin OR Kim"),
        (
            "(Sanctions OR tariffs) AND (Iran OR Russia)",
            "Sanctions AND Iran OR Sanctions AND Russia OR tariffs AND Iran OR tariffs AND Russia",
        ),
        (
            "North Korea AND (missile OR nuclear test)",
            "North Korea AND missile OR North Korea AND nuclear test",
        ),
    ],
)
def test_a_refused_compound_query_suggests_the_same_words_rewritten(
    text: str, rewrite: str
) -> None:
    assert error_for(text).endswith(f" Did you mean: {rewrite}?")
    assert topic(rewrite).display == rewrite


@pytest.mark.parametrize("text", ["-Iran", "Putin AND 🔥", "site:x", "AND"])
def test_no_rewrite_is_suggested_where_none_is_obvious(text: str) -> None:
    assert "Did you mean" not in error_for(text)


def test_too_many_words_are_refused() -> None:
    text = " ".join(["w"] * (MAX_WORDS + 1))

    assert error_for(text, mode="search") == f"A search can have at most {MAX_WORDS} words."
    assert search(" ".join(["w"] * MAX_WORDS)).clauses == ((words("w"),),)


def test_an_unknown_mode_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown query mode"):
        parse_query("x", mode="regex")  # type: ignore[arg-type]


def test_invalid_query_error_is_a_herald_error_for_the_user() -> None:
    with pytest.raises(HeraldError) as raised:
        topic("")

    assert isinstance(raised.value, InvalidQueryError)
    assert str(raised.value) == raised.value.user_message


def test_spacing_and_case_do_not_change_the_topic() -> None:
    assert topic("north  korea") == topic("North Korea") == topic("NORTH KOREA")
    assert topic("north  korea").canonical == topic("NORTH KOREA").canonical == "north korea"


def test_the_order_of_alternatives_does_not_change_the_topic() -> None:
    assert topic("Putin OR Kremlin") == topic("Kremlin OR Putin")
    assert str(topic("Putin OR Kremlin")) == "kremlin OR putin"


def test_repeated_terms_collapse() -> None:
    assert topic("Putin OR Putin OR putin") == topic("Putin")
    assert topic("x -y -Y") == topic("x -y")


def test_an_exact_phrase_is_another_topic_than_the_same_words_bare() -> None:
    assert topic('"sanctions"') != topic("sanctions")
    assert topic('"sanctions"').canonical == '"sanctions"'


def test_the_canonical_form_names_every_part() -> None:
    query = topic('Kim Jong-un AND visit OR "Moscow" -Putin -"South Korea"')

    assert query.canonical == 'kim jong un AND visit OR "moscow" -putin -"south korea"'


def test_the_canonical_form_of_a_search_keeps_hyphenated_words_whole() -> None:
    assert search("Jong-un Kim -Kim-Jong").canonical == "jong-un AND kim -kim-jong"


@pytest.mark.parametrize(
    ("text", "mode"),
    [
        ("North Korea -Vietnam", "topic"),
        ('"exact words" sanctions OR Putin AND Kim', "topic"),
        ("North -Vietnam Korea", "topic"),
        ("Jong-un Kim -U.S.", "search"),
        ('Putin "Kim Jong" -"a b"', "search"),
    ],
)
def test_the_canonical_form_parses_back_to_the_same_query(text: str, mode: QueryMode) -> None:
    query = parse_query(text, mode=mode)

    assert parse_query(query.canonical, mode=mode) == query


def test_the_display_form_is_what_was_typed_tidied() -> None:
    query = topic("  North   Korea\n-Vietnam ")

    assert query.display == "North Korea -Vietnam"


def test_the_display_form_marks_unprintable_characters() -> None:
    assert topic("North\x00Korea").display == "North\ufffdKorea"


def test_the_display_form_is_not_part_of_equality() -> None:
    assert topic("NORTH KOREA") == topic("north korea")
    assert topic("NORTH KOREA").display != topic("north korea").display


def test_queries_are_hashable_and_immutable() -> None:
    query = topic("North Korea")

    assert {query, topic("north korea")} == {query}
    with pytest.raises(dataclasses.FrozenInstanceError):
        query.mode = "search"  # type: ignore[misc]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "OR AND OR",
        "!?.,;:()[]{}",
        "x" * 4000,
        "word " * 800,
        "🔥🇺🇦👨‍👩‍👧",
        "שלום OR سلام",
        "\x00\x00",
        "\ud800 \udfff",
        '"' * 7,
        "-" * 50,
        "\u202eNorth Korea\u202c",
    ],
)
@pytest.mark.parametrize("mode", ["topic", "search"])
def test_hostile_text_gets_a_query_or_a_refusal_a_person_can_read(
    text: str, mode: QueryMode
) -> None:
    outcome = query_or_refusal(text, mode)

    assert outcome.clauses if isinstance(outcome, Query) else outcome


def test_site_names_a_host() -> None:
    assert topic("site:BBC.co.uk.").phrases == (Phrase(("bbc.co.uk",), True, "site"),)


def test_site_takes_a_pasted_address_for_its_host() -> None:
    assert topic("site:https://www.bbc.com/news/world") == topic("site:www.bbc.com")


def test_site_takes_an_international_domain_name() -> None:
    assert topic("site:münchen.de").phrases[0].words == ("xn--mnchen-3ya.de",)


def test_feed_names_a_feed_by_its_number() -> None:
    assert topic("feed:012").phrases == (Phrase(("12",), True, "feed"),)


def test_title_takes_a_word_or_a_quoted_phrase() -> None:
    assert topic("title:Putin").phrases == (Phrase(("putin",), field="title"),)
    assert topic('title:"North Korea"').phrases == (
        Phrase(("north", "korea"), exact=True, field="title"),
    )


def test_a_field_takes_only_the_word_it_is_written_on() -> None:
    assert topic("title:North Korea").clauses == (
        (words("korea"), Phrase(("north",), field="title")),
    )


def test_google_intitle_and_capitalised_fields_are_understood() -> None:
    assert topic("intitle:Putin") == topic("Title:putin") == topic("title:putin")


def test_sources_and_fields_combine_with_every_operator() -> None:
    query = topic("site:bbc.co.uk Putin -Vietnam OR feed:3 AND title:Kremlin -site:rt.com")

    assert query.clauses == (
        (Phrase(("3",), True, "feed"), Phrase(("kremlin",), field="title")),
        (Phrase(("bbc.co.uk",), True, "site"), words("putin")),
    )
    assert query.exclusions == (Phrase(("rt.com",), True, "site"), words("vietnam"))


def test_a_topic_may_be_only_a_source() -> None:
    assert topic("feed:7").clauses == ((Phrase(("7",), True, "feed"),),)
    assert "only exclude" in error_for("-site:rt.com")


@pytest.mark.parametrize("text", ["site:", "feed:", "title:"])
def test_a_field_without_a_value_is_a_plain_word(text: str) -> None:
    assert topic(text).phrases == (words(text[:-1]),)


@pytest.mark.parametrize(
    ("text", "told"),
    [
        ("site:bbc..co.uk", "site:"),
        ("site:!!", "site:"),
        ("site:uk", "site:"),
        ("feed:bbc", "feed:"),
        ("feed:-1", "feed:"),
    ],
)
def test_a_source_that_names_nothing_is_refused(text: str, told: str) -> None:
    assert told in error_for(text)


@pytest.mark.parametrize(
    ("text", "mode"),
    [
        ("site:bbc.co.uk Putin -Vietnam", "topic"),
        ('title:"North Korea" OR feed:12', "topic"),
        ("title:Jong-un -site:rt.com", "search"),
        ("title:Kim Jong Un", "topic"),
    ],
)
def test_the_canonical_form_of_sources_and_fields_parses_back(text: str, mode: QueryMode) -> None:
    query = parse_query(text, mode=mode)

    assert parse_query(query.canonical, mode=mode) == query


def test_a_topic_in_an_arabic_script_is_keyed_for_arabic_and_persian_entries() -> None:
    # Snowball Arabic and Persian cut دانشجویان (students) differently.
    clauses, _ = topic("دانشجویان").keyed

    assert clauses == (((False, ("دانشجوي",)),), ((False, ("دانشجو",)),))
