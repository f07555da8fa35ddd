"""Polymarket RTDS Chainlink BTC/USD feed: the markets' own resolution source (optional).

The window's strike is the first report with timestamp >= window start, its settle price
the first report >= window end.  We only answer when we also hold a report from before
the instant; otherwise we may have missed the true first one and must not guess.
"""

from __future__ import annotations

import bisect
import json
import logging
import threading
from collections import deque
from decimal import Decimal
from typing import Callable

import websocket

from services.feed.parsers import InvalidPayload, OraclePrice, parse_rtds_message
from services.feed.parsers.clob import RTDS_TOPIC
from services.feed.sources.wsloop import ReconnectingSocket

log = logging.getLogger("polybot.feed")
KEEPALIVE_S = 5.0  # RTDS expects a text PING every few seconds


class ChainlinkRtds(ReconnectingSocket):
    name = "rtds"

    def __init__(self, url: str, *, symbol: str, now: Callable[[], float],
                 capacity: int = 3600, keepalive_s: float = KEEPALIVE_S, **loop_options):
        super().__init__(url, now=now, **loop_options)
        self._symbol = symbol
        self._keepalive_s = keepalive_s
        self._reports: deque[OraclePrice] = deque(maxlen=capacity)
        self._reports_lock = threading.Lock()

    def on_open(self, app: websocket.WebSocketApp) -> None:
        filters = json.dumps({"symbol": self._symbol})
        app.send(json.dumps({"action": "subscribe", "subscriptions": [
            {"topic": RTDS_TOPIC, "type": "*", "filters": filters}]}))
        threading.Thread(target=self._keepalive, args=(app,), name="rtds-ping", daemon=True).start()

    def handle(self, text: str) -> None:
        if text.strip().upper() == "PONG" or not text.strip():
            return
        try:
            report = parse_rtds_message(json.loads(text), self._symbol)
        except ValueError as err:
            log.warning("rtds: dropped invalid message: %s",
                        err if isinstance(err, InvalidPayload) else "not JSON")
            return
        if report is not None:
            self.add(report)

    def add(self, report: OraclePrice) -> None:
        """Keep reports ordered by their own timestamp (they may arrive out of order)."""
        with self._reports_lock:
            if self._reports and report.ts_ms <= self._reports[-1].ts_ms:
                items = sorted({r.ts_ms: r for r in (*self._reports, report)}.values())
                self._reports.clear()
                self._reports.extend(items[-self._reports.maxlen:])
            else:
                self._reports.append(report)

    def price_at(self, ts_s: int) -> Decimal | None:
        """The first report at or after ``ts_s``, if a report before it is also held."""
        target = ts_s * 1000
        with self._reports_lock:
            times = [r.ts_ms for r in self._reports]
            i = bisect.bisect_left(times, target)
            if i == 0 or i == len(times):
                return None
            return self._reports[i].value

    def _keepalive(self, app: websocket.WebSocketApp) -> None:
        while not self._stop.wait(self._keepalive_s):
            if app.sock is None or not app.sock.connected:
                return
            try:
                app.send("PING")
            except Exception:  # noqa: BLE001 - the loop's reconnect handles a dead socket
                return
