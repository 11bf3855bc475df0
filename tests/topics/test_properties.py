"""Properties over generated input: parsing fails only as told, the index agrees with a loop."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.topics.matcher import PreparedEntry, Routing, TopicIndex, matches, prepare
from bot.topics.query import InvalidQueryError, Query, QueryMode, parse_query

MODES = st.sampled_from(["topic", "search"])

# Pieces that exercise the grammar and the normaliser: operators, quotes, dashes, apostrophes.
PIECES = st.sampled_from(
    [
        "OR",
        "AND",
        "or",
        "and",
        "-",
        "—",
        '"',
        "“",
        "»",
        "(",
        ")",
        "North",
        "Korea",
        "-Vietnam",
        "Jong-un",
        "Russia’s",
        "sanctions",
        "Zelénsky",
        "🔥",
        "习近平",
        "今天上海下雨",
        "Путина",
        "Σύνοδος",
        "کتابها",
        "site:bbc.co.uk",
        "-site:rt.com",
        "feed:2",
        "title:Putin",
        'title:"North Korea"',
        "site:",
        "\x00",
        "\ud800",
        " ",
        "  ",
    ]
)
QUERY_TEXTS = st.one_of(
    st.text(max_size=250),
    st.lists(st.one_of(PIECES, st.text(max_size=4)), max_size=40).map(" ".join),
    st.lists(PIECES, max_size=40).map("".join),
)

VOCABULARY = ["putin", "kremlin", "north", "korea", "kim", "jong", "un", "the", "sanction"]
SPELLINGS = st.sampled_from(
    [
        *VOCABULARY,
        *("Putin’s", "KOREA", "sanctions", "sanctioned", "Jong-un", "Kremlin's"),
        *("Путин", "Путина", "上海", "今天上海下雨", "كتاب", "کتابها", "دانشجویان"),
    ]
)
SOURCES = st.sampled_from(["site:bbc.co.uk", "site:rt.com", "feed:1", "feed:2", "title:putin"])
LINKS = ["https://news.bbc.co.uk/1", "https://www.rt.com/2", ""]


def sourced(title: str, text: str) -> PreparedEntry:
    """The entry prepared with one of a few links and feeds, chosen by its text."""
    return prepare(title, text, link=LINKS[len(title) % 3], feed_id=len(text) % 3)


def parsed(text: str, mode: QueryMode) -> Query | None:
    try:
        return parse_query(text, mode=mode)
    except InvalidQueryError:
        return None


@settings(max_examples=400, deadline=None)
@given(QUERY_TEXTS, MODES)
def test_any_text_parses_to_a_query_or_an_invalid_query_error(text: str, mode: QueryMode) -> None:
    query = parsed(text, mode)

    assert query is None or query.clauses


@settings(max_examples=300, deadline=None)
@given(QUERY_TEXTS, MODES)
def test_the_canonical_and_display_forms_parse_back_to_the_same_query(
    text: str, mode: QueryMode
) -> None:
    query = parsed(text, mode)
    if query is None:
        return

    # Normalising can lengthen a word (ﬁ → fi), so the canonical form may pass the limit.
    assert parse_query(query.canonical, mode=mode, max_length=10_000) == query
    assert parse_query(query.display, mode=mode) == query


@settings(max_examples=300, deadline=None)
@given(QUERY_TEXTS, MODES, st.text(max_size=100), st.text(max_size=300))
def test_matching_never_raises(query_text: str, mode: QueryMode, title: str, text: str) -> None:
    query = parsed(query_text, mode)
    if query is None:
        return

    assert matches(query, prepare(title, text)) in (True, False)


@st.composite
def topic_texts(draw: st.DrawFn) -> str:
    def term() -> str:
        if draw(st.integers(0, 5)) == 0:
            return draw(SOURCES)
        spelled = " ".join(draw(st.lists(SPELLINGS, min_size=1, max_size=3)))
        return f'"{spelled}"' if draw(st.booleans()) and draw(st.booleans()) else spelled

    clauses = [
        " AND ".join(term() for _ in range(draw(st.integers(1, 3))))
        for _ in range(draw(st.integers(1, 3)))
    ]
    exclusions = [f"-{draw(SPELLINGS)}" for _ in range(draw(st.integers(0, 2)))]
    return " OR ".join(clauses) + "".join(f" {exclusion}" for exclusion in exclusions)


ENTRIES = st.tuples(
    st.lists(SPELLINGS, max_size=6).map(" ".join),
    st.lists(st.one_of(SPELLINGS, st.sampled_from([".", ",", "—", "x"])), max_size=30).map(
        " ".join
    ),
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 5), topic_texts(), MODES), min_size=1, max_size=25),
    st.lists(st.integers(0, 24), max_size=8),
    st.lists(ENTRIES, min_size=1, max_size=4),
)
def test_the_index_routes_exactly_as_a_loop_over_every_topic(
    topics: list[tuple[int, str, QueryMode]],
    removed: list[int],
    entries: list[tuple[str, str]],
) -> None:
    index = TopicIndex()
    held: dict[int, tuple[int, Query]] = {}
    for topic_id, (chat_id, text, mode) in enumerate(topics):
        query = parsed(text, mode)
        if query is not None:
            index.add(topic_id, chat_id, query)
            held[topic_id] = (chat_id, query)
    for topic_id in removed:
        index.remove(topic_id)
        held.pop(topic_id, None)

    for title, text in entries:
        entry = sourced(title, text)
        looped: dict[int, list[int]] = {}
        for topic_id, (chat_id, query) in held.items():
            if matches(query, entry):
                looped.setdefault(chat_id, []).append(topic_id)

        routing = index.match(entry)

        looked_up = {chat: sorted(routing.topics_for(chat)) for chat in range(6)}
        assert {chat: topics for chat, topics in looked_up.items() if topics} == looped
        assert set(routing.chats) == set(looped)
        pairs = list(routing.items())
        assert {chat: sorted(topics) for chat, topics in pairs} == looped
        assert len(pairs) == len(routing) == len(looped)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 9), st.integers(0, 5), topic_texts(), ENTRIES),
        min_size=1,
        max_size=20,
    )
)
def test_a_routing_keeps_what_it_matched_while_topics_come_and_go(
    steps: list[tuple[int, int, str, tuple[str, str]]],
) -> None:
    index = TopicIndex()
    held: dict[int, tuple[int, Query]] = {}
    kept: list[tuple[Routing, dict[int, list[int]]]] = []
    for topic_id, chat_id, text, (title, body) in steps:
        # Each step adds a topic, or removes it if it is held or its text is no query.
        query = parsed(text, "topic")
        if topic_id in held or query is None:
            index.remove(topic_id)
            held.pop(topic_id, None)
        else:
            index.add(topic_id, chat_id, query)
            held[topic_id] = (chat_id, query)
        entry = sourced(title, body)
        looped: dict[int, list[int]] = {}
        for held_id, (held_chat, held_query) in sorted(held.items()):
            if matches(held_query, entry):
                looped.setdefault(held_chat, []).append(held_id)
        kept.append((index.match(entry), looped))

    for routing, looped in kept:
        assert len(routing) == len(looped)
        assert {chat: sorted(topics) for chat, topics in routing.items()} == looped


WRITTEN = st.sampled_from(
    [
        "Putin",
        "sanctions",
        "Russia’s",
        "Jong-un",
        "Путина",
        "Київ",
        "Σύνοδος",
        "مُحَمَّد",
        "کتابها",
        "دانشجویان",
        "שָׁלוֹם",
        "今天上海下雨",
        "トランプ氏",
        "ｶﾞｽ",
        "서울에서",
        "İstanbul'da",
        "Straße",
        "Cœur",
        "Hà Nội",
    ]
)
LETTERS = st.text(
    alphabet=st.characters(categories=["Lu", "Ll", "Lo", "Mn", "Nd"], exclude_characters="OA"),
    min_size=1,
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(WRITTEN, LETTERS), min_size=1, max_size=6).map(" ".join), MODES)
def test_a_topic_always_matches_the_text_it_was_written_from(text: str, mode: QueryMode) -> None:
    query = parsed(text, mode)
    if query is None:  # no word in it (only marks, say)
        return

    assert matches(query, prepare(text, "", link="https://x.example/", feed_id=1))
    assert matches(query, prepare("", text))
