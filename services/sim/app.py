"""Routing of one HTTP request to its service, with faults applied on the way in.

Services are path prefixes on one port: /clob, /gamma, /binance, /coingecko, /sim.
"""

from __future__ import annotations

import logging

from services.sim.binance import BinanceApi
from services.sim.clob_public import ClobPublicApi
from services.sim.clob_trading import ClobTradingApi
from services.sim.coingecko import CoinGeckoApi
from services.sim.control import ControlApi
from services.sim.faults import fault_response, hold_seconds
from services.sim.gamma import GammaApi
from services.sim.http_types import Request, Response, error
from services.sim.venue import Venue

log = logging.getLogger("polybot.sim.http")
SERVICES = ("clob", "gamma", "binance", "coingecko", "sim")


class SimApp:
    def __init__(self, venue: Venue):
        self.venue = venue
        self._exact: dict[tuple[str, str, str], object] = {}
        self._prefixes: list[tuple[str, str, str, object]] = []
        apis = {"clob": [ClobPublicApi(venue), ClobTradingApi(venue)], "gamma": [GammaApi(venue)],
                "binance": [BinanceApi(venue.feed, venue.feed_time, venue.now_ms)],
                "coingecko": [CoinGeckoApi(venue.feed, venue.feed_time)],
                "sim": [ControlApi(venue)]}
        for service, service_apis in apis.items():
            for api in service_apis:
                for (method, path), handler in api.routes().items():
                    self._exact[(service, method, path)] = handler
                for method, prefix, handler in getattr(api, "prefix_routes", lambda: [])():
                    self._prefixes.append((service, method, prefix, handler))
        self._prefixes.sort(key=lambda route: -len(route[2]))  # longest prefix wins

    def handle(self, request: Request) -> Response:
        if request.service not in SERVICES:
            return error(404, f"unknown service {request.service!r}")
        if request.service != "sim":
            faulted = self._apply_fault(request)
            if faulted is not None:
                return faulted
        return self._route(request)

    def _route(self, request: Request) -> Response:
        try:
            handler = self._exact.get((request.service, request.method, request.path))
            if handler is not None:
                return handler(request)
            for service, method, prefix, handler in self._prefixes:
                if (service, method) == (request.service, request.method) and \
                        request.path.startswith(prefix) and len(request.path) > len(prefix):
                    return handler(request, request.path[len(prefix):])
            return error(404, f"no route {request.method} /{request.service}{request.path}")
        except Exception as failure:  # a simulator bug must not kill the server thread
            log.exception("handler failed for %s %s", request.method, request.path)
            return error(500, f"simulator error: {failure}")

    def _apply_fault(self, request: Request) -> Response | None:
        plan = self.venue.faults()
        is_order = (request.service, request.method, request.path) == ("clob", "POST", "/order")
        rule = plan.http_fault(request.service, request.path, self._window_index(request, is_order))
        if rule is None:
            return None
        if rule.kind == "timeout":
            executed = rule.option("exec", 1) != 0
            response = self._route(request) if executed else error(504, "Gateway Timeout")
            if is_order and not executed:
                self._log_order_fault(request, 504, "timeout (not executed)")
            response.hold_s = hold_seconds(rule)
            return response
        if is_order:
            self._log_order_fault(request, rule.status or 500, f"fault {rule.kind}")
        return fault_response(request.service, rule)

    def _window_index(self, request: Request, is_order: bool) -> int | None:
        """The window a request is about: the order's token's window, else the current one."""
        now = self.venue.now_ms()
        if is_order:
            token = _order_token(request)
            window = self.venue.registry.by_token(token, now) if token else None
            if window is not None:
                return window.index
        return self.venue.window_index_at(now)

    def _log_order_fault(self, request: Request, status: int, what: str) -> None:
        self.venue.order_log.record_fault(self.venue.now_ms(), status, _body(request), what)


def _body(request: Request):
    try:
        return request.json()
    except (ValueError, UnicodeDecodeError):
        return None


def _order_token(request: Request) -> str | None:
    body = _body(request)
    if isinstance(body, dict) and isinstance(body.get("order"), dict):
        token = body["order"].get("tokenId")
        return str(token) if token is not None else None
    return None
