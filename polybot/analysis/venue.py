"""The window's market as the simulator quotes it, and FOK BUYs filled by its matching.

Built from the simulator's own pieces, wired as ``services.sim.venue.Venue`` wires them:
``CandleStore`` → ``PriceFeed`` → ``MarketModel`` → ``Books`` for the quote, and
``services.sim.matching.match`` for the fill.  The order is the one the executor signs:
the executor's ``limit_price`` and the SDK's own ``get_market_order_amounts``.  The fill
the ledger records is the executor's (``ClobBroker._fill``): stake and shares from the
match, the fee from ``taker_fee`` at the average price.

The bot decides at the window start (lockstep replay: the clock stands still until the
ledger has the decision), when the model's fair value is exactly 0.5: Up quotes
0.50/0.51 and Down, the complement, 0.49/0.50.  Depth is 150-450 shares at the best
level, so stakes up to $25 always fill there.  Every Monte Carlo run is its own world:
fills do not consume depth for other runs.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from py_clob_client_v2.order_builder.builder import ROUNDING_CONFIG, OrderBuilder

from polybot.analysis.data_files import WINDOW_MS, CandleFile
from polybot.analysis.risk_split import analysis_header
from services.executor.brokers import Fill, average_price, limit_price, taker_fee
from services.sim.book import MIN_ORDER_SIZE, Books
from services.sim.data import MINUTE_MS, CandleStore
from services.sim.feed import PriceFeed
from services.sim.formats import mils_text
from services.sim.market_model import SIZE_MIN, MarketModel, depth_multiplier
from services.sim.matching import FEE_RATE, match
from services.sim.orders import ParsedOrder
from services.sim.windows import Window, derive_window
from shared.messages import BookLevel, FeeSchedule, MarketQuote, Outcome, OutcomeBook

BOOK_LEVELS = 5           # SimConfig.book_levels
MARKET_LEAD_S = 86_400    # SimConfig.market_lead_s
FEE = FeeSchedule(rate=FEE_RATE, exponent=1)  # what the simulator's Gamma/CLOB publish

# The smallest size the model can quote at a best level at the decision time (the window
# start): MarketModel._side sizes the best level SIZE_MIN..SIZE_MIN+SIZE_SPAN shares times
# the depth multiplier (no thinning 5 minutes before the end), rounded to cents, and a fresh
# ``Books`` has consumed nothing.  A stake of at most MIN_BEST_SIZE × best ask is therefore
# filled at the best level whatever the window, so its fill needs no per-window book.
MIN_BEST_SIZE = Decimal(round(SIZE_MIN * depth_multiplier(WINDOW_MS) * 100)) / 100


class MinuteOpenFeed:
    """The simulator's ``PriceFeed``, except that S_t on a whole minute is read as that
    minute's open without building its 61-point path: ``paths.fit_to_range`` pins
    path[0] to the open, so the value is identical, and the decision time is always a
    minute boundary.  Building the path was ~60 % of the cost of a quote."""

    def __init__(self, feed: PriceFeed):
        self._feed = feed

    def price_at(self, at_ms: int) -> int | None:
        if at_ms % MINUTE_MS == 0 and (opened := self._feed.open_of_minute(at_ms)) is not None:
            return opened
        return self._feed.price_at(at_ms)

    def open_of_minute(self, open_ms: int) -> int | None:
        return self._feed.open_of_minute(open_ms)

    def sigma_at(self, at_ms: int) -> float:
        return self._feed.sigma_at(at_ms)


class SimMarket:
    """One candle file's Polymarket windows, quoted and matched by the simulator's code."""

    def __init__(self, data: CandleFile, seed: int):
        self.seed = seed
        self.feed = PriceFeed(seed, CandleStore(data.arrays))
        self._model = MarketModel(seed, MinuteOpenFeed(self.feed), BOOK_LEVELS)
        self._first_window_s = -(-int(data.open_ms[0]) // WINDOW_MS) * 300

    def window(self, window_start_s: int) -> Window:
        return derive_window(self.seed, window_start_s, self._first_window_s, MARKET_LEAD_S)

    def quote(self, window: Window) -> MarketQuote:
        """Both outcome books at the decision time, as the feed hands them to the predictor."""
        now_ms = window.start_ms
        # A Books per quote: it keeps per-window state forever, and every run is its own
        # world anyway (no depth consumed across runs).
        books = Books(self._model)
        up, down = (self._outcome_book(books, window, outcome, now_ms) for outcome in ("Up", "Down"))
        return MarketQuote(
            **analysis_header(window.start_s),
            slug=window.slug, condition_id=window.condition_id, window_start=window.start_s,
            window_end=window.end_s, up=up, down=down, tick_size=up.tick_size,
            min_order_size=Decimal(MIN_ORDER_SIZE), fee=FEE, accepting_orders=True)

    @staticmethod
    def _outcome_book(books: Books, window: Window, outcome: Outcome, now_ms: int) -> OutcomeBook:
        book = books.token_book(window, window.token_for(outcome), now_ms)
        return OutcomeBook(outcome=outcome, token_id=window.token_for(outcome),
                           bids=_levels(book.bids), asks=_levels(book.asks),
                           tick_size=Decimal(mils_text(book.tick_mils)),
                           min_order_size=Decimal(MIN_ORDER_SIZE), book_ts_ms=now_ms)

    @staticmethod
    def fill(book: OutcomeBook, amount: Decimal) -> Fill | None:
        """A FOK market BUY of ``amount`` dollars against ``book`` (this window's quote at the
        decision time); None when the venue kills it."""
        price = limit_price(book, amount)
        if price is None:
            return None
        order = _market_buy(book, amount, price)
        levels = tuple((int(level.price * 1000), level.size) for level in book.asks)  # the sim's mils
        result = match(order, levels)
        if not result.complete or result.shares <= 0:
            return None
        stake, shares = result.notional, result.shares
        return Fill(order_id="", stake=stake, shares=shares, avg_price=average_price(stake, shares),
                    fee=taker_fee(shares, stake / shares, FEE))


def _levels(levels) -> tuple[BookLevel, ...]:
    return tuple(BookLevel(price=_price(price), size=size) for price, size in levels)


@lru_cache(maxsize=None)
def _price(mils: int) -> Decimal:
    """The price the feed parses from the simulator's /book text (``mils_text``)."""
    return Decimal(mils_text(mils))


def _market_buy(book: OutcomeBook, amount: Decimal, price: Decimal) -> ParsedOrder:
    """The FOK BUY the executor signs: the SDK's maker/taker amounts for (amount, price)."""
    tick = format(book.tick_size.normalize(), "f")
    # The SDK's amount math is a pure method that never touches ``self``.
    _side, maker, taker = OrderBuilder.get_market_order_amounts(
        None, "BUY", float(amount), float(price), ROUNDING_CONFIG[tick])
    return ParsedOrder(order_id="", version=2, token_id=book.token_id, side="BUY",
                       maker_amount=int(maker), taker_amount=int(taker), order_type="FOK", owner="",
                       maker="", signer="", signature="", signature_type=0, expiration=0,
                       post_only=False, digest=b"")
