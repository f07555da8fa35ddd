"""rq jobs: poll the venue until a window's market is resolved, then publish it.

A job, not a stream message: it waits, retries with growing intervals, and either
publishes one MarketResolved or gives up (the ledger keeps its provisional settlement
and reports the settlement as unconfirmed).
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass

from shared import messages as m, streams
from shared.bus import Bus
from shared.clock import Clock
from shared.http import HttpClient, HttpError
from shared.jobs import enqueue_resolution

log = logging.getLogger("polybot.resolver")

class NotResolvedYet(Exception):
    """The market is not resolved yet: rq retries the job later."""


@dataclass
class Context:
    bus: Bus
    gamma: HttpClient  # one try per poll (max_attempts=1): the job schedules the next poll
    clock: Clock


CONTEXT: Context | None = None  # set once by the worker's main before it starts


def poll_resolution(run_id: str, interval: int, slug: str, attempt: int = 1, max_polls: int = 40) -> str:
    ctx = CONTEXT
    if ctx is None:
        raise RuntimeError("resolver context not initialised")
    try:
        market = fetch_market(ctx, slug)
        winner = resolved_outcome(market)
    except (NotResolvedYet, HttpError) as exc:  # unreachable, 5xx, 4xx, not JSON: poll again
        log.info("not resolved yet", extra={"data": {"slug": slug, "attempt": attempt, "why": str(exc)[:200]}})
        winner = False
    except ValueError as exc:  # a malformed answer: a failed job would end this window's polling
        log.warning("unreadable market, polling again", extra={"data": {
            "slug": slug, "attempt": attempt, "why": str(exc)[:200]}})
        winner = False
    if winner is False:
        if not enqueue_resolution(ctx.bus.redis, run_id, interval, slug, attempt + 1, max_polls):
            log.warning("gave up waiting for the venue's resolution; the settlement stays provisional",
                        extra={"data": {"slug": slug, "polls": max_polls}})
            return "gave up"
        return "pending"
    now = ctx.clock.now_ns()
    ctx.bus.publish(streams.RESOLUTIONS, m.MarketResolved(
        **m.header(key=("resolved", run_id, interval), ts_event=now, ts_init=now),
        run_id=run_id, interval=interval, slug=slug, condition_id=str(market.get("conditionId", "")),
        winning_outcome=winner, source="polymarket-gamma"))
    return str(winner)


def fetch_market(ctx: Context, slug: str) -> dict:
    try:
        market = ctx.gamma.get_json(f"/markets/slug/{slug}")
    except HttpError as exc:
        if exc.status == 404:
            raise NotResolvedYet(f"{slug} not visible") from None
        raise
    if not isinstance(market, dict):
        raise ValueError(f"gamma returned {type(market).__name__} for {slug}, expected an object")
    return market


def resolved_outcome(market: dict):
    """'Up'/'Down', None for a void 50/50 market, or False when not resolved yet.

    Resolved = closed, and one outcome price >= 0.999 with the other <= 0.001
    (umaResolutionStatus "pending" is not final).  A malformed market raises
    ValueError, never anything else: the poll then simply tries again later.
    """
    if not isinstance(market, dict):
        raise ValueError(f"expected a market object, got {type(market).__name__}")
    if not market.get("closed") or market.get("umaResolutionStatus") == "pending":
        return False
    outcomes = _json_list(market.get("outcomes"))
    prices = [_price(p) for p in _json_list(market.get("outcomePrices"))]
    if len(outcomes) != 2 or len(prices) != 2:
        raise ValueError("resolved market without two outcomes and two prices")
    if prices == [0.5, 0.5]:
        return None
    for label, price in zip(outcomes, prices):
        if price >= 0.999 and label in ("Up", "Down"):
            return label
    return False


def _json_list(value) -> list:
    # Gamma encodes these lists as JSON strings.
    if isinstance(value, str):
        value = json.loads(value)  # a JSONDecodeError is a ValueError
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"expected a list, got {type(value).__name__}")
    return value


def _price(value) -> float:
    try:
        price = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"outcome price {str(value)[:40]!r} is not a number") from None
    if not math.isfinite(price):
        raise ValueError(f"outcome price {price} is not finite")
    return price
