"""The real, unmodified py-clob-client-v2 against the simulator."""

from __future__ import annotations

from decimal import Decimal

import pytest
from py_clob_client_v2 import ApiCreds, ClobClient, MarketOrderArgs, OrderArgs, OrderType
from py_clob_client_v2.clob_types import CreateOrderOptions
from py_clob_client_v2.exceptions import PolyApiException
from py_clob_client_v2.order_builder.builder import OrderBuilder

from tests.sim.conftest import PRIVATE_KEY, START_S

FOK_KILLED = "order couldn't be fully filled. FOK orders are fully filled or killed."


@pytest.fixture
def client(sim) -> ClobClient:
    clob = ClobClient(sim.urls["clob"], chain_id=137, key=PRIVATE_KEY)
    clob.set_api_creds(clob.create_or_derive_api_key())
    return clob


def test_credentials_are_created_and_derived_deterministically(sim):
    clob = ClobClient(sim.urls["clob"], chain_id=137, key=PRIVATE_KEY)
    created = clob.create_api_key()
    derived = clob.derive_api_key()
    assert created == derived
    assert len(created.api_key) == 36 and created.api_key.count("-") == 4


def test_book_reads_with_best_levels_last(sim, client):
    up = sim.tokens(START_S)["Up"]
    book = client.get_order_book(up)
    bids = [Decimal(level["price"]) for level in book["bids"]]
    asks = [Decimal(level["price"]) for level in book["asks"]]
    assert bids == sorted(bids) and asks == sorted(asks, reverse=True)
    assert bids[-1] < asks[-1]
    assert client.get_order_book_hash(dict(book)) == book["hash"]
    assert {"market", "asset_id", "timestamp", "hash", "min_order_size", "tick_size",
            "neg_risk", "last_trade_price"} <= set(book)


def test_market_buy_fok_comes_back_matched(sim, client):
    up = sim.tokens(START_S)["Up"]
    reply = client.create_and_post_market_order(MarketOrderArgs(token_id=up, amount=5, side="BUY"),
                                                order_type=OrderType.FOK)
    assert reply["success"] is True and reply["status"] == "matched"
    assert reply["orderID"].startswith("0x") and len(reply["orderID"]) == 66
    assert Decimal(reply["makingAmount"]) == Decimal(5)
    assert Decimal(reply["takingAmount"]) > Decimal(5)
    assert reply["transactionsHashes"] and reply["tradeIDs"]
    order = client.get_order(reply["orderID"])
    assert order["status"] == "MATCHED" and order["outcome"] == "Up"
    trades = client.get_trades()
    assert [t["id"] for t in trades] == reply["tradeIDs"]


def test_oversize_fok_is_killed_with_the_real_error(sim, client):
    up = sim.tokens(START_S)["Up"]
    args = MarketOrderArgs(token_id=up, amount=100_000, side="BUY", price=0.6)
    with pytest.raises(PolyApiException) as killed:
        client.create_and_post_market_order(args, order_type=OrderType.FOK)
    assert killed.value.status_code == 400
    assert killed.value.error_msg == {"error": FOK_KILLED}
    log = sim.get_json("control", "/orders")["orders"]
    assert log[-1]["result"] == "rejected" and log[-1]["error"] == FOK_KILLED


def test_wrong_hmac_secret_is_refused_with_401(sim, client):
    good = client.creds
    wrong_secret = "c2VjcmV0LXNlY3JldC1zZWNyZXQ="
    client.set_api_creds(ApiCreds(good.api_key, wrong_secret, good.api_passphrase))
    with pytest.raises(PolyApiException) as refused:
        client.get_trades()
    assert refused.value.status_code == 401
    assert refused.value.error_msg == {"error": "Unauthorized/Invalid api key"}


def test_identical_order_body_twice_is_a_duplicate(sim, client):
    up = sim.tokens(START_S)["Up"]
    order = client.create_market_order(MarketOrderArgs(token_id=up, amount=5, side="BUY"))
    assert client.post_order(order, OrderType.FOK)["status"] == "matched"
    with pytest.raises(PolyApiException) as duplicate:
        client.post_order(order, OrderType.FOK)
    assert duplicate.value.error_msg["error"].endswith("is invalid. Duplicated.")


def test_marketable_buy_under_one_dollar_is_refused(sim, client):
    up = sim.tokens(START_S)["Up"]
    with pytest.raises(PolyApiException) as refused:
        client.create_and_post_market_order(MarketOrderArgs(token_id=up, amount=0.5, side="BUY"))
    assert "min size: $1" in refused.value.error_msg["error"]


def test_limit_order_rests_live_and_can_be_cancelled(sim, client):
    down = sim.tokens(START_S)["Down"]
    reply = client.create_and_post_order(OrderArgs(token_id=down, price=0.30, size=10, side="BUY"))
    assert reply["status"] == "live"
    assert [o["id"] for o in client.get_open_orders()] == [reply["orderID"]]
    assert client.cancel_all()["canceled"] == [reply["orderID"]]
    assert client.get_open_orders() == []


def test_sell_after_buy_and_fak(sim, client):
    up = sim.tokens(START_S)["Up"]
    bought = client.create_and_post_market_order(
        MarketOrderArgs(token_id=up, amount=10, side="BUY"))
    shares = float(bought["takingAmount"])
    sold = client.create_and_post_market_order(
        MarketOrderArgs(token_id=up, amount=round(shares - 0.01, 2), side="SELL",
                        order_type=OrderType.FAK),
        order_type=OrderType.FAK)
    assert sold["status"] == "matched" and Decimal(sold["takingAmount"]) < 10


def test_trading_stops_at_window_end(sim, client):
    up = sim.tokens(START_S)["Up"]
    order = client.create_market_order(MarketOrderArgs(token_id=up, amount=5, side="BUY"))
    sim.advance_to((START_S + 300) * 1000)
    assert sim.get("clob", "/book", token_id=up).json() == {
        "error": "No orderbook exists for the requested token id"}
    with pytest.raises(PolyApiException) as closed:
        client.post_order(order, OrderType.FOK)
    assert closed.value.status_code == 400


def test_v1_order_body_is_accepted(sim, client):
    """Legacy V1 bodies (nonce/feeRateBps/taker, no timestamp) still match."""
    up = sim.tokens(START_S)["Up"]
    builder = OrderBuilder(client.signer)
    v1 = builder.build_market_order(MarketOrderArgs(token_id=up, amount=5, side="BUY", price=0.6),
                                    CreateOrderOptions(tick_size="0.01", neg_risk=False), version=1,
                                    fee_rate_bps=1000)
    assert not hasattr(v1, "timestamp")
    assert client.post_order(v1, OrderType.FOK)["status"] == "matched"


def test_l1_login_with_a_bad_signature_is_refused(sim):
    headers = {"POLY_ADDRESS": "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A",
               "POLY_SIGNATURE": "0x" + "ab" * 65, "POLY_TIMESTAMP": "1700000000",
               "POLY_NONCE": "0"}
    response = sim.http.post(sim.urls["clob"] + "/auth/api-key", headers=headers, timeout=10)
    assert response.status_code == 401
