"""The predictor service's handler: MarketData in, PredictionSignal out."""

from __future__ import annotations

from datetime import datetime, timezone

from services.predictor.config import PredictorConfig
from services.predictor.core import Prediction, predict_window
from services.predictor.inputs import CandleError, MarketDataView, candle_arrays, last_bars
from shared import messages as m, streams
from shared.bus import Out
from shared.clock import Clock

RECENT_BARS = 5  # what risk's volatility breaker looks at


def decide(md: MarketDataView, cfg: PredictorConfig) -> Prediction:
    """The pure decision for one interval's market data."""
    if not md.complete:
        return Prediction(signal="SKIP", confidence=m.base.ZERO, rule="skip_incomplete_data",
                          reasoning="market data incomplete: " + "; ".join(md.reasons or ("unknown",)))
    try:
        open_times, closes = candle_arrays(md.candles)
    except CandleError as exc:
        return Prediction(signal="SKIP", confidence=m.base.ZERO, rule="skip_invalid_input",
                          reasoning=f"SKIP (skip_invalid_input): unusable candles: {exc}")
    quote = md.quote
    return predict_window(open_times, closes, window_start_s=md.window_start, btc_price=md.btc_price,
                          imbalance=md.order_book_imbalance,
                          up_ask=quote.up.best_ask if quote else md.polymarket_odds_up,
                          down_ask=quote.down.best_ask if quote else md.polymarket_odds_down, cfg=cfg)


def to_signal(md: MarketDataView, p: Prediction, now_ns: int) -> m.PredictionSignal:
    try:
        recent = last_bars(md.candles, RECENT_BARS)
    except CandleError:
        recent = ()  # the prediction already says why: a SKIP for unusable candles
    return m.PredictionSignal(
        **m.header(key=("signal", md.run_id, md.interval), ts_event=md.ts_event, ts_init=now_ns, cause=md),
        run_id=md.run_id, interval=md.interval, window_start=md.window_start, window_end=md.window_end,
        entry_deadline=md.entry_deadline, signal=p.signal, confidence=p.confidence, rsi=p.rsi,
        macd_line=p.macd_line, macd_signal=p.macd_signal, order_book_imbalance=p.order_book_imbalance,
        btc_price=p.btc_price if p.btc_price is not None else md.btc_price,
        timestamp=datetime.fromtimestamp(md.window_start, timezone.utc), reasoning=p.reasoning, rule=p.rule,
        implied_probability=p.implied_probability, break_even_probability=p.break_even_probability,
        quote=md.quote, recent_bars=recent, data_complete=md.complete,
        data_reasons=md.reasons, start_price=md.start_price, start_price_source=md.start_price_source)


class PredictorHandler:
    name = streams.GROUP_PREDICTOR
    decode_as = {streams.MARKET_DATA: MarketDataView}  # the candles stay encoded until needed
    streams = (streams.MARKET_DATA,)

    def __init__(self, cfg: PredictorConfig, clock: Clock):
        self.cfg = cfg
        self.clock = clock

    def handle(self, stream: str, msg: m.Msg) -> list[Out]:
        if not isinstance(msg, MarketDataView):
            return []
        return [(streams.SIGNALS, to_signal(msg, decide(msg, self.cfg), self.clock.now_ns()))]
