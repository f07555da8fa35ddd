"""What one Binance WebSocket connection should receive, as a function of feed time.

Streams: ``btcusdt@kline_1m`` (a push of the open candle every 2 s of sim time, and a
closing push with ``"x": true`` for every candle that closed, in order, even when the
clock jumps) and ``btcusdt@depth{5,10,20}[@100ms|@1000ms]`` (top-N snapshots). A new
connection starts at the present: no backlog of older candles.
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

from services.sim.binance import ws_kline_event
from services.sim.data import MINUTE_MS
from services.sim.feed import PriceFeed

KLINE_STREAM = "btcusdt@kline_1m"
KLINE_PUSH_MS = 2000  # Binance pushes the open 1m candle every 2 s
MAX_BACKLOG = 10_000  # closing pushes sent after one clock jump, at most
_DEPTH = re.compile(r"^btcusdt@depth(5|10|20)(?:@(100|1000)ms)?$")


def parse_stream_path(raw_path: str) -> tuple[list[str], bool]:
    """(stream names, combined?) from '/ws/<s>', '/stream?streams=a/b' or '/ws/stream?..'."""
    split = urlsplit(raw_path)
    path = split.path.rstrip("/")
    if path.endswith("/stream") or path == "/stream":
        streams = parse_qs(split.query).get("streams", [""])[0]
        return [s for s in streams.lower().split("/") if s], True
    tail = path[len("/ws"):] if path.startswith("/ws") else path
    return [s for s in tail.lower().split("/") if s], False


class StreamSession:
    def __init__(self, feed: PriceFeed, streams: list[str], combined: bool, now_ms: int):
        self._feed = feed
        self.streams: list[str] = []
        self.combined = combined
        minute = now_ms - now_ms % MINUTE_MS
        self._last_closed_open_ms = minute - MINUTE_MS  # closings already "seen" at connect
        self._last_kline_grid = -1
        self._last_depth_bucket: dict[str, int] = {}
        self.subscribe(streams)

    def subscribe(self, streams: list[str]) -> None:
        for stream in streams:
            if stream.lower() not in self.streams:
                self.streams.append(stream.lower())

    def unsubscribe(self, streams: list[str]) -> None:
        self.streams = [s for s in self.streams if s not in {x.lower() for x in streams}]

    def collect(self, view_ms: int) -> list[str]:
        """Messages due at feed time ``view_ms`` that this connection has not had yet."""
        out: list[str] = []
        for stream in list(self.streams):
            if stream == KLINE_STREAM:
                payloads = self._kline(view_ms)
            else:
                payloads = self._depth(stream, view_ms)
            for payload in payloads:
                data = {"stream": stream, "data": payload} if self.combined else payload
                out.append(json.dumps(data, separators=(",", ":")))
        return out

    def collect_again(self, view_ms: int) -> list[str]:
        """The open candle and the depth at ``view_ms`` once more (Binance keeps pushing
        them while nothing changes; the simulator's clock standing still must not look
        like a dead socket)."""
        self._last_kline_grid = -1
        self._last_depth_bucket.clear()
        return self.collect(view_ms)

    def _kline(self, view_ms: int) -> list[dict]:
        store, events = self._feed.store, []
        first = store.count_open_by(self._last_closed_open_ms)
        last = min(store.count_open_by(view_ms - MINUTE_MS), first + MAX_BACKLOG)
        for index in range(first, last):
            kline = self._feed.kline(index, view_ms)
            events.append(ws_kline_event(kline, kline.open_ms + MINUTE_MS))
            self._last_closed_open_ms = kline.open_ms
        grid = view_ms - view_ms % KLINE_PUSH_MS
        if grid > self._last_kline_grid:
            self._last_kline_grid = grid
            index = store.index_containing(grid)
            if index is not None:
                events.append(ws_kline_event(self._feed.kline(index, grid), grid))
        return events

    def _depth(self, stream: str, view_ms: int) -> list[dict]:
        match = _DEPTH.match(stream)
        if match is None:
            return []
        interval = int(match.group(2) or 1000)
        bucket = view_ms // interval
        if bucket <= self._last_depth_bucket.get(stream, -1):
            return []
        self._last_depth_bucket[stream] = bucket
        snapshot = self._feed.depth(bucket * interval, int(match.group(1)))
        return [snapshot] if snapshot is not None else []


def control_reply(session: StreamSession, text: str) -> str | None:
    """Answer SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS like Binance does."""
    try:
        message = json.loads(text)
    except ValueError:
        return None
    if not isinstance(message, dict):
        return None
    method, params = message.get("method"), message.get("params") or []
    result = None
    if method == "SUBSCRIBE":
        session.subscribe([str(p) for p in params])
    elif method == "UNSUBSCRIBE":
        session.unsubscribe([str(p) for p in params])
    elif method == "LIST_SUBSCRIPTIONS":
        result = list(session.streams)
    else:
        return json.dumps({"error": {"code": 2, "msg": "Invalid request"}, "id": message.get("id")})
    return json.dumps({"result": result, "id": message.get("id")}, separators=(",", ":"))
