"""The fault grammar (``--faults SPEC`` and ``POST /sim/faults``).

    SPEC     := RULE (";" RULE)*
    RULE     := TARGET "=" ACTION ("," KEY "=" VALUE)*
    TARGET   := clob:PATH | gamma:PATH | binance:PATH | coingecko:PATH   (PATH a glob, "*" = all)
              | gamma:missing | ws | feed | resolution
    ACTION   := KIND [":" ARG]* ["@" SELECTOR]
    SELECTOR := P (probability 0..1, seeded) | every:N (every Nth event)
              | window:N | window:N-M (window index; 0 = window containing the start)

Kinds: HTTP targets take a status code (500, 502, 503, 429, ...), ``timeout`` or, on
clob:/order only, ``fok_kill``; ``ws=drop``; ``feed=stale``; ``resolution=delay:SECONDS``
and ``resolution=conflict``; ``gamma:missing=window:N``. A window selector may also be
written as an argument (``resolution=conflict:window:5``). Options: ``retry_after=S``
(429), ``hold=S`` and ``exec=0|1`` (timeout), ``for=S`` (feed=stale without a window).
"""

from __future__ import annotations

from dataclasses import dataclass, field

HTTP_SERVICES = ("clob", "gamma", "binance", "coingecko")
MAX_HOLD_S = 30.0


class FaultSpecError(ValueError):
    pass


@dataclass(frozen=True)
class Selector:
    kind: str = "always"  # always | probability | every | windows
    probability: float = 1.0
    every: int = 1
    first_window: int = 0
    last_window: int = 0

    def covers_window(self, index: int | None) -> bool:
        if self.kind != "windows":
            return True
        return index is not None and self.first_window <= index <= self.last_window


@dataclass(frozen=True)
class FaultRule:
    text: str
    service: str
    path: str  # glob for HTTP services, "" otherwise
    kind: str  # a status ("500"), timeout, fok_kill, drop, stale, missing, delay, conflict
    selector: Selector
    arg: float | None = None  # resolution delay in seconds
    options: dict = field(default_factory=dict)

    @property
    def status(self) -> int | None:
        return int(self.kind) if self.kind.isdigit() else None

    def option(self, name: str, default: float) -> float:
        return float(self.options.get(name, default))


def parse_spec(spec: str) -> tuple[FaultRule, ...]:
    return tuple(parse_rule(part.strip()) for part in (spec or "").split(";") if part.strip())


def parse_rule(text: str) -> FaultRule:
    target, sep, rest = text.partition("=")
    if not sep or not rest:
        raise FaultSpecError(f"fault rule {text!r}: expected TARGET=ACTION")
    action, *option_parts = rest.split(",")
    options = _options(text, option_parts)
    service, _, path = target.strip().partition(":")
    core, _, selector_text = action.strip().partition("@")
    kind, *args = core.split(":")
    if service == "gamma" and path == "missing":
        return FaultRule(text, "gamma", "missing", "missing", _selector(text, core), None, options)
    selector = _selector(text, selector_text or (":".join(args) if args[:1] == ["window"] else ""))
    if args[:1] == ["window"]:
        args = []
    return _validated(FaultRule(text, service, path or "*", kind, selector,
                                float(args[0]) if args else None, options))


def _options(text: str, parts: list[str]) -> dict:
    options = {}
    for part in parts:
        key, sep, value = part.partition("=")
        if not sep:
            raise FaultSpecError(f"fault rule {text!r}: option {part!r} is not KEY=VALUE")
        options[key.strip()] = value.strip()
    return options


def _selector(text: str, raw: str) -> Selector:
    raw = raw.strip()
    if not raw:
        return Selector()
    if raw.startswith("every:"):
        every = int(raw[6:])
        if every < 1:
            raise FaultSpecError(f"fault rule {text!r}: every:N needs N >= 1")
        return Selector("every", every=every)
    if raw.startswith("window:"):
        first, _, last = raw[7:].partition("-")
        return Selector("windows", first_window=int(first), last_window=int(last or first))
    try:
        probability = float(raw)
    except ValueError:
        raise FaultSpecError(f"fault rule {text!r}: unknown selector {raw!r}") from None
    if not 0 <= probability <= 1:
        raise FaultSpecError(f"fault rule {text!r}: probability {probability} outside [0, 1]")
    return Selector("probability", probability=probability)


_ALLOWED = {"ws": {"drop"}, "feed": {"stale"}, "resolution": {"delay", "conflict"}}


def _validated(rule: FaultRule) -> FaultRule:
    if rule.service in HTTP_SERVICES:
        ok = rule.status is not None or rule.kind == "timeout" or (
            rule.kind == "fok_kill" and rule.service == "clob")
        if not ok or (rule.status is not None and not 400 <= rule.status <= 599):
            raise FaultSpecError(f"fault rule {rule.text!r}: unknown HTTP fault {rule.kind!r}")
    elif rule.kind not in _ALLOWED.get(rule.service, ()):
        raise FaultSpecError(f"fault rule {rule.text!r}: unknown target/kind")
    if rule.kind == "delay" and (rule.arg is None or rule.arg < 0):
        raise FaultSpecError(f"fault rule {rule.text!r}: resolution=delay:SECONDS")
    return rule
