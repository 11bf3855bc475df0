"""Legacy encoding labels read as browsers read them (the WHATWG label table)."""

from __future__ import annotations

import pytest

from tests.feeds.documents import parse


@pytest.mark.parametrize(
    ("label", "title", "codec"),
    [
        ("shift_jis", "①号店 セール", "cp932"),
        ("big5", "香港 嘅 新聞", "big5hkscs"),
        ("gb2312", "镕基 访问", "gbk"),
        ("euc-kr", "똠방각하 뉴스", "cp949"),
        ("iso-8859-1", "“Quoted” – Russia’s €", "cp1252"),
        ("us-ascii", "“Quoted” – Russia’s €", "cp1252"),
    ],
)
def test_legacy_labels_are_decoded_as_browsers_decode_them(
    label: str, title: str, codec: str
) -> None:
    body = (
        f'<?xml version="1.0" encoding="{label}"?><rss version="2.0"><channel><title>t</title>'
        f"<item><title>{title}</title><guid>1</guid></item></channel></rss>"
    ).encode(codec)

    feed = parse(body, content_type="text/xml")

    assert feed.entries[0].title == title


def test_when_http_and_xml_labels_disagree_the_one_that_decodes_cleanly_wins() -> None:
    title = "東京 ニュース ①"
    body = (
        '<?xml version="1.0" encoding="shift_jis"?><rss version="2.0"><channel><title>t</title>'
        f"<item><title>{title}</title><guid>1</guid></item></channel></rss>"
    ).encode("cp932")

    feed = parse(body, content_type="application/rss+xml; charset=iso-8859-1")

    assert feed.entries[0].title == title


def test_a_legacy_feed_with_one_bad_byte_keeps_the_rest_of_its_text() -> None:
    written = (
        '<?xml version="1.0" encoding="shift_jis"?><rss version="2.0"><channel><title>t</title>'
        "<item><title>東京 ニュース BAD</title><guid>1</guid></item></channel></rss>"
    )
    body = written.encode("cp932").replace(b"BAD", b"\x81\x7f")

    feed = parse(body, content_type="text/xml")

    assert feed.entries[0].title == "東京 ニュース \ufffd"


@pytest.mark.parametrize("label", ["utf-16", "iso-2022-kr", "no-such-encoding"])
def test_a_label_that_cannot_be_true_is_ignored(label: str) -> None:
    body = (
        f'<?xml version="1.0" encoding="{label}"?><rss version="2.0"><channel><title>t</title>'
        "<item><title>Caf\xe9 \u201cquoted\u201d</title><guid>1</guid></item></channel></rss>"
    ).encode("cp1252")

    feed = parse(body, content_type="text/xml")

    assert feed.entries[0].title == "Café “quoted”"
