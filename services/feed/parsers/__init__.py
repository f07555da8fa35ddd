"""Pure parsers and validators for every upstream payload the feed reads.

Each returns a typed value or raises ``InvalidPayload(source, reason)``; nothing else.
"""

from services.feed.parsers.binance import (
    Depth, Ignored, KlinePage, ServerShutdown, WsEvent, WsKline, make_bar, order_book_imbalance,
    parse_depth, parse_kline_row, parse_rest_klines, parse_ws_kline, parse_ws_message,
)
from services.feed.parsers.clob import (
    OraclePrice, parse_clob_book, parse_clob_books, parse_fee_rate, parse_rtds_message, parse_tick_size,
)
from services.feed.parsers.coingecko import SpotPrice, parse_simple_price
from services.feed.parsers.fields import InvalidPayload
from services.feed.parsers.gamma import GammaMarket, parse_gamma_events, parse_gamma_market

__all__ = [
    "Depth", "GammaMarket", "Ignored", "InvalidPayload", "KlinePage", "OraclePrice",
    "ServerShutdown", "SpotPrice", "WsEvent", "WsKline", "make_bar", "order_book_imbalance",
    "parse_clob_book", "parse_clob_books", "parse_depth", "parse_fee_rate", "parse_gamma_events",
    "parse_gamma_market", "parse_kline_row", "parse_rest_klines", "parse_rtds_message",
    "parse_simple_price", "parse_tick_size", "parse_ws_kline", "parse_ws_message",
]
