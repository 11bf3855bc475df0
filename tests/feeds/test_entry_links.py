"""Which of an entry's links is the story's: the HTML alternate first, never an image."""

from __future__ import annotations

from tests.feeds.documents import atom, item, json_feed, parse, rss


def test_an_image_enclosure_written_as_text_does_not_replace_the_article_link() -> None:
    feed = parse(
        atom(
            "<entry><id>tag:shop.example,2025:1</id><title>Sale</title>"
            '<link rel="alternate" href="https://shop.example/article"/>'
            '<link rel="enclosure" type="image/png">https://img.example/a.png</link></entry>'
        ),
        content_type="application/atom+xml",
    )

    assert feed.entries[0].link == "https://shop.example/article"


def test_a_podcast_episode_with_only_an_enclosure_links_to_the_enclosure() -> None:
    feed = parse(
        rss(
            item(
                "Episode 12",
                guid="ep12",
                extra='<enclosure url="https://pod.example/ep12.mp3" type="audio/mpeg"'
                ' length="1000"/>',
            )
        )
    )

    assert feed.entries[0].link == "https://pod.example/ep12.mp3"


def test_the_html_alternate_wins_over_other_alternates_and_related_links() -> None:
    feed = parse(
        atom(
            "<entry><id>https://shop.example/id/1</id><title>Sale</title>"
            '<link rel="related" href="https://elsewhere.example/"/>'
            '<link rel="alternate" type="application/pdf" href="https://shop.example/1.pdf"/>'
            '<link rel="alternate" type="text/html" href="https://shop.example/1.html"/>'
            '<link rel="enclosure" type="audio/mpeg" href="https://shop.example/1.mp3"/></entry>'
        ),
        content_type="application/atom+xml",
    )

    assert feed.entries[0].link == "https://shop.example/1.html"


def test_without_an_html_alternate_another_alternate_then_the_id_then_the_enclosure() -> None:
    feed = parse(
        atom(
            "<entry><id>tag:x,2025:1</id><title>a</title>"
            '<link rel="alternate" type="application/pdf" href="https://shop.example/1.pdf"/>'
            '<link rel="enclosure" href="https://shop.example/1.mp3"/></entry>'
            "<entry><id>https://shop.example/id/2</id><title>b</title>"
            '<link rel="self" type="application/atom+xml" href="https://shop.example/2.atom"/>'
            '<link rel="enclosure" href="https://shop.example/2.mp3"/></entry>'
            "<entry><id>tag:x,2025:3</id><title>c</title>"
            '<link rel="enclosure" href="https://shop.example/3.mp3"/></entry>'
        ),
        content_type="application/atom+xml",
    )

    assert [entry.link for entry in feed.entries] == [
        "https://shop.example/1.pdf",
        "https://shop.example/id/2",
        "https://shop.example/3.mp3",
    ]


def test_the_first_of_several_rss_links_is_the_story_link() -> None:
    feed = parse(
        rss(
            item(
                "t",
                guid="1",
                extra="<link>https://a.example/1</link><link>https://a.example/2</link>",
            )
        )
    )

    assert feed.entries[0].link == "https://a.example/1"


def test_a_json_feed_item_with_only_an_attachment_links_to_it() -> None:
    feed = parse(
        json_feed(
            {
                "id": "ep12",
                "title": "Episode 12",
                "attachments": [
                    {"url": "https://pod.example/ep12.mp3", "mime_type": "audio/mpeg"}
                ],
            }
        ),
        content_type="application/feed+json",
    )

    assert feed.entries[0].link == "https://pod.example/ep12.mp3"


def test_a_placeholder_permalink_guid_is_never_the_link() -> None:
    feed = parse(rss("<item><title>t</title><guid>none</guid></item>"))

    assert feed.entries[0].link == ""


def test_an_alternate_named_by_its_iana_uri_is_an_alternate() -> None:
    feed = parse(
        atom(
            "<entry><id>https://shop.example/id/1</id><title>a</title>"
            '<link rel="http://www.iana.org/assignments/relation/alternate"'
            ' href="https://shop.example/1.html"/></entry>'
        ),
        content_type="application/atom+xml",
    )

    assert feed.entries[0].link == "https://shop.example/1.html"
