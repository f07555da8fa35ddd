"""Gamma market/event objects for the ``btc-updown-5m-{start}`` markets.

Traps handled here: ``outcomes``, ``outcomePrices`` and ``clobTokenIds`` are JSON
*strings*; outcomes are mapped by LABEL (some markets list ["Down","Up"]); ``startDate``
is the market's creation time, the window is ``eventStartTime`` → ``endDate``.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Literal

import msgspec

from services.feed.parsers.fields import (
    InvalidPayload, array, boolean, decimal, integer, iso_seconds, json_list, mapping, text,
)
from shared.messages.market import FeeSchedule

SOURCE = "gamma"
_SLUG_WINDOW = re.compile(r"-(5m|15m|4h)-(\d{1,12})$")
_DURATIONS = {"5m": 300, "15m": 900, "4h": 14_400}
# Markets from before ``feeSchedule`` existed carry only a fee type and a base fee in
# bps, and the base fee is not the effective rate.  Polymarket's "crypto_fees" regime
# (Jan-Mar 2026) charged C·0.25·(p(1−p))²; unknown types are left for the caller.
_LEGACY_FEE_TYPES = {"crypto_fees": FeeSchedule(rate=Decimal("0.25"), exponent=2)}
_WIN, _LOSE = Decimal("0.999"), Decimal("0.001")

Resolution = Literal["Up", "Down", "void"]


class GammaMarket(msgspec.Struct, frozen=True, kw_only=True):
    slug: str
    condition_id: str
    window_start: int
    window_end: int
    up_token: str
    down_token: str
    up_price: Decimal | None
    down_price: Decimal | None
    tick_size: Decimal | None
    min_order_size: Decimal | None
    fee: FeeSchedule | None  # None: not stated in a form we know; ask /fee-rate
    accepting_orders: bool
    closed: bool
    neg_risk: bool
    resolution: Resolution | None  # set once a closed market's prices are final


def parse_gamma_market(payload: Any, event: dict | None = None) -> GammaMarket:
    """One market object (``/markets/slug/{slug}`` or an event's ``markets[i]``)."""
    market = mapping(SOURCE, payload, "market")
    slug = text(SOURCE, market.get("slug"), "slug")
    tokens, prices = _outcomes_by_label(market)
    start, end = _window(market, event or _first_event(market), slug)
    closed = _flag(market, "closed")
    return GammaMarket(
        slug=slug,
        condition_id=text(SOURCE, market.get("conditionId"), "conditionId"),
        window_start=start,
        window_end=end,
        up_token=tokens["up"],
        down_token=tokens["down"],
        up_price=prices.get("up"),
        down_price=prices.get("down"),
        tick_size=_optional_unit_decimal(market, "orderPriceMinTickSize"),
        min_order_size=_optional_size(market, "orderMinSize"),
        fee=_fee(market),
        accepting_orders=_flag(market, "acceptingOrders"),
        closed=closed,
        neg_risk=_flag(market, "negRisk"),
        resolution=_resolution(prices) if closed else None,
    )


def parse_gamma_events(payload: Any, slug: str) -> GammaMarket | None:
    """``/events?slug=…`` → the event's market, or None when it is not listed yet."""
    events = array(SOURCE, payload, "events")
    if not events:
        return None
    for raw in events:
        event = mapping(SOURCE, raw, "event")
        if event.get("slug") == slug:
            return parse_gamma_market(_event_market(event, slug), event)
    raise InvalidPayload(SOURCE, f"no event with slug {slug!r} in the answer")


def _event_market(event: dict, slug: str) -> dict:
    markets = array(SOURCE, event.get("markets"), "event markets")
    matching = [m for m in markets if isinstance(m, dict) and m.get("slug") == slug]
    if len(matching) == 1:
        return matching[0]
    if len(markets) == 1:
        return mapping(SOURCE, markets[0], "event market")
    raise InvalidPayload(SOURCE, f"event {slug!r} has {len(markets)} markets, none unique")


def _outcomes_by_label(market: dict) -> tuple[dict[str, str], dict[str, Decimal]]:
    labels = json_list(SOURCE, market.get("outcomes"), "outcomes")
    ids = market.get("clobTokenIds", market.get("positionIds"))
    tokens = json_list(SOURCE, ids, "clobTokenIds")
    keys = [text(SOURCE, label, "outcome").strip().lower() for label in labels]
    if sorted(keys) != ["down", "up"]:
        raise InvalidPayload(SOURCE, f"outcomes {labels!r}, expected Up and Down")
    if len(tokens) != 2:
        raise InvalidPayload(SOURCE, f"{len(tokens)} token ids for 2 outcomes")
    by_label = {key: _token(token) for key, token in zip(keys, tokens)}
    if by_label["up"] == by_label["down"]:
        raise InvalidPayload(SOURCE, "Up and Down have the same token id")
    raw_prices = market.get("outcomePrices")
    if raw_prices is None:
        return by_label, {}
    prices = json_list(SOURCE, raw_prices, "outcomePrices")
    if len(prices) != 2:
        raise InvalidPayload(SOURCE, f"{len(prices)} outcome prices for 2 outcomes")
    return by_label, {key: _probability(p) for key, p in zip(keys, prices)}


def _token(value: Any) -> str:
    token = text(SOURCE, value, "token id")
    if not token.isascii() or not token.isdigit():
        raise InvalidPayload(SOURCE, f"token id {token[:20]!r} is not a decimal uint256")
    return token


def _probability(value: Any) -> Decimal:
    price = decimal(SOURCE, value, "outcome price", numbers=True)
    if not 0 <= price <= 1:
        raise InvalidPayload(SOURCE, f"outcome price {price} outside [0, 1]")
    return price


def _window(market: dict, event: dict | None, slug: str) -> tuple[int, int]:
    """The window from the market, then its event, then the slug; they must agree."""
    event = event or {}
    start_raw = market.get("eventStartTime") or event.get("startTime")
    end_raw = market.get("endDate") or event.get("endDate")
    from_slug = _slug_window(slug)
    if not start_raw and from_slug is None:
        raise InvalidPayload(SOURCE, f"no window: no eventStartTime and slug {slug!r}")
    start = iso_seconds(SOURCE, start_raw, "eventStartTime") if start_raw else from_slug[0]
    end = iso_seconds(SOURCE, end_raw, "endDate") if end_raw else None
    if end is None:
        if from_slug is None:
            raise InvalidPayload(SOURCE, "no endDate and no window in the slug")
        end = start + (from_slug[1] - from_slug[0])
    if from_slug is not None and (start, end) != from_slug:
        raise InvalidPayload(SOURCE, f"window {start}-{end} disagrees with slug {slug!r}")
    if end <= start:
        raise InvalidPayload(SOURCE, f"window ends ({end}) before it starts ({start})")
    return start, end


def _slug_window(slug: str) -> tuple[int, int] | None:
    match = _SLUG_WINDOW.search(slug)
    if match is None:
        return None
    start = int(match.group(2))
    return start, start + _DURATIONS[match.group(1)]


def _first_event(market: dict) -> dict | None:
    events = market.get("events")
    if isinstance(events, list) and events and isinstance(events[0], dict):
        return events[0]
    return None


def _fee(market: dict) -> FeeSchedule | None:
    schedule = market.get("feeSchedule")
    if schedule is not None:
        fee = mapping(SOURCE, schedule, "feeSchedule")
        rate = decimal(SOURCE, fee.get("rate"), "feeSchedule.rate", numbers=True)
        exponent = integer(SOURCE, fee.get("exponent", 1), "feeSchedule.exponent")
        if not 0 <= rate < 1 or not 0 < exponent <= 4:
            raise InvalidPayload(SOURCE, f"feeSchedule out of range: rate {rate}, exp {exponent}")
        taker_only = boolean(SOURCE, fee.get("takerOnly", True), "feeSchedule.takerOnly")
        return FeeSchedule(rate=rate, exponent=exponent, taker_only=taker_only)
    if market.get("feesEnabled") is False:
        return FeeSchedule(rate=Decimal(0))
    base = market.get("takerBaseFee")
    if base is None:
        return None
    if integer(SOURCE, base, "takerBaseFee") == 0:
        return FeeSchedule(rate=Decimal(0))
    fee_type = market.get("feeType")
    return _LEGACY_FEE_TYPES.get(fee_type) if isinstance(fee_type, str) else None


def _flag(market: dict, key: str) -> bool:
    return boolean(SOURCE, market.get(key, False), key)


def _optional_unit_decimal(market: dict, key: str) -> Decimal | None:
    if market.get(key) is None:
        return None
    value = decimal(SOURCE, market[key], key, numbers=True)
    if not 0 < value < 1:
        raise InvalidPayload(SOURCE, f"{key} {value} outside (0, 1)")
    return value


def _optional_size(market: dict, key: str) -> Decimal | None:
    if market.get(key) is None:
        return None
    value = decimal(SOURCE, market[key], key, numbers=True)
    if value < 0:
        raise InvalidPayload(SOURCE, f"{key} {value} is negative")
    return value


def _resolution(prices: dict[str, Decimal]) -> Resolution | None:
    up, down = prices.get("up"), prices.get("down")
    if up is None or down is None:
        return None
    if up >= _WIN and down <= _LOSE:
        return "Up"
    if down >= _WIN and up <= _LOSE:
        return "Down"
    if up == down == Decimal("0.5"):
        return "void"
    return None  # closed but not final yet (UMA "pending")
