"""The Redis an operator command talks to.

The private Redis of a stack that ``polybot up`` started (from ``run/stack.json``) when
that stack is running; otherwise REDIS_URL / REDIS_PASSWORD from the environment or
``.env``, read exactly as the services read them.
"""

from __future__ import annotations

import redis

from polybot.stack import StackError
from polybot.stack.layout import Layout


def stack_running(layout: Layout) -> bool:
    try:
        from polybot.stack.control import Supervisor

        return Supervisor(layout).running()
    except StackError:  # supervisor not installed: no stack of ours can be running
        return False


def redis_target(layout: Layout) -> tuple[str, str | None]:
    """(url, password) of the Redis to use."""
    private = layout.read_stack().get("redis_url")
    if private and stack_running(layout):
        return private, None
    from shared.config import ConfigError, load, read_environment
    from shared.runtime import RuntimeConfig

    try:
        cfg = load(RuntimeConfig, read_environment())
    except ConfigError as exc:
        raise StackError(str(exc)) from None
    return cfg.redis_url, cfg.redis_password


def connect(layout: Layout) -> redis.Redis:
    """A client that has answered PING, or a StackError naming the (masked) URL."""
    from shared.redis_conn import connect as open_client
    from shared.runtime import _mask_url

    url, password = redis_target(layout)
    client = open_client(url, password)
    try:
        client.ping()
    except redis.RedisError as exc:
        hint = "" if layout.read_stack().get("redis_url") is None else " (is the stack up? polybot up)"
        raise StackError(f"cannot reach Redis at {_mask_url(url)}: {exc}{hint}") from None
    return client
