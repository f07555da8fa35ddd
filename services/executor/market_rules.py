"""What signing needs to know about a market: its tick size and whether it is neg-risk.

Read from the venue's compact ``GET /clob-markets/{condition}`` (the call the SDK's
``get_clob_market_info`` makes) and kept for the last few markets only.  The SDK keeps
the same facts in private per-token dicts that nothing ever clears: over a month of
5-minute windows they grew the executor by about 8 MB.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

import msgspec
from py_clob_client_v2.order_builder.builder import ROUNDING_CONFIG

KEEP_MARKETS = 8  # the window being traded, the next one warmed ahead, and slack for retries


class MarketRules(msgspec.Struct, frozen=True):
    tick_size: str   # as the SDK's ROUNDING_CONFIG keys it: "0.01"
    neg_risk: bool


class MarketInfoInvalid(ValueError):
    """The venue's market description is missing or malformed: nothing can be signed."""


def parse_market_info(condition_id: str, payload: object) -> dict[str, MarketRules]:
    """The rules of each outcome token of ``condition_id``, from the compact payload
    ``{"c": cid, "t": [{"t": token, "o": "Up"}, ...], "mts": 0.01, "nr": true?, ...}``."""
    if not isinstance(payload, dict) or not isinstance(payload.get("t"), list) or not payload["t"]:
        raise MarketInfoInvalid(f"failed to fetch market info for condition id {condition_id}")
    tick = str(payload.get("mts"))
    if tick not in ROUNDING_CONFIG:
        raise MarketInfoInvalid(f"market {condition_id}: unknown tick size {payload.get('mts')!r}")
    neg_risk = payload.get("nr", False)
    if not isinstance(neg_risk, bool):
        raise MarketInfoInvalid(f"market {condition_id}: neg-risk flag is not a boolean: {neg_risk!r}")
    rules = MarketRules(tick_size=tick, neg_risk=neg_risk)
    tokens = [token.get("t") for token in payload["t"] if isinstance(token, dict)]
    if not tokens or not all(isinstance(token, str) and token for token in tokens):
        raise MarketInfoInvalid(f"market {condition_id}: outcome tokens missing")
    return dict.fromkeys(tokens, rules)


class MarketRulesCache:
    """The rules of the last ``keep`` markets loaded, by token."""

    def __init__(self, fetch: Callable[[str], object], keep: int = KEEP_MARKETS):
        self._fetch = fetch
        self._keep = keep
        self._markets: OrderedDict[str, dict[str, MarketRules]] = OrderedDict()

    def load(self, condition_id: str) -> None:
        """Fetch the market unless it is known (then it only becomes the most recent)."""
        if condition_id in self._markets:
            self._markets.move_to_end(condition_id)
            return
        self._markets[condition_id] = parse_market_info(condition_id, self._fetch(condition_id))
        while len(self._markets) > self._keep:
            self._markets.popitem(last=False)

    def rules(self, condition_id: str, token_id: str) -> MarketRules:
        self.load(condition_id)
        try:
            return self._markets[condition_id][token_id]
        except KeyError:
            raise MarketInfoInvalid(f"token {token_id} is not an outcome of market {condition_id}") from None

    def __len__(self) -> int:
        return len(self._markets)
