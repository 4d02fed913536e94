"""Waiting on conditions, not on the clock (a fixed pause is either too short on a loaded
machine or wasted time on an idle one)."""

from __future__ import annotations

import time
from collections.abc import Callable


async def wait_until(pilot, condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Let the app run until `condition()` holds; fail after `timeout` seconds."""
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"still not true after {timeout} s: {condition}")
        await pilot.pause(0.01)


class FakeClock:
    """A `time` module stand-in whose monotonic() only moves when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
