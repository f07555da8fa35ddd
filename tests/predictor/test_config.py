from decimal import Decimal

import msgspec
import pytest

from services.predictor.config import PredictorConfig


def test_defaults_match_the_documented_values():
    cfg = PredictorConfig()
    assert (cfg.profile, cfg.rsi_period, cfg.macd_fast, cfg.macd_slow, cfg.macd_signal) == ("default", 14, 12, 26, 9)
    assert (cfg.rsi_oversold, cfg.rsi_overbought, cfg.obi_bullish, cfg.obi_bearish) == (30, 70, 0.1, -0.1)
    assert cfg.history_bars == 500 and cfg.min_edge is None and cfg.fee_rate == Decimal("0.07")
    assert cfg.macd_lookback == 33  # TA-Lib: first MACD value at index 33 with 12/26/9


def test_config_is_frozen_and_rejects_unknown_fields():
    cfg = PredictorConfig()
    with pytest.raises(AttributeError):
        cfg.rsi_period = 21
    with pytest.raises(msgspec.ValidationError, match="rsi_perod"):
        msgspec.convert({"rsi_perod": 21}, PredictorConfig)


def test_env_style_strings_convert_onto_the_fields():
    # What the shared env loader is expected to do with RSI_PERIOD=21 etc.
    env = {"profile": "strict", "rsi_period": "21", "obi_bullish": "0.2", "min_edge": "0.02", "fee_rate": "0.072"}
    cfg = msgspec.convert(env, PredictorConfig, strict=False)
    assert cfg.rsi_period == 21 and cfg.obi_bullish == 0.2
    assert cfg.min_edge == Decimal("0.02") and cfg.fee_rate == Decimal("0.072") and cfg.profile == "strict"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"macd_fast": 26, "macd_slow": 12}, "macd_fast"),
        ({"macd_fast": 26}, "macd_fast"),  # equal periods are not a MACD either
        ({"rsi_oversold": 55}, "rsi_oversold"),  # oversold must sit below 50 < overbought
        ({"rsi_overbought": 45}, "rsi_overbought"),
        ({"obi_bearish": 0.05}, "obi_bearish"),
        ({"obi_bullish": -0.05}, "obi_bullish"),
        ({"obi_bullish": 1.0}, "obi_bullish"),
        ({"history_bars": 299}, "history_bars"),
        ({"history_bars": 300, "macd_slow": 200, "macd_signal": 150}, "history_bars"),
        ({"rsi_period": 1}, "rsi_period"),
        ({"macd_signal": 1}, "macd_signal"),
        ({"rsi_period": 14.0}, "rsi_period"),
        ({"rsi_period": True}, "rsi_period"),
        ({"rsi_oversold": float("nan")}, "rsi_oversold"),
        ({"profile": "aggressive"}, "profile"),
        ({"fee_rate": Decimal("-0.01")}, "fee_rate"),
        ({"fee_rate": 0.07}, "fee_rate"),
        ({"min_edge": Decimal("NaN")}, "min_edge"),
        ({"min_edge": Decimal("2")}, "min_edge"),
    ],
)
def test_invalid_settings_raise_value_error_naming_the_field(overrides, field):
    with pytest.raises(ValueError, match=f"^{field}:"):
        PredictorConfig(**overrides)


def test_validation_also_runs_when_decoding():
    with pytest.raises(msgspec.ValidationError, match="macd_fast"):
        msgspec.convert({"macd_fast": "30"}, PredictorConfig, strict=False)
