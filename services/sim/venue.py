"""Everything the simulator knows, wired together once per run (no globals)."""

from __future__ import annotations

import logging
import threading

from services.sim.accounts import Accounts
from services.sim.auth import Authenticator
from services.sim.book import Books
from services.sim.clock import SimClock
from services.sim.config import SYNTHETIC, SYNTHETIC_DEFAULT_START_MS, SimConfig
from services.sim.data import MINUTE_MS, CandleStore, load_csv
from services.sim.exchange import Exchange
from services.sim.faults import FaultPlan
from services.sim.feed import PriceFeed
from services.sim.market_model import MarketModel
from services.sim.order_log import OrderLog
from services.sim.resolution import Resolver
from services.sim.synthetic import HISTORY_MINUTES, SyntheticSeries
from services.sim.windows import WINDOW_S, WindowRegistry, window_start_containing
from shared.sim_time import ClockFileWriter

log = logging.getLogger("polybot.sim")
CSV_WARMUP_CANDLES = 400
WINDOW_MS = WINDOW_S * 1000


def build_store(config: SimConfig) -> tuple[CandleStore, int]:
    """The candle store and the start time (ms) for the configured data source."""
    if config.data == SYNTHETIC:
        start = config.start_ms if config.start_ms is not None else SYNTHETIC_DEFAULT_START_MS
        series = SyntheticSeries(config.seed, start - HISTORY_MINUTES * MINUTE_MS)
        store = CandleStore(series.next_chunk(), series.next_chunk)
        store.ensure_until(start + MINUTE_MS)
        return store, start
    store = CandleStore(load_csv(config.data))
    if config.start_ms is not None:
        return store, config.start_ms
    warm = store.first_open_ms + CSV_WARMUP_CANDLES * MINUTE_MS
    return store, -(-warm // WINDOW_MS) * WINDOW_MS  # first 5-minute boundary after warm-up


class Venue:
    def __init__(self, config: SimConfig):
        self.config = config
        self.store, start_ms = build_store(config)
        self.clock_file = ClockFileWriter(config.clock_file) if config.clock_file else None
        self.clock = SimClock(start_ms, config.speed,
                              publish=self.clock_file.publish if self.clock_file else None)
        self.feed = PriceFeed(config.seed, self.store)
        earliest = -(-self.store.first_open_ms // WINDOW_MS) * WINDOW_S
        self.first_window_s = window_start_containing(start_ms)
        self.registry = WindowRegistry(config.seed, self.first_window_s, earliest,
                                       config.market_lead_s)
        self.model = MarketModel(config.seed, self.feed, config.book_levels)
        self.books = Books(self.model)
        self._faults_lock = threading.Lock()
        self._faults = FaultPlan(config.seed, config.faults, start_ms, self.window_index_at)
        self.resolver = Resolver(self.feed, config.resolution_delay_s, self.faults)
        self.accounts = Accounts(config.paper_balance)
        self.auth = Authenticator()
        self.exchange = Exchange(config.seed, config.chain_id, self.registry, self.books,
                                 self.accounts, self.faults, config.verify_order_signatures)
        self.order_log = OrderLog(config.chain_id,
                                  lambda token: self.registry.by_token(token, self.now_ms()))
        self.registry.index_existing(self.now_ms())

    def now_ms(self) -> int:
        now = self.clock.now_ms()
        self.store.ensure_until(now + MINUTE_MS)  # synthetic data grows with the clock
        return now

    def feed_time(self) -> int:
        """The time the BTC feeds (Binance, CoinGecko) show: frozen under feed=stale."""
        return self.faults().feed_time(self.now_ms())

    def faults(self) -> FaultPlan:
        return self._faults

    def install_faults(self, spec: str) -> FaultPlan:
        plan = FaultPlan(self.config.seed, spec, self.now_ms(), self.window_index_at)
        with self._faults_lock:
            self._faults = plan
        log.info("faults installed: %r", spec)
        return plan

    def window_index_at(self, ms: int) -> int:
        return (window_start_containing(ms) - self.first_window_s) // WINDOW_S
