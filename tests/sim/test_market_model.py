"""The market model: fair value, quoting, complement books, thinning, depth consumption."""

from __future__ import annotations

from decimal import Decimal

from py_clob_client_v2 import ClobClient, MarketOrderArgs

from services.sim.market_model import best_bid_ask, depth_multiplier, fair_up, tick_mils_for
from tests.sim.conftest import PRIVATE_KEY, START_MS, START_S


def levels(side: list[dict]) -> list[tuple[Decimal, Decimal]]:
    return [(Decimal(l["price"]), Decimal(l["size"])) for l in side]


def test_fair_value_formula():
    assert fair_up(100.0, 100.0, 0.001, 3.0) == 0.5
    assert fair_up(100.1, 100.0, 0.001, 3.0) > 0.5 > fair_up(99.9, 100.0, 0.001, 3.0)
    assert fair_up(100.1, 100.0, 0.001, 0.1) > fair_up(100.1, 100.0, 0.001, 3.0)
    assert fair_up(100.0, 100.0, 0.001, 0.0) == 1.0  # a tie at the end resolves Up


def test_quote_is_one_tick_around_fair_and_switches_tick_beyond_96_cents():
    assert best_bid_ask(0.5, 10) == (500, 510)
    assert best_bid_ask(0.537, 10) == (530, 540)
    assert tick_mils_for(0.97) == tick_mils_for(0.03) == 1 and tick_mils_for(0.5) == 10
    assert best_bid_ask(0.9734, 1) == (973, 974)
    assert best_bid_ask(0.99999, 1) == (998, 999)
    assert depth_multiplier(300_000) == 1.0 and depth_multiplier(12_000) < 0.2


def test_down_book_is_the_complement_of_up(sim):
    sim.advance_to(START_MS + 73_000)
    tokens = sim.tokens(START_S)
    up = sim.get_json("clob", "/book", token_id=tokens["Up"])
    down = sim.get_json("clob", "/book", token_id=tokens["Down"])
    assert [(1 - p, s) for p, s in levels(up["asks"])] == levels(down["bids"])
    assert [(1 - p, s) for p, s in levels(up["bids"])] == levels(down["asks"])
    assert levels(up["asks"])[-1][0] - levels(up["bids"])[-1][0] == Decimal(up["tick_size"])


def test_window_start_quotes_fifty_fifty(sim):
    up = sim.get_json("clob", "/book", token_id=sim.tokens(START_S)["Up"])
    assert (up["bids"][-1]["price"], up["asks"][-1]["price"]) == ("0.5", "0.51")


def test_depth_thins_near_the_end(sim):
    token = sim.tokens(START_S)["Up"]
    total = lambda book: sum(s for _, s in levels(book["bids"]) + levels(book["asks"]))
    early = total(sim.get_json("clob", "/book", token_id=token))
    sim.advance_to(START_MS + 290_000)
    late = sim.get_json("clob", "/book", token_id=token)
    assert total(late) < early * Decimal("0.25")


def test_a_fill_consumes_the_levels_it_took(make_sim):
    traded, untouched = make_sim(), make_sim()
    client = ClobClient(traded.urls["clob"], chain_id=137, key=PRIVATE_KEY)
    client.set_api_creds(client.create_or_derive_api_key())
    down = traded.tokens(START_S)["Down"]
    before = levels(traded.get_json("clob", "/book", token_id=down)["asks"])
    best_price, best_size = before[-1]
    dollars = float(best_size * best_price) + 20  # the whole best level and a bit more
    reply = client.create_and_post_market_order(
        MarketOrderArgs(token_id=down, amount=dollars, side="BUY"))
    after = levels(traded.get_json("clob", "/book", token_id=down)["asks"])
    assert after[-1][0] > best_price  # the best level is gone
    taken = before[-2][1] - after[-1][1]
    assert taken > 0 and Decimal(reply["takingAmount"]) == best_size + taken
    for sim in (traded, untouched):  # later in the same window the taken size stays taken
        sim.advance_to(START_MS + 120_000)
    with_fill = dict(levels(traded.get_json("clob", "/book", token_id=down)["asks"]))
    without = dict(levels(untouched.get_json("clob", "/book", token_id=down)["asks"]))
    for price, size in without.items():
        consumed = best_size if price == best_price else taken if price == before[-2][0] else 0
        assert with_fill.get(price, Decimal(0)) == max(size - consumed, Decimal(0))
