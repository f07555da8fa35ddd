"""Bad input: property-based fuzzing of every external payload parser and every stream
decoder.  Each input is either understood or refused with the parser's own error,
never anything else; an undecodable stream entry is dead-lettered with its reason and
the next good entry is handled.

CI runs ``POLYBOT_FUZZ_EXAMPLES`` examples per property (default 200: seconds);
``POLYBOT_FUZZ_EXAMPLES=10000 pytest tests/reliability/test_fuzz.py`` is the long run.
"""

from __future__ import annotations

import os
import typing

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.executor.brokers import Fill, PreparedOrder, Rejection, VenueUnavailable
from services.executor.clob_broker import ClobBroker
from services.executor.venue_client import VenueHttpError, error_text
from services.resolver.jobs import resolved_outcome
from shared import messages, streams
from shared.bus import Bus
from shared.runtime import RuntimeConfig, ServiceLoop
from tests.executor.helpers import submit_order
from tests.feed.test_parsers_fuzz import PARSERS, check, json_values, mutated
from tests.feed.servers import fixture
from tests import stubs

EXAMPLES = int(os.environ.get("POLYBOT_FUZZ_EXAMPLES", "200"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much])
json_objects = st.dictionaries(st.text(max_size=8), json_values, max_size=6)


# -- external payloads -------------------------------------------------------------------
@FUZZ
@given(data=st.data(), name=st.sampled_from(sorted(PARSERS)))
def test_feed_parsers_refuse_bad_payloads_only_with_invalid_payload(data, name):
    _parse, _types, path = PARSERS[name]
    payload = data.draw(mutated(fixture(path)) if path and data.draw(st.booleans()) else json_values)
    check(name, payload)


gamma_markets = st.fixed_dictionaries({}, optional={
    "closed": json_values, "umaResolutionStatus": json_values | st.just("resolved"),
    "outcomes": json_values | st.sampled_from(['["Up","Down"]', '["Down","Up"]']),
    "outcomePrices": json_values | st.sampled_from(['["1","0"]', '["0","1"]', '["0.5","0.5"]', '["1e999","0"]'])})


@FUZZ
@given(market=gamma_markets | json_objects)
def test_resolver_reads_any_market_as_an_outcome_or_a_value_error(market):
    try:
        outcome = resolved_outcome(market)
    except ValueError:
        return
    assert outcome in ("Up", "Down", None, False)


class LookupReturns:
    """The CLOB client as the broker's lookups see it: answers with a fuzzed order."""

    def __init__(self, answer):
        self.answer = answer

    def get_order(self, order_id):
        return self.answer


def broker_answer(call) -> Fill | Rejection | None:
    """The broker's answer, or None for VenueUnavailable; anything else fails the test."""
    try:
        answer = call()
    except VenueUnavailable:
        return None
    assert isinstance(answer, (Fill, Rejection)), answer
    if isinstance(answer, Fill):
        assert answer.stake > 0 and answer.shares > 0 and answer.avg_price > 0, answer
    return answer


COMMAND = submit_order()
ORDER = PreparedOrder(order_id="0x" + "ab" * 32, body={"makerAmount": "10000000", "takerAmount": "19607800"})
decimals = st.sampled_from(["5", "0", "-1", "1e999", "NaN", "", "9.803921", "abc"])
post_answers = st.fixed_dictionaries({}, optional={
    "success": json_values, "errorMsg": json_values, "orderID": json_values,
    "status": json_values | st.sampled_from(["matched", "unmatched", "live", "delayed"]),
    "makingAmount": json_values | decimals, "takingAmount": json_values | decimals})
order_answers = st.fixed_dictionaries({}, optional={
    "status": json_values | st.sampled_from(["MATCHED", "LIVE", "CANCELED_MARKET_RESOLVED", "UNMATCHED"]),
    "id": json_values, "size_matched": json_values | decimals})


@FUZZ
@given(response=post_answers | json_values, looked_up=order_answers | json_values)
def test_executor_reads_any_order_response_as_fill_rejection_or_unknown(response, looked_up):
    broker = ClobBroker(LookupReturns(looked_up), chain_id=137, delayed_poll_s=0, sleep=lambda s: None)
    broker_answer(lambda: broker._answer_from_post(COMMAND, ORDER, response))
    if isinstance(looked_up, dict):
        broker_answer(lambda: broker._answer_from_order(COMMAND, ORDER, looked_up))


@FUZZ
@given(status=st.none() | st.integers(100, 599), text=st.text(max_size=80) | st.sampled_from(
    ["order 0x1 is invalid. Duplicated.", "FOK orders are fully filled or killed"]),
    looked_up=order_answers | st.none())
def test_executor_reads_any_error_answer_as_fill_rejection_or_unknown(status, text, looked_up):
    broker = ClobBroker(LookupReturns(looked_up), chain_id=137, delayed_poll_s=0, sleep=lambda s: None)
    broker._refresh_credentials = lambda: None  # a 401 would log in again: not what is fuzzed here
    broker_answer(lambda: broker._answer_from_error(COMMAND, ORDER, VenueHttpError(status, text)))


@FUZZ
@given(status=st.integers(400, 599), body=st.binary(max_size=200) | json_values.map(
    lambda v: msgspec.json.encode(v) if not isinstance(v, float) else b"1.5"))
def test_error_text_of_any_error_body_is_a_string(status, body):
    assert isinstance(error_text(status, body), str)


# -- stream decoders ------------------------------------------------------------------------
msgpack_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats() | st.text(max_size=12)
    | st.binary(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12)


def message_types(stream: str) -> tuple[type, ...]:
    kind = messages.STREAM_TYPES[stream]
    return typing.get_args(kind) or (kind,)


@st.composite
def tagged_maps(draw: st.DrawFn, stream: str) -> dict:
    """A msgpack map with a valid ``type`` tag, the type's own field names (some of them)
    with random values, and a few random extra keys."""
    cls = draw(st.sampled_from(message_types(stream)))
    names = [f.encode_name for f in msgspec.structs.fields(cls)]
    chosen = draw(st.lists(st.sampled_from(names), unique=True, max_size=len(names)))
    body = {name: draw(msgpack_values) for name in chosen}
    body.update(draw(st.dictionaries(st.text(max_size=6), msgpack_values, max_size=2)))
    body["type"] = cls.__struct_config__.tag
    return body


def decode_or_refuse(stream: str, payload: bytes) -> None:
    try:
        msg = messages.decode(stream, payload)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return
    assert isinstance(msg, message_types(stream))


@FUZZ
@given(stream=st.sampled_from(sorted(messages.DECODERS)), payload=st.binary(max_size=300))
def test_stream_decoders_refuse_random_bytes_only_with_msgspec_errors(stream, payload):
    decode_or_refuse(stream, payload)


@FUZZ
@given(data=st.data(), stream=st.sampled_from(sorted(messages.DECODERS)))
def test_stream_decoders_refuse_random_tagged_maps_only_with_msgspec_errors(data, stream):
    decode_or_refuse(stream, msgspec.msgpack.encode(data.draw(tagged_maps(stream))))


class Recorder:
    name = "fuzz"
    streams = (streams.CLOCK,)

    def __init__(self):
        self.handled = []

    def handle(self, stream, msg):
        self.handled.append(msg)
        return []


@pytest.mark.integration
@settings(max_examples=max(10, EXAMPLES // 20), deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(bad=st.binary(max_size=200).map(lambda b: {"type": "IntervalTick", "data": b})
       | tagged_maps(streams.CLOCK).map(lambda d: {"type": d["type"], "data": msgspec.msgpack.encode(d)})
       | st.just({"type": "IntervalTick"}))
def test_consumer_dead_letters_a_bad_entry_with_its_reason_and_handles_the_next(real_redis, bad):
    # Arrange: a bad entry, then a good one
    real_redis.flushdb()
    try:
        messages.decode(streams.CLOCK, bad.get("data", b""))
        return  # hypothesis built a valid tick: nothing to dead-letter
    except (msgspec.DecodeError, msgspec.ValidationError):
        pass
    real_redis.xadd(streams.CLOCK, bad)
    good = stubs.tick(3)
    Bus(real_redis).publish(streams.CLOCK, good)
    handler = Recorder()

    # Act
    ServiceLoop(handler, Bus(real_redis), RuntimeConfig(block_ms=50)).run(until_idle=True)

    # Assert
    assert handler.handled == [good]
    dead = real_redis.xrange(streams.dlq(streams.CLOCK))
    assert len(dead) == 1
    error = dead[0][1][b"error"].decode()
    assert error.startswith("undecodable: ") and len(error) > len("undecodable: ") + 5, error
    assert real_redis.xpending(streams.CLOCK, "fuzz")["pending"] == 0
