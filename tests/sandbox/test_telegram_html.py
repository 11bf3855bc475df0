"""Telegram's HTML parse mode: entities produced and errors given, without a server."""

from __future__ import annotations

import pytest

from bot.sandbox.entities import Entity
from bot.sandbox.telegram_html import EntityParseError, parse_html


def test_tags_become_entities_at_utf16_offsets() -> None:
    text, entities = parse_html("🌍 <b>North Korea</b> &amp; <i>sanctions</i>")

    assert text == "🌍 North Korea & sanctions"
    assert entities == [Entity("bold", 3, 11), Entity("italic", 17, 9)]


@pytest.mark.parametrize(
    ("html", "entity_type"),
    [
        ("<b>x</b>", "bold"),
        ("<strong>x</strong>", "bold"),
        ("<i>x</i>", "italic"),
        ("<em>x</em>", "italic"),
        ("<u>x</u>", "underline"),
        ("<ins>x</ins>", "underline"),
        ("<s>x</s>", "strikethrough"),
        ("<strike>x</strike>", "strikethrough"),
        ("<del>x</del>", "strikethrough"),
        ('<span class="tg-spoiler">x</span>', "spoiler"),
        ("<tg-spoiler>x</tg-spoiler>", "spoiler"),
        ("<code>x</code>", "code"),
        ("<pre>x</pre>", "pre"),
        ("<blockquote>x</blockquote>", "blockquote"),
        ("<blockquote expandable>x</blockquote>", "expandable_blockquote"),
        ("<B>x</B>", "bold"),
    ],
)
def test_each_supported_tag_makes_its_entity(html: str, entity_type: str) -> None:
    assert parse_html(html) == ("x", [Entity(entity_type, 0, 1)])


def test_link_keeps_its_url_with_the_path_telegram_adds() -> None:
    text, entities = parse_html('Read <a href="https://example.com">the story</a>')

    assert text == "Read the story"
    assert entities == [Entity("text_link", 5, 9, url="https://example.com/")]


def test_link_query_keeps_escaped_ampersands_decoded() -> None:
    _, entities = parse_html('<a href="https://example.com/a?x=1&amp;y=2">x</a>')

    assert entities == [Entity("text_link", 0, 1, url="https://example.com/a?x=1&y=2")]


def test_link_without_scheme_gets_http() -> None:
    _, entities = parse_html('<a href="example.com/news">x</a>')

    assert entities == [Entity("text_link", 0, 1, url="http://example.com/news")]


def test_link_telegram_cannot_open_is_dropped_but_its_text_stays() -> None:
    assert parse_html('<a href="javascript:alert(1)">click</a>') == ("click", [])


def test_pre_around_code_with_language_is_one_pre_entity() -> None:
    html = '<pre><code class="language-python">print("hi")</code></pre>'

    assert parse_html(html) == ('print("hi")', [Entity("pre", 0, 11, language="python")])


def test_pre_around_plain_code_is_just_pre() -> None:
    assert parse_html("<pre><code>x = 1</code></pre>") == ("x = 1", [Entity("pre", 0, 5)])


def test_code_language_outside_pre_is_forgotten() -> None:
    assert parse_html('<code class="language-sql">select</code>') == (
        "select",
        [Entity("code", 0, 6)],
    )


def test_custom_emoji_carries_its_id() -> None:
    _, entities = parse_html('<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>')

    assert entities == [Entity("custom_emoji", 0, 2, custom_emoji_id="5368324170671202286")]


def test_character_references_decode() -> None:
    text, entities = parse_html("&lt;b&gt; &amp; &quot;q&quot; &#65;&#x42; &#x1F600;")

    assert text == '<b> & "q" AB 😀'
    assert entities == []


def test_nested_tags_give_outer_entity_first() -> None:
    _, entities = parse_html("<b>bold <i>both</i></b>")

    assert entities == [Entity("bold", 0, 9), Entity("italic", 5, 4)]


def test_touching_entities_of_one_type_merge() -> None:
    assert parse_html("<b>a</b><b>b</b>") == ("ab", [Entity("bold", 0, 2)])


def test_formatting_inside_code_is_dropped() -> None:
    assert parse_html("<code><b>x</b></code>") == ("x", [Entity("code", 0, 1)])


def test_surrounding_whitespace_is_trimmed_and_entities_follow() -> None:
    assert parse_html("\n  <b> hi</b>  \n") == ("hi", [Entity("bold", 0, 2)])


def test_empty_tags_make_no_entity() -> None:
    assert parse_html("a<b></b>b") == ("ab", [])


@pytest.mark.parametrize(
    ("html", "detail"),
    [
        ("<script>alert(1)</script>", 'Unsupported start tag "script" at byte offset 0'),
        ("<b>breaking", 'Can\'t find end tag corresponding to start tag "b"'),
        (
            "<b><i>x</b></i>",
            'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"',
        ),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("é<br>", 'Unsupported start tag "br" at byte offset 2'),
        ("text <b", "Unclosed start tag at byte offset 5"),
        ("<b>x</b", "Unclosed end tag at byte offset 4"),
        ('<span class="x">y</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("<a href=https://x.org>y</a>", "Unexpected end of name token at byte offset 8"),
        ('<tg-emoji emoji-id="abc">x</tg-emoji>', "Invalid custom emoji identifier specified"),
        ("AT&T", 'Character "&" must be escaped as "&amp;" at byte offset 2'),
        ("Q&A", 'Character "&" must be escaped as "&amp;" at byte offset 1'),
        ("a&nbsp;b", 'Unsupported HTML entity "&nbsp;" at byte offset 1'),
        ('<a href="https://x.org/?a=1&b=2">y</a>', 'Character "&" must be escaped'),
    ],
)
def test_invalid_html_is_refused_with_telegrams_detail(html: str, detail: str) -> None:
    with pytest.raises(EntityParseError) as raised:
        parse_html(html)

    assert raised.value.detail.startswith(detail)


def test_lenient_mode_keeps_unescaped_ampersands_as_telegram_does() -> None:
    assert parse_html("AT&T &nbsp; Q&A", strict_ampersands=False) == ("AT&T &nbsp; Q&A", [])


def test_lenient_mode_still_refuses_unescaped_angle_brackets() -> None:
    with pytest.raises(EntityParseError):
        parse_html("a < b", strict_ampersands=False)
