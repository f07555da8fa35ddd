"""Build a tick's MarketData and a closed window's WindowPrices.

The independent parts (candles, BTC depth, the Polymarket quote, the start price, and
CoinGecko when Binance has no live price) are fetched concurrently on a small pool.
Every HTTP call carries the tick's deadline (``entry_deadline``, capped by
``tick_budget_s``); whatever is not ready by then is reported in ``reasons`` and the
message is published with ``complete=False``.  Message ids are deterministic
(``("md", run_id, interval)``), so a redelivered tick yields the same message id.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor, wait
from decimal import Decimal
from typing import Callable, NamedTuple

from services.feed.candles import CandleStore
from services.feed.config import FeedConfig
from services.feed.counters import FeedCounters
from services.feed.parsers import InvalidPayload, order_book_imbalance
from services.feed.parts import (
    Part, QuoteParts, candle_price, candles_part, coingecko_part, depth_part, gamma_odds,
    guarded, quote_part,
)
from services.feed.prices import WindowPricer
from services.feed.sources.binance_rest import BinanceRest
from services.feed.sources.binance_ws import BinanceStream
from services.feed.sources.coingecko import CoinGecko
from services.feed.sources.polymarket import Clob, Gamma
from shared.http import HttpError
from shared.messages.base import header
from shared.messages.market import BookSnapshot, MarketData, MarketQuote, WindowPrices
from shared.messages.schedule import IntervalTick, WindowClosed

log = logging.getLogger("polybot.feed")
NS = 1_000_000_000


class FeedSources(NamedTuple):
    store: CandleStore
    rest: BinanceRest
    gamma: Gamma
    clob: Clob
    pricer: WindowPricer
    coingecko: CoinGecko | None = None
    stream: BinanceStream | None = None


class _Quote(NamedTuple):
    quote: MarketQuote | None
    odds_up: Decimal | None
    odds_down: Decimal | None
    reasons: tuple[str, ...]


class FeedAssembler:
    def __init__(self, cfg: FeedConfig, sources: FeedSources, *, now: Callable[[], float],
                 counters: FeedCounters | None = None):
        self._cfg = cfg
        self._src = sources
        self._now = now
        self.counters = counters or FeedCounters()
        self._pool = ThreadPoolExecutor(cfg.workers, thread_name_prefix="feed")

    def close(self) -> None:
        """Stop the pools; running calls end by their own deadlines."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    # -- MarketData ------------------------------------------------------------------
    def market_data(self, tick: IntervalTick) -> MarketData:
        # Time is read once per step, not once per field: in simulation without a clock
        # file every read is an HTTP call to the simulator, on the tick's critical path.
        now = self._now()
        if now >= tick.entry_deadline:
            self.counters.incr("tick.late")
            return self._finish(tick, {}, None, now,
                                ("entry deadline passed before the tick was handled",))
        deadline = min(float(tick.entry_deadline), now + self._cfg.tick_budget_s)
        ws_price = self._ws_price(now)
        parts = self._fetch_parts(tick, deadline, now, need_spot=ws_price is None)
        md = self._finish(tick, parts, ws_price, deadline, ())
        # Look the next window's market up now, so its tick does not wait for Gamma.
        self._pool.submit(self._src.gamma.prefetch, tick.window_start + self._cfg.window_s,
                          deadline=md.ts_init / NS + self._cfg.tick_budget_s)
        return md

    def _ws_price(self, now: float) -> Decimal | None:
        stream = self._src.stream
        price = stream.latest_price(self._cfg.stale_after_s, now) if stream is not None else None
        if stream is not None and price is None:
            self.counters.incr("stale.binance_ws_price")
        return price

    def _fetch_parts(self, tick: IntervalTick, deadline: float, now: float, *,
                     need_spot: bool) -> dict[str, Part]:
        cfg, src, ws = self._cfg, self._src, tick.window_start
        jobs: dict[str, Callable[[], Part]] = {
            "candles": lambda: candles_part(src.store, ws, cfg.history_bars, deadline),
            "depth": lambda: depth_part(cfg, src.rest, src.stream, self.counters, deadline, now),
            "polymarket": lambda: quote_part(cfg, src.gamma, src.clob, ws, deadline),
            "start price": lambda: self._start_part(ws, deadline),
        }
        if need_spot:
            jobs["coingecko"] = lambda: coingecko_part(src.coingecko, deadline)
        futures = {name: self._pool.submit(guarded, name, self.counters, job)
                   for name, job in jobs.items()}
        done, _ = wait(futures.values(), timeout=max(0.0, deadline - self._now()))
        return {name: fut.result() if fut in done else Part(None, (f"{name}: not ready by the deadline",))
                for name, fut in futures.items()}

    def _start_part(self, window_start: int, deadline: float) -> Part:
        point = self._src.pricer.start_price(window_start, deadline=deadline)
        return Part(point.value, (point.reason,) if point.reason else (), point.source or "")

    def _finish(self, tick: IntervalTick, parts: dict[str, Part], ws_price: Decimal | None,
                deadline: float, reasons: tuple[str, ...]) -> MarketData:
        now = self._now()  # the assembly's time: every header and freshness check below
        now_ns = int(now * NS)
        empty = Part(None)
        candles, depth = parts.get("candles", empty), parts.get("depth", empty)
        start = parts.get("start price", empty)
        price, price_source, price_reasons = self._btc_price(ws_price, parts, now)
        quote = self._quote(tick, parts, deadline, now) if parts else _Quote(None, None, None, ())
        book = self._book(tick, depth, now_ns)
        required_missing = (candles.value is None or price is None or book is None
                            or quote.quote is None or None in (quote.odds_up, quote.odds_down))
        reasons = (reasons + candles.reasons + price_reasons + depth.reasons + quote.reasons
                   + start.reasons)
        complete = bool(parts) and not required_missing
        degraded = price_source == "coingecko" or bool(reasons)
        self._count_outcome(tick, complete, degraded, reasons)
        return MarketData(
            **header(key=("md", tick.run_id, tick.interval), ts_event=tick.window_start * NS,
                     ts_init=now_ns, cause=tick),
            run_id=tick.run_id, interval=tick.interval, window_start=tick.window_start,
            window_end=tick.window_end, entry_deadline=tick.entry_deadline,
            btc_price=price, btc_price_source=price_source, candles=candles.value or (),
            book=book,
            order_book_imbalance=(order_book_imbalance(book.bids, book.asks, self._cfg.obi_levels)
                                  if book is not None else None),
            quote=quote.quote, polymarket_odds_up=quote.odds_up,
            polymarket_odds_down=quote.odds_down,
            start_price=start.value, start_price_source=start.source or None,
            complete=complete, reasons=reasons, degraded=degraded)

    def _btc_price(self, ws_price: Decimal | None, parts: dict[str, Part],
                   now: float) -> tuple[Decimal | None, str, tuple[str, ...]]:
        """Binance WS, else the last closed candle, else CoinGecko (degraded)."""
        if ws_price is not None:
            return ws_price, "binance_ws", ()
        if not parts:
            return None, "", ()
        bars = parts["candles"].value
        last = bars[-1] if bars else self._src.store.latest()
        price = candle_price(last, now, self._cfg.stale_after_s)
        if price is not None:
            return price, "binance_candle", ()
        spot = parts.get("coingecko", Part(None, ("coingecko: not asked",)))
        if spot.value is not None:
            self.counters.incr("fallback.coingecko")
            return spot.value, "coingecko", ("btc price: binance unavailable, using coingecko",)
        why = ["binance WS no fresh price", *parts["candles"].reasons, *spot.reasons]
        return None, "", ("price feed unavailable: " + "; ".join(why),)

    def _book(self, tick: IntervalTick, depth: Part, now_ns: int) -> BookSnapshot | None:
        if depth.value is None:
            return None
        return BookSnapshot(
            **header(key=("btc_book", tick.run_id, tick.interval),
                     ts_event=tick.window_start * NS, ts_init=now_ns, cause=tick),
            symbol=self._cfg.symbol, bids=depth.value.bids, asks=depth.value.asks,
            last_update_id=depth.value.last_update_id, source=depth.source)

    def _quote(self, tick: IntervalTick, parts: dict[str, Part], deadline: float, now: float) -> _Quote:
        part = parts["polymarket"]
        if part.value is None:
            return self._odds_without_books(tick, part.reasons, deadline)
        q: QuoteParts = part.value
        market = q.market.market
        reasons = self._quote_problems(tick, q, now)
        quote = MarketQuote(
            **header(key=("quote", tick.run_id, tick.interval),
                     ts_event=tick.window_start * NS, ts_init=int(now * NS), cause=tick),
            slug=market.slug, condition_id=market.condition_id,
            window_start=market.window_start, window_end=market.window_end,
            up=q.up, down=q.down, tick_size=max(q.up.tick_size, q.down.tick_size),
            min_order_size=max(q.up.min_order_size, q.down.min_order_size),
            fee=q.fee, accepting_orders=market.accepting_orders and not market.closed,
            neg_risk=market.neg_risk)
        if reasons:
            return _Quote(None, None, None, reasons)
        return _Quote(quote, q.up.best_ask, q.down.best_ask,
                      tuple(f"polymarket: no asks on the {b.outcome} book"
                            for b in (q.up, q.down) if b.best_ask is None))

    def _quote_problems(self, tick: IntervalTick, q: QuoteParts, now: float) -> tuple[str, ...]:
        market, problems = q.market.market, []
        if (market.window_start, market.window_end) != (tick.window_start, tick.window_end):
            problems.append(f"polymarket: {market.slug} window {market.window_start}-"
                            f"{market.window_end} does not match the tick's")
        now_ms = now * 1000
        for book in (q.up, q.down):
            age_s = (now_ms - book.book_ts_ms) / 1000
            if book.book_ts_ms and age_s > self._cfg.stale_after_s:
                self.counters.incr("stale.clob_book")
                problems.append(f"polymarket: {book.outcome} book is stale ({age_s:.0f}s old)")
        return tuple(problems)

    def _odds_without_books(self, tick: IntervalTick, reasons: tuple[str, ...],
                            deadline: float) -> _Quote:
        try:
            up, down = gamma_odds(self._src.gamma, tick.window_start, self._cfg.stale_after_s,
                                  deadline)
        except (HttpError, InvalidPayload) as err:
            return _Quote(None, None, None, reasons + (f"polymarket odds: {err}",))
        if up is None or down is None:
            return _Quote(None, None, None, reasons + ("polymarket odds: no fresh gamma prices",))
        return _Quote(None, up, down, reasons + ("polymarket odds from gamma outcomePrices",))

    def _count_outcome(self, tick: IntervalTick, complete: bool, degraded: bool,
                       reasons: tuple[str, ...]) -> None:
        self.counters.incr("tick.total")
        if not complete:
            self.counters.incr("tick.incomplete")
            log.warning("interval %d: market data incomplete: %s", tick.interval, "; ".join(reasons))
        elif degraded:
            self.counters.incr("tick.degraded")
            log.info("interval %d: market data degraded: %s", tick.interval, "; ".join(reasons))

    # -- WindowPrices ----------------------------------------------------------------
    def window_prices(self, closed: WindowClosed) -> WindowPrices:
        deadline = self._now() + self._cfg.window_prices_budget_s
        pair = self._src.pricer.window_prices(closed.window_start, closed.window_end,
                                              deadline=deadline)
        complete = pair.start is not None and pair.end is not None
        if not complete:
            self.counters.incr("window_prices.incomplete")
            log.warning("interval %d: window prices incomplete: %s", closed.interval, pair.reason)
        return WindowPrices(
            **header(key=("window_prices", closed.run_id, closed.interval),
                     ts_event=closed.window_end * NS, ts_init=self._now_ns(), cause=closed),
            run_id=closed.run_id, interval=closed.interval, window_start=closed.window_start,
            window_end=closed.window_end, start_price=pair.start, end_price=pair.end,
            source=pair.source, complete=complete, reason=pair.reason)

    def _now_ns(self) -> int:
        return int(self._now() * NS)
