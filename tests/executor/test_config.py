"""ExecutorConfig rules, and that config errors exit 2 with one clear line."""

from __future__ import annotations

import logging

import pytest

from shared.config import ConfigError, load
from services.executor.brokers import PaperBroker
from services.executor.config import LIVE_CONFIRMATION, ExecutorConfig
from services.executor.main import main, make_broker

KEY = "0x" + "4c" * 32  # a syntactically valid private key used only as a canary
FUNDER = "0x" + "ab" * 20
SIM = {"VENUE": "sim", "CLOCK": "sim", "CLOB_URL": "http://127.0.0.1:8080/clob", "SIM_CONTROL_URL": "http://127.0.0.1:8080/sim"}
PAPER = {"VENUE": "polymarket", "TRADING_MODE": "paper"}
LIVE = {**PAPER, "TRADING_MODE": "live", "PRIVATE_KEY": KEY, "FUNDER": FUNDER, "SIGNATURE_TYPE": "2",
        "LIVE_CONFIRM": LIVE_CONFIRMATION}


def test_valid_setups_load():
    assert load(ExecutorConfig, SIM).venue_url == "http://127.0.0.1:8080/clob"
    assert load(ExecutorConfig, PAPER).venue_url == "https://clob.polymarket.com"
    assert load(ExecutorConfig, LIVE).live


@pytest.mark.parametrize("env, variable", [
    ({**LIVE, "LIVE_CONFIRM": ""}, "LIVE_CONFIRM"),
    ({**LIVE, "LIVE_CONFIRM": "yes"}, "LIVE_CONFIRM"),
    ({**LIVE, "PRIVATE_KEY": ""}, "PRIVATE_KEY"),
    ({**LIVE, "PRIVATE_KEY": "0x1234"}, "PRIVATE_KEY"),
    ({**LIVE, "FUNDER": ""}, "FUNDER"),
    ({**SIM, "TRADING_MODE": "live"}, "TRADING_MODE"),
    ({**SIM, "CLOB_URL": ""}, "CLOB_URL"),
    ({**SIM, "CLOB_URL": "https://clob.polymarket.com"}, "CLOB_URL"),
    ({**SIM, "SIM_CONTROL_URL": ""}, "SIM_CONTROL_URL"),
    ({**SIM, "CLOCK": "live"}, "CLOCK"),
    ({**PAPER, "CLOB_URL": "http://clob.example.com"}, "CLOB_URL"),
    ({**PAPER, "CLOCK": "sim", "SIM_CONTROL_URL": "http://127.0.0.1:1"}, "CLOCK"),
    ({**PAPER, "MAX_ATTEMPTS": "4"}, "MAX_ATTEMPTS"),
    ({**PAPER, "SIGNATURE_TYPE": "4"}, "SIGNATURE_TYPE"),
    ({**PAPER, "CHAIN_ID": "1"}, "CHAIN_ID"),
    ({**PAPER, "CLOB_API_KEY": "k"}, "CLOB_API_KEY"),
    ({**PAPER, "VENUE": "binance"}, "VENUE"),
])
def test_bad_settings_name_the_variable(env, variable):
    with pytest.raises(ConfigError) as err:
        load(ExecutorConfig, env)
    assert f"{variable}=" in str(err.value)


def test_plain_http_is_allowed_to_a_loopback_proxy():
    assert load(ExecutorConfig, {**PAPER, "CLOB_URL": "http://127.0.0.1:8443"}).venue_url == "http://127.0.0.1:8443"


def test_secrets_never_appear_in_repr_or_errors():
    cfg = load(ExecutorConfig, {**LIVE, "CLOB_API_KEY": "key-canary-1", "CLOB_API_SECRET": "secret-canary-2",
                                "CLOB_API_PASSPHRASE": "pass-canary-3"})
    shown = repr(cfg) + str(cfg.redacted())
    assert not any(canary in shown for canary in (KEY, "key-canary-1", "secret-canary-2", "pass-canary-3"))
    with pytest.raises(ConfigError) as err:
        load(ExecutorConfig, {**LIVE, "PRIVATE_KEY": KEY[:-2]})
    assert KEY[:-2] not in str(err.value)


def test_paper_mode_ignores_a_configured_key_with_a_warning_and_never_loads_it(caplog):
    cfg = load(ExecutorConfig, {**PAPER, "PRIVATE_KEY": KEY})
    with caplog.at_level(logging.WARNING):
        broker = make_broker(cfg)
    assert isinstance(broker, PaperBroker) and not hasattr(broker, "client")
    assert "never loads keys" in caplog.text and KEY not in caplog.text


@pytest.mark.parametrize("env, expected", [
    ({**LIVE, "LIVE_CONFIRM": ""}, f"LIVE_CONFIRM={LIVE_CONFIRMATION}"),
    ({**LIVE, "PRIVATE_KEY": ""}, "PRIVATE_KEY"),
    ({**SIM, "TRADING_MODE": "live"}, "TRADING_MODE"),
])
def test_main_exits_2_with_a_clear_message(env, expected, monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)  # no .env here
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main() == 2
    err = capsys.readouterr().err
    assert expected in err and KEY not in err and err.count("\n") == 1
