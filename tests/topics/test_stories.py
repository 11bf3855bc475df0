"""Near-duplicate stories: copies of one story found, different events kept apart."""

from __future__ import annotations

import datetime as dt

import pytest

from bench.cluster_eval import PRECISION_TARGET, RECALL_TARGET, herald_result
from bot.topics.stories import StoryIndex, canonical_url, fingerprint, same_story, shingles

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
        ("https://m.example.com/world/story#comments", "https://example.com/world/story"),
        ("https://example.com/world/story#xtor=RSS-3", "https://example.com/world/story"),
        (
            "https://news.example/2026/06/19/pact-signed/amp/",
            "https://news.example/2026/06/19/pact-signed",
        ),
        ("https://mobile.example.com/world/story.amp", "https://example.com/world/story"),
        ("https://example.com/article?id=7&gclid=x", "https://example.com/article?id=7"),
        ("https://example.com/a?b=2&a=1", "https://example.com/a?a=1&b=2"),
        ("https://EXAMPLE.com:443/Story", "https://example.com/Story"),
        # AMP copies: a parameter, an ".amp.html" page, an "amp" folder before the
        # article's name, Google's AMP cache.
        ("https://example.com/world/story?output=amp", "https://example.com/world/story"),
        ("https://example.com/world/story-1.amp.html", "https://example.com/world/story-1.html"),
        ("https://www.bbc.co.uk/news/amp/world-123", "https://bbc.co.uk/news/world-123"),
        (
            "https://www-bbc-co-uk.cdn.ampproject.org/c/s/www.bbc.co.uk/news/amp/world-123",
            "https://bbc.co.uk/news/world-123",
        ),
        # A redirect through Google (Google Alerts' feeds) is the page it leads to.
        (
            "https://www.google.com/url?rct=j&sa=t&url=https://example.com/world/story"
            "%3Futm_source%3Dalert&ct=ga&cd=CAEYACoTM&usg=AOvVaw1",
            "https://example.com/world/story",
        ),
        # One host, in Unicode or in Punycode; one byte, in either case of hex.
        ("https://www.bücher.example/a", "https://xn--bcher-kva.example/a"),
        ("https://example.com/caf%c3%a9?q=%c3%a9", "https://example.com/caf%C3%A9?q=%C3%A9"),
        # More trackers: Guardian, HubSpot, Marketo, Yahoo, Verizon.
        (
            "https://example.com/a?CMP=share_btn_tw&_hsenc=p2&mkt_tok=x&ncid=rss&guccounter=1",
            "https://example.com/a",
        ),
        ("http://[::1]:8080/a?utm_source=x", "https://[::1]:8080/a"),
        # A redirect's target, written raw or encoded, is kept as written.
        (
            "https://www.google.com/url?rct=j&url=https://example.com/caf%E9-1&ct=ga",
            "https://example.com/caf%E9-1",
        ),
        (
            "https://www.google.com/url?url=https%3A%2F%2Fexample.com%2Fcaf%25E9-1",
            "https://example.com/caf%E9-1",
        ),
        (
            "https://www.google.com/url?url=https%3A%2F%2Fexample.com%2Fcaf%C3%A9-1",
            "https://example.com/caf%C3%A9-1",
        ),
        (
            "https://www.google.com/url?url=https://example.com/news%2F1-a",
            "https://example.com/news%2F1-a",
        ),
        (
            "https://example-com.cdn.ampproject.org/c/s/example.com/live-1#post-2",
            "https://example.com/live-1#post-2",
        ),
        # IDNA 2008 (RFC 5891): "ß" is a letter of its own, not "ss".
        ("https://straße.example/a", "https://xn--strae-oqa.example/a"),
        ("", ""),
    ],
)
def test_copies_of_one_page_have_one_canonical_link(link: str, canonical: str) -> None:
    assert canonical_url(link) == canonical


@pytest.mark.parametrize(
    ("one", "other"),
    [
        # A live blog's posts, and pages of a site that routes by its fragment.
        (
            "https://live.example/live/turkey-quake#post-1",
            "https://live.example/live/turkey-quake#post-2",
        ),
        ("https://example.com/#!/article/123", "https://example.com/#!/article/456"),
        # "ref" names a branch here, not who sent the reader.
        ("https://github.com/x/y/compare?ref=main", "https://github.com/x/y/compare?ref=dev"),
        # "amp" is the page's own name, not an AMP copy of another.
        ("https://example.com/products/amp", "https://example.com/products"),
        ("https://example.com/amp", "https://example.com/"),
        ("https://example.com/a/amp/b", "https://example.com/a/b"),
        # Query values in a legacy encoding (Windows-1251 "Путин" and "Киева"), byte for byte.
        (
            "http://news.example.ru/view.php?tag=%CF%F3%F2%E8%ED",
            "http://news.example.ru/view.php?tag=%CA%E8%E5%E2%E0",
        ),
        ("https://example.com/a?output=rss", "https://example.com/a?output=atom"),
    ],
)
def test_links_to_different_pages_stay_different(one: str, other: str) -> None:
    assert canonical_url(one) != canonical_url(other)


@pytest.mark.parametrize(
    "link", ["http://", "https://", "https://example.com/", "http://example.com", "not a link"]
)
def test_a_link_naming_no_page_has_no_canonical_form(link: str) -> None:
    """A front page or a broken link names no story, so it joins no other entry."""
    assert canonical_url(link) == ""


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

    found = index.find(
        fingerprint(*PACT_REPUBLISHED), "https://b.example/putin-kim", feed=2, at=NOW
    )

    assert found == (1, "link:a")


def test_the_same_leaders_at_another_event_are_another_story() -> None:
    index = index_with((1, "link:a", PACT, "https://a.example/pact"))

    assert (
        index.find(fingerprint(*SPACEPORT), "https://b.example/vostochny", feed=2, at=NOW) is None
    )


def test_the_same_page_behind_tracking_parameters_is_the_same_story() -> None:
    index = index_with((1, "link:a", PACT, "https://a.example/pact"))

    found = index.find(
        fingerprint("Breaking", "Live"),
        "https://www.a.example/pact/?utm_source=telegram",
        feed=2,
        at=NOW,
    )

    assert found == (1, "link:a")


def test_a_story_leaves_the_window_after_it() -> None:
    index = index_with((1, "link:a", PACT, "https://a.example/pact"))

    assert index.expire(NOW + WINDOW) == 0
    assert index.expire(NOW + WINDOW + dt.timedelta(seconds=1)) == 1

    assert (
        index.find(fingerprint(*PACT_REPUBLISHED), "https://a.example/pact", feed=2, at=NOW)
        is None
    )
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
    later = NOW + WINDOW + dt.timedelta(minutes=2)
    assert index.find(fingerprint(*PACT_REPUBLISHED), "", feed=2, at=later) == (500, "pact")


def test_held_out_stories_meet_the_precision_target_and_copies_the_recall_target() -> None:
    """bench/data/stories.json, the half the threshold was not chosen on."""
    result = herald_result()

    assert result.precision >= PRECISION_TARGET
    found, of = result.recall_by_kind["republished copy"]
    assert of >= 25
    assert found / of >= RECALL_TARGET


@pytest.mark.parametrize("link", ["http://example.com:port/a", "http://[::1/a"])
def test_a_malformed_link_is_its_own_canonical_form(link: str) -> None:
    assert canonical_url(link) == link


def test_headlines_alone_that_differ_by_a_number_are_not_one_story() -> None:
    index = index_with((1, "day-29", ("Ukraine day 29 report 1", ""), "https://a.example/1"))

    assert (
        index.find(
            fingerprint("Ukraine day 29 report 2", ""), "https://a.example/2", feed=2, at=NOW
        )
        is None
    )
    assert index.find(
        fingerprint("Ukraine day 29 report 1", ""), "https://a.example/1", feed=2, at=NOW
    ) == (
        1,
        "day-29",
    )


def test_a_feeds_own_entries_are_never_one_story_by_their_words_or_their_link() -> None:
    """They share the feed's boilerplate, not a story; and a link the feed gives twice is
    one story already by its story key, while a live blog's posts share a page."""
    boilerplate = (
        " Officials said discussions would continue, with a statement expected later."
        " This is a developing story and will be updated."
    )
    talks = ("Talks on grain in Ankara resume", boilerplate)
    index = index_with((1, "a", talks, "https://a.example/1"))

    assert index.find(fingerprint(*talks), "", feed=1, at=NOW) is None
    assert index.find(fingerprint(*talks), "", feed=2, at=NOW) == (1, "a")
    assert index.find(fingerprint("Other", ""), "https://a.example/1", feed=1, at=NOW) is None
    assert index.find(fingerprint("Other", ""), "https://a.example/1", feed=2, at=NOW) == (1, "a")


def test_a_feeds_next_post_never_joins_its_own_story_through_another_feeds_link() -> None:
    """A live blog's post, linked by another feed, then the blog's next post: a new story."""
    live = "https://live.example/live/turkey-quake"
    index = index_with((1, "post-1", ("Quake: rescuers reach school", ""), f"{live}?p=1#x"))
    index.add(2, "post-1", fingerprint("Live: Turkey quake", ""), f"{live}?p=1", NOW, feed=2)

    post = fingerprint("Quake: aftershock hits Malatya", "")
    assert index.find(post, f"{live}?p=1&utm_content=2", feed=1, at=NOW) is None
    assert index.find(post, f"{live}?p=1&utm_content=2", feed=3, at=NOW) == (2, "post-1")


def test_a_link_nested_in_redirects_without_end_is_still_a_link() -> None:
    nested = "https://www.google.com/url?url=" * 1000 + "https://example.com/x-1"
    cached = "https://" + "a.cdn.ampproject.org/c/s/" * 2000 + "example.com/x-1"

    assert canonical_url(nested).startswith("https://")
    assert canonical_url(cached).startswith("https://")


@pytest.mark.parametrize(
    ("name", "word", "agree"),
    [
        ("Afghanistan", "Afghan", True),
        ("Congo", "Congolese", True),
        ("Peru", "Peruvian", True),
        ("Ukraine", "Ukrainian", True),
        ("Israel", "Israeli", True),
        ("Kentucky", "Kent", False),
        ("Indiana", "India", False),
        ("Nigeria", "Niger", False),
        ("Australia", "Austria", False),
        ("Indiana", "Indian", False),
        ("Queensland", "Queens", False),
        ("Yorkshire", "York", False),
    ],
)
def test_a_place_agrees_with_the_words_of_its_people_and_not_with_another_place(
    name: str, word: str, agree: bool
) -> None:
    text = (
        "Forecasters warned that heavy rain would continue through the weekend, with rivers"
        " expected to burst their banks and roads likely to close in low-lying districts."
    )
    first = fingerprint(f"Flood warning issued for {name}", text)
    assert same_story(first, fingerprint(f"{word} flood warning issued", text)) is agree


def test_a_number_with_or_without_thousands_separators_is_one_number() -> None:
    text = (
        "Rescuers said on Tuesday that the number of people evacuated from the flooded"
        " valley had risen overnight, with more shelters opening in nearby towns."
    )
    first = fingerprint("Floods: 1,500 evacuated in Valencia", text)
    assert same_story(first, fingerprint("Floods: 1500 evacuated in Valencia", text))
    assert same_story(first, fingerprint("Floods: 1.500 evacuated in Valencia", text))
    assert same_story(
        fingerprint("Floods: 1,500.5 tonnes of aid in Valencia", text),
        fingerprint("Floods: 1500.5 tonnes of aid in Valencia", text),
    )
    assert not same_story(first, fingerprint("Floods: 2,500 evacuated in Valencia", text))


BOILERPLATE = (
    " Follow our live coverage for the latest updates. Sign up for our newsletter to get"
    " the top stories delivered to your inbox every morning."
)


def warning(region: str, day: str) -> tuple[str, str]:
    return (
        f"Severe thunderstorm warning for {region}",
        f"The Met Office has issued a yellow weather warning for thunderstorms for {region}"
        f" from 12:00 to 21:00 on {day}. Heavy rain could cause flooding and travel disruption.",
    )


def shares(company: str, percent: int) -> tuple[str, str]:
    return (
        f"{company} shares rise {percent}% after earnings beat",
        f"Shares of {company} rose {percent}% in premarket trading on Friday after the company"
        " reported quarterly earnings that beat analyst expectations.",
    )


def result(home: str, away: str, score: str) -> tuple[str, str]:
    return (
        f"{home} {score} {away}",
        f"{home} beat {away} {score} in the Premier League on Saturday. Full match report,"
        " highlights and reaction to follow. Follow all the latest football news.",
    )


def court(city: str, age: int, day: str) -> tuple[str, str]:
    return (
        f"Man charged with murder in {city}",
        f"A {age}-year-old man has been charged with murder following the death of a woman in"
        f" {city}. He will appear before magistrates on {day}, police said.",
    )


def toll(dead: int, day: str) -> tuple[str, str]:
    return (
        f"Death toll rises to {dead} after flooding in Valencia",
        "Rescue teams continue to search for the missing after flash floods swept through the"
        f" region of Valencia on {day}, officials said.",
    )


def briefing(news: str) -> tuple[str, str]:
    return (
        "Morning briefing",
        f"Good morning. Here is what you need to know today: {news}. Sign up to get this"
        " briefing by email.",
    )


def release(company: str, news: str) -> tuple[str, str]:
    return (
        f"{company} {news}",
        f"NEW YORK, Oct. 1, 2026 /PRNewswire/ -- {company} today {news}. About {company}:"
        f" {company} is a leading provider of widgets and gadgets worldwide. Forward-looking"
        " statements: this release contains statements that involve risks.",
    )


def footer(title: str, first: str) -> tuple[str, str]:
    return (
        title,
        f"{first} The post {title} appeared first on City Times. Continue reading at City"
        " Times, your trusted source for local news and events.",
    )


def quake(magnitude: str, place: str, location: str) -> tuple[str, str]:
    return (
        f"M {magnitude} - {place}",
        f"Time 2026-11-30 10:00 UTC Location {location} Depth 10 km. The U.S. Geological"
        " Survey reports a magnitude earthquake. Did you feel it? Report shaking.",
    )


def index_close(direction: str, percent: str, points: str, day: str) -> tuple[str, str]:
    return (
        f"FTSE 100 closes {direction} {percent}%",
        f"The FTSE 100 index closed {direction} {percent}% at {points} points on {day}, while"
        " the pound was little changed against the dollar.",
    )


def closure(road: str, junction: int) -> tuple[str, str]:
    return (
        f"{road} closed between J{junction} and J{junction + 1}",
        f"The {road} is closed between junction {junction} and junction {junction + 1} due to a"
        " collision. Diversions are in place. Allow extra time for your journey.",
    )


TEMPLATED = {
    "weather warnings": (warning("Kent", "Saturday"), warning("Devon", "Sunday")),
    "one boilerplate": (
        ("Earthquake hits eastern Turkey", "A strong quake struck." + BOILERPLATE),
        ("Floods hit southern Germany", "Rivers burst their banks." + BOILERPLATE),
    ),
    "share moves": (shares("Apple", 3), shares("Amazon", 5)),
    "share moves, one figure": (shares("Apple", 3), shares("Amazon", 3)),
    "results": (result("Arsenal", "Chelsea", "2-1"), result("Liverpool", "Everton", "3-0")),
    "quakes": (
        quake("4.5", "10 km SW of Ridgecrest, CA", "35.6N 117.7W"),
        quake("5.1", "30 km N of Hualien, Taiwan", "24.2N 121.6E"),
    ),
    "press releases": (
        release("Acme Corp", "announced results"),
        release("Globex", "named a new chief"),
    ),
    "index up and down": (
        index_close("up", "0.5", "8,120", "Monday"),
        index_close("down", "1.2", "8,020", "Tuesday"),
    ),
    "briefings": (
        briefing("Parliament votes on the budget and a strike hits the railways"),
        briefing("the president visits China and a storm batters the coast"),
    ),
    "road closures": (closure("M25", 10), closure("M4", 3)),
    "a blog's footer": (
        footer("Council approves new bike lanes", "The council voted on Tuesday."),
        footer("Mayor resigns amid scandal", "The mayor stepped down."),
    ),
    "court reports": (court("Leeds", 34, "Monday"), court("Bristol", 27, "Tuesday")),
    "Chinese": (
        (
            "北京发布暴雨蓝色预警",
            "北京市气象台发布暴雨蓝色预警信号，预计今天夜间至明天白天本市将出现强降雨，请市民注意防范。",
        ),
        (
            "上海发布暴雨蓝色预警",
            "上海市气象台发布暴雨蓝色预警信号，预计今天夜间至明天白天本市将出现强降雨，请市民注意防范。",
        ),
    ),
    "Russian": (
        (
            "В Москве объявлено штормовое предупреждение",
            "МЧС предупреждает о сильном ветре и грозе в ближайшие сутки. Жителей просят не"
            " оставлять автомобили под деревьями и избегать поездок.",
        ),
        (
            "В Новосибирске объявлено штормовое предупреждение",
            "МЧС предупреждает о сильном ветре и грозе в ближайшие сутки. Жителей просят не"
            " оставлять автомобили под деревьями и избегать поездок.",
        ),
    ),
    "Arabic": (
        (
            "عاجل: انفجار في بيروت",
            "أفادت مصادر محلية بوقوع انفجار في المدينة، ولم ترد أنباء عن إصابات حتى الآن."
            " تابعونا للمزيد من التفاصيل.",
        ),
        (
            "عاجل: انفجار في دمشق",
            "أفادت مصادر محلية بوقوع انفجار في المدينة، ولم ترد أنباء عن إصابات حتى الآن."
            " تابعونا للمزيد من التفاصيل.",
        ),
    ),
    "live headlines": (
        (
            "Live updates: Israel-Hamas war, ceasefire talks resume in Cairo as aid trucks"
            " enter Gaza",
            "",
        ),
        (
            "Live updates: Israel-Hamas war, ceasefire talks collapse in Doha as strikes hit"
            " Rafah",
            "",
        ),
    ),
    "a new death toll": (toll(12, "Tuesday"), toll(40, "Wednesday")),
    # A name beginning another is another place, unless what follows makes a word of the
    # same place ("Russian", "Israeli").
    "Kent and Kentucky": (warning("Kent", "Saturday"), warning("Kentucky", "Saturday")),
    "India and Indiana": (warning("India", "Saturday"), warning("Indiana", "Saturday")),
    "Niger and Nigeria": (warning("Niger", "Saturday"), warning("Nigeria", "Saturday")),
}


@pytest.mark.parametrize(("first", "second"), TEMPLATED.values(), ids=TEMPLATED.keys())
def test_different_stories_told_through_one_template_are_not_one_story(
    first: tuple[str, str], second: tuple[str, str]
) -> None:
    """A chat following both would otherwise miss the second."""
    index = index_with((1, "first", first, "https://a.example/1"))

    assert index.find(fingerprint(*second), "https://b.example/2", feed=2, at=NOW) is None
    assert not same_story(fingerprint(*first), fingerprint(*second))


@pytest.mark.parametrize(
    ("original", "copy"),
    [
        (warning("Kent", "Saturday"), warning("Kent", "Saturday")),
        (
            ("Death toll rises to 12 after flooding in Valencia", toll(12, "Tuesday")[1]),
            ("Valencia floods: 12 dead as rescuers search for missing", toll(12, "Tuesday")[1]),
        ),
        (PACT, PACT_REPUBLISHED),
    ],
)
def test_a_copy_of_a_templated_story_is_still_the_same_story(
    original: tuple[str, str], copy: tuple[str, str]
) -> None:
    index = index_with((1, "first", original, "https://a.example/1"))

    assert index.find(fingerprint(*copy), "https://b.example/2", feed=2, at=NOW) == (1, "first")


def test_a_chain_of_look_alikes_never_joins_a_feeds_own_entries() -> None:
    """Devon's warning may join Kent's; Kent's next warning then still is its own story."""
    index = StoryIndex(WINDOW)
    kent = fingerprint(*warning("Kent", "Saturday"))
    index.add(1, "kent", kent, "https://kent.example/1", NOW, feed=1)
    index.add(2, "kent", fingerprint(*warning("Kent", "Saturday")), "", NOW, feed=2)

    later = NOW + dt.timedelta(hours=1)
    assert index.find(fingerprint(*warning("Kent", "Saturday")), "", feed=1, at=later) is None
    assert index.find(fingerprint(*warning("Kent", "Saturday")), "", feed=3, at=later) == (
        1,
        "kent",
    )


def test_a_chain_of_copies_does_not_keep_a_story_open_past_the_window() -> None:
    index = StoryIndex(WINDOW)
    index.add(1, "pact", fingerprint(*PACT), "", NOW, feed=1)
    index.add(2, "pact", fingerprint(*PACT_REPUBLISHED), "", NOW + dt.timedelta(hours=40), feed=2)
    later = NOW + dt.timedelta(hours=60)
    index.expire(later)

    assert 2 in index
    assert index.find(fingerprint(*PACT_REPUBLISHED), "", feed=3, at=later) is None


def test_a_link_is_found_while_any_member_holding_it_is_in_the_window() -> None:
    index = StoryIndex(WINDOW)
    headline = fingerprint("Headline only", "")
    index.add(1, "link:a", headline, "https://a.example/x", NOW, feed=1)
    index.add(
        2,
        "link:a",
        headline,
        "https://a.example/x?utm_source=b",
        NOW + dt.timedelta(hours=40),
        feed=2,
    )
    later = NOW + dt.timedelta(hours=49)
    index.expire(later)

    assert 1 not in index
    found = index.find(headline, "https://a.example/x?utm_source=c", feed=3, at=later)
    assert found == (2, "link:a")


def test_template_near_misses_of_the_labelled_set_are_never_one_story() -> None:
    """bench/data/templates.json, every pair: templates kept apart, their copies found."""
    result = herald_result(held_out=False, dataset="templates.json")

    assert result.false_same == 0
    found, of = result.recall_by_kind["republished copy"]
    assert of >= 15
    assert found / of >= RECALL_TARGET


def test_a_copy_is_found_among_many_entries_sharing_its_boilerplate() -> None:
    """Hundreds of a site's entries score above the threshold through its footer alone."""
    index = StoryIndex(WINDOW)
    for number in range(300):
        title = f"Place{number} council news"
        index.add(
            number, f"s{number}", fingerprint(title, title + BOILERPLATE), "", NOW, feed=number
        )
    index.add(500, "pact", fingerprint(PACT[0], PACT[1] + BOILERPLATE), "", NOW, feed=500)

    found = index.find(
        fingerprint(PACT_REPUBLISHED[0], PACT_REPUBLISHED[1] + BOILERPLATE), "", feed=2, at=NOW
    )

    assert found == (500, "pact")
