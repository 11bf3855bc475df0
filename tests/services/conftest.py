"""Fixtures for service tests: a settable clock."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import NOW


class StepClock:
    """A clock tests move by hand."""

    def __init__(self, now: dt.datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> StepClock:
    return StepClock()
