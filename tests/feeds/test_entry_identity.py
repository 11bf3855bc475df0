"""Entry keys: a publisher's id only when it identifies one story, else the content."""

from __future__ import annotations

import pytest

from tests.feeds.documents import HOME, item, json_feed, parse, rss


@pytest.mark.parametrize("placeholder", ["0", "none", "None", "", "  ", HOME, "null"])
def test_placeholder_guids_do_not_merge_different_stories(placeholder: str) -> None:
    feed = parse(
        rss(
            item("Summer sale starts", guid=placeholder, link=HOME),
            item("Spring sale starts", guid=placeholder, link=HOME),
        )
    )

    assert [entry.title for entry in feed.entries] == ["Summer sale starts", "Spring sale starts"]
    assert len({entry.key for entry in feed.entries}) == 2
    assert placeholder.strip() not in {entry.key for entry in feed.entries}


def test_a_placeholder_guid_is_not_an_identity_even_on_a_lone_item() -> None:
    spring = parse(rss(item("Spring sale starts", guid="0", link=HOME))).entries[0]
    summer = parse(rss(item("Summer sale starts", guid="0", link=HOME))).entries[0]

    assert spring.key != summer.key


def test_the_same_guid_on_every_item_is_not_an_identity() -> None:
    feed = parse(
        rss(
            item("Ceasefire holds", guid="story", link="https://shop.example/a"),
            item("Talks resume", guid="story", link="https://shop.example/b"),
            item("Aid arrives", guid="story", link="https://shop.example/c"),
        )
    )

    assert [entry.title for entry in feed.entries] == [
        "Ceasefire holds",
        "Talks resume",
        "Aid arrives",
    ]
    assert len({entry.key for entry in feed.entries}) == 3


def test_items_without_guids_sharing_one_link_are_each_their_own_entry() -> None:
    feed = parse(rss(item("Summer sale starts", link=HOME), item("Spring sale starts", link=HOME)))

    assert [entry.title for entry in feed.entries] == ["Summer sale starts", "Spring sale starts"]
    assert len({entry.key for entry in feed.entries}) == 2


def test_json_feed_ids_shared_by_different_items_are_not_identities() -> None:
    feed = parse(
        json_feed(
            {"id": "1", "title": "Summer sale starts", "url": HOME},
            {"id": "1", "title": "Spring sale starts", "url": HOME},
        ),
        content_type="application/feed+json",
    )

    assert [entry.title for entry in feed.entries] == ["Summer sale starts", "Spring sale starts"]
    assert len({entry.key for entry in feed.entries}) == 2


def test_content_keys_stay_the_same_when_the_feed_grows() -> None:
    spring = item("Spring sale starts", guid="0", link=HOME)
    before = parse(rss(spring))
    after = parse(rss(item("Summer sale starts", guid="0", link=HOME), spring))

    assert after.entries[1].key == before.entries[0].key


def test_stories_alike_but_for_their_text_are_still_two_entries() -> None:
    feed = parse(
        rss(
            item("Sale", guid="0", link=HOME, extra="<description>Shoes half price</description>"),
            item("Sale", guid="0", link=HOME, extra="<description>Hats half price</description>"),
        )
    )

    assert [entry.summary for entry in feed.entries] == ["Shoes half price", "Hats half price"]
    assert len({entry.key for entry in feed.entries}) == 2


def test_an_item_listed_twice_is_one_entry() -> None:
    twice = item("Ceasefire holds", guid="story-1", link="https://shop.example/a")

    feed = parse(rss(twice, item("Talks resume", guid="story-2"), twice))

    assert [(entry.key, entry.title) for entry in feed.entries] == [
        ("story-1", "Ceasefire holds"),
        ("story-2", "Talks resume"),
    ]


def test_unique_guids_stay_the_keys() -> None:
    feed = parse(
        rss(
            item("Ceasefire holds", guid="story-1", link=HOME),
            item("Talks resume", guid="story-2", link=HOME),
        )
    )

    assert [entry.key for entry in feed.entries] == ["story-1", "story-2"]
