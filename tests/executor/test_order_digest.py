"""The direct digest and libsecp256k1 signature give exactly the SDK's bytes:
signatures, order hashes, bodies."""

from __future__ import annotations

import dataclasses
import random

import pytest
from eth_account import Account
from eth_keys import KeyAPI
from eth_keys.backends import CoinCurveECCBackend, NativeECCBackend
from eth_keys.constants import SECPK1_N
from py_clob_client_v2 import Side, SignatureTypeV2
from py_clob_client_v2.config import get_contract_config
from py_clob_client_v2.constants import BYTES32_ZERO
from py_clob_client_v2.order_utils import ExchangeOrderBuilderV2
from py_clob_client_v2.order_utils.model.order_data_v2 import OrderDataV2
from py_clob_client_v2.signer import Signer

from services.executor import order_digest
from services.executor.clob_broker import SIM_DEV_KEY
from services.executor.market_rules import MarketRules

RNG = random.Random(20240807)


def random_key() -> str:
    return "0x" + RNG.randbytes(32).hex()


def test_signatures_run_on_libsecp256k1():
    # coincurve is a dependency for speed; without it eth_keys silently falls back to
    # pure Python (~50x slower per order).
    assert isinstance(KeyAPI().backend, CoinCurveECCBackend)


def test_libsecp256k1_and_the_pure_python_backend_sign_the_same_bytes():
    native = KeyAPI(NativeECCBackend)
    for _ in range(100):
        key, digest = RNG.randbytes(32), RNG.randbytes(32)
        v, r, s = native.PrivateKey(key).sign_msg_hash(digest).vrs
        expected = "0x" + (r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([v + 27])).hex()
        assert order_digest.sign_digest(digest, key) == expected


def test_signature_bytes_equal_eth_account_sign_hash_for_many_keys_and_digests():
    for _ in range(300):
        key, digest = random_key(), RNG.randbytes(32)
        assert order_digest.sign_digest(digest, key) == "0x" + Account._sign_hash(digest, key).signature.hex()


def test_unprefixed_key_and_high_digest_are_handled_like_eth_account():
    digest = (SECPK1_N + 5).to_bytes(32, "big")  # z >= n: reduced for the nonce, not for s
    key = SIM_DEV_KEY[2:]
    assert order_digest.sign_digest(digest, key) == "0x" + Account._sign_hash(digest, key).signature.hex()


def order_data(signer: Signer, side=Side.BUY, sig_type=SignatureTypeV2.EOA, funder=None) -> OrderDataV2:
    maker = funder or signer.address()
    return OrderDataV2(maker=maker, tokenId=str(RNG.getrandbits(255)), makerAmount=str(RNG.randrange(1, 10**12)),
                       takerAmount=str(RNG.randrange(1, 10**12)), side=side,
                       signer=maker if sig_type == SignatureTypeV2.POLY_1271 else signer.address(),
                       signatureType=sig_type, timestamp=str(RNG.randrange(10**12, 2 * 10**12)),
                       metadata=BYTES32_ZERO, builder=BYTES32_ZERO)


@pytest.mark.parametrize("neg_risk", [False, True])
@pytest.mark.parametrize("chain_id", [137, 80002])
def test_order_digest_and_signature_equal_the_sdk_builder(neg_risk, chain_id):
    contracts = get_contract_config(chain_id)
    address = contracts.neg_risk_exchange_v2 if neg_risk else contracts.exchange_v2
    for _ in range(40):
        signer = Signer(random_key(), chain_id)
        salt = str(RNG.getrandbits(48))
        sdk = ExchangeOrderBuilderV2(address, chain_id, signer, generate_salt=lambda: salt, domain_version="2")
        side = RNG.choice([Side.BUY, Side.SELL])
        sig_type = RNG.choice([SignatureTypeV2.EOA, SignatureTypeV2.POLY_PROXY, SignatureTypeV2.POLY_GNOSIS_SAFE])
        funder = signer.address() if sig_type == SignatureTypeV2.EOA else Account.create().address
        signed = sdk.build_signed_order(order_data(signer, side, sig_type, funder))
        unsigned = dataclasses.replace(signed, signature="")
        digest = order_digest.order_digest(sdk.app_domain_separator, unsigned)
        assert "0x" + digest.hex() == sdk.build_order_hash(sdk.build_order_typed_data(signed))
        assert order_digest.sign_digest(digest, signer.private_key) == signed.signature


def test_sign_market_buy_matches_the_sdk_builder_end_to_end():
    from services.executor import signing

    class Client:  # the pieces of VenueClient that sign_market_buy touches
        def __init__(self):
            from py_clob_client_v2 import ClobClient

            self.sdk = ClobClient(host="http://127.0.0.1:9", chain_id=137, key=SIM_DEV_KEY, signature_type=0)
            self.builder, self.signer = self.sdk.builder, self.sdk.signer

    client = Client()
    for token_id in ("111", "1234567"):
        rules = MarketRules(tick_size="0.01", neg_risk=token_id.endswith("7"))
        ours = signing.sign_market_buy(client, rules, token_id=token_id, amount=signing.Decimal("10"),
                                       price=signing.Decimal("0.51"), salt=424242, timestamp_ms=1722470400123,
                                       chain_id=137)
        contracts = get_contract_config(137)
        address = contracts.neg_risk_exchange_v2 if token_id.endswith("7") else contracts.exchange_v2
        sdk = ExchangeOrderBuilderV2(address, 137, client.signer, generate_salt=lambda: "424242",
                                     domain_version="2")
        data = OrderDataV2(maker=client.builder.funder, tokenId=token_id, makerAmount=ours.makerAmount,
                           takerAmount=ours.takerAmount, side=Side.BUY, signer=client.signer.address(),
                           signatureType=client.builder.signature_type, timestamp="1722470400123",
                           metadata=BYTES32_ZERO, builder=BYTES32_ZERO)
        assert ours == sdk.build_signed_order(data)
        assert signing.order_hash(client, ours, rules.neg_risk, 137) == sdk.build_order_hash(sdk.build_order_typed_data(ours))
