"""Benchmark: one new entry clustered against a 48-hour window of 5,000 entries.

A 50-feed instance stores about 5,000 entries in 48 hours. The window is filled with
generated world news (one entry in ten republishes an earlier one under its own headline),
then each new entry is fingerprinted, looked up and added, as the router does, while the
oldest leave. Alternatives in the same run: datasketch's MinHashLSH (64 bands of 2 rows)
over the same signatures, and exact Jaccard of shingle sets against every member.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import random
import statistics
import time
import tracemalloc

import numpy as np
from datasketch import MinHash, MinHashLSH

from bench.archive import NewsWriter, Vocabulary
from bot.topics.stories import PERMUTATIONS, SAME_STORY, StoryIndex, fingerprint, shingles

START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
WINDOW = dt.timedelta(hours=48)


def stories(count: int, seed: int) -> list[tuple[str, str]]:
    """Headlines and summaries; about one in ten republishes an earlier one, first sentence."""
    writer = NewsWriter(Vocabulary.build(), seed)
    rng = random.Random(seed)
    written: list[tuple[str, str]] = []
    for _ in range(count):
        if written and rng.random() < 0.1:
            _, summary = rng.choice(written[-500:])
            headline = writer.entry()[0]
            written.append((headline, summary.split(". ")[0] + "."))
        else:
            written.append(writer.entry())
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=int, default=5000, help="entries in the window")
    parser.add_argument("--new", type=int, default=1000, help="new entries timed")
    parser.add_argument("--seed", type=int, default=21)
    arguments = parser.parse_args()

    texts = stories(arguments.window + arguments.new, arguments.seed)
    spacing = WINDOW / arguments.window
    seen = [START + spacing * number for number in range(len(texts))]

    gc.collect()
    tracemalloc.start()
    index = StoryIndex(WINDOW)
    for number in range(arguments.window):
        title, summary = texts[number]
        signature = fingerprint(title, summary)
        found = index.find(signature, "", feed=number, at=seen[number])
        story = found[1] if found else f"entry:{number}"
        index.add(
            number, story, signature, f"https://example.com/{number}", seen[number], feed=number
        )
    window_bytes, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"window: {len(index)} entries, {window_bytes / 2**20:.1f} MB allocated "
        f"({window_bytes / len(index) / 1024:.2f} KB an entry)"
    )

    signatures = [fingerprint(*text) for text in texts]
    gc.collect()
    tracemalloc.start()
    lsh = MinHashLSH(num_perm=PERMUTATIONS, params=(64, 2))
    for number in range(arguments.window):
        lsh.insert(number, _minhash(signatures[number].signature), check_duplication=False)
    lsh_bytes, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    sets = [shingles(*texts[number]) for number in range(arguments.window)]

    timings, clustered, lsh_timings, exact_timings = [], 0, [], []
    for number in range(arguments.window, len(texts)):
        title, summary = texts[number]
        started = time.perf_counter()
        signature = fingerprint(title, summary)
        found = index.find(signature, "", feed=number, at=seen[number])
        index.add(
            number,
            found[1] if found else f"entry:{number}",
            signature,
            f"https://example.com/{number}",
            seen[number],
            feed=number,
        )
        index.expire(seen[number])
        timings.append(time.perf_counter() - started)
        clustered += found is not None

        started = time.perf_counter()
        signature = fingerprint(title, summary)
        minhash = _minhash(signature.signature)
        scores = [
            minhash.jaccard(_minhash(signatures[other].signature)) for other in lsh.query(minhash)
        ]
        _ = max(scores, default=0.0) >= SAME_STORY
        lsh.insert(number, minhash, check_duplication=False)
        lsh.remove(number - arguments.window)
        lsh_timings.append(time.perf_counter() - started)

        if number < arguments.window + 100:
            started = time.perf_counter()
            mine = shingles(title, summary)
            _ = max(len(mine & other) / (len(mine | other) or 1) for other in sets)
            exact_timings.append(time.perf_counter() - started)

    def figures(values: list[float]) -> str:
        values = sorted(values)
        return (
            f"median {statistics.median(values) * 1000:.2f} ms, "
            f"p95 {values[int(len(values) * 0.95)] * 1000:.2f} ms"
        )

    print(f"StoryIndex (fingerprint, find, add, expire): {figures(timings)}")
    print(f"  {clustered} of {arguments.new} new entries joined a story")
    print(
        f"datasketch MinHashLSH (fingerprint, query, verify, insert, remove): "
        f"{figures(lsh_timings)}; its buckets {lsh_bytes / 2**20:.1f} MB"
    )
    print(f"exact shingle Jaccard against every member: {figures(exact_timings)}")
    speedup = statistics.median(exact_timings) / statistics.median(timings)
    print(f"StoryIndex speed-up over the exact scan: {speedup:.0f}x")

    shared = shared_footer(texts[: arguments.window], seen[: arguments.window])
    print(f"every entry ending in one footer (all above the threshold): {figures(shared)}")


FOOTER = (
    " Follow our live coverage for the latest updates. Sign up for our newsletter to get the"
    " top stories delivered to your inbox every morning. Read more from City Times, your"
    " trusted source for local news, sport, weather and events across the region and beyond."
)


def shared_footer(texts: list[tuple[str, str]], seen: list[dt.datetime]) -> list[float]:
    """Timings of 200 lookups in a window whose entries all end in one footer, each first
    sentence its own: every member scores above the threshold, none agrees."""
    index = StoryIndex(WINDOW)
    for number, (title, summary) in enumerate(texts):
        text = summary.split(". ")[0] + "." + FOOTER
        index.add(
            number, f"entry:{number}", fingerprint(title, text), "", seen[number], feed=number
        )
    timings = []
    for number in range(200):
        title, summary = texts[-1 - number]
        entry = fingerprint(title + " again", "Other words." + FOOTER)
        started = time.perf_counter()
        index.find(entry, "", feed=-1, at=seen[-1])
        timings.append(time.perf_counter() - started)
    return timings


def _minhash(signature: np.ndarray) -> MinHash:
    return MinHash(num_perm=PERMUTATIONS, hashvalues=signature, scheme="affine32")


if __name__ == "__main__":
    main()
