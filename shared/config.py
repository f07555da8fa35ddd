"""Configuration: environment variables (plus an optional ``.env``) decoded once into
one frozen Struct per service, validated, and passed down.

Nothing else reads ``os.environ``.  A bad value raises :class:`ConfigError`, which every
entry point turns into one line on stderr and exit code 2.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import msgspec
from dotenv import dotenv_values

T = TypeVar("T", bound="Config")

EXIT_CONFIG = 2


class ConfigError(ValueError):
    """A configuration value is wrong. ``str()`` is the one line shown to the user."""

    def __init__(self, variable: str, value: object, expected: str, secret: bool = False):
        shown = "<redacted>" if secret else repr(value)
        super().__init__(f"invalid configuration: {variable}={shown}: expected {expected}")
        self.variable = variable


class Config(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base of every service config.

    Field ``foo_bar`` is read from env ``FOO_BAR``.  Fields named in ``SECRETS`` are never
    shown: not in repr, not in logs, not in error messages.  Subclasses override
    ``check()`` for ranges and cross-field rules, raising ``ConfigError``.
    """

    SECRETS: ClassVar[frozenset[str]] = frozenset()

    def check(self) -> None:
        """Ranges and cross-field rules; raise ConfigError(variable, value, expected)."""

    def redacted(self) -> dict[str, Any]:
        out = msgspec.to_builtins(self)
        for name in self.SECRETS:
            if out.get(name):
                out[name] = "***"
        return out

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.redacted().items())
        return f"{type(self).__name__}({fields})"

    __str__ = __repr__


def env_name(field: str) -> str:
    return field.upper()


def read_environment(env_file: str | os.PathLike | None = ".env",
                     environ: Mapping[str, str] | None = None,
                     warn=None) -> dict[str, str]:
    """The process environment over an optional ``.env`` file (the environment wins)."""
    values: dict[str, str] = {}
    if env_file is not None and Path(env_file).is_file():
        warn_if_readable_by_others(Path(env_file), warn)
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ if environ is None else environ)
    return values


def warn_if_readable_by_others(path: Path, warn=None) -> None:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        message = (f"warning: {path} is readable by other users (mode {oct(mode & 0o777)}); "
                   f"it may hold secrets: run 'chmod 600 {path}'")
        (warn or (lambda m: print(m, file=sys.stderr)))(message)


def load(cls: type[T], environ: Mapping[str, str], **overrides: Any) -> T:
    """Decode ``cls`` (a Config, or any frozen Struct whose ``__post_init__`` raises
    ``ValueError("field: why")``) from ``environ`` (already merged) and validate it."""
    raw: dict[str, Any] = {}
    for field in msgspec.structs.fields(cls):
        name = env_name(field.name)
        if name in environ and environ[name] != "":
            raw[field.name] = _coerce(environ[name], field.type)
    raw.update(overrides)
    try:
        config = msgspec.convert(raw, cls, strict=False)
    except msgspec.ValidationError as exc:
        raise _config_error(cls, raw, exc) from None
    check = getattr(config, "check", None) or getattr(config, "validate", None)
    if check is not None:
        try:
            check()
        except ConfigError:
            raise
        except ValueError as exc:  # a struct's own rule: "field: why" or "Cls.field must be ..."
            raise _rule_error(cls, config, str(exc)) from None
    return config


def _coerce(value: str, annotation: Any) -> Any:
    # Tuples come from comma-separated env values.
    if getattr(annotation, "__origin__", None) is tuple:
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _config_error(cls: type, raw: dict[str, Any], exc: msgspec.ValidationError) -> ConfigError:
    message = str(exc)
    if "$." in message:  # msgspec's own type error: "Expected `int`, got `str` - at `$.field`"
        field = message.rsplit("$.", 1)[-1].split("[")[0].strip("`")
        expected = message.split(" - at ")[0]
    else:  # a __post_init__ rule: "field: why"
        field, _, expected = message.partition(": ")
        field = field if field in raw or hasattr(cls, field) else ""
    secrets = getattr(cls, "SECRETS", frozenset())
    return ConfigError(env_name(field) or cls.__name__, raw.get(field, "<default>"), expected or message,
                       secret=field in secrets)


def _rule_error(cls: type, config: Any, message: str) -> ConfigError:
    head, _, why = message.partition(": ") if ": " in message else message.partition(" must be ")
    field = head.rsplit(".", 1)[-1].strip()
    if not hasattr(config, field):
        return ConfigError(cls.__name__, "", message)
    secret = field in getattr(cls, "SECRETS", frozenset())
    return ConfigError(env_name(field), getattr(config, field), why or message, secret=secret)


def require(condition: bool, field: str, value: object, expected: str, secret: bool = False) -> None:
    """Helper for ``check()``: raise ConfigError unless ``condition`` holds."""
    if not condition:
        raise ConfigError(env_name(field), value, expected, secret=secret)
