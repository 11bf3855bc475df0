"""The matcher in every script: the table in tests/topics/scripts.py, as topics and searches."""

from __future__ import annotations

import pytest

from bot.topics import QueryMode, TopicIndex, matches, parse_query, prepare
from tests.topics.scripts import SCRIPTS, Script


@pytest.mark.parametrize("mode", ["topic", "search"])
@pytest.mark.parametrize("script", SCRIPTS, ids=str)
def test_each_query_matches_exactly_its_stories(script: Script, mode: QueryMode) -> None:
    prepared = [
        prepare(story.title, story.text, link=story.link, feed_id=1) for story in script.stories
    ]

    found = {
        text: {
            n for n, entry in enumerate(prepared) if matches(parse_query(text, mode=mode), entry)
        }
        for text, _ in script.finds
    }

    assert found == {text: set(expected) for text, expected in script.finds}


@pytest.mark.parametrize("script", SCRIPTS, ids=str)
def test_the_topic_index_routes_each_story_as_the_matcher_does(script: Script) -> None:
    index = TopicIndex()
    for topic_id, (text, _) in enumerate(script.finds):
        index.add(topic_id, topic_id, parse_query(text, mode="topic"))

    routed = {
        n: set(index.match(prepare(story.title, story.text, link=story.link, feed_id=1)).chats)
        for n, story in enumerate(script.stories)
    }

    expected = {
        n: {topic_id for topic_id, (_, found) in enumerate(script.finds) if n in found}
        for n in range(len(script.stories))
    }
    assert routed == expected
