"""Build the feed's objects from a FeedConfig: one HTTP session per upstream.

``main.py`` (the runtime) does::

    feed = build_feed(cfg, now=clock.now)       # cfg = FeedConfig(...).validate()
    feed.start()                                 # WS threads + REST poller
    md = feed.assembler.market_data(tick)        # IntervalTick  -> MarketData
    wp = feed.assembler.window_prices(closed)    # WindowClosed  -> WindowPrices
    feed.stop()
"""

from __future__ import annotations

import random
import time
from typing import Callable

from services.feed.assemble import FeedAssembler, FeedSources
from services.feed.candles import WS, CandlePoller, CandleStore
from services.feed.config import FeedConfig
from services.feed.counters import FeedCounters
from services.feed.prices import WindowPricer
from services.feed.sources.binance_rest import BinanceRest
from services.feed.sources.binance_ws import BinanceStream
from services.feed.sources.coingecko import CoinGecko
from services.feed.sources.polymarket import Clob, Gamma
from services.feed.sources.rtds import ChainlinkRtds
from shared.http import HttpClient
from shared.messages.market import Bar


class Feed:
    def __init__(self, *, assembler: FeedAssembler, sources: FeedSources, poller: CandlePoller,
                 clients: list[HttpClient], oracle: ChainlinkRtds | None):
        self.assembler = assembler
        self.sources = sources
        self.poller = poller
        self.oracle = oracle
        self._clients = clients

    @property
    def counters(self) -> FeedCounters:
        return self.assembler.counters

    def start(self) -> None:
        if self.sources.stream is not None:
            self.sources.stream.start()
        if self.oracle is not None:
            self.oracle.start()
        self.poller.start()

    def stop(self) -> None:
        self.poller.stop()
        for socket in (self.sources.stream, self.oracle):
            if socket is not None:
                socket.stop()
        self.assembler.close()
        for client in self._clients:
            client.close()


def build_feed(cfg: FeedConfig, *, now: Callable[[], float],
               on_new_bar: Callable[[Bar, str], None] | None = None,
               sleep: Callable[[float], None] = time.sleep,
               rng: random.Random | None = None) -> Feed:
    """Everything wired; nothing started.  ``on_new_bar(bar, source)`` sees each new
    closed bar (e.g. to publish ``Candle`` messages)."""
    cfg.validate()
    rng = rng or random.Random()
    counters = FeedCounters()

    def http(url: str, name: str) -> HttpClient:
        return HttpClient(url, name=name, now=now, sleep=sleep, rng=rng,
                          connect_timeout_s=cfg.http_connect_timeout_s,
                          read_timeout_s=cfg.http_timeout_s, max_attempts=cfg.max_attempts,
                          backoff_base_s=cfg.backoff_base_s,
                          max_retry_after_s=cfg.max_retry_after_s)

    clients = [http(cfg.binance_rest_url, "binance REST"), http(cfg.coingecko_url, "coingecko"),
               http(cfg.gamma_url, "gamma"), http(cfg.clob_url, "clob")]
    rest = BinanceRest(clients[0], symbol=cfg.symbol, now=now)
    store = CandleStore(capacity=cfg.kept_bars, rest=rest, counters=counters,
                        on_new_bar=on_new_bar)
    stream, oracle = _sockets(cfg, now=now, store=store, counters=counters, rng=rng)
    sources = FeedSources(
        store=store, rest=rest, gamma=Gamma(clients[2], now=now, slug_prefix=cfg.slug_prefix),
        clob=Clob(clients[3]),
        pricer=WindowPricer(store=store, rest=rest, now=now, stream=stream, oracle=oracle,
                            sleep=sleep),
        coingecko=CoinGecko(clients[1], now=now, max_age_s=cfg.coingecko_max_age_s),
        stream=stream)
    poller = CandlePoller(store, rest, ws_is_live=stream.is_live if stream else (lambda: False),
                          interval_s=cfg.rest_poll_interval_s, counters=counters)
    assembler = FeedAssembler(cfg, sources, now=now, counters=counters)
    return Feed(assembler=assembler, sources=sources, poller=poller, clients=clients, oracle=oracle)


def _sockets(cfg: FeedConfig, *, now: Callable[[], float], store: CandleStore,
             counters: FeedCounters, rng: random.Random
             ) -> tuple[BinanceStream | None, ChainlinkRtds | None]:
    """The Binance stream (if ``use_websocket``) and the RTDS oracle (if ``rtds_url``)."""
    loop_options = dict(ping_interval_s=cfg.ws_ping_interval_s, ping_timeout_s=cfg.ws_ping_timeout_s,
                        max_age_s=cfg.ws_max_age_s, silence_s=cfg.ws_silence_s,
                        backoff_max_s=cfg.ws_backoff_max_s, rng=rng)
    stream = None
    if cfg.use_websocket:
        stream = BinanceStream(
            cfg.binance_ws_url, symbol=cfg.symbol, depth_levels=cfg.depth_levels,
            on_closed_bar=lambda bar: store.add(bar, WS), now=now,
            on_invalid=lambda err: counters.incr(f"invalid.{err.source}"), **loop_options)
    oracle = (ChainlinkRtds(cfg.rtds_url, symbol=cfg.rtds_symbol, now=now, **loop_options)
              if cfg.rtds_url else None)
    return stream, oracle
