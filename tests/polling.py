"""Waiting for something to happen in another thread or process: poll with a deadline, never
a bare sleep (a sleep is either too short on a loaded machine or wastes time on an idle one)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(probe: Callable[[], T], *, timeout: float = 10.0, every: float = 0.02, what: str = "") -> T:
    """``probe()`` until it returns something truthy; fails the test at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"still not true after {timeout}s: {what or probe}")
        time.sleep(every)
