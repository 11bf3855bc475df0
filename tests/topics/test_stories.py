"""Near-duplicate stories: copies of one story found, different events kept apart."""

from __future__ import annotations

import datetime as dt

import pytest

from bench.cluster_eval import PRECISION_TARGET, RECALL_TARGET, herald_result
from bot.topics.stories import StoryIndex, canonical_url, fingerprint, shingles

NOW = dt.datetime(2026, 6, 19, 12, 0, tzinfo=dt.UTC)
WINDOW = dt.timedelta(hours=48)

PACT = (
    "Putin and Kim sign mutual defence pact in Pyongyang",
    "Russian President Vladimir Putin and North Korean leader Kim Jong Un signed a strategic"
    " partnership treaty on Wednesday that includes a pledge of mutual assistance if either"
    " country is attacked, during Putin's first visit to Pyongyang in 24 years.",
)
PACT_REPUBLISHED = (
    "Russia and North Korea sign defence treaty as Putin visits Kim",
    "Russian President Vladimir Putin and North Korean leader Kim Jong Un signed a strategic"
    " partnership treaty on Wednesday that includes a pledge of mutual assistance if either"
    " country is attacked.",
)
SPACEPORT = (
    "Kim Jong Un meets Putin at Russian space base, talks of 'sacred fight'",
    "North Korea's Kim Jong Un met Vladimir Putin at the Vostochny cosmodrome in Russia's Far"
    " East on Wednesday, pledging support for Moscow as Putin offered to help Pyongyang build"
    " satellites.",
)


@pytest.mark.parametrize(
    ("link", "canonical"),
    [
        (
            "https://www.example.com/world/story?utm_source=rss&utm_medium=feed",
            "https://example.com/world/story",
        ),
        ("http://example.com/world/story/?fbclid=abc123", "https://example.com/world/story"),
        ("https://amp.example.com/world/story/amp", "https://example.com/world/story"),
        ("https://m.example.com/amp/world/story#comments", "https://example.com/world/story"),
        ("https://mobile.example.com/world/story.amp", "https://example.com/world/story"),
        ("https://example.com/article?id=7&gclid=x", "https://example.com/article?id=7"),
        ("https://example.com/a?b=2&a=1", "https://example.com/a?a=1&b=2"),
        ("https://EXAMPLE.com:443/Story", "https://example.com/Story"),
        ("", ""),
    ],
)
def test_copies_of_one_page_have_one_canonical_link(link: str, canonical: str) -> None:
    assert canonical_url(link) == canonical


def test_pages_that_differ_keep_their_difference() -> None:
    assert canonical_url("https://example.com/article?id=7") != canonical_url(
        "https://example.com/article?id=8"
    )
    assert canonical_url("https://m.example.com/a") != canonical_url("https://example.org/a")


def test_shingles_are_made_of_stems_in_every_script() -> None:
    assert shingles("Sanctions imposed", "") == shingles("sanction imposes", "")
    russian = shingles("Путин прилетел в Пекин", "")
    assert russian == shingles("ПУТИН прилетел в ПЕКИН", "")
    assert russian


def index_with(*stories: tuple[int, str, tuple[str, str], str]) -> StoryIndex:
    index = StoryIndex(WINDOW)
    for entry_id, story, (title, text), link in stories:
        index.add(entry_id, story, fingerprint(title, text), link, NOW, feed=1)
    return index


def test_a_republished_story_under_another_headline_is_the_same_story() -> None:
    index = index_with((1, "link:a", PACT, "https://a.example/pact"))

    found = index.find(fingerprint(*PACT_REPUBLISHED), "https://b.example/putin-kim", feed=2)

    assert found == (1, "link:a")


def test_the_same_leaders_at_another_event_are_another_story() -> None:
    index = index_with((1, "link:a", PACT, "https://a.example/pact"))

    assert index.find(fingerprint(*SPACEPORT), "https://b.example/vostochny", feed=2) is None


def test_the_same_page_behind_tracking_parameters_is_the_same_story() -> None:
    index = index_with((1, "link:a", PACT, "https://a.example/pact"))

    found = index.find(
        fingerprint("Breaking", "Live"), "https://www.a.example/pact/?utm_source=telegram", feed=2
    )

    assert found == (1, "link:a")


def test_a_story_leaves_the_window_after_it() -> None:
    index = index_with((1, "link:a", PACT, "https://a.example/pact"))

    assert index.expire(NOW + WINDOW) == 0
    assert index.expire(NOW + WINDOW + dt.timedelta(seconds=1)) == 1

    assert index.find(fingerprint(*PACT_REPUBLISHED), "https://a.example/pact", feed=2) is None
    assert not index.has_story("link:a")
    assert len(index) == 0


def test_a_full_window_keeps_finding_stories_as_members_come_and_go() -> None:
    index = StoryIndex(WINDOW)
    for number in range(200):
        title = f"Report number {number} on harvest figures in province {number}"
        index.add(number, f"s{number}", fingerprint(title, ""), "", NOW, feed=1)
    index.add(500, "pact", fingerprint(*PACT), "", NOW + dt.timedelta(hours=1), feed=1)
    index.expire(NOW + WINDOW + dt.timedelta(minutes=1))

    assert len(index) == 1
    assert index.find(fingerprint(*PACT_REPUBLISHED), "", feed=2) == (500, "pact")


def test_held_out_stories_meet_the_precision_target_and_copies_the_recall_target() -> None:
    """bench/data/stories.json, the half the threshold was not chosen on."""
    result = herald_result()

    assert result.precision >= PRECISION_TARGET
    found, of = result.recall_by_kind["republished copy"]
    assert of >= 25
    assert found / of >= RECALL_TARGET


@pytest.mark.parametrize("link", ["http://example.com:port/a", "http://[::1/a", "not a link"])
def test_a_malformed_link_is_its_own_canonical_form(link: str) -> None:
    assert canonical_url(link) == link


def test_headlines_alone_that_differ_by_a_number_are_not_one_story() -> None:
    index = index_with((1, "day-29", ("Ukraine day 29 report 1", ""), "https://a.example/1"))

    assert (
        index.find(fingerprint("Ukraine day 29 report 2", ""), "https://a.example/2", feed=2)
        is None
    )
    assert index.find(
        fingerprint("Ukraine day 29 report 1", ""), "https://a.example/1", feed=2
    ) == (
        1,
        "day-29",
    )


def test_a_feeds_own_entries_are_never_one_story_by_their_words() -> None:
    """They share the feed's boilerplate, not a story; the same link still is one story."""
    boilerplate = (
        " Officials said discussions would continue, with a statement expected later."
        " This is a developing story and will be updated."
    )
    index = index_with((1, "a", ("Talks on grain in Ankara", boilerplate), "https://a.example/1"))

    assert index.find(fingerprint("Talks on grain in Geneva", boilerplate), "", feed=1) is None
    assert index.find(fingerprint("Talks on grain in Geneva", boilerplate), "", feed=2) == (
        1,
        "a",
    )
    assert index.find(fingerprint("Other", ""), "https://a.example/1", feed=1) == (1, "a")
