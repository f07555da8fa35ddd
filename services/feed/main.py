"""The feed service: Binance candles and depth, CoinGecko, Polymarket discovery."""

from __future__ import annotations

from services.feed.candle_stream import CandleStream
from services.feed.config import FeedConfig
from services.feed.handler import FeedHandler
from services.feed.wiring import build_feed
from shared.config import load, read_environment
from shared.runtime import RuntimeConfig, service_main


def build(cfg: RuntimeConfig, bus, stop):
    feed_cfg = load(FeedConfig, read_environment())  # validated: bad values exit 2
    clock = cfg.make_clock()
    candles = CandleStream(bus, clock, feed_cfg.symbol)
    candles.start()
    feed = build_feed(feed_cfg, now=clock.now, on_new_bar=candles)
    feed.start()  # WebSocket threads and the REST poller run beside the message loop

    def close() -> None:
        feed.stop()     # no new bars after this
        candles.stop()  # publish the bars still queued

    return FeedHandler(feed.assembler, on_close=close)


def main(argv: list[str] | None = None) -> int:
    return service_main("feed", RuntimeConfig, build, argv)
