"""In-memory store of closed 1-minute bars, filled by the WebSocket and by REST.

Bars are keyed by open time, so timestamps are strictly increasing by construction.  A
duplicate with identical data is a no-op; a conflicting one is logged and counted, and
the REST version wins (REST is Binance's settled record; a WS push can be superseded).
"""

from __future__ import annotations

import bisect
import logging
import threading
from typing import Callable, Iterable, Protocol

from services.feed.counters import FeedCounters
from shared.messages.market import Bar

log = logging.getLogger("polybot.feed")
MINUTE_MS = 60_000
REST = "binance_rest"
WS = "binance_ws"


class KlineSource(Protocol):
    def klines(self, first_open_ms: int, last_open_ms: int, *,
               deadline: float | None = None) -> list[Bar]: ...


class CandleStore:
    def __init__(self, *, capacity: int = 2000, rest: KlineSource | None = None,
                 counters: FeedCounters | None = None,
                 on_new_bar: Callable[[Bar, str], None] | None = None):
        self._capacity = capacity
        self._rest = rest
        self._counters = counters or FeedCounters()
        self._on_new_bar = on_new_bar
        self._lock = threading.RLock()
        self._times: list[int] = []
        self._bars: dict[int, tuple[Bar, str]] = {}

    def __len__(self) -> int:
        with self._lock:
            return len(self._times)

    def add(self, bar: Bar, source: str) -> bool:
        """Store one closed bar; True if the store changed."""
        with self._lock:
            changed = self._put(bar, source)
        if changed == "new" and self._on_new_bar is not None:
            self._on_new_bar(bar, source)
        return changed is not None

    def add_many(self, bars: Iterable[Bar], source: str) -> int:
        return sum(self.add(bar, source) for bar in bars)

    def get(self, open_ms: int) -> Bar | None:
        with self._lock:
            entry = self._bars.get(open_ms)
        return entry[0] if entry else None

    def latest(self) -> Bar | None:
        with self._lock:
            return self._bars[self._times[-1]][0] if self._times else None

    def missing_before(self, window_start_s: int, history: int) -> list[int]:
        """Open times of the ``history`` minutes before ``window_start_s`` not held."""
        with self._lock:
            return [t for t in _wanted(window_start_s, history) if t not in self._bars]

    def bars_before(self, window_start_s: int, history: int, *, fill: bool = True,
                    deadline: float | None = None) -> tuple[Bar, ...]:
        """The last ``history`` closed bars before the window (open_time + 60 s <= start).

        Anything missing is fetched from REST first, synchronously (the first call after
        start-up therefore fetches the whole history).  REST errors propagate; the caller
        then sees fewer than ``history`` bars and must treat the data as incomplete.
        """
        missing = self.missing_before(window_start_s, history) if fill else []
        if missing and self._rest is not None:
            for first, last in _ranges(missing):
                self.add_many(self._rest.klines(first, last, deadline=deadline), REST)
        with self._lock:
            return tuple(self._bars[t][0] for t in _wanted(window_start_s, history) if t in self._bars)

    def _put(self, bar: Bar, source: str) -> str | None:
        t = bar.open_time_ms
        existing = self._bars.get(t)
        if existing is None:
            bisect.insort(self._times, t)
            self._bars[t] = (bar, source)
            self._evict()
            return "new" if t in self._bars else None
        old_bar, old_source = existing
        if old_bar == bar:
            return None
        self._counters.incr("candles.conflict")
        if old_source == REST and source != REST:
            log.warning("candle %d: %s disagrees with REST, keeping REST", t, source)
            return None
        log.warning("candle %d: %s replaces conflicting %s version", t, source, old_source)
        self._bars[t] = (bar, source)
        return "replaced"

    def _evict(self) -> None:
        while len(self._times) > self._capacity:
            del self._bars[self._times.pop(0)]


def _wanted(window_start_s: int, history: int) -> list[int]:
    last = (window_start_s * 1000 // MINUTE_MS) * MINUTE_MS - MINUTE_MS
    return [last - k * MINUTE_MS for k in range(history - 1, -1, -1)]


def _ranges(times: list[int], max_ranges: int = 3) -> list[tuple[int, int]]:
    """Contiguous runs of missing minutes; many scattered holes become one span."""
    runs: list[list[int]] = []
    for t in times:
        if runs and t == runs[-1][1] + MINUTE_MS:
            runs[-1][1] = t
        else:
            runs.append([t, t])
    if len(runs) > max_ranges:
        return [(times[0], times[-1])]
    return [(first, last) for first, last in runs]


class CandlePoller:
    """Polls REST for recent bars while the WebSocket is not live."""

    def __init__(self, store: CandleStore, rest, *, ws_is_live: Callable[[], bool],
                 interval_s: float = 5.0, counters: FeedCounters | None = None):
        self._store = store
        self._rest = rest
        self._ws_is_live = ws_is_live
        self._interval_s = interval_s
        self._counters = counters or FeedCounters()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="candle-poller", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def poll_once(self) -> int:
        """Fetch the latest bars if the WS is down; returns how many were new."""
        if self._ws_is_live():
            return 0
        added = self._store.add_many(self._rest.recent_klines(5), REST)
        self._counters.incr("candles.rest_polls")
        return added

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            try:
                self.poll_once()
            except Exception as err:  # noqa: BLE001 - a failed poll is retried next period
                log.warning("candle poll failed: %s", err)
