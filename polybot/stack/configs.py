"""Which configuration classes each service reads from its environment (the compose
test checks this table against the services' code), and a pre-flight check that
validates them all before anything is started."""

from __future__ import annotations

import importlib
from collections.abc import Mapping

from polybot.stack import StackError

RUNTIME = "shared.runtime:RuntimeConfig"
SERVICE_CONFIGS: dict[str, tuple[str, ...]] = {
    "clock": ("services.clock.config:ClockConfig",),
    "feed": (RUNTIME, "services.feed.config:FeedConfig"),
    "predictor": (RUNTIME, "services.predictor.config:PredictorConfig"),
    "risk": ("services.risk.config:RiskConfig",),
    "executor": ("services.executor.config:ExecutorConfig",),
    "ledger": ("services.ledger.config:LedgerConfig",),
    "resolver": ("services.resolver.config:ResolverConfig",),
}


def config_class(path: str) -> type:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def env_names(service: str) -> set[str]:
    """Every environment variable ``service`` reads (upper-cased config field names)."""
    import msgspec

    from shared.config import env_name

    return {env_name(f.name) for path in SERVICE_CONFIGS[service]
            for f in msgspec.structs.fields(config_class(path))}


def preflight(environ: Mapping[str, str], services=tuple(SERVICE_CONFIGS)) -> None:
    """Load every service's config from ``environ``; the first error is a StackError."""
    from shared.config import ConfigError, load

    for service in services:
        for path in SERVICE_CONFIGS[service]:
            try:
                load(config_class(path), environ)
            except ConfigError as exc:
                raise StackError(f"{service}: {exc}") from None
