"""EIP-712 digests the CLOB needs: ClobAuth (L1 login) and the V1/V2 order hashes.

Encoded by hand (every field is one 32-byte word) because it is ~20× faster than the
generic encoders and runs on every POST /order. Tests check these against the client.
"""

from __future__ import annotations

from functools import lru_cache

from eth_utils import keccak

CLOB_AUTH_MESSAGE = "This message attests that I control the given wallet"
EXCHANGE_V1 = "0x4bFb41d5B3570DeFd03C39a9A4D8dE6Bd8B8982E"
EXCHANGE_V2 = "0xE111180000d2663C0091e4f400237545B87B996B"

_DOMAIN_WITH_CONTRACT = keccak(
    text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
_DOMAIN_NO_CONTRACT = keccak(text="EIP712Domain(string name,string version,uint256 chainId)")
_CLOB_AUTH_TYPE = keccak(
    text="ClobAuth(address address,string timestamp,uint256 nonce,string message)")
_ORDER_V2_TYPE = keccak(text=(
    "Order(uint256 salt,address maker,address signer,uint256 tokenId,uint256 makerAmount,"
    "uint256 takerAmount,uint8 side,uint8 signatureType,uint256 timestamp,bytes32 metadata,"
    "bytes32 builder)"))
_ORDER_V1_TYPE = keccak(text=(
    "Order(uint256 salt,address maker,address signer,address taker,uint256 tokenId,"
    "uint256 makerAmount,uint256 takerAmount,uint256 expiration,uint256 nonce,"
    "uint256 feeRateBps,uint8 side,uint8 signatureType)"))
_SIDES = {"BUY": 0, "SELL": 1}


def _uint(value) -> bytes:
    return int(value).to_bytes(32, "big")


def _address(value: str) -> bytes:
    raw = bytes.fromhex(value[2:] if value.startswith("0x") else value)
    if len(raw) != 20:
        raise ValueError(f"not an address: {value!r}")
    return raw.rjust(32, b"\0")


def _bytes32(value: str) -> bytes:
    raw = bytes.fromhex(value[2:] if value.startswith("0x") else value)
    if len(raw) > 32:
        raise ValueError(f"not bytes32: {value!r}")
    return raw.rjust(32, b"\0")


def _digest(domain_separator: bytes, struct_hash: bytes) -> bytes:
    return keccak(b"\x19\x01" + domain_separator + struct_hash)


def clob_auth_digest(address: str, timestamp: str, nonce: int, chain_id: int) -> bytes:
    domain = keccak(_DOMAIN_NO_CONTRACT + keccak(text="ClobAuthDomain") + keccak(text="1")
                    + _uint(chain_id))
    struct = keccak(_CLOB_AUTH_TYPE + _address(address) + keccak(text=timestamp) + _uint(nonce)
                    + keccak(text=CLOB_AUTH_MESSAGE))
    return _digest(domain, struct)


@lru_cache(maxsize=16)
def _exchange_domain(version: str, chain_id: int, contract: str) -> bytes:
    return keccak(_DOMAIN_WITH_CONTRACT + keccak(text="Polymarket CTF Exchange")
                  + keccak(text=version) + _uint(chain_id) + _address(contract))


def order_v2_digest(order: dict, chain_id: int, contract: str = EXCHANGE_V2) -> bytes:
    struct = keccak(_ORDER_V2_TYPE + _uint(order["salt"]) + _address(order["maker"])
                    + _address(order["signer"]) + _uint(order["tokenId"])
                    + _uint(order["makerAmount"]) + _uint(order["takerAmount"])
                    + _uint(_SIDES[order["side"]]) + _uint(order["signatureType"])
                    + _uint(order["timestamp"]) + _bytes32(order["metadata"])
                    + _bytes32(order["builder"]))
    return _digest(_exchange_domain("2", chain_id, contract), struct)


def order_v1_digest(order: dict, chain_id: int, contract: str = EXCHANGE_V1) -> bytes:
    struct = keccak(_ORDER_V1_TYPE + _uint(order["salt"]) + _address(order["maker"])
                    + _address(order["signer"]) + _address(order["taker"])
                    + _uint(order["tokenId"]) + _uint(order["makerAmount"])
                    + _uint(order["takerAmount"]) + _uint(order["expiration"])
                    + _uint(order["nonce"]) + _uint(order["feeRateBps"])
                    + _uint(_SIDES[order["side"]]) + _uint(order["signatureType"]))
    return _digest(_exchange_domain("1", chain_id, contract), struct)


def recover_signer(digest: bytes, signature: str) -> str:
    """The address that signed ``digest`` (eth_keys on libsecp256k1 through coincurve: ~0.1 ms)."""
    from eth_account import Account

    return Account._recover_hash(digest, signature=bytes.fromhex(signature.removeprefix("0x")))
