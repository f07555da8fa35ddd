"""Same seed, same data, same calls ⇒ byte-identical answers (books, fills, resolutions)."""

from __future__ import annotations

import json

from py_clob_client_v2 import MarketOrderArgs
from py_clob_client_v2.clob_types import CreateOrderOptions
from py_clob_client_v2.headers.headers import create_level_1_headers
from py_clob_client_v2.order_builder.builder import OrderBuilder
from py_clob_client_v2.order_utils.model.order_data_v2 import order_to_json_v2
from py_clob_client_v2.signer import Signer
from py_clob_client_v2.signing.hmac import build_hmac_signature

from tests.sim.conftest import PRIVATE_KEY, START_MS, START_S

SIGNER = Signer(PRIVATE_KEY, 137)


def signed_order(token: str, dollars: float, price: float) -> dict:
    builder = OrderBuilder(SIGNER)
    options = CreateOrderOptions(tick_size="0.01", neg_risk=False)
    return builder.build_market_order(MarketOrderArgs(token_id=token, amount=dollars, side="BUY",
                                                      price=price), options)


class Driver:
    """Sends one fixed script of raw HTTP calls and keeps every response body."""

    def __init__(self, sim):
        self.sim, self.bodies = sim, []

    def keep(self, response) -> dict | list:
        self.bodies.append((response.status_code, response.content))
        return response.json()

    def l2(self, creds: dict, method: str, path: str, body: str = "") -> dict:
        return {"POLY_ADDRESS": SIGNER.address(), "POLY_API_KEY": creds["apiKey"],
                "POLY_PASSPHRASE": creds["passphrase"], "POLY_TIMESTAMP": "1700000000",
                "POLY_SIGNATURE": build_hmac_signature(creds["secret"], "1700000000", method, path,
                                                       body or None)}

    def run(self, orders: list) -> list:
        sim, http, clob = self.sim, self.sim.http, self.sim.urls["clob"]
        creds = self.keep(http.post(clob + "/auth/api-key", timeout=10,
                                    headers=create_level_1_headers(SIGNER, timestamp=1700000000)))
        tokens = sim.tokens(START_S)
        for token in tokens.values():
            self.keep(sim.get("clob", "/book", token_id=token))
        sim.advance_to(START_MS + 37_000)
        for order in orders:
            payload = order_to_json_v2(order, creds["apiKey"], "FOK")
            body = json.dumps(payload, separators=(",", ":"))
            self.keep(http.post(clob + "/order", data=body, timeout=10,
                                headers=self.l2(creds, "POST", "/order", body)))
            for token in tokens.values():
                self.keep(sim.get("clob", "/book", token_id=token))
        self.keep(http.get(clob + "/data/trades", headers=self.l2(creds, "GET", "/data/trades"),
                           timeout=10))
        sim.advance_to(START_MS + 310_000)
        self.keep(sim.get("gamma", f"/markets/slug/btc-updown-5m-{START_S}"))
        self.keep(sim.get("clob", f"/markets/{sim.market(START_S)['conditionId']}"))
        self.keep(sim.get("control", "/orders"))
        return self.bodies


def test_two_simulators_driven_identically_answer_identically(make_sim):
    first, second = make_sim(seed=11), make_sim(seed=11)
    tokens = first.tokens(START_S)
    orders = [signed_order(tokens["Up"], 20, 0.99), signed_order(tokens["Down"], 300, 0.99),
              signed_order(tokens["Up"], 5000, 0.99)]
    bodies = Driver(first).run(orders)
    assert bodies == Driver(second).run(orders)
    statuses = [status for status, _ in bodies]
    assert statuses.count(200) == len(statuses) - 1  # the $5000 FOK is too big: killed (400)


def test_another_seed_gives_another_market(make_sim):
    one, other = make_sim(seed=11), make_sim(seed=12)
    assert one.tokens(START_S) != other.tokens(START_S)
    assert one.get("binance_rest", "/api/v3/klines", symbol="BTCUSDT", interval="1m").content != \
        other.get("binance_rest", "/api/v3/klines", symbol="BTCUSDT", interval="1m").content
