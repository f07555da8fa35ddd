"""An in-process fake of the CLOB endpoints the ClobBroker uses, as a urllib3 pool.

``pool()`` is a real ``urllib3.PoolManager`` whose ``urlopen`` answers here instead of
on a socket, so the client's own request path (query, body, headers) runs unchanged.

The real py-clob-client-v2 signs everything; this fake only routes, records and answers
with canned venue responses (``post_answers`` / ``order_answers`` are queues of
``(status, json_body)`` or exceptions; defaults: matched, and MATCHED).
"""

from __future__ import annotations

import base64
import json
from urllib.parse import urlsplit

import urllib3

CONDITION = "0xc0ffee"
API_KEY = "7b0bb4e8-5c1e-4f3a-9c55-3f0a5d9e1a11"
API_SECRET = base64.urlsafe_b64encode(b"s" * 32).decode()
API_PASSPHRASE = "passphrase-for-tests-0123456789"


class FakeClob:
    def __init__(self, tokens=("111", "222"), neg_risk: bool = False):
        self.tokens = tokens
        self.neg_risk = neg_risk
        self.markets = {CONDITION}  # the conditions /clob-markets describes (same tokens)
        self.calls: list[str] = []
        self.posted: list[dict] = []
        self.post_answers: list = []
        self.order_answers: list = []

    def pool(self) -> urllib3.PoolManager:
        return _FakePool(self)

    def paths(self, prefix: str) -> list[str]:
        return [c for c in self.calls if c.startswith(prefix)]

    def handle(self, method: str, url: str, body: bytes | None) -> urllib3.HTTPResponse:
        path = urlsplit(url).path
        self.calls.append(f"{method} {path}")
        if path.startswith("/auth/"):
            return _response(200, {"apiKey": API_KEY, "secret": API_SECRET, "passphrase": API_PASSPHRASE})
        if path.startswith("/clob-markets/") and path.rsplit("/", 1)[1] in self.markets:
            body = {"c": path.rsplit("/", 1)[1], "t": [{"t": t, "o": o} for t, o in zip(self.tokens, ("Up", "Down"))],
                    "mts": 0.01, "fd": {"r": 0.07, "e": 1, "to": True}, "mos": 5, "ao": True}
            if self.neg_risk:
                body["nr"] = True
            return _response(200, body)
        if path == "/order" and method == "POST":
            return self._post(json.loads(body))
        if path.startswith("/data/order/"):
            return self._answer(self.order_answers, default=(200, self._matched_order(path)))
        return _response(404, {"error": f"not found: {path}"})

    def _post(self, body: dict) -> urllib3.HTTPResponse:
        self.posted.append(body)
        order = body["order"]
        making, taking = int(order["makerAmount"]) / 1e6, int(order["takerAmount"]) / 1e6
        matched = {"success": True, "errorMsg": "", "orderID": "", "status": "matched",
                   "makingAmount": f"{making:g}", "takingAmount": f"{taking:g}",
                   "transactionsHashes": ["0xabc"], "tradeIDs": ["t1"]}
        return self._answer(self.post_answers, default=(200, matched))

    @staticmethod
    def _matched_order(path: str) -> dict:
        return {"id": path.rsplit("/", 1)[1], "status": "MATCHED", "size_matched": "19.6078",
                "original_size": "19.6078", "price": "0.51", "side": "BUY"}

    @staticmethod
    def _answer(queue: list, default) -> urllib3.HTTPResponse:
        item = queue.pop(0) if queue else default
        if isinstance(item, Exception):
            raise item
        status, body = item
        headers = body.pop("_headers", {}) if isinstance(body, dict) else {}
        return _response(status, body, headers)


def _response(status: int, body, headers: dict | None = None) -> urllib3.HTTPResponse:
    return urllib3.HTTPResponse(body=json.dumps(body).encode(), status=status,
                                headers={"Content-Type": "application/json", **(headers or {})})


class _FakePool(urllib3.PoolManager):
    def __init__(self, clob: FakeClob):
        super().__init__()
        self._clob = clob

    def urlopen(self, method, url, redirect=True, **kw):  # noqa: ARG002 - urllib3's signature
        return self._clob.handle(method, url, kw.get("body"))
