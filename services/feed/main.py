"""The feed service: Binance candles and depth, CoinGecko, Polymarket discovery."""

from __future__ import annotations

from services.feed.config import FeedConfig
from services.feed.handler import FeedHandler
from services.feed.wiring import build_feed
from shared import messages as m, streams
from shared.config import load, read_environment
from shared.runtime import RuntimeConfig, service_main


def candle_publisher(bus, clock, symbol: str):
    """Publish each new closed candle on its own stream, for watching and replay."""
    def publish(bar: m.Bar, source: str) -> None:
        now = clock.now_ns()
        bus.publish(streams.CANDLES, m.Candle(**m.header(key=("candle", symbol, bar.open_time_ms),
                                                           ts_event=(bar.open_time_ms + 60_000) * 1_000_000,
                                                           ts_init=now),
                                              symbol=symbol, bar=bar, source=source))
    return publish


def build(cfg: RuntimeConfig, bus, stop):
    feed_cfg = load(FeedConfig, read_environment())  # validated: bad values exit 2
    clock = cfg.make_clock()
    feed = build_feed(feed_cfg, now=clock.now, on_new_bar=candle_publisher(bus, clock, feed_cfg.symbol))
    feed.start()  # WebSocket threads and the REST poller run beside the message loop
    return FeedHandler(feed.assembler)


def main(argv: list[str] | None = None) -> int:
    return service_main("feed", RuntimeConfig, build, argv)
