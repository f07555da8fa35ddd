"""docker-compose.yml / docker-compose.live.yml / Dockerfile checked against the code.

There is no Docker engine here: the files are parsed and every command, environment
variable, healthcheck and URL is checked against what the services actually read.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import re
from pathlib import Path

import msgspec
import pytest

from polybot.stack.configs import SERVICE_CONFIGS, config_class
from shared.config import ConfigError, env_name, load

yaml = pytest.importorskip("yaml", reason="PyYAML is a test dependency (pip install pyyaml)")

REPO = Path(__file__).resolve().parents[2]
PY_SERVICES = ("clock", "feed", "predictor", "risk", "executor", "ledger", "resolver")
SECRETS = {"PRIVATE_KEY", "CLOB_API_KEY", "CLOB_API_SECRET", "CLOB_API_PASSPHRASE", "LIVE_CONFIRM"}
DOTENV = {"REDIS_PASSWORD": "s3cret-test", "PRIVATE_KEY": "0x" + "1" * 64,
          "LIVE_CONFIRM": "I_UNDERSTAND_REAL_MONEY"}
SIM_HTTP, SIM_WS = 8080, 8081
URL_VARS = {"CLOB_URL": "clob", "GAMMA_URL": "gamma", "BINANCE_REST_URL": "binance_rest",
            "BINANCE_WS_URL": "binance_ws", "COINGECKO_URL": "coingecko", "SIM_CONTROL_URL": "control"}


def text(name: str) -> str:
    return (REPO / name).read_text()


@pytest.fixture(scope="module")
def base() -> dict:
    return yaml.safe_load(text("docker-compose.yml"))


@pytest.fixture(scope="module")
def live() -> dict:
    return yaml.safe_load(text("docker-compose.live.yml"))


class MissingVariable(Exception):
    pass


_VAR = re.compile(r"\$\$|\$\{(\w+)(?:(:?[-?])([^}]*))?\}")


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?message} and $$."""
    def sub(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.groups()
        value = env.get(name)
        if op in (":?", "?") and (value is None or (op == ":?" and value == "")):
            raise MissingVariable(f"{name}: {arg}")
        if op == ":-":
            return value if value else arg
        if op == "-":
            return value if value is not None else arg
        return value or ""

    return _VAR.sub(sub, str(value))


def environment(doc: dict, service: str, dotenv: dict[str, str] = DOTENV) -> dict[str, str]:
    raw = doc["services"][service].get("environment") or {}
    return {k: interpolate(v, dotenv) for k, v in raw.items()}


def live_environment(base: dict, live: dict, service: str) -> dict[str, str]:
    merged = environment(base, service)  # compose merges environment mappings key by key
    merged.update(environment(live, service))
    return merged


# -- the services' own code: which config classes each one loads --------------------------
def configs_from_code(service: str) -> set[str]:
    """Classes passed to service_main(NAME, Cls, ...) and load(Cls, ...) in main.py."""
    path = REPO / "services" / service / "main.py"
    module = importlib.import_module(f"services.{service}.main")
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            arg = {"service_main": 1, "load": 0}.get(node.func.id)
            if arg is not None and len(node.args) > arg and isinstance(node.args[arg], ast.Name):
                cls = getattr(module, node.args[arg].id)
                found.add(f"{cls.__module__}:{cls.__name__}")
    return found


def service_main_name(service: str) -> str:
    tree = ast.parse((REPO / "services" / service / "main.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "service_main":
            return node.args[0].value
    raise AssertionError(f"services/{service}/main.py does not call service_main")


def env_names(service: str) -> set[str]:
    return {env_name(f.name) for path in SERVICE_CONFIGS[service]
            for f in msgspec.structs.fields(config_class(path))}


# -- structure ------------------------------------------------------------------------------
def test_one_container_per_process(base):
    assert set(base["services"]) == {"redis", "sim", *PY_SERVICES}


@pytest.mark.parametrize("service", PY_SERVICES)
def test_command_runs_an_existing_service_module(base, service):
    assert base["services"][service]["command"] == ["python", "-m", f"services.{service}"]
    assert importlib.util.find_spec(f"services.{service}.__main__") is not None
    assert service_main_name(service) == service  # the name its logs and heartbeat use


@pytest.mark.parametrize("service", PY_SERVICES)
def test_config_table_matches_the_code(service):
    assert configs_from_code(service) == set(SERVICE_CONFIGS[service])


def test_sim_command_parses_with_the_simulators_cli(base):
    from services.sim.main import build_parser

    command = [interpolate(part, {}) for part in base["services"]["sim"]["command"]]
    assert command[:3] == ["python", "-m", "services.sim"]
    assert importlib.util.find_spec("services.sim.__main__") is not None
    args = build_parser().parse_args(command[3:])
    assert (args.host, args.port, args.ws_port) == ("0.0.0.0", SIM_HTTP, SIM_WS)
    assert base["services"]["sim"]["profiles"] == ["paper"]


# -- environment ------------------------------------------------------------------------------
@pytest.mark.parametrize("service", PY_SERVICES)
def test_every_variable_is_a_config_field(base, live, service):
    for doc in (base, live):
        unknown = set(doc["services"].get(service, {}).get("environment") or {}) - env_names(service)
        assert not unknown, f"{service}: {sorted(unknown)} are read by none of {SERVICE_CONFIGS[service]}"


@pytest.mark.parametrize("service", PY_SERVICES)
def test_paper_configs_load_from_the_compose_environment(base, service):
    env = environment(base, service, {"REDIS_PASSWORD": "s3cret-test"})  # paper: no keys
    for path in SERVICE_CONFIGS[service]:
        load(config_class(path), env)


@pytest.mark.parametrize("service", PY_SERVICES)
def test_live_configs_load_from_the_compose_environment(base, live, service):
    env = live_environment(base, live, service)
    assert env["CLOCK"] == "live"
    for path in SERVICE_CONFIGS[service]:
        cfg = load(config_class(path), env)
        if service == "executor":
            assert (cfg.venue, cfg.trading_mode, cfg.live) == ("polymarket", "live", True)


def test_live_executor_refuses_without_confirmation(base, live):
    env = live_environment(base, live, "executor")
    env["LIVE_CONFIRM"] = "yes"
    with pytest.raises(ConfigError, match="LIVE_CONFIRM"):
        load(config_class(SERVICE_CONFIGS["executor"][0]), env)


def required_variables(raw: str) -> set[str]:
    return set(re.findall(r"\$\{(\w+):\?", raw))


def test_paper_needs_only_the_redis_password_and_live_needs_the_keys(base, live):
    assert required_variables(text("docker-compose.yml")) == {"REDIS_PASSWORD"}
    assert required_variables(text("docker-compose.live.yml")) == {"PRIVATE_KEY", "LIVE_CONFIRM"}
    with pytest.raises(MissingVariable, match="PRIVATE_KEY"):
        environment(live, "executor", {"LIVE_CONFIRM": "I_UNDERSTAND_REAL_MONEY"})
    with pytest.raises(MissingVariable, match="REDIS_PASSWORD"):
        environment(base, "ledger", {})


def test_keys_reach_only_the_executor(base, live):
    for doc in (base, live):
        for name, service in doc["services"].items():
            carried = SECRETS & set(service.get("environment") or {})
            assert not carried or (name == "executor" and doc is live), f"{name} gets {carried}"


def test_service_urls_follow_the_simulators_layout(base):
    from services.sim import SimConfig, SimServer

    with SimServer(SimConfig(port=0, ws_port=0)) as server:
        urls = dict(server.urls)
    http_port = urls["clob"].split(":")[2].split("/")[0]
    ws_port = urls["binance_ws"].split(":")[2].split("/")[0]
    expected = {key: url.replace(f"127.0.0.1:{http_port}", f"sim:{SIM_HTTP}").replace(
        f"127.0.0.1:{ws_port}", f"sim:{SIM_WS}") for key, url in urls.items()}
    checked = 0
    for service in PY_SERVICES:
        for var, value in environment(base, service).items():
            if var in URL_VARS:
                assert value == expected[URL_VARS[var]], f"{service}: {var}={value}"
                checked += 1
    assert checked >= 7 + 5 + 2  # SIM_CONTROL_URL everywhere, the feed's five, executor + resolver


def test_up_uses_the_same_layout():
    from polybot.stack.lifecycle import sim_urls
    from services.sim import SimConfig, SimServer

    with SimServer(SimConfig(port=0, ws_port=0)) as server:
        urls = dict(server.urls)
    port = int(urls["clob"].split(":")[2].split("/")[0])
    ws_port = int(urls["binance_ws"].split(":")[2].split("/")[0])
    assert sim_urls("127.0.0.1", port, ws_port) == urls


# -- health and policies -------------------------------------------------------------------------
@pytest.mark.parametrize("service", PY_SERVICES)
def test_healthcheck_is_the_services_heartbeat(base, service):
    check = base["services"][service]["healthcheck"]
    assert check["test"] == ["CMD", "python", "-m", "shared.health", service]
    assert importlib.util.find_spec("shared.health") is not None
    assert {"interval", "timeout", "retries", "start_period"} <= set(check)


@pytest.mark.integration
def test_shared_health_answers_for_a_beating_service(real_redis, redis_url, monkeypatch):
    from shared.health import Heartbeat, main

    monkeypatch.setenv("REDIS_URL", redis_url)
    assert main(["executor"]) == 1
    Heartbeat(real_redis, "executor", "executor-1").beat(force=True)
    assert main(["executor"]) == 0
    assert main(["risk"]) == 1


def test_policies_are_declared_once_and_used_everywhere(base):
    raw = text("docker-compose.yml")
    assert {"x-restart-policy", "x-healthcheck-defaults", "x-service", "x-env"} <= set(base)
    assert "<<: *restart-policy" in raw and "<<: *healthcheck-defaults" in raw
    for name, service in base["services"].items():
        assert service["restart"] == "unless-stopped", name
        assert "healthcheck" in service, name
        assert "ports" not in service, f"{name} publishes a port"
        for dependency, rule in (service.get("depends_on") or {}).items():
            assert rule["condition"] == "service_healthy", f"{name} -> {dependency}"
    for name in PY_SERVICES:
        assert "redis" in base["services"][name]["depends_on"]
    assert set(base["services"]["clock"]["depends_on"]) >= {"ledger", "feed", "predictor", "risk", "executor"}
    assert len(raw.splitlines()) <= 150


def test_redis_is_private_persistent_and_password_protected(base):
    redis = base["services"]["redis"]
    command = " ".join(redis["command"])
    assert "--appendonly yes" in command and "--requirepass ${REDIS_PASSWORD:?" in command
    assert any(volume.endswith(":/data") for volume in redis["volumes"])
    assert "ports" not in redis
    test = " ".join(redis["healthcheck"]["test"])
    assert "redis-cli" in test and "-a" in test and "ping" in test


def test_state_survives_in_a_volume(base):
    ledger = base["services"]["ledger"]
    state_dir = environment(base, "ledger")["STATE_DIR"]
    assert any(v.endswith(":" + state_dir) for v in ledger["volumes"])
    assert set(base["volumes"]) == {"redis-data", "state"}


def test_live_override_switches_every_service_to_live(live):
    assert "sim" not in live["services"]
    for service in PY_SERVICES:
        env = live["services"][service]["environment"]
        assert env["CLOCK"] == "live" and env["SIM_CONTROL_URL"] == "", service
        assert not any("sim:" in str(v) for v in env.values()), service


def test_dockerfile_runs_as_a_non_root_user_with_a_state_volume(base):
    docker = text("Dockerfile")
    assert re.search(r"^FROM python:3\.11-slim\b", docker, re.M)
    users = re.findall(r"^USER\s+(\S+)", docker, re.M)
    assert users and users[-1] not in ("root", "0")
    assert re.search(r'^VOLUME \["/data/state"\]', docker, re.M)
    assert environment(base, "ledger")["STATE_DIR"] == "/data/state"
    ignored = text(".dockerignore").splitlines()
    assert ".env" in ignored and "state/" in ignored
