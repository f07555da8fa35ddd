"""Fuzz every parser: any JSON-ish input gives a typed result or InvalidPayload, nothing else."""

from __future__ import annotations

import copy
from typing import Any, Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.feed.parsers import (
    Depth, Ignored, InvalidPayload, KlinePage, OraclePrice, ServerShutdown, SpotPrice, WsKline,
    parse_clob_book, parse_clob_books, parse_depth, parse_fee_rate, parse_gamma_events, parse_gamma_market,
    parse_rest_klines, parse_rtds_message, parse_simple_price, parse_tick_size, parse_ws_message,
)
from services.feed.parsers.gamma import GammaMarket
from shared.messages.market import OutcomeBook
from tests.feed.servers import fixture

NOW_MS = 1755131600000
scalars = (st.none() | st.booleans() | st.integers(-(2**70), 2**70)
           | st.floats(allow_nan=True, allow_infinity=True)
           | st.text(max_size=12) | st.sampled_from(["0", "1", "-1", "0.5", "1e999", "NaN", "[]",
                                                     '["Up","Down"]', "2026-03-12T09:20:00Z"]))
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=20)


@st.composite
def mutated(draw: st.DrawFn, base: Any) -> Any:
    """A valid payload with a few nested values replaced, removed or retyped."""
    value = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        value = _mutate_once(draw, value)
    return value


def _mutate_once(draw: st.DrawFn, value: Any) -> Any:
    if not isinstance(value, (dict, list)) or not value or draw(st.integers(0, 4)) == 0:
        return draw(json_values)
    keys = list(value.keys()) if isinstance(value, dict) else list(range(len(value)))
    key = draw(st.sampled_from(keys))
    action = draw(st.integers(0, 3))
    if action == 0 and isinstance(value, dict):
        del value[key]
    else:
        value[key] = _mutate_once(draw, value[key])
    return value


PARSERS: dict[str, tuple[Callable[[Any], Any], tuple[type, ...], str | None]] = {
    "klines": (lambda x: parse_rest_klines(x, NOW_MS), (KlinePage,), "binance_rest_klines_with_open.json"),
    "ws": (lambda x: parse_ws_message(x, "BTCUSDT"), (WsKline, Depth, ServerShutdown, Ignored),
           "binance_ws_kline_closed.json"),
    "ws_depth": (lambda x: parse_ws_message(x, "BTCUSDT"), (WsKline, Depth, ServerShutdown, Ignored),
                 "binance_ws_depth_combined.json"),
    "depth": (parse_depth, (Depth,), "binance_rest_depth_verbatim.json"),
    "coingecko": (lambda x: parse_simple_price(x, now=1711356330, max_age_s=120), (SpotPrice,),
                  "coingecko_simple_price.json"),
    "gamma": (parse_gamma_market, (GammaMarket,), "gamma_market.json"),
    "gamma_down_up": (parse_gamma_market, (GammaMarket,), "gamma_market_down_up.json"),
    "gamma_events": (lambda x: parse_gamma_events(x, "btc-updown-5m-1773307500"),
                     (GammaMarket, type(None)), "gamma_events.json"),
    "clob_book": (lambda x: parse_clob_book(x, "Up", "111"), (OutcomeBook,), "clob_book.json"),
    "clob_books": (lambda x: parse_clob_books(x, {"Up": "111", "Down": "222"}), (dict,), None),
    "tick": (parse_tick_size, (object,), None),
    "fee": (parse_fee_rate, (int,), None),
    "rtds": (lambda x: parse_rtds_message(x, "btc/usd"), (OraclePrice, type(None)), None),
}


def check(name: str, payload: Any) -> None:
    parse, types, _ = PARSERS[name]
    try:
        result = parse(payload)
    except InvalidPayload as err:
        assert err.reason and err.source
        return
    assert isinstance(result, types), f"{name} returned {type(result).__name__}"


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(name=st.sampled_from(sorted(PARSERS)), payload=json_values)
def test_parsers_on_arbitrary_json_raise_only_invalid_payload(name, payload):
    check(name, payload)


@FUZZ
@given(data=st.data(), name=st.sampled_from(sorted(n for n, p in PARSERS.items() if p[2])))
def test_parsers_on_mutated_valid_payloads_raise_only_invalid_payload(data, name):
    base = fixture(PARSERS[name][2])
    check(name, data.draw(mutated(base)))


def test_every_fixture_parses():
    for name, (parse, types, path) in PARSERS.items():
        if path:
            assert isinstance(parse(fixture(path)), types), name
