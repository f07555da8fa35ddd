"""Gamma REST: ``/markets``, ``/markets/slug/{slug}``, ``/events``, ``/events/slug/{slug}``.

``/markets`` applies the real API's implicit ``closed=false`` unless ``closed`` is given;
``/events`` filters on ``closed`` only when asked. A window hit by ``gamma:missing``
is absent everywhere here (404 on the slug paths, left out of the arrays).
"""

from __future__ import annotations

from services.sim.gamma_json import event_json, market_json
from services.sim.http_types import Request, Response, error, json_response
from services.sim.venue import Venue
from services.sim.window_view import window_view
from services.sim.windows import WINDOW_S, Window

DEFAULT_LIMIT = 100
LISTING_LOOKBACK_S = 86_400  # unfiltered listings cover the last day and the windows ahead


class GammaApi:
    def __init__(self, venue: Venue):
        self._venue = venue

    def routes(self) -> dict:
        return {("GET", "/markets"): self.markets, ("GET", "/events"): self.events}

    def prefix_routes(self) -> list:
        return [("GET", "/markets/slug/", self.market_by_slug),
                ("GET", "/events/slug/", self.event_by_slug),
                ("GET", "/markets/", self.market_by_id), ("GET", "/events/", self.event_by_id)]

    def _visible(self, window: Window | None) -> Window | None:
        if window is None or self._venue.faults().gamma_missing(window.index):
            return None
        return window

    def market_by_slug(self, request: Request, slug: str) -> Response:
        now = self._venue.now_ms()
        window = self._visible(self._venue.registry.by_slug(slug, now))
        if window is None:
            return error(404, "market not found")
        return json_response(market_json(window_view(self._venue, window, now)))

    def event_by_slug(self, request: Request, slug: str) -> Response:
        now = self._venue.now_ms()
        window = self._visible(self._venue.registry.by_slug(slug, now))
        if window is None:
            return error(404, "event not found")
        return json_response(self._event(window, now))

    def market_by_id(self, request: Request, market_id: str) -> Response:
        now = self._venue.now_ms()
        window = self._by_numeric_id(market_id, 0, now)
        if window is None:
            return error(404, "market not found")
        return json_response(market_json(window_view(self._venue, window, now)))

    def event_by_id(self, request: Request, event_id: str) -> Response:
        now = self._venue.now_ms()
        window = self._by_numeric_id(event_id, 5_000_000, now)
        if window is None:
            return error(404, "event not found")
        return json_response(self._event(window, now))

    def _by_numeric_id(self, raw: str, offset: int, now: int) -> Window | None:
        if not raw.isdigit():
            return None
        window = self._venue.registry.window((int(raw) + offset) * WINDOW_S)
        return self._visible(window if self._venue.registry.exists(window, now) else None)

    def _event(self, window: Window, now: int) -> dict:
        view = window_view(self._venue, window, now)
        return event_json(view, [market_json(view, with_event=False)])

    def markets(self, request: Request) -> Response:
        now = self._venue.now_ms()
        closed = _bool(request.arg("closed"), default=False)
        views = [window_view(self._venue, w, now) for w in self._candidates(request, now)]
        views = [v for v in views if v.closed == closed and _active_ok(request, v)]
        return json_response([market_json(v) for v in _page(request, views)])

    def events(self, request: Request) -> Response:
        now = self._venue.now_ms()
        closed = _bool(request.arg("closed"), default=None)
        views = [window_view(self._venue, w, now) for w in self._candidates(request, now)]
        views = [v for v in views if closed is None or v.closed == closed]
        return json_response([event_json(v, [market_json(v, with_event=False)])
                              for v in _page(request, views)])

    def _candidates(self, request: Request, now: int) -> list[Window]:
        """Windows named by slug/id/condition/token filters, else the recent and coming ones."""
        registry = self._venue.registry
        found: list[Window | None] = [registry.by_slug(s, now) for s in request.args("slug")]
        found += [self._by_numeric_id(i, 0, now) for i in request.args("id")]
        found += [registry.by_condition(c, now) for c in request.args("condition_ids")]
        found += [registry.by_token(t, now) for t in request.args("clob_token_ids")]
        named = any(request.args(k) for k in ("slug", "id", "condition_ids", "clob_token_ids"))
        if not named:
            last = registry.latest_start(now)
            first = max(registry.earliest_window_s, last - LISTING_LOOKBACK_S - registry.lead_s)
            found = [registry.window(s) for s in range(first, last + 1, WINDOW_S)]
        unique = {w.start_s: w for w in map(self._visible, found) if w is not None}
        return [unique[s] for s in sorted(unique)]


def _bool(raw: str | None, default):
    if raw is None:
        return default
    return raw.strip().lower() in ("true", "1", "yes")


def _active_ok(request: Request, view) -> bool:
    active = _bool(request.arg("active"), default=None)
    return active is None or active  # every simulated market is active


def _page(request: Request, items: list) -> list:
    try:
        limit = int(request.arg("limit", str(DEFAULT_LIMIT)))
        offset = int(request.arg("offset", "0"))
    except ValueError:
        return items[:DEFAULT_LIMIT]
    return items[max(offset, 0): max(offset, 0) + max(limit, 0)]
