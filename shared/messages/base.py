"""The common header every stream message carries, and deterministic message ids.

Messages are frozen, tagged msgspec Structs (the tag is the class name, stored in the
``type`` field), so one decoder per stream can tell them apart.  Schema evolution rule:
new fields go LAST and have defaults; never change a field's type or a tag.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import msgspec

# A fixed namespace makes ids derived from (run, interval, kind) identical across
# restarts, so a redelivered input produces the *same* output id and consumers can
# drop the duplicate.
ID_NAMESPACE = uuid.UUID("6f1d1b8e-3c3a-4c55-9a55-70d1c9b0b7a1")


class Msg(msgspec.Struct, frozen=True, kw_only=True, tag=True, tag_field="type"):
    """Header: id, ts_event/ts_init (UTC nanoseconds), correlation_id (cause's id)."""

    id: uuid.UUID
    ts_event: int
    ts_init: int
    correlation_id: uuid.UUID | None = None


class Data(msgspec.Struct, frozen=True, kw_only=True):
    """A value nested inside messages (no header, no tag)."""


def message_id(*parts: object) -> uuid.UUID:
    """A deterministic id: the same parts always give the same id."""
    return uuid.uuid5(ID_NAMESPACE, ":".join(str(p) for p in parts))


def header(*, key: tuple, ts_event: int, ts_init: int, cause: Msg | None = None) -> dict:
    """Keyword arguments for a message's header fields.

    ``key`` names the message uniquely within the system (for example
    ``("signal", run_id, interval)``) and becomes its deterministic id.
    """
    return {
        "id": message_id(*key),
        "ts_event": ts_event,
        "ts_init": ts_init,
        "correlation_id": cause.id if cause is not None else None,
    }


ZERO = Decimal(0)
