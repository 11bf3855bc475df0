"""Quality of "same story": precision and recall of near-duplicate measures on a labelled set.

The sets are written by the Herald project: bench/data/stories.json, events told by several
outlets, and families of events that share names but are different events;
bench/data/templates.json, families of different events told through one template or
boilerplate (weather warnings, results, share moves, press releases, briefings, footers),
with copies of some. Every two
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
from bot.topics.stories import SAME_STORY, fingerprint, same_story, shingles, similarity

DATA = (
    Path(__file__).parent / "data" / "stories.json",
    Path(__file__).parent / "data" / "templates.json",
)
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
    dataset: str  # the file's name


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


def load(paths: Sequence[Path] = DATA) -> tuple[list[Version], list[Pair]]:
    versions: list[Version] = []
    families = 0
    for path in paths:
        document = json.loads(path.read_text(encoding="utf-8"))
        for family in document["families"]:
            for event in family["events"]:
                versions.extend(
                    Version(
                        families,
                        event["id"],
                        version["source"],
                        version["title"],
                        version["summary"],
                        version.get("republishes", ""),
                        path.name,
                    )
                    for version in event["versions"]
                )
            families += 1
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

    def agreeing(first: int, second: int) -> float:
        one, other = signatures[first], signatures[second]
        return similarity(one, other) if same_story(one, other, threshold=0.0) else 0.0

    return {
        "MinHash, names and numbers agreeing (Herald)": agreeing,
        "MinHash of word 3-shingles, 128 permutations": lambda one, other: similarity(
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


def herald_result(
    paths: Sequence[Path] = DATA, *, held_out: bool = True, dataset: str | None = None
) -> Result:
    """Herald's decision (``same_story`` at ``SAME_STORY``) on the held-out half, or on
    every pair; on the pairs of one file (``dataset``, its name) or of all."""
    versions, pairs = load(paths)
    signatures = [fingerprint(version.title, version.summary) for version in versions]
    chosen = [
        dataclasses.replace(pair, tuning=held_out and pair.tuning)
        for pair in pairs
        if dataset is None or versions[pair.first].dataset == dataset
    ]
    return evaluate(
        "Herald",
        lambda first, second: float(same_story(signatures[first], signatures[second])),
        chosen,
        threshold=1.0,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, nargs="+", default=list(DATA))
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
    print(f"\nHerald as shipped (SAME_STORY = {SAME_STORY}):")
    for dataset in [None, *sorted({version.dataset for version in versions})]:
        for half in (True, False):
            fixed = herald_result(arguments.data, held_out=half, dataset=dataset)
            copies = fixed.recall_by_kind["republished copy"]
            rewrites = fixed.recall_by_kind["independent rewrite"]
            print(
                f"  {dataset or 'all sets':16} {'held out' if half else 'all pairs':9}"
                f" precision {fixed.precision:.3f}, recall {fixed.recall:.3f},"
                f" copies {copies[0]}/{copies[1]}, rewrites {rewrites[0]}/{rewrites[1]},"
                f" different stories swallowed {fixed.false_same}"
            )


if __name__ == "__main__":
    main()
