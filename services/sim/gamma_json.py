"""Gamma market and event objects for one window, with the real field names and types.

``outcomes``, ``outcomePrices``, ``clobTokenIds`` and ``umaResolutionStatuses`` are JSON
*strings*; market ``volume``/``liquidity`` are strings and ``…Num`` numbers; ``startDate``
is the market's creation, the window is ``eventStartTime`` → ``endDate``.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from services.sim.formats import gamma_closed_time, iso_z, mils_text
from services.sim.window_view import WindowView

NEW_YORK = ZoneInfo("America/New_York")
SERIES = [{"id": "10684", "ticker": "btc-up-or-down-5m", "slug": "btc-up-or-down-5m",
           "title": "BTC Up or Down 5m", "seriesType": "single", "recurrence": "5m",
           "active": True, "closed": False, "archived": False}]
TAGS = [{"id": "21", "label": "Crypto", "slug": "crypto"},
        {"id": "235", "label": "Bitcoin", "slug": "bitcoin"},
        {"id": "1312", "label": "Crypto Prices", "slug": "crypto-prices"}]
FEE_SCHEDULE = {"exponent": 1, "rate": 0.07, "takerOnly": True, "rebateRate": 0.2}
RESOLUTION_SOURCE = "https://www.binance.com/en/trade/BTC_USDT"
DESCRIPTION = (
    "This market will resolve to \"Up\" if the Bitcoin price at the end of the time range "
    "specified in the title is greater than or equal to the price at the beginning of that "
    "time range. Otherwise, it will resolve to \"Down\".\nThe resolution source for this "
    "market is the Binance BTC/USDT 1-minute candles of the polybot simulator: the open of "
    "the range's first minute is the price at the beginning, the close of its last minute "
    "the price at the end.")


def _json_string(value) -> str:
    return json.dumps(value, separators=(", ", ": "))


def title(view: WindowView) -> str:
    """'Bitcoin Up or Down - March 12, 5:20AM-5:25AM ET' (New York time, DST aware)."""
    start = datetime.fromtimestamp(view.window.start_s, tz=timezone.utc).astimezone(NEW_YORK)
    end = datetime.fromtimestamp(view.window.end_s, tz=timezone.utc).astimezone(NEW_YORK)

    def clock(moment: datetime) -> str:
        return f"{moment.hour % 12 or 12}:{moment.minute:02d}{'AM' if moment.hour < 12 else 'PM'}"

    return f"Bitcoin Up or Down - {start:%B} {start.day}, {clock(start)}-{clock(end)} ET"


def event_json(view: WindowView, markets: list[dict] | None = None) -> dict:
    w, res = view.window, view.resolution
    event = {
        "id": w.event_id, "ticker": w.slug, "slug": w.slug, "title": title(view),
        "description": DESCRIPTION, "resolutionSource": RESOLUTION_SOURCE,
        "startDate": iso_z(w.created_ms, micros=True),
        "creationDate": iso_z(w.created_ms, micros=True),
        "endDate": iso_z(w.end_ms), "startTime": iso_z(w.start_ms), "active": True,
        "closed": view.closed, "archived": False, "new": False, "featured": False,
        "restricted": True, "liquidity": float(view.liquidity), "volume": float(view.volume),
        "openInterest": 0, "createdAt": iso_z(w.created_ms, micros=True),
        "updatedAt": iso_z(view.now_ms, micros=True), "enableOrderBook": True, "negRisk": False,
        "seriesSlug": "btc-up-or-down-5m", "series": SERIES, "tags": TAGS,
        "eventMetadata": _metadata(view),
    }
    if markets is not None:
        event["markets"] = markets
    if res.resolved:
        event["closedTime"] = gamma_closed_time(res.resolves_at_ms)
    return event


def _metadata(view: WindowView) -> dict | None:
    res = view.resolution
    if res.start_price is None:
        return None
    meta = {"priceToBeat": res.start_price / 100}
    if res.resolved and res.end_price is not None:
        meta["finalPrice"] = res.end_price / 100
    return meta


def market_json(view: WindowView, with_event: bool = True) -> dict:
    w, res = view.window, view.resolution
    bid, ask = view.first_outcome_bid_ask()
    last_price = bid if bid is not None else ask
    market = {
        "id": w.market_id, "question": title(view), "conditionId": w.condition_id, "slug": w.slug,
        "resolutionSource": RESOLUTION_SOURCE, "endDate": iso_z(w.end_ms),
        "startDate": iso_z(w.created_ms, micros=True), "description": DESCRIPTION,
        "outcomes": _json_string(list(w.outcomes)),
        "outcomePrices": _json_string(view.outcome_prices()),
        "clobTokenIds": _json_string(list(w.tokens)), "volume": str(view.volume),
        "liquidity": str(view.liquidity), "volumeNum": float(view.volume),
        "liquidityNum": float(view.liquidity), "active": True, "closed": view.closed,
        "archived": False, "restricted": True, "enableOrderBook": True,
        "acceptingOrders": view.accepting_orders and not view.closed,
        "acceptingOrdersTimestamp": iso_z(w.created_ms), "questionID": w.question_id,
        "createdAt": iso_z(w.created_ms, micros=True), "updatedAt": iso_z(view.now_ms, micros=True),
        "eventStartTime": iso_z(w.start_ms), "orderPriceMinTickSize": view.tick_mils / 1000,
        "orderMinSize": 5, "negRisk": False, "feesEnabled": True, "makerBaseFee": 1000,
        "takerBaseFee": 1000, "feeType": "crypto_fees_v2", "feeSchedule": FEE_SCHEDULE,
        "makerRebatesFeeShareBps": 10000, "umaResolutionStatuses": _json_string(
            ["resolved"] if res.resolved else []),
        "bestBid": None if bid is None else bid / 1000,
        "bestAsk": None if ask is None else ask / 1000,
        "spread": None if bid is None or ask is None else (ask - bid) / 1000,
        "lastTradePrice": float(mils_text(last_price)) if last_price is not None else 0.5,
    }
    if res.resolved:
        market.update(umaResolutionStatus="resolved",
                      closedTime=gamma_closed_time(res.resolves_at_ms))
    if with_event:
        market["events"] = [event_json(view)]
    return market
