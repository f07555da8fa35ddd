"""CLOB public reads the clients use, the dynamic tick, and order/trade look-up paging."""

from __future__ import annotations

from py_clob_client_v2 import ClobClient, MarketOrderArgs, TradeParams

from tests.sim.conftest import PRIVATE_KEY, START_S


def test_market_data_endpoints(sim):
    tokens = sim.tokens(START_S)
    up, down = tokens["Up"], tokens["Down"]
    assert sim.get_json("clob", "/ok") == "OK"
    assert sim.get_json("clob", "/version") == {"version": 2}
    assert sim.get_json("clob", "/price", token_id=up, side="BUY") == {"price": "0.51"}
    assert sim.get_json("clob", "/price", token_id=up, side="SELL") == {"price": "0.5"}
    assert sim.get_json("clob", "/midpoint", token_id=down) == {"mid": "0.495"}
    assert sim.get_json("clob", "/spread", token_id=down) == {"spread": "0.01"}
    assert sim.get_json("clob", "/tick-size", token_id=up) == {"minimum_tick_size": 0.01}
    assert sim.get_json("clob", "/neg-risk", token_id=up) == {"neg_risk": False}
    assert sim.get_json("clob", "/fee-rate", token_id=up) == {"base_fee": 1000}
    books = sim.http.post(sim.urls["clob"] + "/books", json=[{"token_id": up}, {"token_id": down}],
                          timeout=5).json()
    assert [b["asset_id"] for b in books] == [up, down]
    cid = sim.get_json("clob", f"/markets-by-token/{up}")["condition_id"]
    compact = sim.get_json("clob", f"/clob-markets/{cid}")
    assert compact["c"] == cid and compact["mts"] == 0.01
    assert compact["fd"] == {"r": 0.07, "e": 1, "to": True}
    assert {t["o"]: t["t"] for t in compact["t"]} == tokens
    assert compact["ao"] is True and "nr" not in compact
    assert sim.get("clob", "/book", token_id="123").status_code == 404


def test_tick_size_turns_to_a_tenth_of_a_cent_beyond_96_cents(sim):
    venue = sim.venue
    for k in range(200):
        window = venue.registry.window(START_S + 300 * k)
        moment = window.end_ms - 5_000
        fair = venue.model.fair_at(window, moment)
        if fair > 0.97 or fair < 0.03:
            break
    sim.advance_to(moment)
    up = window.up_token
    assert sim.get_json("clob", "/tick-size", token_id=up) == {"minimum_tick_size": 0.001}
    book = sim.get_json("clob", "/book", token_id=up)
    assert book["tick_size"] == "0.001"
    assert any(len(level["price"]) == 5 for level in book["bids"] + book["asks"])
    assert sim.market(window.start_s)["orderPriceMinTickSize"] == 0.001


def test_trades_are_paged_with_cursors(sim):
    client = ClobClient(sim.urls["clob"], chain_id=137, key=PRIVATE_KEY)
    client.set_api_creds(client.create_or_derive_api_key())
    up = sim.tokens(START_S)["Up"]
    for _ in range(105):
        client.post_order(client.create_market_order(
            MarketOrderArgs(token_id=up, amount=1, side="BUY", price=0.99)), "FAK")
    first = client.get_trades_paginated()
    assert len(first["trades"]) == 100 and first["next_cursor"] != "LTE="
    assert len(client.get_trades()) == 105
    one = first["trades"][0]
    assert [t["id"] for t in client.get_trades(TradeParams(id=one["id"]))] == [one["id"]]
    assert int(client.get_balance_allowance()["balance"]) < 1_000_000 * 10**6
