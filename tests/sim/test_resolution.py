"""Resolution: rule (end close ≥ start open ⇒ Up), publication delay, delay/conflict faults."""

from __future__ import annotations

import json
from decimal import Decimal

from tests.sim.conftest import START_MS, START_S

END_MS = START_MS + 300_000


def candle(sim, open_ms: int) -> list:
    return sim.get_json("binance_rest", "/api/v3/klines", symbol="BTCUSDT", interval="1m",
                        startTime=open_ms, limit=1)[0]


def rule_outcome(sim) -> str:
    start_price = Decimal(candle(sim, START_MS)[1])
    end_price = Decimal(candle(sim, END_MS - 60_000)[4])
    return "Up" if end_price >= start_price else "Down"


def test_resolution_follows_the_rule_after_ten_seconds(sim):
    sim.advance_to(END_MS + 9_999)
    assert sim.market(START_S)["closed"] is False
    assert sim.market(START_S)["acceptingOrders"] is False
    sim.advance_to(END_MS + 10_000)
    market = sim.market(START_S)
    winner = rule_outcome(sim)
    outcomes = json.loads(market["outcomes"])
    assert market["closed"] is True and market["umaResolutionStatus"] == "resolved"
    assert json.loads(market["outcomePrices"]) == ["1" if o == winner else "0" for o in outcomes]
    assert json.loads(market["umaResolutionStatuses"]) == ["resolved"]
    clob = sim.get_json("clob", f"/markets/{market['conditionId']}")
    assert [t["outcome"] for t in clob["tokens"] if t["winner"]] == [winner]
    assert clob["closed"] is True and clob["accepting_orders"] is False
    window = sim.get_json("control", f"/windows/btc-updown-5m-{START_S}")
    assert window["start_price"] == candle(sim, START_MS)[1]
    assert window["end_price"] == candle(sim, END_MS - 60_000)[4]
    assert window["outcome"] == window["rule_outcome"] == winner


def test_many_windows_resolve_by_the_rule(sim):
    sim.advance_to(START_MS + 20 * 300_000 + 10_000)
    for k in range(20):
        info = sim.get_json("control", f"/windows/btc-updown-5m-{START_S + 300 * k}")
        expected = "Up" if Decimal(info["end_price"]) >= Decimal(info["start_price"]) else "Down"
        assert info["resolved"] and info["outcome"] == expected


def test_delay_fault_postpones_publication(sim):
    sim.set_faults("resolution=delay:120")
    sim.advance_to(END_MS + 60_000)
    assert sim.market(START_S)["closed"] is False
    sim.advance_to(END_MS + 120_000)
    assert sim.market(START_S)["closed"] is True


def test_conflict_fault_publishes_the_opposite(sim):
    sim.set_faults("resolution=conflict:window:0")
    sim.advance_to(END_MS + 10_000)
    info = sim.get_json("control", f"/windows/btc-updown-5m-{START_S}")
    assert info["conflict"] is True and info["outcome"] != info["rule_outcome"]
    market = sim.market(START_S)
    prices = dict(zip(json.loads(market["outcomes"]), json.loads(market["outcomePrices"])))
    assert prices[info["outcome"]] == "1"
