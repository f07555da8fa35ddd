"""The Broker protocol, the venue's answers, fee math and the PaperBroker.

A broker does three things for one FOK market BUY:

* ``prepare(cmd)`` builds the order (for the CLOB: signs it) without any side effect at
  the venue.  The result is stored BEFORE the first send, so every later send of this
  order_key re-sends the very same order (same id: the venue answers "Duplicated").
* ``send(cmd, order)`` submits it and returns a :class:`Fill` or a :class:`Rejection`.
* ``lookup(cmd, order)`` asks the venue what became of it: an answer, or None when the
  venue has never seen the order.

Transient trouble raises :class:`VenueUnavailable`; nothing else decides about retries.
The handler picks no broker: ``main.make_broker`` does, once.
"""

from __future__ import annotations

import hashlib
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Protocol

import msgspec

from shared.messages import FeeSchedule, MarketQuote, OutcomeBook, SubmitOrder

# The venue's own texts, so paper rejections read like real ones.
FOK_KILLED = "order couldn't be fully filled. FOK orders are fully filled or killed."
NO_ASKS = "no match: the book has no asks"
MIN_BUY_AMOUNT = Decimal("1")

FEE_QUANTUM = Decimal("0.00001")  # the venue rounds fees to 5 dp, min 0.00001
DOLLAR_QUANTUM = Decimal("0.01")  # the SDK cuts a market BUY's dollars to 2 dp
# tick -> decimals of the shares a market BUY receives (the SDK's ROUNDING_CONFIG
# "amount" column; py_clob_client_v2.order_builder.builder).
SHARE_DECIMALS = {"0.1": 3, "0.01": 4, "0.005": 5, "0.0025": 6, "0.001": 5, "0.0001": 6}


class Fill(msgspec.Struct, frozen=True, kw_only=True):
    order_id: str
    stake: Decimal    # dollars spent, before the fee
    shares: Decimal
    avg_price: Decimal
    fee: Decimal      # charged on top (V2)


class Rejection(msgspec.Struct, frozen=True, kw_only=True):
    reason: str
    order_id: str = ""


Answer = Fill | Rejection


class PreparedOrder(msgspec.Struct, frozen=True, kw_only=True):
    """What the record keeps so that a re-send is the very same order."""

    order_id: str
    body: dict = {}  # the signed order (CLOB) or nothing (paper)


class VenueUnavailable(Exception):
    """Timeout, connection error, 5xx, 429, ...: try again later.

    ``maybe_sent`` says whether the order might have reached the venue (then look it up
    before anything else); ``retry_after_s`` is the venue's Retry-After, if any.
    """

    def __init__(self, reason: str, *, maybe_sent: bool = True, retry_after_s: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.maybe_sent = maybe_sent
        self.retry_after_s = retry_after_s


class OrderRefused(Exception):
    """A permanent problem found before sending (invalid price, unsupported tick...)."""


class Broker(Protocol):
    name: str

    def prepare(self, cmd: SubmitOrder) -> PreparedOrder: ...

    def send(self, cmd: SubmitOrder, order: PreparedOrder) -> Answer: ...

    def lookup(self, cmd: SubmitOrder, order: PreparedOrder) -> Answer | None: ...

    def warm(self, quote: MarketQuote) -> None:
        """Look up what ``prepare`` will need about the quote's market (best effort)."""


# -- money math ---------------------------------------------------------------------

def taker_fee(shares: Decimal, price: Decimal, schedule: FeeSchedule) -> Decimal:
    """``shares * rate * (p(1-p))^exponent``, rounded to 5 dp (a positive fee is >= 0.00001)."""
    raw = shares * schedule.rate * (price * (1 - price)) ** schedule.exponent
    fee = raw.quantize(FEE_QUANTUM, rounding=ROUND_HALF_UP)
    return FEE_QUANTUM if raw > 0 and fee == 0 else fee


def share_decimals(tick: Decimal) -> int:
    key = format(tick.normalize(), "f")
    if key not in SHARE_DECIMALS:
        raise OrderRefused(f"unsupported tick size {key}")
    return SHARE_DECIMALS[key]


def limit_price(book: OutcomeBook, amount: Decimal) -> Decimal | None:
    """The SDK's market-BUY price: the first ask level (best first) at which the
    cumulative cost reaches ``amount``; the worst level when the book is too thin (the
    venue, whose book may be deeper by now, then decides); None without asks."""
    total = Decimal(0)
    for level in book.asks:
        total += level.size * level.price
        if total >= amount:
            return level.price
    return book.asks[-1].price if book.asks else None


def walk_asks(book: OutcomeBook, amount: Decimal,
              schedule: FeeSchedule) -> tuple[Decimal, Decimal, Decimal] | None:
    """Fill ``amount`` dollars against the asks, best first: (stake, shares, fee), or
    None when the depth is not enough (FOK: all or nothing).

    Whole levels are taken until one level covers what is left; there the shares are
    cut to the SDK's precision, so a few hundredths of a cent may stay unspent."""
    unit = Decimal(1).scaleb(-share_decimals(book.tick_size))
    left = amount.quantize(DOLLAR_QUANTUM, rounding=ROUND_DOWN)
    stake = shares = fee = Decimal(0)
    for level in book.asks:
        cost = level.size * level.price
        last = cost >= left
        take = (left / level.price).quantize(unit, rounding=ROUND_DOWN) if last else level.size
        stake += take * level.price
        shares += take
        fee += taker_fee(take, level.price, schedule)
        if last:
            return (stake, shares, fee) if shares > 0 else None
        left -= cost
    return None


# -- paper --------------------------------------------------------------------------

class PaperBroker:
    """Fills against the book carried by the command; never talks to a venue, never
    loads keys.  Deterministic: the same command always gives the same answer."""

    name = "paper"

    def warm(self, quote: MarketQuote) -> None:
        pass  # the command carries everything a paper fill needs

    def prepare(self, cmd: SubmitOrder) -> PreparedOrder:
        digest = hashlib.sha256(f"paper:{cmd.order_key}".encode()).hexdigest()
        return PreparedOrder(order_id=f"0x{digest}")

    def send(self, cmd: SubmitOrder, order: PreparedOrder) -> Answer:
        if cmd.amount < MIN_BUY_AMOUNT:
            return Rejection(order_id=order.order_id,
                             reason=f"invalid amount for a marketable BUY order (${cmd.amount}), min size: $1")
        if not cmd.book.asks:
            return Rejection(order_id=order.order_id, reason=NO_ASKS)
        try:
            walked = walk_asks(cmd.book, cmd.amount, cmd.fee)
        except OrderRefused as exc:
            return Rejection(order_id=order.order_id, reason=str(exc))
        if walked is None:
            return Rejection(order_id=order.order_id, reason=FOK_KILLED)
        stake, shares, fee = walked
        return Fill(order_id=order.order_id, stake=stake, shares=shares,
                    avg_price=average_price(stake, shares), fee=fee)

    def lookup(self, cmd: SubmitOrder, order: PreparedOrder) -> Answer | None:
        return None  # nothing was ever at a venue: sending again gives the same answer


def average_price(stake: Decimal, shares: Decimal) -> Decimal:
    return (stake / shares).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
