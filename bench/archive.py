"""A realistic archive of news entries for the benchmarks, stored through Herald's storage.

The text is world news as a feed gives it: a headline and a paragraph or two about one to
three subjects (people, places, organisations, themes) drawn Zipf-like from a few thousand,
so some names are in a third of the entries and most in a handful; names come with the
spellings feeds really use (``Kim Jong-un`` and ``Kim Jong Un``, ``Russia’s``, ``Zelénsky``).
Entries are stored poll by poll through ``FeedRepository.record_success``, so the FTS5 index
and its triggers are Herald's own, and the database is cached by size and seed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import random
import sys
import time
from collections.abc import Callable, Sequence
from itertools import accumulate
from pathlib import Path

from bench.corpus import FILLER, PLACES
from bot.domain import ParsedEntry
from bot.storage.database import Database
from bot.storage.feeds import FeedRepository
from bot.storage.interfaces import PollSuccess

# Bump when the text, the feeds or the schedule change, so stale caches aren't reused.
VERSION = 1
CACHE = Path("/tmp/herald-bench")
# The archive spans the 90 days before this moment. A fixed moment keeps it reproducible;
# whoever runs a bot on it with a real clock must keep it from being pruned.
ANCHOR = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
SPAN = dt.timedelta(days=90)
# The archive's own feeds are never due: a bot started on it must not poll news.example.
NEVER = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
# Entries per feed and poll, about: "batches of a few hundred" keep ingest near its best.
POLL_SIZE = 300
VOCABULARY_SEED = 2026

# (title, host, share of all entries): a couple of wires carry most of it.
FEEDS = [
    ("World Desk", "world.news.example", 0.22),
    ("Global Wire", "wire.example", 0.18),
    ("Europe Today", "europe.example", 0.10),
    ("Asia Pacific Report", "asia.example", 0.09),
    ("Middle East Monitor", "mideast.example", 0.08),
    ("Africa Dispatch", "africa.example", 0.06),
    ("Americas Briefing", "americas.example", 0.06),
    ("Markets & Trade", "markets.example", 0.06),
    ("Defence Weekly", "defence.example", 0.05),
    ("Climate Watch", "climate.example", 0.04),
    ("Diplomatic Notes", "diplomacy.example", 0.03),
    ("Evening Bulletin", "bulletin.example", 0.03),
]

# The names feeds mention most, roughly in order; the rest follow in a fixed shuffle.
TOP = [
    "Russia", "Ukraine", "Israel", "Gaza", "China", "Trump", "Putin", "Iran", "Zelensky",
    "United States", "Nato", "EU", "Kyiv", "Moscow", "Netanyahu", "Hamas", "Syria", "Lebanon",
    "Hezbollah", "Washington", "Beijing", "North Korea", "Xi Jinping", "India", "Taiwan",
    "Kremlin", "White House", "Europe", "Britain", "France", "Germany", "Turkey", "Sudan",
    "UN", "Houthis", "Red Sea", "West Bank", "Pakistan", "Japan", "Saudi Arabia",
]  # fmt: skip
PEOPLE = [
    "Vladimir Putin", "Volodymyr Zelensky", "Zelénsky", "Donald Trump", "Kim Jong Un",
    "Kim Jong-un", "Benjamin Netanyahu", "Emmanuel Macron", "Macron", "Keir Starmer", "Starmer",
    "Friedrich Merz", "Narendra Modi", "Modi", "Recep Tayyip Erdogan", "Erdoğan",
    "Ursula von der Leyen", "Antonio Guterres", "Sergei Lavrov", "Lavrov", "Dmitry Peskov",
    "Ali Khamenei", "Masoud Pezeshkian", "Giorgia Meloni", "Viktor Orbán", "Orban",
    "Lula da Silva", "Javier Milei", "Nicolás Maduro", "Mark Rutte", "Marco Rubio", "JD Vance",
    "Pete Hegseth", "Steve Witkoff", "Rafael Grossi", "Cyril Ramaphosa", "Bola Tinubu",
    "Abiy Ahmed", "Prabowo Subianto", "Ferdinand Marcos", "Shigeru Ishiba", "Anthony Albanese",
    "Mark Carney", "Claudia Sheinbaum", "Alexander Lukashenko", "Donald Tusk", "Robert Fico",
    "Mohammed bin Salman", "Ahmed al-Sharaa", "Mahmoud Abbas", "Abdel Fattah al-Sisi",
    "Shehbaz Sharif", "Muhammad Yunus", "Lai Ching-te", "Lee Jae-myung", "Kaja Kallas",
    "António Costa", "Christine Lagarde", "Jerome Powell", "Elon Musk", "Olaf Scholz",
]  # fmt: skip
ORGANISATIONS = [
    "IMF", "Opec", "G7", "G20", "Brics", "Taliban", "Pentagon", "European Commission",
    "Security Council", "World Bank", "Federal Reserve", "International Criminal Court",
    "Red Cross", "IAEA", "WHO", "Unicef", "Unrwa", "African Union", "Asean", "Wagner",
    "Islamic State", "Supreme Court", "Congress", "Senate", "Duma", "Knesset", "Bundestag",
    "Bank of England", "European Central Bank", "Amnesty International",
]  # fmt: skip
MORE_PLACES = [
    "South Korea", "Hong Kong", "Gaza Strip", "Black Sea", "South China Sea",
    "Strait of Hormuz", "New Delhi", "Tel Aviv", "South Africa", "New Zealand", "Sri Lanka",
    "Kharkiv", "Odesa", "Kherson", "Donetsk", "Crimea", "Zaporizhzhia", "Aleppo", "Idlib",
    "Damascus", "Beirut", "Rafah", "Khan Younis", "Sanaa", "Aden", "Khartoum", "Darfur", "Goma",
    "Tripoli", "Pyongyang", "Seoul", "Taipei", "Tokyo", "Manila", "Caracas", "Havana", "Riyadh",
    "Doha", "Cairo", "Ankara", "Istanbul", "Warsaw", "Budapest", "Minsk", "Tbilisi", "Baku",
    "Yerevan", "Kabul", "Islamabad", "Dhaka", "Nairobi", "Addis Ababa", "Lagos", "Libya",
    "Yemen", "Afghanistan", "Jordan", "Qatar", "Finland", "Sweden", "Estonia", "Latvia",
    "Lithuania", "Slovakia", "Austria", "Switzerland", "Netherlands", "Belgium", "Norway",
    "Denmark", "Greenland", "Panama", "Ecuador", "Bolivia", "Guatemala", "Nicaragua",
]  # fmt: skip
THEMES = [
    "sanctions", "tariffs", "ceasefire", "truce", "election", "elections", "protest",
    "protests", "summit", "airstrike", "airstrikes", "missile", "missiles", "drone", "drones",
    "troops", "refugees", "migrants", "aid", "famine", "inflation", "recession", "oil", "gas",
    "grain", "wheat", "shipping", "embargo", "treaty", "hostages", "nuclear", "uranium",
    "earthquake", "floods", "wildfire", "wildfires", "hurricane", "cyclone", "drought",
    "vaccine", "cholera", "outbreak", "cyberattack", "hackers", "espionage", "corruption",
    "impeachment", "coup", "referendum", "pipeline", "semiconductors", "chips", "lithium",
    "bailout", "debt", "currency", "climate", "emissions", "blockade", "offensive",
    "counteroffensive", "mobilisation", "conscription", "genocide", "evacuation", "shelling",
    "siege", "annexation", "deportations", "asylum", "tariff", "sanctioned", "sanctioning",
    "strikes", "negotiations", "peace", "invasion", "occupation", "artillery", "tanks",
    "warships", "submarine", "satellite", "rocket", "budget", "austerity", "unemployment",
]  # fmt: skip
# Themes that are several words: people follow them as phrases.
PHRASES = [
    "prime minister", "foreign minister", "peace talks", "interest rates", "oil prices",
    "climate change", "human rights", "nuclear weapons", "trade war", "air defence",
    "martial law", "prisoner exchange", "humanitarian aid", "gas supplies", "grain deal",
    "rare earths", "central bank", "defence spending", "border crossing", "power grid",
]  # fmt: skip
# Everything else a report says, roughly most frequent first.
GENERAL = """
government minister president officials leader forces military army police security country
state region city capital people report reports statement meeting talks deal agreement plan
proposal policy law court judge case decision week month year day time group party members
million billion percent number price prices market markets economy company companies bank
fund money cost costs rise rose fall fell increase attack attacks war conflict fighting
violence crisis threat threats warning risk support pressure demand demands response action
move effort change issue concern concerns fears hope need power control role side area
village villages town district home families children women men life deaths world nation
international national foreign domestic local global public political economic social new
old big small large major key main senior former current recent last next early late high
low strong weak long first second third several many few announced approved rejected
accepted agreed refused warned urged denied confirmed claimed accused condemned criticised
welcomed visited met held signed launched began started ended continued stopped halted
resumed expanded reduced cut raised blocked banned suspended lifted imposed targeted hit
killed wounded injured arrested detained released captured seized destroyed damaged fired
invaded withdrew retreated advanced defended protected secured threatened negotiated
discussed considered proposed prepared ordered sent deployed reached crossed entered left
returned fled rescued provided delivered received lost won gained elected appointed
replaced dismissed resigned investigated charged sentenced convicted acquitted says told
spokesman spokeswoman ministry agency agencies residents civilians soldiers fighters rebels
militants activists journalists analysts diplomats lawmakers voters workers farmers
investors exports imports supplies production energy food water fuel electricity hospital
hospitals schools homes buildings infrastructure roads ports airport border borders coast
island islands province provinces frontline front line positions weapons ammunition
equipment funding loans investment growth trade jobs wages taxes pensions budget vote votes
campaign candidates opposition coalition parliament cabinet constitution reform reforms
investigation inquiry trial verdict sentence prison evidence witnesses allegations charges
""".split()

_SYLLABLES = (
    "ka lo mi ra sen tu vo zar be ni gor sha el an dro pe vi chen ko ta mar ul is ba de rin "
    "os ha ber ov ek ya ju lan tor mes ak ir ste val dun"
).split()
_REPORTERS = [
    "Anna Kovacs", "James Okafor", "Mei Lin", "Sofia Marquez", "Tom Hale", "Priya Nair",
    "Lukas Berg", "Amira Haddad", "Daniel Reyes", "Olena Shevchuk", "Kenji Sato", "Grace Mbeki",
]  # fmt: skip
# Words no entry contains, for searches that find nothing.
ABSENT = [
    "quokka", "zeppelin", "marmalade", "Atlantis", "xylophone", "trombone", "origami",
    "platypus", "Narnia", "saxophone", "kangaroo", "Wakanda", "pterodactyl", "accordion",
]  # fmt: skip


def zipf(rng: random.Random, items: Sequence[str], exponent: float = 1.0) -> Callable[[], str]:
    """Draws from ``items``, the k-th about 1/k^exponent as often as the first."""
    cumulative = list(accumulate(1 / (rank + 1) ** exponent for rank in range(len(items))))

    def draw() -> str:
        return rng.choices(items, cum_weights=cumulative, k=1)[0]

    return draw


@dataclasses.dataclass(frozen=True)
class Vocabulary:
    """What the news is about, most mentioned first, and the words around it."""

    subjects: tuple[str, ...]  # people, places, organisations, themes; then a long tail
    themes: tuple[str, ...]
    phrases: tuple[str, ...]  # several-word themes
    common: tuple[str, ...]  # everything else, function words first
    tail_from: int  # subjects from here on are invented names that few entries mention

    @classmethod
    def build(cls, invented: int = 5000) -> Vocabulary:
        rng = random.Random(VOCABULARY_SEED)
        known = list(
            dict.fromkeys(
                PEOPLE + ORGANISATIONS + PLACES + MORE_PLACES + THEMES[:40] + PHRASES[:10]
            )
        )
        known = [name for name in known if name not in TOP]
        rng.shuffle(known)
        taken = {
            word.casefold() for name in TOP + known + GENERAL + FILLER for word in name.split()
        }
        taken |= {word.casefold() for word in ABSENT}
        names: dict[str, None] = {}
        while len(names) < invented:
            name = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()
            if name.casefold() not in taken:
                names[name] = None
        head = TOP + known
        common = list(dict.fromkeys(FILLER + GENERAL + THEMES[40:] + PHRASES[10:]))
        return cls(
            tuple(head + list(names)), tuple(THEMES), tuple(PHRASES), tuple(common), len(head)
        )


class NewsWriter:
    """Headlines and summaries of plausible world news, reproducible from a seed."""

    def __init__(self, vocabulary: Vocabulary, seed: int) -> None:
        self.vocabulary = vocabulary
        self.rng = random.Random(seed)
        self._subjects = list(vocabulary.subjects)
        self._subject_weights = list(
            accumulate(1 / rank for rank in range(1, len(self._subjects) + 1))
        )
        self._common = list(vocabulary.common)
        self._common_weights = list(
            accumulate(1 / rank**0.9 for rank in range(1, len(self._common) + 1))
        )

    def subject(self) -> str:
        return self.rng.choices(self._subjects, cum_weights=self._subject_weights)[0]

    def _mention(self, name: str) -> str:
        roll = self.rng.random()
        if roll < 0.03:
            return name + "’s"
        if roll < 0.05:
            return name + "'s"
        if roll < 0.055:
            return name + "‘s"
        return name

    def _words(self, count: int, focus: Sequence[str], density: float) -> list[str]:
        rng = self.rng
        words = rng.choices(self._common, cum_weights=self._common_weights, k=count)
        mentions = int(count * density + rng.random())
        for position in rng.sample(range(count), min(mentions, count)):
            name = rng.choice(focus) if rng.random() < 0.8 else self.subject()
            words[position] = self._mention(name)
        if rng.random() < 0.3:
            words[rng.randrange(count)] = str(
                rng.choice((rng.randint(2, 99), rng.randint(100, 5000)))
            )
        return words

    def entry(self) -> tuple[str, str]:
        """A headline and a summary of one or two paragraphs."""
        rng = self.rng
        focus = [self.subject() for _ in range(rng.randint(1, 3))]
        title = " ".join(self._words(rng.randint(7, 13), focus, 0.25))
        paragraphs = []
        for _ in range(1 if rng.random() < 0.6 else 2):
            words = self._words(rng.randint(35, 80), focus, 0.1)
            sentences, start = [], 0
            while start < len(words):
                end = start + rng.randint(9, 24)
                sentence = " ".join(words[start:end])
                sentences.append(sentence[0].upper() + sentence[1:] + ".")
                start = end
            paragraphs.append(" ".join(sentences))
        return title[0].upper() + title[1:], " ".join(paragraphs)


@dataclasses.dataclass(frozen=True)
class Archive:
    path: Path
    entries: int
    build_seconds: float
    built_now: bool


def archive_path(cache: Path, entries: int, seed: int) -> Path:
    return cache / f"archive-v{VERSION}-{entries}-seed{seed}.db"


def _info_path(path: Path) -> Path:
    return path.with_suffix(".json")


def progress(text: str) -> None:
    """Progress goes to stderr, so the figures on stdout stay clean."""
    print(text, file=sys.stderr, flush=True)


async def ensure_archive(cache: Path, entries: int, seed: int) -> Archive:
    """The cached archive of ``entries`` entries, built first if there is none."""
    path = archive_path(cache, entries, seed)
    info = _info_path(path)
    if path.exists() and info.exists():
        return Archive(path, entries, json.loads(info.read_text())["build_seconds"], False)
    progress(f"building an archive of {entries:,} entries at {path} (cached for next time)")
    seconds = await build_archive(path, entries, seed)
    info.write_text(json.dumps({"entries": entries, "seed": seed, "build_seconds": seconds}))
    return Archive(path, entries, seconds, True)


@dataclasses.dataclass(frozen=True)
class _Window:
    """One round of polls: every feed's entries published between ``start`` and ``end``."""

    start: dt.datetime
    end: dt.datetime
    size: int


def _windows(entries: int) -> list[_Window]:
    count = max(1, round(entries / (POLL_SIZE * len(FEEDS))))
    length = SPAN / count
    start = ANCHOR - SPAN
    sizes = [entries // count + (n < entries % count) for n in range(count)]
    return [
        _Window(start + n * length, start + (n + 1) * length, size) for n, size in enumerate(sizes)
    ]


def _write_window(writer: NewsWriter, window: _Window, first: int) -> list[list[ParsedEntry]]:
    """Every feed's entries of one window, numbered from ``first``."""
    rng = writer.rng
    batches: list[list[ParsedEntry]] = [[] for _ in FEEDS]
    feeds = rng.choices(range(len(FEEDS)), weights=[share for _, _, share in FEEDS], k=window.size)
    seconds = (window.end - window.start).total_seconds()
    for number, feed in enumerate(feeds, start=first):
        title, summary = writer.entry()
        published = window.start + dt.timedelta(seconds=rng.random() * seconds)
        slug = "-".join(title.split()[:5]).casefold().replace("’", "").replace("'", "")
        link = f"https://{FEEDS[feed][1]}/{published:%Y/%m/%d}/{slug}-{number}"
        author = rng.choice(_REPORTERS) if rng.random() < 0.4 else ""
        batches[feed].append(ParsedEntry(link, title, summary, link, published, author))
    return batches


async def build_archive(path: Path, entries: int, seed: int) -> float:
    """Build the archive at ``path`` poll by poll; returns the seconds it took."""
    building = path.with_name(path.name + ".building")
    for leftover in (building, Path(f"{building}-wal"), Path(f"{building}-shm")):
        leftover.unlink(missing_ok=True)
    started = time.perf_counter()
    database = await Database.open(building)
    try:
        repository = FeedRepository(database)
        feeds = [
            await repository.add(f"https://{host}/rss.xml", now=ANCHOR - SPAN, next_poll_at=NEVER)
            for _, host, _ in FEEDS
        ]
        writer = NewsWriter(Vocabulary.build(), seed)
        windows = _windows(entries)
        # The next window's text is written on a thread while this one is stored: SQLite
        # releases the GIL while it works, so the two overlap.
        first = 0
        upcoming = asyncio.ensure_future(asyncio.to_thread(_write_window, writer, windows[0], 0))
        stored, reported = 0, 0
        for number, window in enumerate(windows):
            batches = await upcoming
            first += window.size
            if number + 1 < len(windows):
                upcoming = asyncio.ensure_future(
                    asyncio.to_thread(_write_window, writer, windows[number + 1], first)
                )
            # The feeds as they were before their first poll: every poll is stored as a first
            # poll, routed and alerting nobody, which is how the archive of a bot that has
            # routed everything looks (a later poll stores entries unrouted until routed).
            for feed, (title, _, _), batch in zip(feeds, FEEDS, batches, strict=True):
                if not batch:
                    continue
                await repository.record_success(
                    feed,
                    PollSuccess(None, None, next_poll_at=NEVER, title=title),
                    batch,
                    now=window.end,
                    keep_after=ANCHOR - SPAN - dt.timedelta(days=1),
                )
                stored += len(batch)
            if stored - reported >= entries // 10:
                reported = stored
                rate = stored / (time.perf_counter() - started)
                progress(f"  {stored:,} of {entries:,} entries stored ({rate:,.0f}/s)")
        await database.fetchall("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        await database.close()
    building.rename(path)
    return time.perf_counter() - started
