"""Text a feed declares as text is shown as written; only HTML loses its tags."""

from __future__ import annotations

from tests.feeds.documents import atom, item, json_feed, parse, rss


def test_an_atom_text_title_keeps_its_angle_brackets() -> None:
    feed = parse(
        atom(
            '<entry><id>1</id><title type="text">The &lt;template&gt; tag, explained</title>'
            '<summary type="text">Use &lt;template&gt; &amp; &lt;slot&gt; together.</summary>'
            "</entry>"
        ),
        content_type="application/atom+xml",
    )

    assert feed.entries[0].title == "The <template> tag, explained"
    assert feed.entries[0].summary == "Use <template> & <slot> together."


def test_an_rss_title_that_is_plain_text_keeps_its_angle_brackets() -> None:
    feed = parse(rss(item("Q3 results for &lt;ACME&gt;", guid="1")))

    assert feed.entries[0].title == "Q3 results for <ACME>"


def test_a_json_feed_title_is_plain_text() -> None:
    feed = parse(
        json_feed({"id": "1", "title": "Q3 results for <ACME>", "content_text": "a <b> c"}),
        content_type="application/feed+json",
    )

    assert (feed.entries[0].title, feed.entries[0].summary) == ("Q3 results for <ACME>", "a <b> c")


def test_titles_declared_html_are_still_stripped_of_markup_scripts_and_styles() -> None:
    feed = parse(
        atom(
            '<entry><id>1</id><title type="html">&lt;b&gt;Breaking&lt;/b&gt;: a '
            "&lt;script&gt;alert(1)&lt;/script&gt;&lt;style&gt;b{}&lt;/style&gt;deal</title>"
            "</entry>"
        ),
        content_type="application/atom+xml",
    )

    assert feed.entries[0].title == "Breaking: a deal"


def test_an_atom_text_title_that_looks_like_markup_is_still_text() -> None:
    feed = parse(
        atom(
            '<entry><id>1</id><title type="text">'
            "Use &lt;b&gt;bold&lt;/b&gt; &amp;amp; not &lt;i&gt;</title></entry>"
        ),
        content_type="application/atom+xml",
    )

    assert feed.entries[0].title == "Use <b>bold</b> &amp; not <i>"
