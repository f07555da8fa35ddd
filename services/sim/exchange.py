"""The matching venue: validates orders, fills them against the model's books, keeps
orders/trades/balances. One lock serialises order handling so fills are deterministic.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from decimal import Decimal
from typing import Callable

from services.sim.accounts import Accounts
from services.sim.auth import ApiCredentials
from services.sim.book import Books
from services.sim.eip712 import recover_signer
from services.sim.faults import FaultPlan
from services.sim.formats import decimal_text
from services.sim.matching import MatchResult, match
from services.sim.orders import OrderRejected, ParsedOrder, parse_order
from services.sim.records import OrderRecord, TradeRecord, settlement_hash, trade_id
from services.sim.windows import Window, WindowRegistry

FOK_KILLED = "order couldn't be fully filled. FOK orders are fully filled or killed."
FAK_KILLED = ("no orders found to match with FAK order. FAK orders are partially filled or "
              "killed if no match is found.")
NO_BALANCE = "not enough balance / allowance"
MIN_SIZE = Decimal(5)


@dataclass(frozen=True)
class Submission:
    """What one POST /order did (for the response and for the control-API order log)."""
    status: int
    body: dict
    order: ParsedOrder | None = None
    window: Window | None = None
    result: MatchResult | None = None


class Exchange:
    def __init__(self, seed: int, chain_id: int, registry: WindowRegistry, books: Books,
                 accounts: Accounts, faults: Callable[[], FaultPlan], verify_signatures: bool):
        self._seed, self._chain_id = seed, chain_id
        self._registry, self._books, self._accounts = registry, books, accounts
        self._faults = faults
        self._verify = verify_signatures
        self.lock = threading.RLock()
        self.orders: dict[str, OrderRecord] = {}
        self.trades: list[TradeRecord] = []

    def submit(self, body: object, creds: ApiCredentials, now_ms: int) -> Submission:
        with self.lock:
            order = window = None
            try:
                order = parse_order(body, self._chain_id)
                window = self._admit(order, creds, now_ms)
                return self._execute(order, window, creds, now_ms)
            except OrderRejected as rejected:
                return Submission(rejected.status, {"error": rejected.message}, order, window)

    def _admit(self, order: ParsedOrder, creds: ApiCredentials, now_ms: int) -> Window:
        """The checks the venue makes before matching; the order's window."""
        oid = order.order_id
        if order.owner != creds.api_key:
            raise OrderRejected(400, "the order owner has to be the owner of the API KEY")
        if order.signature_type != 3 and order.signer.lower() != creds.address.lower():
            raise OrderRejected(400, "the order signer address has to be the address of the "
                                     "API KEY")
        if self._verify and order.signature_type != 3 and not self._signed_by_signer(order):
            raise OrderRejected(400, "invalid order signature")
        if oid in self.orders:
            raise OrderRejected(400, f"order {oid} is invalid. Duplicated.")
        window = self._registry.by_token(order.token_id, now_ms)
        if window is None:
            raise OrderRejected(400, "Invalid token id")
        if now_ms >= window.end_ms:
            raise OrderRejected(400, f"order {oid} is invalid. The market is not accepting orders.")
        self._check_size_and_price(order, window, now_ms)
        return window

    def _signed_by_signer(self, order: ParsedOrder) -> bool:
        try:
            return recover_signer(order.digest, order.signature).lower() == order.signer.lower()
        except Exception:  # malformed signature bytes
            return False

    def _check_size_and_price(self, order: ParsedOrder, window: Window, now_ms: int) -> None:
        oid = order.order_id
        if order.is_market:
            if order.side == "BUY" and order.collateral < 1:
                raise OrderRejected(400, f"invalid amount for a marketable BUY order "
                                         f"(${decimal_text(order.collateral)}), min size: $1")
            if order.post_only:
                raise OrderRejected(400, "invalid post-only order: only GTC and GTD orders allowed")
            return
        tick_mils = self._books.token_book(window, order.token_id, now_ms).tick_mils
        if (order.limit_price * 1000) % tick_mils != 0:
            price, tick = decimal_text(order.limit_price), decimal_text(Decimal(tick_mils) / 1000)
            raise OrderRejected(400, f"order {oid} is invalid. Price ({price}) breaks minimum "
                                     f"tick size rule: {tick}")
        if order.shares < MIN_SIZE:
            raise OrderRejected(400, f"order {oid} is invalid. Size ({decimal_text(order.shares)}) "
                                     f"lower than the minimum: 5")
        if order.order_type == "GTD" and order.expiration <= now_ms // 1000 + 60:
            raise OrderRejected(400, "invalid expiration")

    def _execute(self, order: ParsedOrder, window: Window, creds: ApiCredentials,
                 now_ms: int) -> Submission:
        self._check_funds(order, creds)
        book = self._books.token_book(window, order.token_id, now_ms)
        levels = book.asks if order.side == "BUY" else book.bids
        record = OrderRecord(order, window, now_ms, "LIVE")
        self.orders[order.order_id] = record  # seen: an identical body is now a duplicate
        if order.post_only:
            if levels and order.accepts_price(levels[0][0]):
                record.status = "CANCELED"
                raise OrderRejected(400, "invalid post-only order: order crosses book")
            return self._live(record)
        killed = order.order_type == "FOK" and self._faults().fok_killed(window.index)
        result = MatchResult((), False) if killed else match(order, levels)
        if order.order_type == "FOK" and not result.complete:
            record.status = "CANCELED"
            raise OrderRejected(400, FOK_KILLED)
        if not result.fills and order.order_type == "FAK":
            record.status = "CANCELED"
            raise OrderRejected(400, FAK_KILLED)
        cost = result.notional + result.fees
        if order.side == "BUY" and not self._accounts.can_afford(creds.address, cost):
            record.status = "CANCELED"
            raise OrderRejected(400, NO_BALANCE)
        self._apply(record, result, creds, now_ms)
        return self._matched(record, result) if result.fills else self._live(record)

    def _check_funds(self, order: ParsedOrder, creds: ApiCredentials) -> None:
        if order.side == "BUY" and not self._accounts.can_afford(creds.address, order.collateral):
            raise OrderRejected(400, NO_BALANCE)
        if order.side == "SELL" and not self._accounts.holds(creds.address, order.token_id,
                                                             order.shares):
            raise OrderRejected(400, NO_BALANCE)

    def _apply(self, record: OrderRecord, result: MatchResult, creds: ApiCredentials,
               now_ms: int) -> None:
        order, window = record.order, record.window
        own_side = "ask" if order.side == "BUY" else "bid"
        tx = settlement_hash(self._seed, order.order_id)
        for number, fill in enumerate(result.fills):
            self._books.consume(window, order.token_id, own_side, fill.price_mils, fill.shares)
            self._books.record_trade(window, order.token_id, fill.price_mils, order.side,
                                     fill.notional)
            trade = TradeRecord(trade_id(self._seed, order.order_id, number), order, window, fill,
                                now_ms, tx, number)
            self.trades.append(trade)
            record.trade_ids.append(trade.id)
        record.size_matched = result.shares
        record.status = "MATCHED" if result.complete or order.is_market else "LIVE"
        sign = 1 if order.side == "BUY" else -1
        pusd = -(result.notional + result.fees) if sign > 0 else result.notional - result.fees
        self._accounts.settle(creds.address, order.token_id, sign * result.shares, pusd)

    def _matched(self, record: OrderRecord, result: MatchResult) -> Submission:
        buy = record.order.side == "BUY"
        making, taking = result.notional, result.shares
        if not buy:
            making, taking = taking, making
        body = {"success": True, "errorMsg": "", "orderID": record.order.order_id,
                "status": "matched", "makingAmount": decimal_text(making),
                "takingAmount": decimal_text(taking),
                "transactionsHashes": [settlement_hash(self._seed, record.order.order_id)],
                "tradeIDs": list(record.trade_ids)}
        return Submission(200, body, record.order, record.window, result)

    def _live(self, record: OrderRecord) -> Submission:
        """A resting limit order with nothing filled yet (it never fills later: see docs)."""
        body = {"success": True, "errorMsg": "", "orderID": record.order.order_id,
                "status": "live", "makingAmount": "", "takingAmount": "",
                "transactionsHashes": [], "tradeIDs": []}
        return Submission(200, body, record.order, record.window)

    def cancel(self, order_ids: list[str], creds: ApiCredentials, now_ms: int) -> dict:
        canceled, not_canceled = [], {}
        with self.lock:
            for oid in order_ids:
                record = self.orders.get(oid)
                if record is None or record.order.owner != creds.api_key:
                    not_canceled[oid] = "order not found"
                elif record.status_at(now_ms) != "LIVE":
                    not_canceled[oid] = "already canceled or matched"
                else:
                    record.status = "CANCELED"
                    canceled.append(oid)
        return {"canceled": canceled, "not_canceled": not_canceled}

    def live_order_ids(self, creds: ApiCredentials, now_ms: int, market: str | None = None,
                       asset_id: str | None = None) -> list[str]:
        with self.lock:
            return [oid for oid, r in self.orders.items()
                    if r.order.owner == creds.api_key and r.status_at(now_ms) == "LIVE"
                    and market in (None, r.window.condition_id)
                    and asset_id in (None, r.order.token_id)]
