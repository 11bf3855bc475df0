"""Alert cards and lists as Telegram will show them, within its limits."""

import datetime as dt

import pytest

from bot import formatting
from bot.domain import AddedTopic, Entry, Topic, TopicMode
from bot.sandbox.telegram_html import parse_html
from tests.conftest import NOW


def make_entry(**fields: object) -> Entry:
    values: dict[str, object] = {
        "id": 1,
        "feed_id": 1,
        "feed_title": "World News",
        "key": "k1",
        "title": "Kim Jong Un meets Putin in Vladivostok",
        "summary": "The leaders discussed arms, sanctions and a new rail link.",
        "link": "https://news.example/kim-putin",
        "author": "",
        "published_at": NOW - dt.timedelta(minutes=5),
        "first_seen_at": NOW,
    }
    values.update(fields)
    return Entry(**values)  # type: ignore[arg-type]


def telegram_accepts(markup: str) -> str:
    """The text a user would see; raises as Telegram would refuse the message."""
    text, _ = parse_html(markup)
    assert 0 < formatting.utf16_len(text) <= 4096
    return text


def test_an_alert_card_shows_title_link_source_time_summary_and_topics() -> None:
    card = formatting.alert_card(
        make_entry(), topics=["Kim Jong Un", "Putin"], timezone="Europe/London", now=NOW
    )

    text = telegram_accepts(card)
    assert '<b><a href="https://news.example/kim-putin">Kim Jong Un meets Putin' in card
    assert "World News · 09:25" in text
    assert "The leaders discussed arms" in text
    assert "Kim Jong Un, Putin" in text


def test_a_breaking_card_says_so_first() -> None:
    card = formatting.alert_card(make_entry(), topics=[], timezone="UTC", now=NOW, breaking=True)

    assert telegram_accepts(card).startswith("🔴 BREAKING")


def test_the_time_is_shown_in_the_chats_time_zone() -> None:
    card = formatting.alert_card(make_entry(), topics=[], timezone="Asia/Kathmandu", now=NOW)

    assert "15:10" in telegram_accepts(card)


@pytest.mark.parametrize(
    "title",
    [
        "<script>alert(1)</script> & friends",
        "Tom & Jerry < Spike > everyone",
        "An <b>unbalanced bold title",
        "&amp; &nbsp; &lt;b&gt; already escaped",
        "x" * 20_000,
        "😀" * 5_000,
    ],
)
def test_hostile_titles_make_an_alert_telegram_accepts(title: str) -> None:
    entry = make_entry(title=title, summary="<i>text</i> & more " * 1_000, link="javascript:x")

    card = formatting.alert_card(entry, topics=["<b>topic</b>"], timezone="UTC", now=NOW)

    text = telegram_accepts(card)
    assert title[:50] in text
    assert "javascript" not in card


def test_a_long_summary_is_cut_at_a_word_near_400_characters() -> None:
    summary = " ".join(["sanctions"] * 200)

    card = formatting.alert_card(make_entry(summary=summary), topics=[], timezone="UTC", now=NOW)

    shown = next(line for line in telegram_accepts(card).splitlines() if "sanctions" in line)
    assert len(shown) <= 400
    assert shown.endswith("sanctions…")


def test_shorten_never_splits_a_surrogate_pair() -> None:
    shortened = formatting.shorten("😀" * 10, 7)

    assert formatting.utf16_len(shortened) <= 7
    assert shortened == "😀😀😀…"


def test_several_waiting_alerts_become_one_list_with_every_title() -> None:
    entries = [
        (make_entry(id=i, title=f"Story {i}", link=f"https://n.example/{i}"), ["Putin"])
        for i in range(3)
    ]

    [message] = formatting.alert_list(entries, timezone="UTC", now=NOW)

    text = telegram_accepts(message)
    assert "3 new stories" in text
    for i in range(3):
        assert f"Story {i}" in text


def test_a_list_too_long_for_one_message_is_split_at_line_boundaries() -> None:
    entries: list[tuple[Entry, list[str]]] = [
        (make_entry(id=i, title=f"Story {i} " + "word " * 30, link=f"https://n.example/{i}"), [])
        for i in range(100)
    ]

    messages = formatting.alert_list(entries, timezone="UTC", now=NOW)

    assert len(messages) > 1
    shown = "\n".join(telegram_accepts(message) for message in messages)
    for i in range(100):
        assert f"Story {i} " in shown


def test_relative_times_read_naturally() -> None:
    assert formatting.relative_time(NOW, now=NOW) == "just now"
    assert formatting.relative_time(NOW - dt.timedelta(minutes=12), now=NOW) == "12 min ago"
    assert formatting.relative_time(NOW - dt.timedelta(hours=3), now=NOW) == "3 h ago"
    assert formatting.relative_time(NOW - dt.timedelta(days=1, hours=2), now=NOW) == "yesterday"
    assert formatting.relative_time(NOW - dt.timedelta(days=4), now=NOW) == "4 days ago"


def test_dates_on_other_days_show_the_day() -> None:
    earlier = NOW - dt.timedelta(days=2)

    assert formatting.local_time(earlier, "UTC", now=NOW) == "12 Mar 09:30"


def test_a_date_only_entry_shows_its_date_without_an_invented_time() -> None:
    entry = make_entry(published_at=dt.datetime(2026, 3, 12, tzinfo=dt.UTC), date_only=True)

    card = formatting.alert_card(entry, topics=[], timezone="America/New_York", now=NOW)
    [listing] = formatting.alert_list([(entry, []), (entry, [])], timezone="Asia/Tokyo", now=NOW)

    assert telegram_accepts(card).splitlines()[1] == "World News · 12 Mar"
    assert telegram_accepts(listing).splitlines()[1].endswith(" · World News · 12 Mar")


def test_a_date_only_entry_in_a_relative_list_counts_days_not_hours() -> None:
    today = make_entry(published_at=NOW.replace(hour=0, minute=0), date_only=True)
    earlier = make_entry(published_at=dt.datetime(2026, 3, 11, tzinfo=dt.UTC), date_only=True)

    text = telegram_accepts(
        formatting.latest_list(
            [today, earlier], query=None, timezone="UTC", now=NOW, show_ids=False
        )
    )

    assert "World News · today" in text
    assert "World News · 3 days ago" in text
    assert " h ago" not in text


def test_a_title_with_angle_brackets_reaches_the_chat_as_written() -> None:
    card = formatting.alert_card(
        make_entry(title="Q3 results for <ACME> & partners"), topics=[], timezone="UTC", now=NOW
    )

    assert telegram_accepts(card).startswith("Q3 results for <ACME> & partners\n")


@pytest.mark.parametrize(
    ("query", "meant"),
    [("Putin or Kremlin", "Putin OR Kremlin"), ("putin and xi", "putin AND xi")],
)
def test_a_topic_with_a_lowercase_or_says_how_to_mean_either(query: str, meant: str) -> None:
    topic = Topic(1, 1, query, query.lower(), TopicMode.INSTANT, NOW)

    shown = formatting.topic_added(AddedTopic(topic, 0, ()), timezone="UTC", now=NOW)

    assert f"<code>/topic {meant}</code>" in shown


def test_a_topic_with_or_in_capitals_or_at_an_edge_gets_no_hint() -> None:
    for query in ("Putin OR Kremlin", "Or Tambo", "rock and"):
        topic = Topic(1, 1, query, query.lower(), TopicMode.INSTANT, NOW)
        shown = formatting.topic_added(AddedTopic(topic, 0, ()), timezone="UTC", now=NOW)
        assert "lowercase" not in shown
