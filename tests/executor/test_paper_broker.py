"""PaperBroker: walks the asks best first, exact Decimal fees, FOK all-or-nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shared import messages as m
from services.executor.brokers import (
    FOK_KILLED, NO_ASKS, Fill, PaperBroker, Rejection, limit_price, taker_fee,
)
from tests import stubs
from tests.executor.helpers import submit_order

D = Decimal


def paper_fill(cmd: m.SubmitOrder):
    broker = PaperBroker()
    return broker.send(cmd, broker.prepare(cmd))


def test_paper_fill_walks_two_levels_and_cuts_the_last_level_to_sdk_precision():
    # Arrange: 100 @ 0.51 costs $51; the remaining $9 buys 9/0.52 = 17.307692... shares,
    # cut to 4 dp (tick 0.01) = 17.3076
    cmd = submit_order(amount="60", book=stubs.book(asks=(("0.51", "100"), ("0.52", "200"))))
    # Act
    result = paper_fill(cmd)
    # Assert
    assert isinstance(result, Fill)
    assert result.shares == D("117.3076")
    assert result.stake == D("51.00") + D("17.3076") * D("0.52")  # 59.999952
    # 100*0.07*0.51*0.49 = 1.7493; 17.3076*0.07*0.52*0.48 = 0.3023983... -> 0.30240
    assert result.fee == D("1.74930") + D("0.30240")
    assert result.avg_price == D("0.511475")  # 59.999952 / 117.3076, 6 dp


def test_paper_fill_inside_the_best_level_uses_one_price():
    cmd = submit_order(amount="10", book=stubs.book(asks=(("0.50", "100"), ("0.60", "100"))))
    result = paper_fill(cmd)
    assert (result.shares, result.stake, result.avg_price) == (D("20"), D("10.00"), D("0.5"))
    assert result.fee == D("0.35000")  # 20 * 0.07 * 0.25


def test_paper_fill_that_exactly_exhausts_the_book_is_filled():
    cmd = submit_order(amount="155", book=stubs.book(asks=(("0.51", "100"), ("0.52", "200"))))
    result = paper_fill(cmd)
    assert isinstance(result, Fill) and result.shares == D("300") and result.stake == D("155.00")


def test_paper_fok_is_killed_when_the_depth_is_not_enough():
    cmd = submit_order(amount="155.01", book=stubs.book(asks=(("0.51", "100"), ("0.52", "200"))))
    result = paper_fill(cmd)
    assert result == Rejection(order_id=result.order_id, reason=FOK_KILLED)


def test_paper_rejects_an_empty_book_and_an_amount_below_one_dollar():
    assert paper_fill(submit_order(book=stubs.book(asks=()))).reason == NO_ASKS
    assert "min size: $1" in paper_fill(submit_order(amount="0.99")).reason


def test_paper_order_id_is_deterministic_per_order_key():
    broker = PaperBroker()
    first, again = broker.prepare(submit_order(1)), broker.prepare(submit_order(1))
    assert first == again and first.order_id.startswith("0x") and len(first.order_id) == 66
    assert broker.prepare(submit_order(2)).order_id != first.order_id
    assert broker.lookup(submit_order(1), first) is None


@pytest.mark.parametrize("shares, price, rate, exponent, expected", [
    ("100", "0.50", "0.07", 1, "1.75000"),      # current crypto fee: $1.75 per 100 sh at 0.50
    ("100", "0.50", "0.25", 2, "1.56250"),      # Jan 2026 15m schedule
    ("100", "0.10", "0.25", 2, "0.20250"),
    ("0.01", "0.99", "0.07", 1, "0.00001"),     # a positive fee is at least 0.00001
    ("10", "0.333", "0.07", 1, "0.15548"),      # 10*0.07*0.333*0.667 = 0.1554777 -> 5 dp
    ("100", "0.50", "0", 1, "0.00000"),
])
def test_taker_fee_is_exact_decimal_rounded_to_five_places(shares, price, rate, exponent, expected):
    schedule = m.FeeSchedule(rate=D(rate), exponent=exponent)
    assert taker_fee(D(shares), D(price), schedule) == D(expected)


def test_limit_price_is_the_level_where_cumulative_cost_reaches_the_amount():
    book = stubs.book(asks=(("0.51", "10"), ("0.52", "10"), ("0.55", "100")))
    assert limit_price(book, D("5")) == D("0.51")
    assert limit_price(book, D("10.30")) == D("0.52")
    assert limit_price(book, D("1000")) == D("0.55")  # too thin: worst level, the venue decides
    assert limit_price(stubs.book(asks=()), D("5")) is None
