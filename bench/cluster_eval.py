"""Quality of "same story": precision and recall of near-duplicate measures on a labelled set.

The set (bench/data/stories.json) is written by the Herald project: events told by several
outlets, and families of events that share names but are different events. Every two
versions of one event are a "same story" pair; every two versions of different events of one
family are a "different story" pair. Families alternate between a tuning half and a held-out
half: each measure's threshold is the lowest that keeps precision at or above the target on
the tuning half, and precision and recall are reported on the held-out half.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import hashlib
import itertools
import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path

from bot.topics.normalize import analyse
from bot.topics.stories import SAME_STORY, fingerprint, shingles, similarity

DATA = Path(__file__).parent / "data" / "stories.json"
PRECISION_TARGET = 0.97
RECALL_TARGET = 0.8


@dataclasses.dataclass(frozen=True, slots=True)
class Version:
    family: int
    event: str
    source: str
    title: str
    summary: str
    republishes: str  # the source this version republishes, or ""


@dataclasses.dataclass(frozen=True, slots=True)
class Pair:
    first: int
    second: int
    same: bool
    kind: str  # "republished copy", "independent rewrite" or "different event"
    tuning: bool  # in the half thresholds are chosen on


@dataclasses.dataclass(frozen=True, slots=True)
class Result:
    measure: str
    threshold: float
    precision: float
    recall: float
    recall_by_kind: dict[str, tuple[int, int]]  # kind: (found, of)
    false_same: int


def load(path: Path = DATA) -> tuple[list[Version], list[Pair]]:
    document = json.loads(path.read_text(encoding="utf-8"))
    versions: list[Version] = []
    for family_number, family in enumerate(document["families"]):
        for event in family["events"]:
            versions.extend(
                Version(
                    family_number,
                    event["id"],
                    version["source"],
                    version["title"],
                    version["summary"],
                    version.get("republishes", ""),
                )
                for version in event["versions"]
            )
    pairs = []
    for first, second in itertools.combinations(range(len(versions)), 2):
        one, other = versions[first], versions[second]
        if one.family != other.family:
            continue
        same = one.event == other.event
        if not same:
            kind = "different event"
        elif other.republishes == one.source or one.republishes == other.source:
            kind = "republished copy"
        else:
            kind = "independent rewrite"
        pairs.append(Pair(first, second, same, kind, tuning=one.family % 2 == 0))
    return versions, pairs


def _counts(scored: Sequence[tuple[float, Pair]], threshold: float) -> tuple[int, int, int]:
    found = sum(1 for score, pair in scored if pair.same and score >= threshold)
    wrong = sum(1 for score, pair in scored if not pair.same and score >= threshold)
    same = sum(1 for _, pair in scored if pair.same)
    return found, wrong, same


def choose_threshold(scored: Sequence[tuple[float, Pair]], target: float) -> float:
    """The threshold of most recall whose precision on ``scored`` is at least ``target``.

    That is the lowest such score; the threshold sits halfway between it and the score
    below it, so a pair scoring a little under those seen is judged as they are.
    """
    scores = sorted({score for score, _ in scored})
    for place, threshold in enumerate(scores):
        found, wrong, _ = _counts(scored, threshold)
        if found and found / (found + wrong) >= target:
            return threshold if place == 0 else (scores[place - 1] + threshold) / 2
    return math.inf


def evaluate(
    name: str,
    score: Callable[[int, int], float],
    pairs: Sequence[Pair],
    *,
    threshold: float | None = None,
) -> Result:
    """Score every pair; the threshold is chosen on the tuning half unless given."""
    scored = [(score(pair.first, pair.second), pair) for pair in pairs]
    if threshold is None:
        threshold = choose_threshold([item for item in scored if item[1].tuning], PRECISION_TARGET)
    held_out = [item for item in scored if not item[1].tuning]
    found, wrong, same = _counts(held_out, threshold)
    by_kind = {
        kind: (
            sum(1 for value, pair in held_out if pair.kind == kind and value >= threshold),
            sum(1 for _, pair in held_out if pair.kind == kind),
        )
        for kind in ("republished copy", "independent rewrite")
    }
    precision = found / (found + wrong) if found + wrong else 1.0
    return Result(name, threshold, precision, found / same, by_kind, wrong)


def measures(versions: Sequence[Version]) -> dict[str, Callable[[int, int], float]]:
    """Herald's measure and the alternatives it was chosen over, by name."""
    signatures = [fingerprint(version.title, version.summary) for version in versions]
    shingle_sets = [shingles(version.title, version.summary) for version in versions]
    words = [
        set(analysed.title_stems) | set(analysed.text_stems)
        for analysed in (analyse(version.title, version.summary) for version in versions)
    ]
    frequency = collections.Counter(word for found in words for word in found)
    total = len(versions)
    weight = {word: math.log((total + 1) / (count + 0.5)) for word, count in frequency.items()}
    simhashes = [_simhash(found) for found in shingle_sets]

    def jaccard(sets: Sequence[set[str]]) -> Callable[[int, int], float]:
        def score(first: int, second: int) -> float:
            union = len(sets[first] | sets[second])
            return len(sets[first] & sets[second]) / union if union else 0.0

        return score

    def weighted(first: int, second: int) -> float:
        union = words[first] | words[second]
        shared = words[first] & words[second]
        total = sum(weight[word] for word in union)
        return sum(weight[word] for word in shared) / total if total else 0.0

    return {
        "MinHash of word 3-shingles, 128 permutations (Herald)": lambda one, other: similarity(
            signatures[one], signatures[other]
        ),
        "exact Jaccard of word 3-shingles": jaccard(shingle_sets),
        "SimHash (64 bits) of word 3-shingles": lambda first, second: (
            1 - bin(simhashes[first] ^ simhashes[second]).count("1") / 64
        ),
        "Jaccard of words": jaccard(words),
        "IDF-weighted Jaccard of words": weighted,
    }


def _simhash(features: set[str]) -> int:
    totals = [0] * 64
    for feature in features:
        value = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "big")
        for bit in range(64):
            totals[bit] += 1 if value >> bit & 1 else -1
    return sum(1 << bit for bit in range(64) if totals[bit] > 0)


def herald_result(path: Path = DATA) -> Result:
    """Herald's measure at its fixed threshold (``SAME_STORY``), on the held-out half."""
    versions, pairs = load(path)
    signatures = [fingerprint(version.title, version.summary) for version in versions]
    return evaluate(
        "Herald",
        lambda first, second: similarity(signatures[first], signatures[second]),
        pairs,
        threshold=SAME_STORY,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    arguments = parser.parse_args()
    versions, pairs = load(arguments.data)
    held_out = [pair for pair in pairs if not pair.tuning]
    kinds = collections.Counter(pair.kind for pair in pairs)
    print(
        f"{len(versions)} versions, {len(pairs)} pairs ({dict(kinds)}); "
        f"held-out half: {len(held_out)} pairs"
    )
    print(
        "threshold: the lowest with precision ≥ "
        f"{PRECISION_TARGET} on the tuning half; figures on the held-out half\n"
    )
    header = f"{'measure':56} {'thr':>6} {'P':>6} {'R':>6}"
    print(f"{header}  {'copies':>7} {'rewrites':>9} {'wrong':>5}")
    for name, score in measures(versions).items():
        result = evaluate(name, score, pairs)
        copies = result.recall_by_kind["republished copy"]
        rewrites = result.recall_by_kind["independent rewrite"]
        print(
            f"{name:56} {result.threshold:6.3f} {result.precision:6.3f} {result.recall:6.3f}"
            f"  {copies[0]:>3}/{copies[1]:<3} {rewrites[0]:>4}/{rewrites[1]:<4} "
            f"{result.false_same:>5}"
        )
    fixed = herald_result(arguments.data)
    copies = fixed.recall_by_kind["republished copy"]
    print(
        f"\nHerald as shipped (SAME_STORY = {SAME_STORY}): precision {fixed.precision:.3f}, "
        f"recall {fixed.recall:.3f}, republished copies {copies[0]}/{copies[1]}"
    )


if __name__ == "__main__":
    main()
