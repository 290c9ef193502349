"""In-memory state: a settable clock, a due-time scheduler and one Account per token."""

from __future__ import annotations

import hashlib
import heapq
import itertools
import random
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import Any

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


class Clock:
    """Wall time plus an offset that ``advance`` moves forward (no sleeping in tests).

    Timestamps are naive ``yyyy-mm-dd hh:mm:ss`` in ``zone`` (an IANA name, like Django's
    ``BICS_TIME_ZONE``; UTC when empty). Never the process's local zone: under Django that is
    ``TIME_ZONE``, a different setting, and the two sides would disagree about the day.
    """

    def __init__(self, zone: str | None = None) -> None:
        self.offset = 0.0
        self.set_zone(zone)

    def set_zone(self, zone: str | None) -> None:
        from zoneinfo import ZoneInfo

        self.tz = ZoneInfo(zone or "UTC")

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += float(seconds)

    def reset(self) -> None:
        self.offset = 0.0

    def stamp(self, at: float | None = None) -> str:
        """BICS timestamps: ``yyyy-mm-dd hh:mm:ss``, no zone (written in ``zone``)."""
        return datetime.fromtimestamp(self.now() if at is None else at, self.tz).strftime(TIME_FORMAT)

    def naive(self) -> datetime:
        return datetime.fromtimestamp(self.now(), self.tz).replace(tzinfo=None)

    def parse(self, text: str) -> float:
        """A BICS timestamp (naive, in ``zone``) -> epoch seconds."""
        return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=self.tz).timestamp()


class Scheduler:
    """Runs callbacks when the sandbox clock passes their due time (background thread);
    ``run_due()`` runs them synchronously (after ``Clock.advance``)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._stop = False
        self._thread: threading.Thread | None = None

    def at(self, due: float, fn: Callable[[], None]) -> None:
        with self._cond:
            heapq.heappush(self._heap, (due, next(self._seq), fn))
            self._cond.notify()

    def clear(self) -> None:
        with self._cond:
            self._heap.clear()

    def pending(self) -> int:
        with self._cond:
            return len(self._heap)

    def _pop_due(self) -> list[Callable[[], None]]:
        now = self.clock.now()
        out = []
        while self._heap and self._heap[0][0] <= now:
            out.append(heapq.heappop(self._heap)[2])
        return out

    def run_due(self) -> int:
        with self._cond:
            due = self._pop_due()
        for fn in due:
            _safe(fn)
        return len(due)

    def wake(self) -> None:
        with self._cond:
            self._cond.notify()

    def _loop(self) -> None:
        while True:
            with self._cond:
                if self._stop:
                    return
                due = self._pop_due()
                if not due:
                    wait = 0.5
                    if self._heap:
                        wait = min(wait, max(0.0, self._heap[0][0] - self.clock.now()))
                    self._cond.wait(wait)
                    continue
            for fn in due:
                _safe(fn)

    def start(self) -> None:
        self._stop = False
        self._thread = threading.Thread(target=self._loop, name="sandbox-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread:
            self._thread.join(timeout=2)


def _safe(fn: Callable[[], None]) -> None:
    try:
        fn()
    except Exception:  # noqa: BLE001 - a failing timer must not kill the scheduler
        import logging

        logging.getLogger("bics.sandbox").exception("sandbox timer failed")


def unit_hash(*parts: Any) -> float:
    """A deterministic uniform draw in [0, 1) from the parts (seed, ids...)."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


class Account:
    """Everything one token owns. Guarded by ``lock`` (handlers hold it while they run)."""

    def __init__(self, key: str, seed: int, balance: float) -> None:
        self.key = key
        self.lock = threading.RLock()
        self.rng = random.Random(f"{seed}:{key}")
        self.seed = seed
        self.collections: dict[str, dict[str, dict]] = {}
        self._ids: dict[str, itertools.count] = {}
        self.messages: dict[str, dict] = {}  # message id -> DLR record (all channels)
        self.groups: dict[str, list[str]] = {}  # group_id -> message ids
        self.sent: list[dict] = []  # every recipient of every send, for inspection
        self.otps: dict[str, dict] = {}
        self.calls: dict[str, dict] = {}
        self.webhook_log: list[dict] = []
        self.requests: dict[str, int] = {}  # route name -> count
        self.last_bodies: dict[str, Any] = {}  # route name -> last request body
        self.gets: deque[float] = deque()  # GET timestamps (rate limit window)
        self.balance = balance
        self.user_id = str(1000 + int(unit_hash(seed, key) * 9000))

    # ids
    def next_id(self, collection: str) -> str:
        counter = self._ids.setdefault(collection, itertools.count(1))
        return str(next(counter))

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def coll(self, name: str) -> dict[str, dict]:
        return self.collections.setdefault(name, {})
