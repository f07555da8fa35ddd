"""The one service runtime: read -> handle -> publish+ack -> heartbeat.

A service is a :class:`Handler`: a name, the streams it consumes, and a ``handle``
function returning the messages to publish.  The first SIGTERM/SIGINT lets the current
message finish and be acked, then the loop exits; a second one exits at once.
``max_messages`` / ``until_idle`` bound the loop for tests (rq's burst mode).
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, ClassVar, Literal, Protocol

import redis

from shared import log as jsonlog
from shared.bus import Bus, Consumer, Entry, Out
from shared.clock import Clock, LiveClock, SimClock
from shared.config import Config, ConfigError, EXIT_CONFIG, load, read_environment, require
from shared.errors import FatalError, MessageError, TransientError
from shared.health import Heartbeat
from shared.messages import Msg
from shared.redis_conn import connect


class RuntimeConfig(Config, frozen=True, kw_only=True):
    """Settings every service shares (subclassed by each service's own config)."""

    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_password: str | None = None
    replica: str = "1"
    log_level: str = "INFO"
    block_ms: int = 1000
    claim_idle_ms: int = 60_000
    sweep_every_s: float = 10.0
    max_deliveries: int = 5
    stream_maxlen: int = 100_000
    heartbeat_ttl_ms: int = 15_000
    redis_reconnect_s: float = 30.0  # how long a lost Redis is waited for before exiting
    clock: Literal["live", "sim"] = "live"
    sim_control_url: str = ""
    sim_clock_file: str = ""  # the simulator's --clock-file: sim time without HTTP reads

    SECRETS: ClassVar[frozenset[str]] = frozenset({"redis_password"})

    def check(self) -> None:
        require(self.redis_url.startswith(("redis://", "rediss://", "unix://")), "redis_url",
                _mask_url(self.redis_url), "a redis:// or rediss:// or unix:// URL")
        require(self.replica.replace("-", "").isalnum(), "replica", self.replica,
                "a short alphanumeric replica name, e.g. 1")
        require(self.log_level.upper() in ("DEBUG", "INFO", "WARNING", "ERROR"), "log_level",
                self.log_level, "one of DEBUG, INFO, WARNING, ERROR")
        require(10 <= self.block_ms <= 60_000, "block_ms", self.block_ms, "10..60000")
        require(self.max_deliveries >= 1, "max_deliveries", self.max_deliveries, "an integer >= 1")
        require(self.claim_idle_ms >= 1000, "claim_idle_ms", self.claim_idle_ms, ">= 1000 ms")
        require(0 <= self.redis_reconnect_s <= 3600, "redis_reconnect_s", self.redis_reconnect_s,
                "0..3600 seconds (0: exit at once and let the supervisor restart the service)")
        require(self.stream_maxlen >= 1000, "stream_maxlen", self.stream_maxlen, ">= 1000")
        require(self.clock == "live" or bool(self.sim_control_url), "sim_control_url",
                self.sim_control_url, "the simulator's control URL when CLOCK=sim")

    def make_clock(self) -> Clock:
        """The service's time: the system clock, or the simulator's."""
        if self.clock == "sim":
            return SimClock(self.sim_control_url, clock_file=self.sim_clock_file or None)
        return LiveClock()

    def redacted(self) -> dict[str, Any]:
        out = super().redacted()
        out["redis_url"] = _mask_url(self.redis_url)
        return out


def _mask_url(url: str) -> str:
    # redis://user:password@host -> redis://user:***@host
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0] if ":" in creds else ""
        return f"{scheme}://{user}:***@{host}"
    return url


class Handler(Protocol):
    name: str
    streams: tuple[str, ...]
    # optional ``decode_as``: {stream: type} to read a stream as a view of its messages

    def handle(self, stream: str, msg: Msg) -> Iterable[Out]: ...


class StopFlag:
    """Warm stop on the first signal, cold exit on the second."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def __bool__(self) -> bool:
        return self.event.is_set()

    def set(self) -> None:
        self.event.set()

    def install(self) -> None:
        def on_signal(signum, _frame):
            if self.event.is_set():
                os._exit(128 + signum)
            self.event.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)


class ServiceLoop:
    """Runs one Handler against one consumer group until stopped."""

    def __init__(self, handler: Handler, bus: Bus, cfg: RuntimeConfig, *,
                 stop: StopFlag | None = None, wall: Callable[[], float] = time.monotonic,
                 on_idle: Callable[[], None] | None = None,
                 on_reconnect: Callable[[], None] | None = None):
        self.handler = handler
        self.bus = bus
        self.cfg = cfg
        self.stop = stop if stop is not None else StopFlag()  # an unset flag is falsy
        self.wall = wall
        self.on_idle = on_idle
        self.on_reconnect = on_reconnect  # after a lost connection came back (Redis may be empty)
        self.consumer = Consumer(bus, handler.name, f"{handler.name}-{cfg.replica}", handler.streams,
                                 block_ms=cfg.block_ms, claim_idle_ms=cfg.claim_idle_ms,
                                 max_deliveries=cfg.max_deliveries,
                                 decode_as=getattr(handler, "decode_as", None))
        self.heartbeat = Heartbeat(bus.redis, handler.name, self.consumer.name, ttl_ms=cfg.heartbeat_ttl_ms)
        self.log = logging.getLogger(f"polybot.{handler.name}")

    def run(self, max_messages: int | None = None, until_idle: bool = False) -> int:
        """Process messages; returns how many were handled (acked).

        A lost Redis connection is waited for (``redis_reconnect_s``), then the groups
        are recreated and our pending entries re-read: nothing was acked that was not
        committed, so nothing is lost or doubled.  Past the wait it raises, and the
        supervisor restarts the service.
        """
        self.consumer.ensure_groups()
        self.heartbeat.beat(force=True)
        handled, next_sweep = 0, self.wall() + self.cfg.sweep_every_s
        while not self.stop and (max_messages is None or handled < max_messages):
            try:
                entries = self.consumer.read(block_ms=50 if until_idle else None)
                if not entries and until_idle and not self.consumer._backlog:
                    break
                for entry in entries:
                    handled += self._process(entry)
                    if self.stop or (max_messages is not None and handled >= max_messages):
                        break
                if not entries and self.on_idle:
                    self.on_idle()
                if self.wall() >= next_sweep:
                    self.consumer.sweep()
                    next_sweep = self.wall() + self.cfg.sweep_every_s
                self.heartbeat.beat()
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                self._reconnect(exc)
        return handled

    def _reconnect(self, exc: Exception) -> None:
        """Wait for Redis to answer again (backing off to 2 s), then start over as after
        a restart: groups recreated, our own pending entries first."""
        give_up_at = self.wall() + self.cfg.redis_reconnect_s
        self.log.warning("lost Redis; reconnecting", extra={"data": {
            "error": str(exc)[:200], "wait_s": self.cfg.redis_reconnect_s}})
        pause = 0.1
        while not self.stop:
            try:
                self.bus.redis.ping()
                self.consumer.ensure_groups()
                self.consumer.retry_pending()
                self.heartbeat.beat(force=True)
                self.log.info("Redis is back")
                if self.on_reconnect:
                    self.on_reconnect()
                return
            except (redis.ConnectionError, redis.TimeoutError) as again:
                if self.wall() + pause > give_up_at:
                    raise again from exc
            time.sleep(pause)
            pause = min(2.0, pause * 2)

    def _process(self, entry: Entry) -> int:
        try:
            outputs = list(self.handler.handle(entry.stream, entry.msg))
            self.consumer.commit(entry, outputs)
            self.heartbeat.counters["processed"] += 1
            return 1
        except MessageError as exc:
            self.consumer.dead_letter(entry.stream, entry.entry_id, {"type": type(entry.msg).__name__},
                                      f"{type(exc).__name__}: {exc}")
            self.heartbeat.counters["dead_lettered"] += 1
            return 1
        except (FatalError, redis.ConnectionError):
            raise
        except TransientError as exc:
            self._failed(entry, exc, level=logging.WARNING)
        except Exception as exc:  # noqa: BLE001 - the loop must survive any handler bug
            self._failed(entry, exc, level=logging.ERROR)
        return 0

    def _failed(self, entry: Entry, exc: Exception, level: int) -> None:
        self.heartbeat.counters["errors"] += 1
        self.log.log(level, "handler failed; the entry stays pending and will be retried",
                     exc_info=level >= logging.ERROR,
                     extra={"data": {"stream": entry.stream, "entry_id": entry.entry_id,
                                     "type": type(entry.msg).__name__, "error": str(exc)[:300]}})
        self.consumer.retry_pending()
        time.sleep(0.2)  # back off a little before the redelivery


def service_main(service: str, config_cls: type[RuntimeConfig],
                 build: Callable[[Any, Bus, StopFlag], Any], argv: list[str] | None = None) -> int:
    """Shared entry point: load and validate config, log it redacted, wire, run.

    ``build(cfg, bus, stop)`` returns either a Handler (run by a ServiceLoop) or a
    callable taking no arguments (a producer loop such as the clock) that returns an
    exit code.
    """
    try:
        cfg = load(config_cls, read_environment())
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_CONFIG
    stop = StopFlag()
    stop.install()
    log = jsonlog.setup(service, cfg.log_level)
    jsonlog.register_secrets(*(getattr(cfg, name) for name in cfg.SECRETS))
    log.info("starting", extra={"data": {"config": cfg.redacted(), "pid": os.getpid()}})
    bus = Bus(connect(cfg.redis_url, cfg.redis_password), maxlen=cfg.stream_maxlen)
    try:
        target = build(cfg, bus, stop)
        settle_memory()
        code = run_target(target, bus, cfg, stop)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_CONFIG
    except FatalError as exc:
        log.critical("fatal error, exiting", extra={"data": {"error": str(exc)}})
        return 1
    log.info("stopped")
    return code


def run_target(target: Any, bus: Bus, cfg: RuntimeConfig, stop: StopFlag) -> int:
    """Run a producer loop, or a handler until stopped; after a warm stop a handler with
    ``close()`` releases what it holds (the feed publishes the candles still queued)."""
    if callable(target) and not hasattr(target, "handle"):
        return target()
    ServiceLoop(target, bus, cfg, stop=stop).run()
    close = getattr(target, "close", None)
    if close is not None:
        close()
    return 0


def settle_memory() -> None:
    """Move everything start-up made (modules, config, clients: ~100k objects) out of
    the collector's reach, so a full collection in the loop stays short (~70 ms -> <1 ms
    in the executor) instead of pausing a message.  (No collection first: it would cost
    those 70 ms at start-up, before the first heartbeat.)"""
    gc.freeze()
