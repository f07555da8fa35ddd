"""The CLOB broker: FOK market BUYs through py-clob-client-v2.

Used against the simulator (with a public dev key) and, only with TRADING_MODE=live and
the explicit confirmation, against Polymarket.  Orders are signed deterministically
(signing.py) and their id, the V2 EIP-712 order hash, is computed before the first
send, so an order can be looked up even when its POST timed out.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from py_clob_client_v2 import ApiCreds, OrderType
from py_clob_client_v2.exceptions import PolyException

from shared.log import register_secrets
from shared.messages import MarketQuote, SubmitOrder
from services.executor.brokers import (
    NO_ASKS, Answer, Fill, OrderRefused, PreparedOrder, Rejection, VenueUnavailable,
    average_price, limit_price, taker_fee,
)
from services.executor.market_rules import MarketInfoInvalid, MarketRulesCache
from services.executor.signing import body_to_signed, order_hash, order_salt, sign_market_buy, signed_to_body
from services.executor.venue_client import VenueClient, VenueHttpError

log = logging.getLogger("polybot.executor.clob")

# Anvil/Hardhat test account #0: published everywhere, never funded on Polygon.  The
# simulator is the paper venue, so its orders are signed with this and no real key is
# ever loaded in paper mode.
SIM_DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"

TOKEN_UNIT = Decimal(10) ** 6  # pUSD and outcome shares have 6 decimals
# Venue answers that mean "not filled, final" even when they come with a 5xx status.
KILLED_MARKERS = ("FOK orders are", "no orders found to match", "there are no matching orders")
PENDING_STATUSES = {"LIVE", "DELAYED"}
MIN_PRICE = Decimal("0.001")  # the smallest tick a Polymarket book uses


def _decimal(value: object) -> Decimal | None:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _positive(value: object) -> Decimal | None:
    """An amount the venue reports, or None unless it is a positive number (a fuzzed
    "-1" once became a fill of minus one share)."""
    number = _decimal(value)
    return number if number is not None and number > 0 else None


def _plausible_price(stake: Decimal, shares: Decimal) -> bool:
    """A fill's average price lies on the venue's scale: [smallest tick, 1] (a fuzzed
    size of 1e999 shares once became a fill at a price of zero)."""
    return MIN_PRICE <= stake / shares <= 1


class ClobBroker:
    name = "clob"

    def __init__(self, client: VenueClient, *, chain_id: int, delayed_poll_s: float = 3.0,
                 sleep: Callable[[float], None] = time.sleep):
        self.client = client
        self.chain_id = chain_id
        self.delayed_poll_s = delayed_poll_s
        self.sleep = sleep
        # One GET /clob-markets/{condition} per market gives the tick size and neg-risk
        # flag of both tokens, for the last few markets only.
        self.markets = MarketRulesCache(lambda condition: self.client.clob_market(condition))

    def connect(self, creds: ApiCreds | None = None) -> None:
        """Use the given API credentials, or create/derive them with the key (L1)."""
        if creds is None:
            creds = self.client.create_or_derive_api_key()
        register_secrets(creds.api_key, creds.api_secret, creds.api_passphrase)
        self.client.set_api_creds(creds)

    # -- Broker ------------------------------------------------------------------------
    def prepare(self, cmd: SubmitOrder) -> PreparedOrder:
        price = limit_price(cmd.book, cmd.amount)
        if price is None:
            raise OrderRefused(NO_ASKS)
        rules = self._call(lambda: self.markets.rules(cmd.condition_id, cmd.token_id))
        # The limit is the decision book's price for this amount: slippage beyond what
        # the decision saw kills the FOK at the venue instead of filling worse.
        signed = self._call(lambda: sign_market_buy(
            self.client, rules, token_id=cmd.token_id, amount=cmd.amount, price=price,
            salt=order_salt(cmd.order_key), timestamp_ms=(cmd.decided_at_ns or cmd.ts_init) // 1_000_000,
            chain_id=self.chain_id))
        order_id = self._call(lambda: order_hash(self.client, signed, rules.neg_risk, self.chain_id))
        return PreparedOrder(order_id=order_id, body=signed_to_body(signed))

    def send(self, cmd: SubmitOrder, order: PreparedOrder) -> Answer:
        try:
            response = self.client.post_order(body_to_signed(order.body), OrderType.FOK)
        except VenueHttpError as exc:
            return self._answer_from_error(cmd, order, exc)
        return self._answer_from_post(cmd, order, response)

    def warm(self, quote: MarketQuote) -> None:
        try:
            self._call(lambda: self.markets.load(quote.condition_id))
        except (OrderRefused, VenueUnavailable) as exc:  # the order path asks again
            log.info("market info not loaded ahead", extra={"data": {"slug": quote.slug, "why": str(exc)[:200]}})

    def lookup(self, cmd: SubmitOrder, order: PreparedOrder) -> Answer | None:
        try:
            raw = self.client.get_order(order.order_id)
        except VenueHttpError as exc:
            if exc.status_code == 404:
                return None
            raise VenueUnavailable(f"order lookup failed: {exc}", retry_after_s=exc.retry_after_s) from None
        if not raw or not isinstance(raw, dict):
            return None  # the venue answers null for an order it never saw
        return self._answer_from_order(cmd, order, raw)

    # -- helpers -------------------------------------------------------------------------
    def _call(self, fn: Callable):
        """Run an SDK call that places nothing: venue trouble is transient, the SDK's own
        refusals (invalid price, missing market) are permanent."""
        try:
            return fn()
        except VenueHttpError as exc:
            if exc.status_code is not None and 400 <= exc.status_code < 500 and exc.status_code not in (425, 429):
                raise OrderRefused(exc.error_msg) from None
            raise VenueUnavailable(str(exc), maybe_sent=False, retry_after_s=exc.retry_after_s) from None
        except PolyException as exc:
            raise OrderRefused(str(exc.msg)) from None
        except MarketInfoInvalid as exc:
            raise OrderRefused(str(exc)) from None

    def _answer_from_error(self, cmd: SubmitOrder, order: PreparedOrder, exc: VenueHttpError) -> Answer:
        text, status = exc.error_msg, exc.status_code
        if "Duplicated" in text:  # the venue already has this very order: ask what became of it
            found = self.lookup(cmd, order)
            if found is None:
                raise VenueUnavailable("venue says duplicated but cannot find the order")
            return found
        if any(marker in text for marker in KILLED_MARKERS):
            return Rejection(order_id=order.order_id, reason=text)
        if status is None or status >= 500 or status in (425, 429):
            raise VenueUnavailable(str(exc), maybe_sent=exc.reached_venue, retry_after_s=exc.retry_after_s)
        if status == 401:  # nothing was placed; fresh credentials may help the next attempt
            self._refresh_credentials()
            raise VenueUnavailable(str(exc), maybe_sent=False)
        return Rejection(order_id=order.order_id, reason=text)

    def _refresh_credentials(self) -> None:
        try:
            self.connect()
        except Exception as exc:  # noqa: BLE001 - the attempt fails either way
            log.warning("could not refresh API credentials", extra={"data": {"error": str(exc)[:200]}})

    def _answer_from_post(self, cmd: SubmitOrder, order: PreparedOrder, response: object) -> Answer:
        if not isinstance(response, dict):
            raise VenueUnavailable(f"unexpected order response: {str(response)[:200]}")
        venue_id = response.get("orderID") or order.order_id
        if venue_id != order.order_id:
            log.warning("venue order id differs from the computed order hash",
                        extra={"data": {"computed": order.order_id, "venue": venue_id}})
        if not response.get("success", False):
            return Rejection(order_id=venue_id, reason=response.get("errorMsg") or "order not accepted")
        status = str(response.get("status", "")).lower()
        if status == "unmatched":
            return Rejection(order_id=venue_id, reason=response.get("errorMsg") or "unmatched")
        making, taking = _positive(response.get("makingAmount")), _positive(response.get("takingAmount"))
        if status == "matched" and making and taking and _plausible_price(making, taking):
            return self._fill(cmd, venue_id, making, taking)
        return self._follow_delayed(cmd, order)

    def _follow_delayed(self, cmd: SubmitOrder, order: PreparedOrder) -> Answer:
        """A marketable order the venue matches a little later: poll it (bounded)."""
        deadline = time.monotonic() + self.delayed_poll_s
        while True:
            try:
                found = self.lookup(cmd, order)
            except VenueUnavailable:
                found = None  # still pending, or a failed poll: keep going until the deadline
            if found is not None:
                return found
            if time.monotonic() >= deadline:
                raise VenueUnavailable("order accepted but still delayed/pending at the venue")
            self.sleep(0.1)

    def _answer_from_order(self, cmd: SubmitOrder, order: PreparedOrder, raw: dict) -> Answer:
        status = str(raw.get("status", "")).upper()
        venue_id = raw.get("id") or order.order_id
        if status == "MATCHED":
            stake = Decimal(order.body["makerAmount"]) / TOKEN_UNIT  # a filled FOK BUY spent it all
            shares = _positive(raw.get("size_matched"))
            if shares is None or not _plausible_price(stake, shares):  # a FOK BUY got at least this
                shares = Decimal(order.body["takerAmount"]) / TOKEN_UNIT
            return self._fill(cmd, venue_id, stake, shares)
        if status.startswith("CANCELED") or status in ("UNMATCHED", "INVALID"):
            reason = str(raw.get("status", "")).partition("_")[2] or f"order {status} at the venue"
            return Rejection(order_id=venue_id, reason=reason)
        if status in PENDING_STATUSES:
            raise VenueUnavailable(f"order {status.lower()} at the venue")
        raise VenueUnavailable(f"unknown order status {status!r}")

    def _fill(self, cmd: SubmitOrder, order_id: str, stake: Decimal, shares: Decimal) -> Fill:
        # V2 charges the taker fee on top at match time; the response does not carry it,
        # so it is computed with the market's schedule at the average fill price.
        fee = taker_fee(shares, stake / shares, cmd.fee)
        return Fill(order_id=order_id, stake=stake, shares=shares,
                    avg_price=average_price(stake, shares), fee=fee)
