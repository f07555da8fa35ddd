"""A websocket-client connection kept alive in a background thread.

Reconnects with exponential backoff and jitter; reconnects at once (no backoff) when
asked to (server shutdown notice, connection age limit); a watchdog closes connections
that are too old or have gone silent.  Subclasses give ``url`` and handle messages.

Two clocks: ``now`` (the data clock, simulated in a replay) stamps the messages, whose
freshness is a question about the market; ``monotonic`` (wall time) measures the
connection's age and silence, which are questions about a socket.  Measured on the data
clock, a lockstep replay's 5-minute jumps made a healthy connection look silent or a day
old at moments that depended on thread timing, and the reconnects changed which price a
window saw from one replay to the next.
"""

from __future__ import annotations

import logging
import random
import socket
import threading
import time
from typing import Callable

import websocket

log = logging.getLogger("polybot.feed")


class ReconnectingSocket:
    name = "ws"

    def __init__(self, url: str, *, now: Callable[[], float], ping_interval_s: float = 30.0,
                 ping_timeout_s: float = 10.0, max_age_s: float = 23 * 3600.0,
                 silence_s: float = 30.0, backoff_base_s: float = 0.5,
                 backoff_max_s: float = 30.0,
                 watchdog_every_s: float = 0.5, rng: random.Random | None = None,
                 monotonic: Callable[[], float] = time.monotonic):
        self.url = url
        self._now = now
        self._monotonic = monotonic
        self._ping = (ping_interval_s, ping_timeout_s)
        self._max_age_s = max_age_s
        self._silence_s = silence_s
        self._backoff = (backoff_base_s, backoff_max_s)
        self._watchdog_every_s = watchdog_every_s
        self._rng = rng or random.Random()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._app: websocket.WebSocketApp | None = None
        self._threads: list[threading.Thread] = []
        self._connected = False
        self._opened_at = 0.0  # monotonic
        self._last_message_at: float | None = None  # monotonic
        self._handling_since: float | None = None  # data-clock receive time of the message being handled
        self._reconnect_now = False
        self._failures = 0
        self.connections = 0  # successful opens, for tests and health

    # -- liveness ------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self._connected

    def is_live(self) -> bool:
        """Connected and heard from within ``silence_s`` (wall time)."""
        last = self._last_message_at
        return self._connected and last is not None and self._monotonic() - last <= self._silence_s

    # -- lifecycle -----------------------------------------------------------------
    def start(self) -> None:
        for target, suffix in ((self._run, "loop"), (self._watch, "watchdog")):
            thread = threading.Thread(target=target, name=f"{self.name}-{suffix}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._close_current()
        for thread in self._threads:
            thread.join(timeout)

    def reconnect_now(self, why: str) -> None:
        """Drop the connection and open a new one without backoff."""
        log.info("%s: reconnecting now: %s", self.name, why)
        self._reconnect_now = True
        self._close_current()

    # -- subclass hooks --------------------------------------------------------------
    def on_open(self, app: websocket.WebSocketApp) -> None:
        """Called once connected (send subscriptions here)."""

    def handle(self, text: str) -> None:
        raise NotImplementedError

    # -- internals -------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            app = websocket.WebSocketApp(
                self.url, on_open=self._opened, on_message=self._message,
                on_error=self._errored, on_close=self._closed)
            with self._lock:
                self._app = app
                self._reconnect_now = False
            app.run_forever(ping_interval=self._ping[0], ping_timeout=self._ping[1],
                            skip_utf8_validation=True)
            self._connected = False
            if self._stop.is_set():
                break
            self._stop.wait(self._next_delay())

    def _next_delay(self) -> float:
        if self._reconnect_now:
            return 0.0
        self._failures += 1
        first, cap = self._backoff
        base = min(cap, first * 2 ** (self._failures - 1))
        return base * (0.5 + 0.5 * self._rng.random())

    def _opened(self, app: websocket.WebSocketApp) -> None:
        self._connected = True
        self._opened_at = self._monotonic()
        self.connections += 1
        log.info("%s: connected to %s", self.name, self.url.split("?")[0])
        self.on_open(app)

    def _message(self, app: websocket.WebSocketApp, raw: str | bytes) -> None:
        self._last_message_at = self._monotonic()
        self._handling_since = self._now()
        self._failures = 0  # a connection that delivers data resets the backoff
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        try:
            self.handle(text)
        except Exception:  # noqa: BLE001 - one bad message must not kill the connection
            log.exception("%s: failed to handle a message", self.name)
        finally:
            self._handling_since = None

    def received_at(self) -> float:
        """When the message being handled arrived (one clock read per message: in
        simulation without a clock file every read is an HTTP call); outside ``handle``, now."""
        since = self._handling_since
        return since if since is not None else self._now()

    def _errored(self, app: websocket.WebSocketApp, error: Exception) -> None:
        log.warning("%s: connection error: %s", self.name, error)

    def _closed(self, app: websocket.WebSocketApp, code: int | None, reason: str | None) -> None:
        self._connected = False
        log.info("%s: disconnected (code=%s)", self.name, code)

    def _watch(self) -> None:
        while not self._stop.wait(self._watchdog_every_s):
            if not self._connected:
                continue
            now = self._monotonic()
            if now - self._opened_at >= self._max_age_s:
                self.reconnect_now(f"connection older than {self._max_age_s:g}s")
            elif now - max(self._last_message_at or 0.0, self._opened_at) > self._silence_s:
                log.warning("%s: silent for over %.0fs, reconnecting", self.name, self._silence_s)
                self._close_current()

    def _close_current(self) -> None:
        """Close from any thread without blocking.

        ``WebSocketApp.close()`` does the close handshake in the calling thread and closes
        the fd under the reader's ``select``, which then sleeps until ``ping_timeout``.
        Sending the close frame and shutting the socket down instead wakes the reader at
        once (it sees EOF), and it tears the connection down itself.
        """
        with self._lock:
            app = self._app
        if app is None:
            return
        app.keep_running = False
        ws = app.sock
        if ws is None:
            return
        for step in (ws.send_close, lambda: ws.sock and ws.sock.shutdown(socket.SHUT_RDWR)):
            try:
                step()
            except Exception:  # noqa: BLE001 - the socket may already be broken or closed
                log.debug("%s: error while closing", self.name, exc_info=True)
