"""The executor's own market rules (tick size, neg-risk) from GET /clob-markets/{condition}."""

from __future__ import annotations

import pytest

from services.executor.market_rules import MarketInfoInvalid, MarketRules, MarketRulesCache, parse_market_info


def compact(condition: str, tokens=("111", "222"), **extra) -> dict:
    """The venue's compact market description (polymarket-api.md, /clob-markets)."""
    return {"c": condition, "t": [{"t": t, "o": o} for t, o in zip(tokens, ("Up", "Down"))],
            "mts": 0.01, "fd": {"r": 0.07, "e": 1, "to": True}, "mos": 5, "ao": True, **extra}


def test_both_tokens_get_the_markets_tick_and_neg_risk_flag():
    assert parse_market_info("0xa", compact("0xa")) == {"111": MarketRules("0.01", False),
                                                        "222": MarketRules("0.01", False)}
    assert parse_market_info("0xa", compact("0xa", nr=True, mts=0.001))["222"] == MarketRules("0.001", True)


@pytest.mark.parametrize("payload, why", [
    (None, "failed to fetch market info"),
    ("<html>", "failed to fetch market info"),
    ({"c": "0xa", "t": []}, "failed to fetch market info"),  # a market still hydrating
    (compact("0xa", mts=0.02), "unknown tick size 0.02"),
    (compact("0xa", mts=None), "unknown tick size None"),
    (compact("0xa", nr="yes"), "neg-risk flag is not a boolean"),
    (compact("0xa", tokens=("111", "")), "outcome tokens missing"),
    ({**compact("0xa"), "t": [{"o": "Up"}]}, "outcome tokens missing"),
])
def test_a_malformed_description_is_refused_with_the_reason(payload, why):
    with pytest.raises(MarketInfoInvalid, match=why):
        parse_market_info("0xa", payload)


def test_a_market_is_fetched_once_and_only_the_last_few_are_kept():
    fetched: list[str] = []

    def fetch(condition: str) -> dict:
        fetched.append(condition)
        return compact(condition, tokens=(f"{condition}-up", f"{condition}-down"))

    cache = MarketRulesCache(fetch, keep=3)
    for condition in ("0x1", "0x2", "0x1", "0x3"):
        cache.load(condition)
    assert fetched == ["0x1", "0x2", "0x3"]
    cache.load("0x4")  # 0x2 is now the least recent: it goes, 0x1 stays
    assert len(cache) == 3
    assert cache.rules("0x1", "0x1-down") == MarketRules("0.01", False)
    assert cache.rules("0x2", "0x2-up") == MarketRules("0.01", False)  # fetched again
    assert fetched == ["0x1", "0x2", "0x3", "0x4", "0x2"]


def test_a_token_of_another_market_is_refused():
    cache = MarketRulesCache(lambda condition: compact(condition))
    with pytest.raises(MarketInfoInvalid, match="token 333 is not an outcome of market 0xa"):
        cache.rules("0xa", "333")
