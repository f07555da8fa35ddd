"""The only code that touches Redis streams.

Entries are ``{"type": <message tag>, "data": <msgpack>, "wall_ns": <publish time>}`` so
``redis-cli XRANGE`` shows what they are and when they were published (wall clock, ns;
``polybot bench`` reads hop latencies off it; delivery never looks at it).  Delivery is
at-least-once through consumer groups; a handler's outputs and the ack of its input are
committed in one server-side script, so a crash either loses both (the input is
redelivered and the same deterministic ids are produced) or keeps both.

A commit may also set keys (``KeyValue``): the latest value of something readers GET
rather than replay, such as the ledger's state and the clock's run plan.  Set in the
same script as the messages that announce them, a key never runs ahead of or behind
its stream, and costs no round trip of its own.

Each message id enters a stream at most once: the commit adds a message only if its
"published" marker (``streams.published_key``) was not set yet, and sets it in the same
step.  A producer that publishes again after a restart (the clock's current tick, the
ledger's state, a fill the executor reconciled) therefore adds nothing, and consumers
need no check of their own before handling: one round trip less per hop.  Entries that
cannot be decoded, or that keep failing, go to ``<stream>:dlq``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any, NamedTuple

import msgspec
import redis

from shared import messages, streams
from shared.messages import Msg

log = logging.getLogger("polybot.bus")


class KeyValue(NamedTuple):
    """A key a commit sets (always: it holds the latest value, not a message)."""
    key: str
    value: bytes


Out = tuple[str, Msg] | KeyValue  # (stream, message) to publish, or a key to set
PUBLISHED_TTL_S = 7 * 24 * 3600  # far longer than any run, restart or redelivery

# KEYS: (marker, stream) per output, then each key to set, then the stream of each ack.
# ARGV: ttl, maxlen, outputs, sets, acks, then per output its field count and fields,
# then each key's value, then per ack its group and entry id.  Returns the entry id of
# each output, or false for a message id the stream already had.
_COMMIT_SCRIPT = """
local ttl, maxlen = ARGV[1], ARGV[2]
local n_out, n_set, n_ack = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local arg, ids = 6, {}
for i = 1, n_out do
    local n_fields = tonumber(ARGV[arg])
    local entry = {}
    for j = 1, n_fields do entry[j] = ARGV[arg + j] end
    arg = arg + n_fields + 1
    if redis.call('SET', KEYS[2 * i - 1], 1, 'NX', 'EX', ttl) then
        ids[i] = redis.call('XADD', KEYS[2 * i], 'MAXLEN', '~', maxlen, '*', unpack(entry))
    else
        ids[i] = false
    end
end
for i = 1, n_set do
    redis.call('SET', KEYS[2 * n_out + i], ARGV[arg])
    arg = arg + 1
end
for i = 1, n_ack do
    redis.call('XACK', KEYS[2 * n_out + n_set + i], ARGV[arg], ARGV[arg + 1])
    arg = arg + 2
end
return ids
"""


@dataclass(frozen=True, slots=True)
class Entry:
    stream: str
    entry_id: str
    msg: Msg


class Bus:
    """Publishing side, shared by producers and consumers."""

    def __init__(self, client: redis.Redis, *, maxlen: int = 100_000):
        self.redis = client
        self.maxlen = maxlen
        self._commit = client.register_script(_COMMIT_SCRIPT)

    def publish(self, stream: str, msg: Msg) -> str | None:
        """XADD ``msg`` unless ``stream`` already has its id; the entry id, or None."""
        return self.commit([(stream, msg)])[0]

    def commit(self, outputs: Iterable[Out], acks: Sequence[tuple[str, str, str]] = ()) -> list[str | None]:
        """XADD every message whose id is new to its stream, SET every KeyValue and
        XACK every (stream, group, entry_id), atomically.  Returns each message's entry
        id (None for a copy of a message the stream already had), in order."""
        messages_out: list[tuple[str, Msg]] = []
        sets: list[KeyValue] = []
        for out in outputs:
            (sets if isinstance(out, KeyValue) else messages_out).append(out)
        keys: list[str] = []
        args: list = [PUBLISHED_TTL_S, self.maxlen, len(messages_out), len(sets), len(acks)]
        wall_ns = time.time_ns()
        for stream, msg in messages_out:
            entry = fields(msg, wall_ns)
            keys += [streams.published_key(stream, str(msg.id)), stream]
            args.append(2 * len(entry))
            args.extend(chain.from_iterable(entry.items()))
        for key, value in sets:
            keys.append(key)
            args.append(value)
        for stream, group, entry_id in acks:
            keys.append(stream)
            args += [group, entry_id]
        ids = self._commit(keys=keys, args=args) if keys else []
        return [_text(i) if i else None for i in ids]


def fields(msg: Msg, wall_ns: int | None = None) -> dict[str, bytes | str | int]:
    """An entry: the readable type, the msgpack message and, when given, the wall-clock
    time it was published (``wall_ns``, ns; hop latency is measured with it)."""
    out: dict[str, bytes | str | int] = {"type": messages.type_name(msg), "data": messages.encode(msg)}
    if wall_ns is not None:
        out["wall_ns"] = wall_ns
    return out


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class Consumer:
    """One replica of one consumer group, reading one or more streams.

    ``group`` is the consuming service's name; ``name`` is a stable replica name
    (``risk-1``), never a random one, so a restarted replica finds its own pending
    entries again.
    """

    def __init__(self, bus: Bus, group: str, name: str, stream_names: Sequence[str], *,
                 block_ms: int = 1000, count: int = 64, claim_idle_ms: int = 60_000,
                 max_deliveries: int = 5, decode_as: Mapping[str, Any] | None = None):
        self.bus = bus
        self.redis = bus.redis
        self.group = group
        self.name = name
        self.streams = tuple(stream_names)
        # A consumer may read a stream as a view of its message type (the predictor
        # leaves MarketData's candles encoded); every other stream decodes as published.
        self._decoders = {**messages.DECODERS, **{stream: msgspec.msgpack.Decoder(kind)
                                                  for stream, kind in (decode_as or {}).items()}}
        self.block_ms = block_ms
        self.count = count
        self.claim_idle_ms = claim_idle_ms
        self.max_deliveries = max_deliveries
        self._backlog = True  # re-read our own pending entries before new ones

    # -- setup -------------------------------------------------------------------
    def ensure_groups(self) -> None:
        """XGROUP CREATE ... 0 MKSTREAM, ignoring only BUSYGROUP."""
        for stream in self.streams:
            try:
                self.redis.xgroup_create(stream, self.group, id="0", mkstream=True)
            except redis.ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    # -- reading -----------------------------------------------------------------
    def read(self, block_ms: int | None = None) -> list[Entry]:
        """Our pending entries first (after a restart or a failure), then new ones."""
        if self._backlog:
            entries = self._read({s: "0" for s in self.streams}, block_ms=None)
            if entries:
                return self._screen_redeliveries(entries)
            self._backlog = False
        block = self.block_ms if block_ms is None else block_ms
        return self._read({s: ">" for s in self.streams}, block_ms=block)

    def retry_pending(self) -> None:
        """After a failed handler, or a lost connection: our pending entries are read
        again before new ones."""
        self._backlog = True

    def _read(self, ids: dict[str, str], block_ms: int | None) -> list[Entry]:
        try:
            reply = self.redis.xreadgroup(self.group, self.name, ids, count=self.count,
                                          block=block_ms if block_ms else None)
        except redis.ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            # Redis restarted or the stream was deleted: recreate and read again later.
            log.warning("consumer group missing, recreating", extra={"data": {"group": self.group}})
            self.ensure_groups()
            return []
        return [e for e in self._decode_reply(reply) if e is not None]

    def _decode_reply(self, reply) -> list[Entry | None]:
        out: list[Entry | None] = []
        for stream, items in reply or []:
            stream = _text(stream)
            for entry_id, data in items:
                out.append(self._decode(stream, _text(entry_id), data))
        return out

    def _decode(self, stream: str, entry_id: str, data: dict | None) -> Entry | None:
        if not data:  # a pending entry that was trimmed away meanwhile
            self.redis.xack(stream, self.group, entry_id)
            return None
        try:
            payload = data.get(b"data", data.get("data"))
            if payload is None:
                raise msgspec.DecodeError("entry has no 'data' field")
            return Entry(stream, entry_id, self._decoders[stream].decode(payload))
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            self.dead_letter(stream, entry_id, data, f"undecodable: {exc}")
            return None

    def _screen_redeliveries(self, entries: list[Entry]) -> list[Entry]:
        """Dead-letter entries delivered more than ``max_deliveries`` times."""
        keep = []
        for entry in entries:
            info = self.redis.xpending_range(entry.stream, self.group, min=entry.entry_id,
                                             max=entry.entry_id, count=1)
            delivered = info[0]["times_delivered"] if info else 0
            if delivered > self.max_deliveries:
                raw = self.redis.xrange(entry.stream, entry.entry_id, entry.entry_id)
                self.dead_letter(entry.stream, entry.entry_id, raw[0][1] if raw else {},
                                 f"delivered {delivered} times without success")
            else:
                keep.append(entry)
        return keep

    # -- acknowledging / dead letters ----------------------------------------------
    def commit(self, entry: Entry, outputs: Iterable[Out] = ()) -> None:
        """Publish the handler's outputs and ack its input, atomically."""
        self.bus.commit(outputs, [(entry.stream, self.group, entry.entry_id)])

    def dead_letter(self, stream: str, entry_id: str, data: dict, error: str) -> None:
        record = {"stream": stream, "entry_id": entry_id, "group": self.group, "error": error[:2000]}
        for key, value in (data or {}).items():
            record[f"orig_{_text(key)}"] = value
        pipe = self.redis.pipeline(transaction=True)
        pipe.xadd(streams.dlq(stream), record, maxlen=self.bus.maxlen, approximate=True)
        pipe.xack(stream, self.group, entry_id)
        pipe.execute()
        log.error("dead-lettered an entry", extra={"data": {"stream": stream, "entry_id": entry_id,
                                                           "error": error[:300]}})

    # -- recovery of other replicas' abandoned entries ------------------------------
    def sweep(self) -> int:
        """XAUTOCLAIM entries idle longer than ``claim_idle_ms``, following the cursor
        to the end; claimed entries become our backlog. Returns how many were claimed."""
        claimed = 0
        for stream in self.streams:
            cursor = "0-0"
            while True:
                # (redis-py drops the cursor from JUSTID replies, so take full entries)
                reply = self.redis.xautoclaim(stream, self.group, self.name, self.claim_idle_ms,
                                              start_id=cursor, count=100)
                cursor, ids = _text(reply[0]), reply[1]
                claimed += len(ids)
                if cursor == "0-0":
                    break
        if claimed:
            self._backlog = True
        return claimed
