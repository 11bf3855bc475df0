"""PostgreSQL's search windows: entry ids in aligned buckets, read newest first."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from bot.storage.postgres.database import PostgresDatabase
from bot.storage.postgres.fulltext import (
    BUCKET_SHIFTS,
    FIRST_WINDOW,
    MAX_GROWTH,
    bucket,
    next_width,
    window,
)


def ids_in(buckets: tuple[int, ...]) -> list[range]:
    return [
        range((value >> 5) << (value & 31), ((value >> 5) + 1) << (value & 31))
        for value in buckets
    ]


@given(
    top=st.integers(min_value=2, max_value=2**30),
    width=st.integers(min_value=1, max_value=2**30),
    lowest=st.integers(min_value=1, max_value=2**30),
)
def test_a_windows_buckets_tile_it_reaching_at_most_a_small_bucket_past_it(
    top: int, width: int, lowest: int
) -> None:
    lowest = min(lowest, top - 1)

    span = window(top, width, lowest)

    ranges = sorted(ids_in(span.buckets), key=lambda r: r.start)
    finest = 2 ** BUCKET_SHIFTS[0]
    assert lowest <= span.floor < top
    assert span.floor <= max(top - width, lowest)
    assert all(a.stop == b.start for a, b in itertools.pairwise(ranges))
    assert 0 <= span.floor - ranges[0].start < finest
    assert 0 <= ranges[-1].stop - top < finest


def test_a_window_takes_few_buckets() -> None:
    span = window(1_000_001, 120_000, 1)

    assert span.floor == 868_352
    assert len(span.buckets) <= 8


def test_the_next_window_is_sized_from_the_density_so_far() -> None:
    # 500 of the newest 10,000 ids matched; 1,500 more wanted: about 30,000 more ids.
    assert next_width(found=500, read=10_000, wanted=1_500) == 33_000
    assert next_width(found=1990, read=4096, wanted=10) == FIRST_WINDOW


def test_a_window_grows_at_most_eightfold() -> None:
    assert next_width(found=0, read=4096, wanted=2000) == MAX_GROWTH * 4096
    assert next_width(found=1, read=4096, wanted=1999) == MAX_GROWTH * 4096


async def test_the_index_puts_each_entry_in_the_buckets_the_search_asks_for(
    postgres_url: str,
) -> None:
    database = await PostgresDatabase.connect(postgres_url)
    try:
        for entry_id in (1, 255, 256, 70_000, 2**24 + 3, 2**40 + 5):
            stored = await database.fetchvalue("SELECT herald_fts_buckets(?)", (entry_id,))
            assert stored == [bucket(shift, entry_id >> shift) for shift in BUCKET_SHIFTS]
    finally:
        await database.close()
