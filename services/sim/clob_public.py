"""CLOB public reads: health/time, books and prices, market metadata.

A token's book exists from its market's creation until the window ends; after that
(and for unknown tokens) the book endpoints answer 404 "No orderbook exists for the
requested token id", like the real venue once a market has closed.
"""

from __future__ import annotations

from decimal import Decimal

from services.sim.book import TokenBook
from services.sim.formats import decimal_text, iso_z, mils_text
from services.sim.http_types import Request, Response, error, json_response
from services.sim.venue import Venue
from services.sim.window_view import window_view
from services.sim.windows import Window

NO_BOOK = "No orderbook exists for the requested token id"
FEE_DETAILS = {"r": 0.07, "e": 1, "to": True}


class ClobPublicApi:
    def __init__(self, venue: Venue):
        self._venue = venue

    def routes(self) -> dict:
        return {("GET", "/"): self.ok, ("GET", "/ok"): self.ok, ("GET", "/time"): self.time,
                ("GET", "/version"): self.version, ("GET", "/book"): self.book,
                ("POST", "/books"): self.books, ("GET", "/price"): self.price,
                ("POST", "/prices"): self.prices, ("GET", "/midpoint"): self.midpoint,
                ("POST", "/midpoints"): self.midpoints, ("GET", "/spread"): self.spread,
                ("POST", "/spreads"): self.spreads, ("GET", "/tick-size"): self.tick_size,
                ("GET", "/neg-risk"): self.neg_risk, ("GET", "/fee-rate"): self.fee_rate,
                ("GET", "/last-trade-price"): self.last_trade_price}

    def prefix_routes(self) -> list:
        return [("GET", "/markets/", self.market),
                ("GET", "/markets-by-token/", self.market_by_token),
                ("GET", "/clob-markets/", self.clob_market)]

    def ok(self, request: Request) -> Response:
        return json_response("OK")

    def time(self, request: Request) -> Response:
        return json_response(self._venue.now_ms() // 1000)

    def version(self, request: Request) -> Response:
        return json_response({"version": 2})

    def _tradable(self, token: str | None, now: int) -> Window | None:
        window = self._venue.registry.by_token(token or "", now)
        return window if window is not None and now < window.end_ms else None

    def _token_book(self, token: str | None) -> tuple[Window, TokenBook, int] | Response:
        now = self._venue.now_ms()
        window = self._tradable(token, now)
        if window is None:
            return error(404, NO_BOOK)
        return window, self._venue.books.token_book(window, token, now), now

    def book(self, request: Request) -> Response:
        now = self._venue.now_ms()
        token = request.arg("token_id")
        window = self._tradable(token, now)
        if window is None:
            return error(404, NO_BOOK)
        return json_response(self._venue.books.render(window, token, now))

    def books(self, request: Request) -> Response:
        now = self._venue.now_ms()
        out = []
        for item in _body_list(request):
            window = self._tradable(item.get("token_id"), now)
            if window is not None:
                out.append(self._venue.books.render(window, item["token_id"], now))
        return json_response(out)

    def _quoted(self, request: Request, compute) -> Response:
        found = self._token_book(request.arg("token_id"))
        if isinstance(found, Response):
            return found
        return json_response(compute(found[1], request.arg("side", "BUY")))

    def price(self, request: Request) -> Response:
        return self._quoted(request, lambda book, side: {"price": _best(book, side)})

    def midpoint(self, request: Request) -> Response:
        return self._quoted(request, lambda book, side: {"mid": _mid(book)})

    def spread(self, request: Request) -> Response:
        return self._quoted(request, lambda book, side: {"spread": _spread(book)})

    def _batch(self, request: Request, compute) -> Response:
        out = {}
        for item in _body_list(request):
            found = self._token_book(item.get("token_id"))
            if not isinstance(found, Response):
                compute(out, item, found[1])
        return json_response(out)

    def prices(self, request: Request) -> Response:
        def add(out, item, book):
            side = str(item.get("side", "BUY")).upper()
            out.setdefault(item["token_id"], {})[side] = _best(book, side)
        return self._batch(request, add)

    def midpoints(self, request: Request) -> Response:
        return self._batch(request, lambda out, item, book: _put(out, item, _mid(book)))

    def spreads(self, request: Request) -> Response:
        return self._batch(request, lambda out, item, book: _put(out, item, _spread(book)))

    def tick_size(self, request: Request) -> Response:
        found = self._token_book(request.arg("token_id"))
        return found if isinstance(found, Response) else json_response(
            {"minimum_tick_size": found[1].tick_mils / 1000})

    def neg_risk(self, request: Request) -> Response:
        found = self._token_book(request.arg("token_id"))
        return found if isinstance(found, Response) else json_response({"neg_risk": False})

    def fee_rate(self, request: Request) -> Response:
        found = self._token_book(request.arg("token_id"))
        return found if isinstance(found, Response) else json_response({"base_fee": 1000})

    def last_trade_price(self, request: Request) -> Response:
        found = self._token_book(request.arg("token_id"))
        if isinstance(found, Response):
            return found
        price, side = self._venue.books.last_trade(found[0], request.arg("token_id"))
        return json_response({"price": mils_text(price), "side": side})

    def _market_window(self, condition_id: str) -> Window | None:
        return self._venue.registry.by_condition(condition_id, self._venue.now_ms())

    def market(self, request: Request, condition_id: str) -> Response:
        window = self._market_window(condition_id)
        if window is None:
            return error(404, "market not found")
        return json_response(clob_market_json(self._venue, window))

    def market_by_token(self, request: Request, token: str) -> Response:
        window = self._venue.registry.by_token(token, self._venue.now_ms())
        if window is None:
            return error(404, "market not found")
        other = window.tokens[1 - window.tokens.index(token)]
        return json_response({"condition_id": window.condition_id, "primary_token_id": token,
                              "secondary_token_id": other})

    def clob_market(self, request: Request, condition_id: str) -> Response:
        window = self._market_window(condition_id)
        if window is None:
            return error(404, "market not found")
        view = window_view(self._venue, window, self._venue.now_ms())
        return json_response({
            "c": window.condition_id,
            "t": [{"t": t, "o": o} for t, o in zip(window.tokens, window.outcomes)],
            "mts": view.tick_mils / 1000, "fd": FEE_DETAILS, "mbf": 1000, "tbf": 1000,
            "mos": 5, "ao": view.accepting_orders and not view.closed, "sd": 0, "itode": False,
            "r": None, "v": "v1"})


def clob_market_json(venue: Venue, window: Window) -> dict:
    view = window_view(venue, window, venue.now_ms())
    res = view.resolution
    prices = dict(zip(window.outcomes, view.outcome_prices()))
    tokens = [{"token_id": t, "outcome": o, "price": float(prices[o]),
               "winner": res.resolved and res.outcome == o}
              for t, o in zip(window.tokens, window.outcomes)]
    return {
        "condition_id": window.condition_id, "question_id": window.question_id,
        "market_slug": window.slug, "question": f"Bitcoin Up or Down ({window.slug})",
        "description": "Up iff the end price >= the start price (polybot simulator).",
        "enable_order_book": True, "active": True, "closed": view.closed, "archived": False,
        "accepting_orders": view.accepting_orders and not view.closed,
        "accepting_order_timestamp": iso_z(window.created_ms), "minimum_order_size": 5,
        "minimum_tick_size": view.tick_mils / 1000, "neg_risk": False,
        "end_date_iso": iso_z(window.end_ms), "game_start_time": None, "seconds_delay": 0,
        "maker_base_fee": 1000, "taker_base_fee": 1000, "is_50_50_outcome": False,
        "tags": ["Crypto", "Bitcoin", "Up or Down"], "tokens": tokens,
    }


def _body_list(request: Request) -> list[dict]:
    try:
        body = request.json()
    except ValueError:
        return []
    return [item for item in body or [] if isinstance(item, dict) and item.get("token_id")]


def _put(out: dict, item: dict, value: str) -> None:
    out[item["token_id"]] = value


def _best(book: TokenBook, side: str) -> str:
    levels = book.asks if str(side).upper() == "BUY" else book.bids
    return mils_text(levels[0][0]) if levels else "0"


def _mid(book: TokenBook) -> str:
    if not book.bids or not book.asks:
        return "0"
    return decimal_text(Decimal(book.bids[0][0] + book.asks[0][0]) / 2000)


def _spread(book: TokenBook) -> str:
    if not book.bids or not book.asks:
        return "0"
    return mils_text(book.asks[0][0] - book.bids[0][0])
