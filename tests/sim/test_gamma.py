"""Gamma discovery: real field names, JSON-string fields, outcome order, existence, filters."""

from __future__ import annotations

import json
import re

from tests.sim.conftest import START_MS, START_S


def test_market_fields_and_json_strings(sim):
    market = sim.market(START_S)
    for name in ("outcomes", "outcomePrices", "clobTokenIds", "umaResolutionStatuses"):
        assert isinstance(market[name], str) and isinstance(json.loads(market[name]), list)
    assert sorted(json.loads(market["outcomes"])) == ["Down", "Up"]
    assert all(t.isdigit() and len(t) > 60 for t in json.loads(market["clobTokenIds"]))
    assert re.fullmatch(r"0x[0-9a-f]{64}", market["conditionId"])
    assert market["eventStartTime"] == "2026-01-01T00:00:00Z"
    assert market["endDate"] == "2026-01-01T00:05:00Z"
    assert market["startDate"].startswith("2025-12-31T00:00:00")
    assert market["orderPriceMinTickSize"] == 0.01 and market["orderMinSize"] == 5
    assert market["feeSchedule"] == {"exponent": 1, "rate": 0.07, "takerOnly": True,
                                     "rebateRate": 0.2}
    assert market["feeType"] == "crypto_fees_v2"
    assert market["acceptingOrders"] is True and market["active"] is True
    assert market["closed"] is False
    assert "greater than or equal" in market["description"]
    assert market["events"][0]["slug"] == market["slug"]
    assert json.loads(market["umaResolutionStatuses"]) == []


def test_outcome_order_varies_and_tokens_follow_it(sim):
    orders = set()
    for k in range(40):
        market = sim.market(START_S + 300 * k)
        outcomes, tokens = json.loads(market["outcomes"]), json.loads(market["clobTokenIds"])
        orders.add(tuple(outcomes))
        clob = sim.get_json("clob", f"/markets/{market['conditionId']}")
        pairs = [(t["outcome"], t["token_id"]) for t in clob["tokens"]]
        assert pairs == list(zip(outcomes, tokens))
    assert orders == {("Up", "Down"), ("Down", "Up")}


def test_events_and_query_paths(sim):
    slug = f"btc-updown-5m-{START_S}"
    events = sim.get_json("gamma", "/events", slug=slug)
    assert len(events) == 1 and events[0]["markets"][0]["slug"] == slug
    assert sim.get_json("gamma", f"/events/slug/{slug}")["slug"] == slug
    assert [m["slug"] for m in sim.get_json("gamma", "/markets", slug=slug)] == [slug]
    unknown = "btc-updown-5m-1"
    assert sim.get("gamma", f"/markets/slug/{unknown}").status_code == 404
    assert "error" in sim.get("gamma", f"/events/slug/{unknown}").json()
    assert sim.get_json("gamma", "/markets", slug=unknown) == []
    assert sim.get_json("gamma", "/events", slug=unknown) == []


def test_markets_exist_from_24_hours_ahead(sim):
    ahead = START_S + 86_400 + 300
    assert sim.get("gamma", f"/markets/slug/btc-updown-5m-{ahead}").status_code == 404
    sim.advance_to(START_MS + 300_000)
    assert sim.market(ahead)["acceptingOrders"] is True


def test_resolved_markets_leave_the_default_listing(sim):
    slug = f"btc-updown-5m-{START_S}"
    sim.advance_to(START_MS + 310_000)
    assert sim.get_json("gamma", "/markets", slug=slug) == []
    closed = sim.get_json("gamma", "/markets", slug=slug, closed="true")
    assert len(closed) == 1 and closed[0]["closed"] is True


def test_gamma_missing_fault_hides_one_window(sim):
    assert sim.set_faults("gamma:missing=window:3").status_code == 200
    missing = START_S + 3 * 300
    assert sim.get("gamma", f"/markets/slug/btc-updown-5m-{missing}").status_code == 404
    assert sim.get_json("gamma", "/events", slug=f"btc-updown-5m-{missing}") == []
    assert sim.market(missing + 300)["slug"] == f"btc-updown-5m-{missing + 300}"
