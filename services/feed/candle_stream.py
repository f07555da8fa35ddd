"""Every new closed candle on its own stream, for watching and replay.

Bars reach the store from the WebSocket thread, the REST poller and the handler (a
window's closing bar fetched over REST), often several at once: in lockstep the five
bars of a window close together.  Publishing each in its caller's thread put a Redis
round trip into every one of those paths, the tick's included.  Callers hand the bar to
a queue and go on; one thread publishes whatever has queued up in a single commit.
The stream is for observers only (the pipeline reads candles from the store), and ids
are deterministic, so a bar published twice is kept out by the bus.
"""

from __future__ import annotations

import logging
import queue
import threading

from shared import messages as m, streams
from shared.bus import Bus
from shared.clock import Clock

log = logging.getLogger("polybot.feed")
_STOP = object()


class CandleStream:
    def __init__(self, bus: Bus, clock: Clock, symbol: str, *, max_batch: int = 500):
        self._bus = bus
        self._clock = clock
        self._symbol = symbol
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="candle-stream", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 2.0) -> None:
        """Publish what is queued, then end the thread."""
        self._queue.put(_STOP)
        self._thread.join(timeout_s)

    def __call__(self, bar: m.Bar, source: str) -> None:
        """``on_new_bar`` for the candle store: queue the bar, stamped now."""
        self._queue.put(self._message(bar, source))

    def _message(self, bar: m.Bar, source: str) -> m.Candle:
        return m.Candle(**m.header(key=("candle", self._symbol, bar.open_time_ms),
                                   ts_event=(bar.open_time_ms + 60_000) * 1_000_000,
                                   ts_init=self._clock.now_ns()),
                        symbol=self._symbol, bar=bar, source=source)

    def _run(self) -> None:
        stopping = False
        while not stopping:
            batch = [self._queue.get()]
            while len(batch) < self._max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stopping = _STOP in batch
            candles = [(streams.CANDLES, c) for c in batch if c is not _STOP]
            if candles:
                self._publish(candles)

    def _publish(self, candles: list) -> None:
        try:
            self._bus.commit(candles)
        except Exception as exc:  # noqa: BLE001 - observers miss these bars; trading does not
            log.warning("could not publish candles", extra={"data": {
                "bars": len(candles), "error": str(exc)[:200]}})
