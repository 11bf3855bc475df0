"""Matching: one query against an entry, and the index that routes an entry to chats."""

from __future__ import annotations

import pytest

from bot.topics.matcher import Routing, TopicIndex, matches, prepare
from bot.topics.query import QueryMode, parse_query


def hit(query: str, title: str, text: str = "", mode: QueryMode = "topic") -> bool:
    return matches(parse_query(query, mode=mode), prepare(title, text))


def test_a_phrase_matches_its_words_in_order() -> None:
    assert hit("North Korea", "North Korea fires a missile")


def test_a_phrase_needs_its_words_adjacent() -> None:
    assert not hit("North Korea", "North of the border, South Korea waits")


def test_a_phrase_needs_its_words_in_order() -> None:
    assert not hit("North Korea", "Korea, North and South")


def test_a_three_word_phrase_matches_after_a_false_start() -> None:
    assert hit("Kim Jong Un", "Kim Jong Il and Kim Jong Un")
    assert not hit("Kim Jong Un", "Kim Jong Il and Un Kim Jong")


def test_the_same_words_in_a_search_match_anywhere() -> None:
    assert hit("North Korea", "Korea, North and South", mode="search")


def test_kim_jong_un_matches_the_hyphenated_spelling() -> None:
    assert hit("Kim Jong Un", "Kim Jong-un visits Moscow")
    assert hit("Kim Jong-un", "Kim Jong Un visits Moscow")


def test_a_topic_matches_in_the_text_as_in_the_title() -> None:
    assert hit("North Korea", "Missile launch", "Officials in North Korea said")


def test_a_phrase_does_not_run_from_the_title_into_the_text() -> None:
    assert not hit("North Korea", "Tensions rise in the north", "Korea's neighbours worry")


def test_apostrophe_shapes_do_not_matter() -> None:
    assert hit("Russia's", "Russia‘s army")
    assert hit("Russia", "Russia’s army")


def test_diacritics_and_case_do_not_matter() -> None:
    assert hit("zelensky", "ZELÉNSKY speaks")


def test_inflections_match() -> None:
    assert hit("sanction", "New sanctions imposed")
    assert hit("sanction", "Firms sanctioned by the EU")
    assert hit("egg", "Eggs prices soar")


def test_a_phrase_matches_its_inflected_words() -> None:
    assert hit("nuclear test", "Two nuclear tests were detected")


def test_russia_does_not_match_russian() -> None:
    assert not hit("Russia", "A Russian delegation arrived")


def test_islam_does_not_match_islamic() -> None:
    assert not hit("Islam", "Islamic State claims attack")


def test_nato_does_not_match_inside_senator() -> None:
    assert hit("Nato", "NATO summit opens")
    assert not hit("Nato", "The senator spoke")


def test_ai_does_not_match_inside_said() -> None:
    assert not hit("AI", "The minister said nothing")
    assert hit("AI", "New AI rules")


def test_an_exact_phrase_is_not_stemmed() -> None:
    assert hit('"sanctions"', "New sanctions imposed")
    assert not hit('"sanction"', "New sanctions imposed")


def test_an_exact_phrase_ignores_case_diacritics_and_apostrophes() -> None:
    assert hit('"kim jong un"', "KIM JONG-UN’S visit")
    assert hit('"Sao Paulo"', "Floods in São Paulo")


def test_or_matches_either_side() -> None:
    assert hit("Putin OR Kremlin", "The Kremlin said")
    assert hit("Putin OR Kremlin", "Putin said")
    assert not hit("Putin OR Kremlin", "Trump said")


def test_and_needs_both_anywhere_in_the_entry() -> None:
    assert hit("Putin AND Vietnam", "Putin travels", "He lands in Vietnam tomorrow")
    assert not hit("Putin AND Vietnam", "Putin travels", "He lands in Laos tomorrow")


def test_an_exclusion_anywhere_rules_the_entry_out() -> None:
    assert hit("North Korea -Vietnam", "North Korea and Laos")
    assert not hit("North Korea -Vietnam", "Vietnam talks", "North Korea sends envoy")


def test_an_exclusion_rules_out_every_alternative() -> None:
    assert not hit("Putin OR Kremlin -Trump", "The Kremlin and Trump")


def test_an_excluded_phrase_must_appear_as_a_phrase() -> None:
    assert hit('Korea -"South Korea"', "North Korea and the south")
    assert not hit('Korea -"South Korea"', "North Korea and South Korea")


def test_an_excluded_word_is_stemmed() -> None:
    assert not hit("Korea -sanction", "Korea faces sanctions")


def test_an_empty_entry_matches_nothing() -> None:
    assert not hit("North Korea", "", "")


def test_prepare_keeps_title_and_text_tokens_apart() -> None:
    entry = prepare("Kim’s visit", "Sanctions on Russia", link="https://bbc.co.uk/", feed_id=3)

    sources = ("", "§tkim", "§tvisit", "", "§sbbc·co·uk", "§sco·uk", "§suk", "§f3")
    assert entry.words == ("kim", "visit", "", "sanctions", "on", "russia", *sources)
    assert entry.stems == ("kim", "visit", "", "sanction", "on", "russia", *sources)


def index_of(*topics: tuple[int, int, str]) -> TopicIndex:
    index = TopicIndex()
    for topic_id, chat_id, text in topics:
        index.add(topic_id, chat_id, parse_query(text, mode="topic"))
    return index


def routed(routing: Routing) -> dict[int, list[int]]:
    """Chat → sorted topic ids, checking that every view of the routing tells the same."""
    # Asked one chat at a time before anything is merged, then all at once.
    looked_up = {chat: sorted(routing.topics_for(chat)) for chat in routing.chats}
    pairs = list(routing.items())
    result = {chat: sorted(topics) for chat, topics in pairs}
    assert len(pairs) == len(result) == len(routing), "each chat once"
    assert looked_up == result
    assert set(routing) == set(result)
    assert all(chat in routing for chat in result)
    assert bool(routing) == bool(result)
    return result


def route(index: TopicIndex, title: str, text: str = "") -> dict[int, list[int]]:
    return routed(index.match(prepare(title, text)))


def test_an_entry_is_routed_to_every_chat_whose_topic_it_matches() -> None:
    index = index_of((1, 100, "North Korea"), (2, 200, "Putin"), (3, 300, "Vietnam"))

    assert route(index, "Putin meets North Korea's leader") == {100: [1], 200: [2]}


def test_a_chat_whose_two_topics_match_is_routed_once_with_both() -> None:
    index = index_of((1, 100, "North Korea"), (2, 100, "Putin AND Kim"), (3, 100, "Xi"))

    assert route(index, "Putin meets Kim", "in North Korea") == {100: [1, 2]}


def test_an_or_topic_matched_through_both_sides_is_routed_once() -> None:
    index = index_of((1, 100, "Putin OR Kremlin"), (2, 200, "Kremlin"))

    assert route(index, "The Kremlin says Putin will travel") == {100: [1], 200: [2]}


def test_a_chat_with_two_topics_of_one_query_gets_both() -> None:
    index = index_of((1, 100, "sanction"), (2, 100, "sanctions"), (3, 200, "sanctions"))

    assert route(index, "New sanctions") == {100: [1, 2], 200: [3]}


def test_a_topic_reached_through_an_or_and_an_and_clause_is_named_once() -> None:
    index = index_of((1, 100, "Putin OR Kim AND Xi"), (2, 100, "Xi"))

    assert route(index, "Putin, Kim and Xi") == {100: [1, 2]}


def test_an_and_topic_needs_every_phrase() -> None:
    index = index_of((1, 100, "Putin AND Vietnam AND rice"))

    assert route(index, "Putin in Vietnam") == {}
    assert route(index, "Putin in Vietnam", "rice exports") == {100: [1]}


def test_an_exclusion_rules_out_only_the_topic_that_has_it() -> None:
    index = index_of((1, 100, "Korea -Vietnam"), (2, 200, "Korea"), (3, 300, "Korea"))
    index.add(4, 300, parse_query("Korea -Vietnam", mode="topic"))

    assert route(index, "Korea and Vietnam") == {200: [2], 300: [3]}
    assert route(index, "Korea and Laos") == {100: [1], 200: [2], 300: [3, 4]}


def test_an_exclusion_rules_out_an_and_topic() -> None:
    index = index_of((1, 100, "Putin AND Kim -Xi"), (2, 200, "Putin AND Kim"))

    assert route(index, "Putin, Kim and Xi") == {200: [2]}
    assert route(index, "Putin and Kim") == {100: [1], 200: [2]}


def test_a_chat_whose_only_matching_topic_is_excluded_is_not_reached() -> None:
    routing = index_of((1, 100, "Korea -Vietnam"), (2, 200, "Laos")).match(
        prepare("Korea and Vietnam", "")
    )

    assert not routing
    assert len(routing) == 0
    assert 100 not in routing
    assert routing.topics_for(100) == ()
    assert list(routing.items()) == []


def test_a_chat_the_entry_does_not_reach_has_no_topics() -> None:
    routing = index_of((1, 100, "Putin"), (2, 200, "Kim")).match(prepare("Putin", ""))

    assert routing.topics_for(200) == ()
    assert routing.topics_for(300) == ()
    assert 200 not in routing


def test_exact_and_stemmed_phrases_of_the_same_words_are_apart() -> None:
    index = index_of((1, 100, '"sanction"'), (2, 200, "sanction"))

    assert route(index, "Sanctions") == {200: [2]}
    assert route(index, "Sanction") == {100: [1], 200: [2]}


def test_a_routing_stays_as_matched_while_the_index_changes() -> None:
    index = index_of((1, 100, "Putin"), (2, 200, "Putin"), (3, 300, "Putin AND Kim -Xi"))
    routing = index.match(prepare("Putin and Kim", ""))

    index.remove(2)
    index.remove(3)
    index.add(4, 400, parse_query("Putin", mode="topic"))
    index.add(5, 100, parse_query("Kim AND Putin -Xi", mode="topic"))

    assert routed(routing) == {100: [1], 200: [2], 300: [3]}
    assert route(index, "Putin and Kim") == {100: [1, 5], 400: [4]}


def test_removing_a_topic_stops_its_routing() -> None:
    index = index_of((1, 100, "Putin"), (2, 200, "Putin"), (3, 300, "Putin AND Kim -Xi"))

    index.remove(1)
    index.remove(3)

    assert route(index, "Putin and Kim") == {200: [2]}
    assert len(index) == 1


def test_removing_one_of_a_chats_topics_keeps_the_other() -> None:
    index = index_of((1, 100, "Putin"), (2, 100, "Putin OR Kim"))

    index.remove(2)

    assert route(index, "Putin and Kim") == {100: [1]}


def test_removing_a_topic_with_an_exclusion_keeps_the_chats_other_topic() -> None:
    index = index_of((1, 100, "Putin"), (2, 100, "Putin -Xi"))

    index.remove(2)

    assert route(index, "Putin and Kim") == {100: [1]}
    assert route(index, "Putin and Xi") == {100: [1]}


def test_removing_an_unknown_topic_is_ignored() -> None:
    index = index_of((1, 100, "Putin"))

    index.remove(99)
    index.remove(99)

    assert route(index, "Putin") == {100: [1]}


def test_removing_every_topic_leaves_nothing_compiled() -> None:
    texts = ["Putin", "North Korea", "Kim Jong Un visit", '"exact words"', "a AND b -c OR d"]
    index = index_of(*((number, 100 + number, text) for number, text in enumerate(texts)))

    for number in range(len(texts)):
        index.remove(number)

    assert len(index) == 0
    assert index.distinct_phrases == 0
    assert index.distinct_queries == 0
    assert route(index, "Putin in North Korea", "Kim Jong Un visit a b d") == {}


def test_adding_a_topic_id_again_replaces_its_query() -> None:
    index = index_of((1, 100, "Putin"))

    index.add(1, 100, parse_query("Kim", mode="topic"))

    assert route(index, "Putin") == {}
    assert route(index, "Kim") == {100: [1]}
    assert len(index) == 1


def test_identical_queries_across_chats_share_one_compiled_form() -> None:
    index = TopicIndex()
    for chat_id in range(1000):
        index.add(2 * chat_id, chat_id, parse_query("North Korea", mode="topic"))
        index.add(2 * chat_id + 1, chat_id, parse_query("Putin Kim -Xi", mode="search"))

    routing = index.match(prepare("North Korea", "Putin and Kim"))

    assert len(index) == 2000
    assert index.distinct_phrases == 4  # north korea, putin, kim, xi
    assert index.distinct_queries == 1
    assert routed(routing) == {chat: [2 * chat, 2 * chat + 1] for chat in range(1000)}


def test_queries_equal_up_to_inflection_share_a_compiled_form() -> None:
    index = index_of((1, 100, "sanction AND Iran"), (2, 200, "sanctions AND Iran"))

    assert index.distinct_queries == 1
    assert index.distinct_phrases == 2


def test_a_long_phrase_sharing_a_start_with_another_is_told_apart() -> None:
    index = index_of((1, 100, "Kim Jong Un"), (2, 200, "Kim Jong Il"), (3, 300, "Kim Jong"))

    assert route(index, "Kim Jong Il") == {200: [2], 300: [3]}
    index.remove(2)
    assert route(index, "Kim Jong Il and Kim Jong Un") == {100: [1], 300: [3]}
    index.remove(3)
    assert route(index, "Kim Jong Il and Kim Jong Un") == {100: [1]}
    assert index.distinct_phrases == 1


def test_a_chat_id_equal_to_a_topic_id_is_no_confusion() -> None:
    index = index_of((7, 7, "Putin"), (8, 7, "Kim"))

    index.remove(7)

    assert route(index, "Putin and Kim") == {7: [8]}


def test_an_empty_index_routes_nothing() -> None:
    routing = TopicIndex().match(prepare("Anything at all", ""))

    assert routed(routing) == {}
    assert not routing


@pytest.mark.parametrize("topic_id", [1, 2])
def test_membership_reflects_adds_and_removes(topic_id: int) -> None:
    index = index_of((1, 100, "Putin"), (2, 100, "Kim AND Xi"))

    index.remove(topic_id)

    assert topic_id not in index
    assert 3 - topic_id in index


def test_removing_a_topic_whose_words_share_a_stem_leaves_the_index_clean() -> None:
    # sanction and sanctions compile to one phrase, which the clause then names twice.
    index = TopicIndex()
    query = parse_query(
        "kim AND korea AND putin OR korea AND kremlin AND sanction AND sanctions AND un"
        " OR korea AND putin",
        mode="search",
    )
    index.add(1, 10, query)
    index.add(2, 11, query)

    index.remove(1)
    index.remove(2)

    assert not index.match(prepare("Korea", "Kremlin sanctions on Korea, Putin and Kim say"))


def sourced(query: str, title: str, text: str = "", *, link: str = "", feed_id: int = 1) -> bool:
    return matches(
        parse_query(query, mode="topic"), prepare(title, text, link=link, feed_id=feed_id)
    )


@pytest.mark.parametrize(
    ("link", "found"),
    [
        ("https://www.bbc.co.uk/news/1", True),
        ("https://news.bbc.co.uk/1", True),
        ("https://bbc.co.uk/1", True),
        ("https://BBC.CO.UK./1", True),
        ("https://notbbc.co.uk/1", False),
        ("https://bbc.co.uk.evil.com/1", False),
        ("https://bbc.com/1", False),
        ("not a link", False),
        ("", False),
    ],
)
def test_site_matches_the_link_host_and_its_subdomains(link: str, found: bool) -> None:
    assert sourced("site:bbc.co.uk", "Anything", link=link) is found


def test_feed_matches_every_entry_of_that_feed_only() -> None:
    assert sourced("feed:7", "Anything", feed_id=7)
    assert not sourced("feed:7", "Anything", feed_id=70)


def test_title_looks_at_the_title_only() -> None:
    assert sourced("title:sanction", "New sanctions on Iran", "Markets fall")
    assert not sourced("title:sanction", "Markets fall", "New sanctions on Iran")
    assert sourced('title:"north korea"', "North Korea fires a missile")
    assert not sourced('title:"north korea"', "North and South Korea talk")


def test_sources_and_fields_combine_with_words() -> None:
    link = "https://news.bbc.co.uk/1"
    query = "site:bbc.co.uk Putin -Vietnam"

    assert sourced(query, "Putin visits Kim", link=link)
    assert not sourced(query, "Putin visits Vietnam", link=link)
    assert not sourced(query, "Putin visits Kim", link="https://rt.com/1")


def test_an_excluded_site_rules_its_entries_out() -> None:
    assert sourced("Putin -site:rt.com", "Putin speaks", link="https://bbc.com/1")
    assert not sourced("Putin -site:rt.com", "Putin speaks", link="https://www.rt.com/1")


def test_an_entry_prepared_without_its_source_leaves_sources_to_the_index() -> None:
    # Callers that read candidates from the full-text index (which filtered on the source
    # exactly) prepare only the text: a source term then neither requires nor excludes.
    assert hit("site:bbc.co.uk Putin", "Putin speaks")
    assert hit("Putin -site:rt.com", "Putin speaks")
    assert not hit("site:bbc.co.uk Putin", "Kim speaks")


def test_the_index_routes_on_sources_and_fields() -> None:
    index = index_of(
        (1, 100, "site:bbc.co.uk"), (2, 200, "feed:4 -Vietnam"), (3, 300, "title:Kim")
    )

    routing = index.match(prepare("Kim visits", "Vietnam", link="https://bbc.co.uk/1", feed_id=4))

    assert routed(routing) == {100: [1], 300: [3]}


def test_a_word_never_matches_a_source_key() -> None:
    assert not sourced("uk", "Anything", link="https://bbc.co.uk/1")
    assert not sourced("title", "Anything")
