"""Typed messages: one union and one decoder per stream, built once at import."""

from __future__ import annotations

from typing import Any, Union

import msgspec

from shared import streams
from shared.messages.base import Data, Msg, header, message_id
from shared.messages.ledger import LedgerState, Position, PositionSettled, ResetHalt, TradingHalted
from shared.messages.market import (
    Bar, BookLevel, BookSnapshot, Candle, FeeSchedule, MarketData, MarketQuote,
    MarketResolved, Outcome, OutcomeBook, WindowPrices,
)
from shared.messages.orders import OrderFilled, OrderRejected, RiskDecision, SubmitOrder
from shared.messages.schedule import IntervalTick, WindowClosed
from shared.messages.signals import PredictionSignal, Signal

ClockEvent = Union[IntervalTick, WindowClosed]
OrderEvent = Union[OrderFilled, OrderRejected]
LedgerEvent = Union[LedgerState, PositionSettled, TradingHalted]

# What may appear on each stream.  A new message type is added to a union, never
# swapped for another: old entries must stay decodable.
STREAM_TYPES: dict[str, Any] = {
    streams.CLOCK: ClockEvent,
    streams.MARKET_DATA: MarketData,
    streams.MARKET_QUOTES: MarketQuote,
    streams.CANDLES: Candle,
    streams.WINDOW_PRICES: WindowPrices,
    streams.SIGNALS: PredictionSignal,
    streams.DECISIONS: RiskDecision,
    streams.ORDER_CMDS: SubmitOrder,
    streams.ORDER_EVENTS: OrderEvent,
    streams.RESOLUTIONS: MarketResolved,
    streams.LEDGER_EVENTS: LedgerEvent,
    streams.LEDGER_CMDS: ResetHalt,
}

ENCODER = msgspec.msgpack.Encoder()
DECODERS: dict[str, msgspec.msgpack.Decoder] = {
    name: msgspec.msgpack.Decoder(kind) for name, kind in STREAM_TYPES.items()
}
STATE_DECODER = msgspec.msgpack.Decoder(LedgerState)


def encode(msg: Msg) -> bytes:
    return ENCODER.encode(msg)


def decode(stream: str, payload: bytes) -> Msg:
    """Decode an entry of ``stream``; raises msgspec.DecodeError/ValidationError."""
    return DECODERS[stream].decode(payload)


def type_name(msg: Msg) -> str:
    return type(msg).__name__


__all__ = [
    "Bar", "BookLevel", "BookSnapshot", "Candle", "ClockEvent", "Data", "FeeSchedule",
    "IntervalTick", "LedgerEvent", "LedgerState", "MarketData", "MarketQuote",
    "MarketResolved", "Msg", "OrderEvent", "OrderFilled", "OrderRejected", "Outcome",
    "OutcomeBook", "Position", "PositionSettled", "PredictionSignal", "ResetHalt",
    "RiskDecision", "STREAM_TYPES", "Signal", "SubmitOrder", "TradingHalted",
    "WindowClosed", "WindowPrices", "decode", "encode", "header", "message_id", "type_name",
]
