"""The simulator's own control API, under ``{control}`` (``/sim``).

GET/POST /clock, GET /orders[?slug=], GET/POST /faults, GET /windows/{slug}, GET /config.
"""

from __future__ import annotations

import dataclasses

from services.sim.clock import ClockError
from services.sim.fault_spec import FaultSpecError
from services.sim.formats import cents_text
from services.sim.http_types import Request, Response, error, json_response
from services.sim.venue import Venue


class ControlApi:
    def __init__(self, venue: Venue):
        self._venue = venue

    def routes(self) -> dict:
        return {("GET", "/clock"): self.get_clock, ("POST", "/clock"): self.set_clock,
                ("GET", "/orders"): self.orders, ("GET", "/faults"): self.get_faults,
                ("POST", "/faults"): self.set_faults, ("GET", "/config"): self.config,
                ("GET", "/health"): lambda request: json_response({"ok": True})}

    def prefix_routes(self) -> list:
        return [("GET", "/windows/", self.window)]

    def get_clock(self, request: Request) -> Response:
        return json_response(self._venue.clock.snapshot())

    def set_clock(self, request: Request) -> Response:
        try:
            body = request.json()
            target = int(body["now_ms"])
        except (ValueError, TypeError, KeyError):
            return error(400, 'body must be {"now_ms": <int>}')
        try:
            self._venue.clock.advance_to(target)
        except ClockError as backward:
            return error(409, str(backward))
        return json_response(self._venue.clock.snapshot())

    def orders(self, request: Request) -> Response:
        entries = self._venue.order_log.entries(request.arg("slug"), wall=request.arg("wall") == "1")
        return json_response({"orders": entries, "count": len(entries)})

    def get_faults(self, request: Request) -> Response:
        return json_response(self._venue.faults().describe())

    def set_faults(self, request: Request) -> Response:
        try:
            body = request.json() or {}
            spec = body.get("spec", "") if isinstance(body, dict) else ""
            plan = self._venue.install_faults(spec)
        except (ValueError, FaultSpecError) as bad:
            return error(400, str(bad))
        return json_response(plan.describe())

    def config(self, request: Request) -> Response:
        values = dataclasses.asdict(self._venue.config)
        values["paper_balance"] = str(values["paper_balance"])
        return json_response(values)

    def window(self, request: Request, slug: str) -> Response:
        venue = self._venue
        now = venue.now_ms()
        window = venue.registry.by_slug(slug, now)
        if window is None:
            return error(404, f"no window {slug!r} at sim time {now}")
        res = venue.resolver.status(window, now)
        return json_response({
            "slug": window.slug, "index": window.index, "window_start": window.start_s,
            "window_end": window.end_s, "condition_id": window.condition_id,
            "outcomes": list(window.outcomes), "tokens": list(window.tokens),
            "up_token": window.up_token, "down_token": window.down_token,
            "start_price": None if res.start_price is None else cents_text(res.start_price),
            "end_price": None if res.end_price is None else cents_text(res.end_price),
            "rule_outcome": res.rule_outcome, "outcome": res.outcome, "resolved": res.resolved,
            "resolves_at_ms": res.resolves_at_ms, "conflict": res.conflict,
            "gamma_missing": venue.faults().gamma_missing(window.index),
            "fair_up": venue.model.fair_at(window, min(now, window.end_ms)),
        })
