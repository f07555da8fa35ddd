"""The simulator's quote and FOK fill, as the analysis uses them."""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from polybot.analysis.data_files import run_starts
from polybot.analysis.venue import MinuteOpenFeed, SimMarket
from services.sim.book import Books
from services.sim.market_model import MarketModel
from services.sim.matching import taker_fee

STAKES = ("1", "2.55", "5", "7.5", "11.25", "16.87", "25", "180", "400")  # the last two walk the book


def test_window_start_books_equal_the_simulators_own(crash_world, crash_data):
    market = crash_world.windows[0].market
    real = MarketModel(market.seed, market.feed, 5)  # the simulator's feed, paths built
    fast = MarketModel(market.seed, MinuteOpenFeed(market.feed), 5)
    for first in run_starts(crash_data, 1, 500)[::400]:
        window = market.window(int(crash_data.open_ms[first]) // 1000)
        for token in window.tokens:
            assert Books(fast).token_book(window, token, window.start_ms) == \
                Books(real).token_book(window, token, window.start_ms)


def test_cached_fills_equal_fresh_fills_and_the_venues_fee(crash_world, crash_data):
    windows = crash_world.windows[0]
    firsts = np.random.default_rng(1).choice(run_starts(crash_data, 1, 500), size=40, replace=False)
    tradeable = [f for f in (windows.facts(int(i)) for i in firsts) if f.tradeable]
    for facts in tradeable:
        for stake in map(Decimal, STAKES):
            fill = crash_world.fill(facts, stake)
            assert fill == SimMarket.fill(facts.book, stake)
            levels = tuple((int(level.price * 1000), level.size) for level in facts.book.asks)
            if fill is not None and levels[0][1] * levels[0][0] / 1000 >= stake:  # one level: no averaging
                assert fill.fee == taker_fee(fill.shares, levels[0][0])  # what the simulator charges
    assert tradeable and any(crash_world.fill(f, Decimal("400")) is None or
                             crash_world.fill(f, Decimal("400")).avg_price > f.book.asks[0].price
                             for f in tradeable)  # deep orders do walk the book (or get killed)
