from __future__ import annotations

import io
import json
import logging
import os
from typing import ClassVar

import pytest

from shared import log as jsonlog
from shared.config import ConfigError, load, read_environment, require
from shared.runtime import RuntimeConfig

CANARY = "canary-SECRET-7f3a9c"


class DemoConfig(RuntimeConfig, frozen=True, kw_only=True):
    macd_fast: int = 12
    macd_slow: int = 26
    api_secret: str | None = None
    SECRETS: ClassVar[frozenset[str]] = RuntimeConfig.SECRETS | {"api_secret"}

    def check(self) -> None:
        super().check()
        require(self.macd_fast < self.macd_slow, "macd_fast", self.macd_fast,
                f"an integer below MACD_SLOW ({self.macd_slow})")


def test_config_decodes_env_strings_into_typed_fields():
    cfg = load(DemoConfig, {"MACD_FAST": "5", "MACD_SLOW": "35", "BLOCK_MS": "200"})
    assert (cfg.macd_fast, cfg.macd_slow, cfg.block_ms) == (5, 35, 200)


def test_bad_type_names_the_variable_the_value_and_what_is_expected():
    with pytest.raises(ConfigError) as err:
        load(DemoConfig, {"MACD_FAST": "fast"})
    assert str(err.value) == "invalid configuration: MACD_FAST='fast': expected Expected `int`, got `str`"


def test_cross_field_rule_is_checked_at_load():
    with pytest.raises(ConfigError, match="MACD_FAST=30: expected an integer below MACD_SLOW"):
        load(DemoConfig, {"MACD_FAST": "30"})


def test_secret_never_appears_in_repr_or_error():
    cfg = load(DemoConfig, {"API_SECRET": CANARY, "REDIS_URL": f"redis://u:{CANARY}@h:6379/0"})
    assert CANARY not in repr(cfg) and CANARY not in str(cfg.redacted())
    with pytest.raises(ConfigError) as err:
        load(DemoConfig, {"REDIS_PASSWORD": CANARY, "REDIS_URL": "http://x"})
    assert CANARY not in str(err.value)


def test_env_file_readable_by_others_gets_a_warning(tmp_path):
    env = tmp_path / ".env"
    env.write_text("MACD_FAST=7\n")
    os.chmod(env, 0o644)
    warnings = []
    values = read_environment(env, environ={}, warn=warnings.append)
    assert values["MACD_FAST"] == "7"
    assert "chmod 600" in warnings[0]
    os.chmod(env, 0o600)
    warnings.clear()
    read_environment(env, environ={}, warn=warnings.append)
    assert warnings == []


def test_environment_wins_over_env_file(tmp_path):
    env = tmp_path / ".env"
    env.write_text("MACD_FAST=7\n")
    os.chmod(env, 0o600)
    assert read_environment(env, environ={"MACD_FAST": "9"})["MACD_FAST"] == "9"


def test_json_log_lines_have_the_fields_and_redact_canary_secrets():
    stream = io.StringIO()
    logger = jsonlog.setup("demo", stream=stream)
    jsonlog.register_secrets(CANARY)
    logger.info("connecting with %s", CANARY, extra={"data": {"key": CANARY, "n": 1}})
    try:
        raise RuntimeError(f"auth failed for {CANARY}")
    except RuntimeError:
        logger.exception("boom")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert {"ts", "level", "component", "message"} <= set(lines[0])
    assert lines[0]["component"] == "demo" and lines[0]["data"]["n"] == 1
    assert CANARY not in stream.getvalue()
    logging.getLogger().handlers.clear()
