"""Realistic synthetic news text for the benchmarks: headlines and paragraphs, Zipf-weighted."""

from __future__ import annotations

import random
from itertools import accumulate

PLACES = (
    "Russia Ukraine China Taiwan Japan India Pakistan Iran Iraq Syria Lebanon Israel Gaza Egypt "
    "Sudan Ethiopia Somalia Kenya Nigeria Niger Mali Congo Turkey Greece Italy France Spain "
    "Germany Poland Hungary Belarus Moldova Romania Serbia Kosovo Georgia Armenia Azerbaijan "
    "Kazakhstan Vietnam Cambodia Thailand Myanmar Indonesia Philippines Australia Canada Mexico "
    "Cuba Haiti Venezuela Colombia Peru Brazil Argentina Chile Britain Ireland Bangladesh Nepal "
    "Brussels Moscow Kyiv Beijing Washington London Paris Berlin Tehran Jerusalem Geneva Davos"
).split()
PEOPLE = [
    "Kim Jong Un",
    "Kim Jong-un",
    "Vladimir Putin",
    "Putin",
    "Volodymyr Zelensky",
    "Zelénsky",
    "Xi Jinping",
    "Emmanuel Macron",
    "Olaf Scholz",
    "Keir Starmer",
    "Narendra Modi",
    "Recep Tayyip Erdogan",
    "Benjamin Netanyahu",
    "Ursula von der Leyen",
    "Antonio Guterres",
    "Lula da Silva",
]
SUBJECTS = (
    "sanctions tariffs ceasefire election protest summit talks strike missile drone troops "
    "refugees aid inflation oil gas pipeline grain exports imports shipping embargo treaty "
    "NATO UN EU IMF OPEC parliament president minister court trial vote referendum coup "
    "earthquake flood wildfire drought famine vaccine outbreak cyberattack hackers nuclear "
    "uranium reactor satellite border blockade convoy hostages negotiations alliance budget"
).split()
FILLER = (
    "the of and to in a said on for that with as was by at from it has have will after "
    "officials government people new year week two three more than over its their were been "
    "also which about who would could into told last some other under against since during "
    "while before says report reported according amid including between later early latest "
    "warned called talks meeting forces country countries region capital city state leaders"
).split()


class NewsText:
    """Headlines and paragraphs of plausible world news, reproducible from a seed."""

    def __init__(self, seed: int = 1) -> None:
        self.rng = random.Random(seed)
        self._names = PLACES + PEOPLE + SUBJECTS
        # Zipf: the k-th most common name is about 1/k as frequent as the first.
        self._weights = list(accumulate(1 / rank for rank in range(1, len(self._names) + 1)))

    def name(self) -> str:
        return self.rng.choices(self._names, cum_weights=self._weights)[0]

    def headline(self) -> str:
        words = [self.name(), self.rng.choice(FILLER), self.name()]
        words += self.rng.choices(FILLER, k=self.rng.randint(2, 5))
        words.append(self.name())
        title = " ".join(words)
        return title[0].upper() + title[1:]

    def paragraph(self, words: int = 60) -> str:
        out = []
        for _ in range(words):
            out.append(self.name() if self.rng.random() < 0.25 else self.rng.choice(FILLER))
        return " ".join(out).capitalize() + "."
