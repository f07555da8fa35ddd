"""POST /order bodies (V2, and legacy V1) → a validated ``ParsedOrder``.

Amounts are 6-decimal base units. BUY: makerAmount = pUSD paid, takerAmount = shares,
limit price = maker / taker. SELL: makerAmount = shares, takerAmount = pUSD, limit
price = taker / maker. The order id is the EIP-712 order hash, as on the real venue.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from services.sim.eip712 import order_v1_digest, order_v2_digest

UNIT = Decimal(1_000_000)
ORDER_TYPES = ("GTC", "GTD", "FOK", "FAK")
INVALID_PAYLOAD = "Invalid order payload"
_HEX = re.compile(r"^0x[0-9a-fA-F]*$")
_V2_FIELDS = ("salt", "maker", "signer", "tokenId", "makerAmount", "takerAmount", "side",
              "signatureType", "timestamp", "metadata", "builder", "signature")
_V1_FIELDS = ("salt", "maker", "signer", "taker", "tokenId", "makerAmount", "takerAmount",
              "side", "expiration", "nonce", "feeRateBps", "signatureType", "signature")


class OrderRejected(Exception):
    """An order the venue refuses: HTTP ``status`` with ``{"error": message}``."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class ParsedOrder:
    order_id: str
    version: int
    token_id: str
    side: str  # "BUY" | "SELL"
    maker_amount: int  # base units
    taker_amount: int
    order_type: str
    owner: str
    maker: str
    signer: str
    signature: str
    signature_type: int
    expiration: int
    post_only: bool
    digest: bytes

    @property
    def shares(self) -> Decimal:
        """Shares the order is for (BUY: at its limit price)."""
        return Decimal(self.taker_amount if self.side == "BUY" else self.maker_amount) / UNIT

    @property
    def collateral(self) -> Decimal:
        return Decimal(self.maker_amount if self.side == "BUY" else self.taker_amount) / UNIT

    @property
    def limit_price(self) -> Decimal:
        return self.collateral / self.shares

    def accepts_price(self, price_mils: int) -> bool:
        """Is a fill at ``price_mils`` within the limit? (exact integer comparison)"""
        if self.side == "BUY":
            return price_mils * self.taker_amount <= self.maker_amount * 1000
        return price_mils * self.maker_amount >= self.taker_amount * 1000

    @property
    def is_market(self) -> bool:
        return self.order_type in ("FOK", "FAK")


def parse_order(body: object, chain_id: int) -> ParsedOrder:
    if not isinstance(body, dict) or not isinstance(body.get("order"), dict):
        raise OrderRejected(400, INVALID_PAYLOAD)
    order = body["order"]
    version = 2 if "timestamp" in order else 1
    if any(name not in order for name in (_V2_FIELDS if version == 2 else _V1_FIELDS)):
        raise OrderRejected(400, INVALID_PAYLOAD)
    try:
        return _build(body, order, version, chain_id)
    except (ValueError, TypeError, KeyError, OverflowError):
        raise OrderRejected(400, INVALID_PAYLOAD) from None


def _build(body: dict, order: dict, version: int, chain_id: int) -> ParsedOrder:
    maker_amount, taker_amount = _positive(order["makerAmount"]), _positive(order["takerAmount"])
    side, order_type = order["side"], body.get("orderType", "GTC")
    if side not in ("BUY", "SELL") or order_type not in ORDER_TYPES:
        raise ValueError("side or order type")
    if not isinstance(body.get("owner"), str) or not str(order["tokenId"]).isdigit():
        raise ValueError("owner or token")
    for name in ("maker", "signer", "signature"):
        if not isinstance(order[name], str) or not _HEX.match(order[name]):
            raise ValueError(name)
    digest = (order_v2_digest if version == 2 else order_v1_digest)(order, chain_id)
    return ParsedOrder(
        order_id="0x" + digest.hex(), version=version, token_id=str(order["tokenId"]),
        side=side, maker_amount=maker_amount, taker_amount=taker_amount,
        order_type=order_type, owner=body["owner"], maker=order["maker"],
        signer=order["signer"], signature=order["signature"],
        signature_type=int(order["signatureType"]), expiration=int(order.get("expiration") or 0),
        post_only=bool(body.get("postOnly", False)), digest=digest)


def _positive(raw: object) -> int:
    value = int(str(raw))
    if value <= 0:
        raise ValueError("amount must be > 0")
    return value
