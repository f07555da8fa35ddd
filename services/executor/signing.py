"""Deterministic V2 FOK market-BUY orders and their ids, from the SDK's own pieces.

``ClobClient.create_market_order`` salts every order with ``random()`` and stamps it
with the wall clock, so two signings of one decision are two different orders.  We
build the same V2 order with the same SDK parts (its
rounding table and amount math, its EIP-712 builder and signer) but take the salt
from the order_key and the timestamp from the decision: one order_key always signs
to ONE order id (the venue answers "Duplicated" to any second copy), and a replay of
the same run reproduces the same ids.

The digest and signature come from ``order_digest`` (the same bytes as the SDK's
``build_signed_order`` and ``build_order_hash``, ~10x faster); the builder is made
once per exchange and keeps the SDK's order rules (``build_order``).  POLY_1271
signatures (deposit wallets) still go through the SDK.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
from decimal import Decimal

from py_clob_client_v2 import SignatureTypeV2, Side
from py_clob_client_v2.config import get_contract_config
from py_clob_client_v2.constants import BYTES32_ZERO
from py_clob_client_v2.order_builder.builder import ROUNDING_CONFIG
from py_clob_client_v2.order_utils import ExchangeOrderBuilderV2
from py_clob_client_v2.order_utils.model.order_data_v2 import OrderDataV2, SignedOrderV2
from py_clob_client_v2.utilities import price_valid

from services.executor import order_digest
from services.executor.brokers import OrderRefused
from services.executor.market_rules import MarketRules
from services.executor.venue_client import VenueClient

SALT_BITS = 48  # the body carries the salt as a JSON integer: stay below 2**53


def order_salt(order_key: str) -> int:
    digest = hashlib.sha256(f"polybot-order:{order_key}".encode()).digest()
    return int.from_bytes(digest, "big") >> (256 - SALT_BITS)


def sign_market_buy(client: VenueClient, rules: MarketRules, *, token_id: str, amount: Decimal,
                    price: Decimal, salt: int, timestamp_ms: int, chain_id: int) -> SignedOrderV2:
    """What ``create_market_order(MarketOrderArgs(token_id, amount, BUY, price), FOK)``
    signs for a V2 token order of a market with ``rules``, with the given salt and timestamp."""
    tick = rules.tick_size
    if not price_valid(float(price), tick):
        raise OrderRefused(f"invalid price ({price}), min: {tick} - max: {1 - float(tick)}")
    builder = client.builder
    side, maker_amount, taker_amount = builder.get_market_order_amounts(
        "BUY", float(amount), float(price), ROUNDING_CONFIG[tick])
    poly_1271 = builder.signature_type == SignatureTypeV2.POLY_1271
    data = OrderDataV2(maker=builder.funder, tokenId=token_id, makerAmount=str(maker_amount),
                       takerAmount=str(taker_amount), side=side,
                       signer=builder.funder if poly_1271 else client.signer.address(),
                       signatureType=builder.signature_type, timestamp=str(timestamp_ms),
                       metadata=BYTES32_ZERO, builder=BYTES32_ZERO)
    exchange = _exchange_builder(client, rules.neg_risk, chain_id)
    order = dataclasses.replace(exchange.build_order(data), salt=str(salt))
    if order.signatureType == SignatureTypeV2.POLY_1271:
        signature = exchange.build_order_signature(exchange.build_order_typed_data(order))
    else:
        signature = order_digest.sign_digest(order_digest.order_digest(exchange.app_domain_separator, order),
                                         client.signer.private_key)
    return SignedOrderV2(**{**dataclasses.asdict(order), "signature": signature})


def order_hash(client: VenueClient, signed: SignedOrderV2, neg_risk: bool, chain_id: int) -> str:
    """The V2 order id: the EIP-712 hash of the order on its exchange's domain."""
    exchange = _exchange_builder(client, neg_risk, chain_id)
    return "0x" + order_digest.order_digest(exchange.app_domain_separator, signed).hex()


def _exchange_builder(client: VenueClient, neg_risk: bool, chain_id: int) -> ExchangeOrderBuilderV2:
    contracts = get_contract_config(chain_id)
    address = contracts.neg_risk_exchange_v2 if neg_risk else contracts.exchange_v2
    return _builder(address, chain_id, client.signer)


@functools.lru_cache(maxsize=16)
def _builder(address: str, chain_id: int, signer) -> ExchangeOrderBuilderV2:
    """One SDK builder per exchange and signer: its constructor computes the domain
    separator (an ABI encoding and a hash), which never changes."""
    return ExchangeOrderBuilderV2(address, chain_id, signer, domain_version="2")


def signed_to_body(order: SignedOrderV2) -> dict:
    body = dataclasses.asdict(order)
    body["side"], body["signatureType"] = int(order.side), int(order.signatureType)
    return body


def body_to_signed(body: dict) -> SignedOrderV2:
    return SignedOrderV2(**{**body, "side": Side(body["side"]),
                            "signatureType": SignatureTypeV2(body["signatureType"])})
