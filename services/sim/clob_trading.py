"""CLOB authenticated endpoints: API keys (L1), orders, cancels, order/trade look-ups,
balances (L2). Every POST /order attempt, refused or not, goes into the order log.
"""

from __future__ import annotations

import base64
import binascii
import time

from services.sim.auth import ApiCredentials, AuthError
from services.sim.exchange import Submission
from services.sim.http_types import Request, Response, error, json_response
from services.sim.orders import INVALID_PAYLOAD
from services.sim.venue import Venue

PAGE_SIZE = 100
END_CURSOR = "LTE="  # base64("-1")
MAX_BATCH = 15


class ClobTradingApi:
    def __init__(self, venue: Venue):
        self._venue = venue

    def routes(self) -> dict:
        authed = self._authed
        return {
            ("POST", "/auth/api-key"): self.create_api_key,
            ("GET", "/auth/derive-api-key"): self.create_api_key,
            ("GET", "/auth/api-keys"): authed(self.api_keys),
            ("DELETE", "/auth/api-key"): authed(self.delete_api_key),
            ("GET", "/auth/ban-status/closed-only"): authed(
                lambda request, creds: json_response({"closed_only": False})),
            ("POST", "/order"): authed(self.post_order, log_refusals=True),
            ("POST", "/orders"): authed(self.post_orders),
            ("DELETE", "/order"): authed(self.cancel_order),
            ("DELETE", "/orders"): authed(self.cancel_orders),
            ("DELETE", "/cancel-all"): authed(self.cancel_all),
            ("DELETE", "/cancel-market-orders"): authed(self.cancel_market_orders),
            ("GET", "/data/orders"): authed(self.open_orders),
            ("GET", "/data/trades"): authed(self.trades),
            ("GET", "/balance-allowance"): authed(self.balance_allowance),
            ("GET", "/balance-allowance/update"): authed(self.balance_allowance),
            ("POST", "/v1/heartbeats"): authed(self.heartbeat),
        }

    def prefix_routes(self) -> list:
        return [("GET", "/data/order/", self._authed(self.get_order))]

    def _authed(self, handler, log_refusals: bool = False):
        def wrapped(request: Request, *args) -> Response:
            try:
                creds = self._venue.auth.verify(request.headers, request.method, request.path,
                                                request.body.decode("utf-8", "replace"))
            except AuthError as refused:
                if log_refusals:
                    self._venue.order_log.record_fault(self._venue.now_ms(), 401,
                                                       _json_or_none(request), refused.message,
                                                       result="rejected")
                return error(401, refused.message)
            return handler(request, creds, *args)
        return wrapped

    def create_api_key(self, request: Request) -> Response:
        try:
            return json_response(self._venue.auth.login(request.headers).as_json())
        except AuthError as refused:
            return error(401, refused.message)

    def api_keys(self, request: Request, creds: ApiCredentials) -> Response:
        return json_response({"apiKeys": [creds.api_key]})

    def delete_api_key(self, request: Request, creds: ApiCredentials) -> Response:
        self._venue.auth.revoke(creds.api_key)
        return json_response("OK")

    def _submit(self, body: object, creds: ApiCredentials, received_ns: int | None = None) -> Submission:
        now = self._venue.now_ms()
        submission = self._venue.exchange.submit(body, creds, now)
        self._venue.order_log.record_submission(now, submission, body, received_ns)
        return submission

    def post_order(self, request: Request, creds: ApiCredentials) -> Response:
        received_ns = time.time_ns()
        body = _json_or_none(request)
        if body is None:
            self._venue.order_log.record_fault(self._venue.now_ms(), 400, None, INVALID_PAYLOAD,
                                               result="rejected")
            return error(400, INVALID_PAYLOAD)
        submission = self._submit(body, creds, received_ns)
        return json_response(submission.body, submission.status)

    def post_orders(self, request: Request, creds: ApiCredentials) -> Response:
        body = _json_or_none(request)
        if not isinstance(body, list) or not 1 <= len(body) <= MAX_BATCH:
            return error(400, INVALID_PAYLOAD)
        out = []
        for item in body:
            submission = self._submit(item, creds)
            if submission.status == 200:
                out.append(submission.body)
            else:  # the real batch answer: a refused leg is success with no order id
                out.append({"success": True, "errorMsg": submission.body["error"], "orderID": "",
                            "status": "", "makingAmount": "", "takingAmount": "",
                            "transactionsHashes": [], "tradeIDs": []})
        return json_response(out)

    def _cancel(self, ids: list[str], creds: ApiCredentials) -> Response:
        return json_response(self._venue.exchange.cancel(ids, creds, self._venue.now_ms()))

    def cancel_order(self, request: Request, creds: ApiCredentials) -> Response:
        body = _json_or_none(request) or {}
        order_id = body.get("orderID") or body.get("orderId") if isinstance(body, dict) else None
        return self._cancel([order_id] if order_id else [], creds)

    def cancel_orders(self, request: Request, creds: ApiCredentials) -> Response:
        body = _json_or_none(request)
        ids = [i for i in body if isinstance(i, str)] if isinstance(body, list) else []
        return self._cancel(ids, creds)

    def cancel_all(self, request: Request, creds: ApiCredentials) -> Response:
        return self._cancel(self._venue.exchange.live_order_ids(creds, self._venue.now_ms()), creds)

    def cancel_market_orders(self, request: Request, creds: ApiCredentials) -> Response:
        body = _json_or_none(request)
        body = body if isinstance(body, dict) else {}
        ids = self._venue.exchange.live_order_ids(creds, self._venue.now_ms(), body.get("market"),
                                                  body.get("asset_id"))
        return self._cancel(ids, creds)

    def get_order(self, request: Request, creds: ApiCredentials, order_id: str) -> Response:
        record = self._venue.exchange.orders.get(order_id)
        if record is None or record.order.owner != creds.api_key:
            return error(404, "order not found")
        return json_response(record.to_json(self._venue.now_ms()))

    def open_orders(self, request: Request, creds: ApiCredentials) -> Response:
        now = self._venue.now_ms()
        exchange = self._venue.exchange
        ids = exchange.live_order_ids(creds, now, request.arg("market"), request.arg("asset_id"))
        if request.arg("id"):
            ids = [i for i in ids if i == request.arg("id")]
        return _page([exchange.orders[i].to_json(now) for i in ids], request.arg("next_cursor"))

    def trades(self, request: Request, creds: ApiCredentials) -> Response:
        now = self._venue.now_ms()
        with self._venue.exchange.lock:
            mine = [t for t in self._venue.exchange.trades if t.order.owner == creds.api_key]
        wanted = [t.to_json(now) for t in mine if _trade_matches(t, request)]
        return _page(wanted, request.arg("next_cursor"))

    def balance_allowance(self, request: Request, creds: ApiCredentials) -> Response:
        return json_response(self._venue.accounts.balance_allowance(
            creds.address, request.arg("asset_type", "COLLATERAL"), request.arg("token_id")))

    def heartbeat(self, request: Request, creds: ApiCredentials) -> Response:
        return json_response({"heartbeat_id": f"hb-{creds.api_key}"})


def _trade_matches(trade, request: Request) -> bool:
    match_s = trade.match_ms // 1000
    maker = (request.arg("maker_address") or "").lower()
    checks = [
        request.arg("id") in (None, trade.id),
        request.arg("market") in (None, trade.window.condition_id),
        request.arg("asset_id") in (None, trade.order.token_id),
        maker in ("", trade.order.maker.lower()),
        request.arg("after") is None or match_s > int(request.arg("after")),
        request.arg("before") is None or match_s < int(request.arg("before")),
    ]
    return all(checks)


def _page(items: list, cursor: str | None) -> Response:
    """The CLOB's cursor pagination: cursors are base64 offsets, "LTE=" marks the end."""
    try:
        offset = int(base64.b64decode(cursor or "MA==").decode())
    except (ValueError, binascii.Error):
        return error(400, "invalid next_cursor")
    if offset < 0:  # "LTE=": past the end
        offset = len(items)
    page = items[offset: offset + PAGE_SIZE]
    following = offset + PAGE_SIZE
    next_cursor = END_CURSOR
    if following < len(items):
        next_cursor = base64.b64encode(str(following).encode()).decode()
    return json_response({"data": page, "next_cursor": next_cursor, "limit": PAGE_SIZE,
                          "count": len(page)})


def _json_or_none(request: Request):
    try:
        return request.json()
    except (ValueError, UnicodeDecodeError):
        return None
