"""Orders and trades the venue keeps, rendered in the CLOB's JSON shapes.

Ids are derived, never random: trade id = uuid from SHA-256(seed, order id, fill #),
settlement tx hash = SHA-256(seed, order id). One order settles in one transaction.
A trade reads MATCHED for its first 2 s of sim time, MINED until 6 s, then CONFIRMED.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from services.sim.formats import decimal_text, mils_text
from services.sim.matching import Fill
from services.sim.orders import ParsedOrder
from services.sim.windows import Window

MARKET_MAKER_ADDRESS = "0x" + hashlib.sha256(b"polybot-sim:market-maker").hexdigest()[:40]
MARKET_MAKER_OWNER = "00000000-0000-4000-8000-000000000000"  # the simulated liquidity
PRICE_DISPLAY = Decimal("0.0001")


def trade_id(seed: int, order_id: str, number: int) -> str:
    digest = bytearray(hashlib.sha256(f"{seed}:trade:{order_id}:{number}".encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x40
    digest[8] = (digest[8] & 0x3F) | 0x80
    return str(uuid.UUID(bytes=bytes(digest)))


def settlement_hash(seed: int, order_id: str) -> str:
    return "0x" + hashlib.sha256(f"{seed}:tx:{order_id}".encode()).hexdigest()


@dataclass
class OrderRecord:
    order: ParsedOrder
    window: Window
    created_ms: int
    status: str  # MATCHED | LIVE | CANCELED | UNMATCHED (a killed FOK/FAK)
    size_matched: Decimal = Decimal(0)
    trade_ids: list = field(default_factory=list)

    @property
    def outcome(self) -> str:
        return self.window.outcome_for(self.order.token_id)

    def status_at(self, now_ms: int) -> str:
        if self.status == "LIVE" and now_ms >= self.window.end_ms:
            return "CANCELED_MARKET_RESOLVED"
        return self.status

    def to_json(self, now_ms: int) -> dict:
        o = self.order
        return {
            "id": o.order_id, "status": self.status_at(now_ms), "owner": o.owner,
            "maker_address": o.maker, "market": self.window.condition_id, "asset_id": o.token_id,
            "side": o.side, "original_size": decimal_text(o.shares),
            "size_matched": decimal_text(self.size_matched),
            "price": decimal_text(o.limit_price.quantize(PRICE_DISPLAY)),
            "associate_trades": list(self.trade_ids) or None, "outcome": self.outcome,
            "created_at": self.created_ms // 1000, "expiration": str(o.expiration),
            "order_type": o.order_type,
        }


@dataclass(frozen=True)
class TradeRecord:
    id: str
    order: ParsedOrder
    window: Window
    fill: Fill
    match_ms: int
    tx_hash: str
    bucket_index: int

    def status_at(self, now_ms: int) -> str:
        age = now_ms - self.match_ms
        return "MATCHED" if age < 2000 else "MINED" if age < 6000 else "CONFIRMED"

    def to_json(self, now_ms: int) -> dict:
        o, f = self.order, self.fill
        outcome = self.window.outcome_for(o.token_id)
        size, price = decimal_text(f.shares), mils_text(f.price_mils)
        return {
            "id": self.id, "taker_order_id": o.order_id, "market": self.window.condition_id,
            "asset_id": o.token_id, "side": o.side, "size": size, "fee_rate_bps": "1000",
            "price": price, "status": self.status_at(now_ms),
            "match_time": str(self.match_ms // 1000), "last_update": str(now_ms // 1000),
            "outcome": outcome, "bucket_index": self.bucket_index, "owner": o.owner,
            "maker_address": o.maker, "transaction_hash": self.tx_hash, "trader_side": "TAKER",
            "maker_orders": [{
                "order_id": "0x" + hashlib.sha256(f"mm:{self.id}".encode()).hexdigest(),
                "owner": MARKET_MAKER_OWNER, "maker_address": MARKET_MAKER_ADDRESS,
                "matched_amount": size, "price": price, "fee_rate_bps": "0",
                "asset_id": o.token_id, "outcome": outcome,
                "side": "SELL" if o.side == "BUY" else "BUY"}],
        }
