"""The V2 order's EIP-712 digest and its signature, without the SDK's generic encoder.

The SDK's ``build_signed_order`` / ``build_order_hash`` spend ~5 ms per order, mostly
in ``encode_typed_data`` (schema parsing and validation on every call) and, without
libsecp256k1, in eth_keys' pure-Python curve arithmetic.  Here:

* the digest is ``keccak(0x1901 || domain separator || hashStruct(Order))`` with the
  domain separator from the SDK builder (computed once per exchange) and the fixed
  ``Order`` layout encoded word by word; it serves both the signature and the order id;
* the signature is eth_keys' ``sign_msg_hash``, which runs on libsecp256k1 through
  ``coincurve`` (a dependency for that reason: ~60 µs instead of ~3 ms) and falls back
  to the native backend when coincurve is missing.  Both use RFC 6979 nonces, so the
  bytes are the SDK's; tests/executor/test_order_digest.py compares them.
"""

from __future__ import annotations

import functools

from eth_hash.auto import keccak
from eth_keys import keys as eth_keys
from hexbytes import HexBytes
from py_clob_client_v2.order_utils.exchange_order_builder_v2 import ORDER_TYPE_HASH


def _u256(value) -> bytes:
    return int(value).to_bytes(32, "big")


def _address(value: str) -> bytes:
    raw = bytes.fromhex(value[2:] if value[:2] in ("0x", "0X") else value)
    if len(raw) != 20:
        raise ValueError(f"not a 20-byte address: {value!r}")
    return raw.rjust(32, b"\0")


def _bytes32(value: str) -> bytes:
    raw = bytes.fromhex(value.replace("0x", "").zfill(64))
    if len(raw) != 32:
        raise ValueError(f"not a bytes32 value: {value!r}")
    return raw


def order_digest(domain_separator: bytes, order) -> bytes:
    """keccak(0x1901 || domain || hashStruct(Order)) of an OrderV2 / SignedOrderV2."""
    struct_hash = keccak(b"".join((
        ORDER_TYPE_HASH, _u256(order.salt), _address(order.maker), _address(order.signer),
        _u256(order.tokenId), _u256(order.makerAmount), _u256(order.takerAmount), _u256(int(order.side)),
        _u256(int(order.signatureType)), _u256(order.timestamp), _bytes32(order.metadata),
        _bytes32(order.builder))))
    return keccak(b"\x19\x01" + domain_separator + struct_hash)


def sign_digest(digest: bytes, private_key) -> str:
    """``Account._sign_hash(digest, private_key).signature`` as 0x-hex: r || s || v+27."""
    v, r, s = _key(bytes(HexBytes(private_key))).sign_msg_hash(digest).vrs
    return "0x" + (r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([v + 27])).hex()


@functools.lru_cache(maxsize=4)
def _key(raw: bytes) -> eth_keys.PrivateKey:
    # Deriving the public key is a curve multiplication: once per key, not per order.
    return eth_keys.PrivateKey(raw)
