"""RiskConfig: env decoding, defaults, ranges and cross-field rules."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.risk.config import RiskConfig
from shared.config import ConfigError, load

D = Decimal


def test_config_defaults_are_the_seed_designs_numbers():
    # Act
    cfg = load(RiskConfig, {})
    # Assert
    assert (cfg.starting_capital, cfg.max_drawdown, cfg.base_stake, cfg.streak_multiplier, cfg.max_stake) == (
        D("100"), D("0.30"), D("5"), D("1.5"), D("25"))
    assert (cfg.volatility_window, cfg.volatility_threshold, cfg.min_notional) == (5, D("0.03"), D("1"))
    assert (cfg.state_wait_s, cfg.clock, cfg.floor) == (30.0, "live", D("70"))


def test_config_reads_exact_decimals_from_env():
    cfg = load(RiskConfig, {"MAX_DRAWDOWN": "0.25", "STARTING_CAPITAL": "200", "STREAK_MULTIPLIER": "1.25"})
    assert (cfg.max_drawdown, cfg.floor, cfg.streak_multiplier) == (D("0.25"), D("150"), D("1.25"))


@pytest.mark.parametrize(("env", "variable"), [
    ({"MAX_DRAWDOWN": "1"}, "MAX_DRAWDOWN"),
    ({"MAX_DRAWDOWN": "0"}, "MAX_DRAWDOWN"),
    ({"MAX_DRAWDOWN": "NaN"}, "MAX_DRAWDOWN"),
    ({"STARTING_CAPITAL": "-5"}, "STARTING_CAPITAL"),
    ({"BASE_STAKE": "30"}, "BASE_STAKE"),
    ({"BASE_STAKE": "0.5"}, "BASE_STAKE"),
    ({"STREAK_MULTIPLIER": "0.9"}, "STREAK_MULTIPLIER"),
    ({"VOLATILITY_WINDOW": "0"}, "VOLATILITY_WINDOW"),
    ({"VOLATILITY_THRESHOLD": "0"}, "VOLATILITY_THRESHOLD"),
    ({"MIN_NOTIONAL": "0"}, "MIN_NOTIONAL"),
    ({"STATE_WAIT_S": "0"}, "STATE_WAIT_S"),
    ({"STATE_WAIT_S": "40"}, "STATE_WAIT_S"),          # > half of CLAIM_IDLE_MS (60 s)
    ({"CLOCK": "sim"}, "SIM_CONTROL_URL"),
    ({"CLOCK": "wall"}, "CLOCK"),
    ({"MAX_STAKE": "lots"}, "MAX_STAKE"),
])
def test_config_rejects_bad_values_naming_the_variable(env, variable):
    with pytest.raises(ConfigError, match=f"invalid configuration: {variable}="):
        load(RiskConfig, env)


def test_config_sim_clock_with_its_control_url_is_valid():
    cfg = load(RiskConfig, {"CLOCK": "sim", "SIM_CONTROL_URL": "http://sim:8080"})
    assert cfg.clock == "sim"


def test_config_longer_wait_is_valid_with_a_longer_claim_idle():
    assert load(RiskConfig, {"STATE_WAIT_S": "40", "CLAIM_IDLE_MS": "90000"}).state_wait_s == 40
