"""The executor's record of each order, in Redis: the duplicate-order guard.

One JSON value per order_key at ``streams.executor_order_key(order_key)`` (readable with
``redis-cli GET``).  Its life:

1. ``create`` (SET NX) stores the command and the prepared (signed) order in state
   ``in_flight`` BEFORE anything is sent.  NX makes the first writer win: a concurrent
   or later delivery adopts the stored order instead of signing a new one, so an
   order_key can only ever reach the venue as ONE order id.
2. ``attempts`` is bumped before every send, so a restart knows an order may be out
   there and looks it up before sending again: ``create`` stores the first send's
   (attempts=1) when the order goes out at once, ``save`` every later one.
3. ``finish`` stores the final event (filled/rejected) before the handler returns it;
   any redelivery re-emits exactly that event.  Writes are compare-and-set (one Lua
   script, one round trip): a final record is never overwritten, so the first final
   event is the only one.
"""

from __future__ import annotations

from typing import Literal

import msgspec
import redis

from shared import streams
from shared.messages import OrderFilled, OrderRejected, SubmitOrder
from services.executor.brokers import PreparedOrder

State = Literal["in_flight", "filled", "rejected"]
FINAL_STATES = ("filled", "rejected")


class OrderRecord(msgspec.Struct, kw_only=True):
    order_key: str
    state: State
    broker: str
    command: SubmitOrder
    order: PreparedOrder | None = None
    attempts: int = 0           # sends so far (all deliveries together)
    last_error: str = ""
    event: OrderFilled | OrderRejected | None = None
    updated_ns: int = 0

    @property
    def final(self) -> bool:
        return self.state in FINAL_STATES


class AlreadyFinal(Exception):
    """The record got its final result elsewhere; ``record.event`` is THE event."""

    def __init__(self, record: OrderRecord):
        super().__init__(record.order_key)
        self.record = record


_ENCODER = msgspec.json.Encoder(decimal_format="string")
_DECODER = msgspec.json.Decoder(OrderRecord)

# Overwrite the record unless the stored one is final; a final one is returned instead.
# Atomic in Redis, where a WATCH/GET/MULTI..EXEC took three round trips.
_SAVE_UNLESS_FINAL = """
local stored = redis.call('GET', KEYS[1])
if stored then
  local state = cjson.decode(stored)['state']
  for i = 3, #ARGV do  -- ARGV: the record, its TTL, then the final states
    if state == ARGV[i] then return stored end
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return false
"""


class OrderRecords:
    def __init__(self, client: redis.Redis, *, ttl_s: int = 30 * 86_400):
        self.redis = client
        self.ttl_s = ttl_s
        self._save_unless_final = client.register_script(_SAVE_UNLESS_FINAL)

    def get(self, order_key: str) -> OrderRecord | None:
        raw = self.redis.get(streams.executor_order_key(order_key))
        return _DECODER.decode(raw) if raw else None

    def create(self, record: OrderRecord) -> OrderRecord:
        """Store a new record unless one exists; return the one that is stored."""
        key = streams.executor_order_key(record.order_key)
        if self.redis.set(key, _ENCODER.encode(record), nx=True, ex=self.ttl_s):
            return record
        existing = self.get(record.order_key)
        if existing is None:  # expired between the two calls: try once more
            return self.create(record)
        return existing

    def save(self, record: OrderRecord) -> None:
        """Overwrite an in_flight record; raise AlreadyFinal if it was finished meanwhile
        (by a reconciliation or another replica): a final record is never replaced."""
        key = streams.executor_order_key(record.order_key)
        stored = self._save_unless_final(keys=[key], args=[_ENCODER.encode(record), self.ttl_s, *FINAL_STATES])
        if stored:
            raise AlreadyFinal(_DECODER.decode(stored))

    def finish(self, record: OrderRecord, event: OrderFilled | OrderRejected, now_ns: int) -> OrderRecord:
        final = msgspec.structs.replace(
            record, state="filled" if isinstance(event, OrderFilled) else "rejected",
            event=event, updated_ns=now_ns)
        self.save(final)
        return final

    def in_flight(self) -> list[OrderRecord]:
        """Every record still waiting for the venue's final answer (for reconciliation)."""
        found = []
        for key in self.redis.scan_iter(match=streams.executor_order_key("*"), count=500):
            raw = self.redis.get(key)
            if raw:
                record = _DECODER.decode(raw)
                if not record.final:
                    found.append(record)
        return sorted(found, key=lambda r: r.command.ts_init)
