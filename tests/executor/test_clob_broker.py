"""ClobBroker with the real py-clob-client-v2 (signing, L2 headers) over a fake urllib3 pool."""

from __future__ import annotations

from decimal import Decimal

import pytest
from urllib3.exceptions import NewConnectionError, ProtocolError, ReadTimeoutError

from shared import log as jsonlog
from shared.config import load
from services.executor.brokers import FOK_KILLED, Fill, Rejection, VenueUnavailable
from py_clob_client_v2 import MarketOrderArgs, OrderType

from services.executor.clob_broker import ClobBroker
from services.executor.market_rules import KEEP_MARKETS
from services.executor.signing import body_to_signed, order_hash, signed_to_body
from services.executor.config import ExecutorConfig
from services.executor.main import make_broker
from tests import stubs
from tests.executor import fake_clob
from tests.executor.fake_clob import FakeClob
from tests.executor.helpers import submit_order

SIM_ENV = {"VENUE": "sim", "CLOCK": "sim", "CLOB_URL": "http://127.0.0.1:9", "SIM_CONTROL_URL": "http://127.0.0.1:9/sim"}


def broker_on(fake: FakeClob, **env) -> ClobBroker:
    cfg = load(ExecutorConfig, {**SIM_ENV, **env})
    broker = make_broker(cfg, pool=fake.pool())
    broker.delayed_poll_s, broker.sleep = 0.5, lambda s: None
    return broker


def cmd(amount="10"):
    return submit_order(amount=amount, condition_id=fake_clob.CONDITION)


def test_prepare_signs_a_v2_fok_buy_at_the_decision_book_price_with_its_hash_as_id():
    # Arrange
    fake = FakeClob()
    broker = broker_on(fake)
    # Act
    order = broker.prepare(cmd("10"))
    # Assert: $10 at 0.51 -> maker 10_000_000, taker floor(10/0.51, 4 dp) = 19.6078 shares
    assert (order.body["makerAmount"], order.body["takerAmount"], order.body["side"]) == ("10000000", "19607800", 0)
    assert order.order_id == order_hash(broker.client, body_to_signed(order.body), False, 137)
    assert order.order_id.startswith("0x") and len(order.order_id) == 66
    # one /clob-markets call gives the tick and neg-risk flag: no /markets-by-token, /book or /version
    assert fake.calls == ["POST /auth/api-key", f"GET /clob-markets/{fake_clob.CONDITION}"]


def test_order_hash_depends_on_the_neg_risk_exchange():
    plain, neg = broker_on(FakeClob()), broker_on(FakeClob(neg_risk=True))
    order = plain.prepare(cmd())
    neg.prepare(cmd())
    assert order_hash(neg.client, body_to_signed(order.body), True, 137) != order.order_id


def test_signing_is_deterministic_per_order_key():
    first, second = broker_on(FakeClob()), broker_on(FakeClob())
    c = cmd()
    assert first.prepare(c) == second.prepare(c)  # same body, same salt, same id
    assert first.prepare(submit_order(interval=2, condition_id=fake_clob.CONDITION)).order_id != first.prepare(c).order_id


def test_signed_order_is_what_the_sdk_create_market_order_builds_but_for_salt_and_time():
    broker = broker_on(FakeClob())
    c = cmd("10")
    ours = broker.prepare(c).body
    broker.client.get_clob_market_info(fake_clob.CONDITION)  # the SDK's own caches, for its builder
    sdk = signed_to_body(broker.client.create_market_order(
        MarketOrderArgs(token_id="111", amount=10.0, side="BUY", price=0.51, order_type=OrderType.FOK)))
    volatile = {"salt", "timestamp", "signature"}
    assert {k: v for k, v in ours.items() if k not in volatile} == {k: v for k, v in sdk.items() if k not in volatile}
    assert ours["timestamp"] == str(c.decided_at_ns // 1_000_000)


def test_matched_response_is_a_fill_with_the_fee_at_the_average_price():
    fake = FakeClob()
    fake.post_answers = [(200, {"success": True, "errorMsg": "", "orderID": "", "status": "matched",
                                "makingAmount": "10", "takingAmount": "19.6078"})]
    broker = broker_on(fake)
    c = cmd()
    order = broker.prepare(c)
    result = broker.send(c, order)
    assert isinstance(result, Fill) and result.order_id == order.order_id
    assert (result.stake, result.shares) == (Decimal("10"), Decimal("19.6078"))
    assert result.avg_price == Decimal("0.510001")  # 10 / 19.6078, 6 dp
    assert result.fee == Decimal("0.34300")  # 19.6078 * 0.07 * p(1-p) at p = 10 / 19.6078
    assert fake.posted[0]["orderType"] == "FOK" and fake.posted[0]["owner"] == fake_clob.API_KEY


def test_resend_posts_the_identical_signed_order():
    fake = FakeClob()
    broker = broker_on(fake)
    c = cmd()
    order = broker.prepare(c)
    broker.send(c, order)
    broker.send(c, order)
    assert fake.posted[0] == fake.posted[1]


@pytest.mark.parametrize("status, body", [
    (400, {"error": FOK_KILLED}),
    (500, {"error": "FOK orders are filled or killed"}),
    (200, {"success": False, "errorMsg": "not enough balance / allowance", "orderID": ""}),
    (400, {"error": "invalid amount for a marketable BUY order ($0.5), min size: $1"}),
])
def test_permanent_venue_answers_are_rejections_with_the_venue_reason(status, body):
    fake = FakeClob()
    fake.post_answers = [(status, dict(body))]
    broker = broker_on(fake)
    c = cmd()
    result = broker.send(c, broker.prepare(c))
    assert isinstance(result, Rejection) and result.reason == (body.get("error") or body["errorMsg"])


@pytest.mark.parametrize("answer, maybe_sent, retry_after", [
    ((500, {"error": "order timed out"}), True, None),
    ((503, {"error": "Trading is currently disabled"}), True, None),
    ((429, {"error": "Too Many Requests", "_headers": {"Retry-After": "2"}}), True, 2.0),
    (ReadTimeoutError(None, "/order", "slow"), True, None),
    (ProtocolError("Connection aborted.", ConnectionResetError()), True, None),
    (NewConnectionError(None, "Connection refused"), False, None),
])
def test_transient_failures_raise_venue_unavailable_saying_whether_it_may_be_out(answer, maybe_sent, retry_after):
    fake = FakeClob()
    fake.post_answers = [answer]
    broker = broker_on(fake)
    c = cmd()
    order = broker.prepare(c)
    with pytest.raises(VenueUnavailable) as err:
        broker.send(c, order)
    assert (err.value.maybe_sent, err.value.retry_after_s) == (maybe_sent, retry_after)


def test_duplicated_answer_looks_the_order_up():
    fake = FakeClob()
    broker = broker_on(fake)
    c = cmd()
    order = broker.prepare(c)
    fake.post_answers = [(400, {"error": f"order {order.order_id} is invalid. Duplicated."})]
    result = broker.send(c, order)
    assert isinstance(result, Fill) and fake.paths("GET /data/order/") == [f"GET /data/order/{order.order_id}"]
    assert result.stake == Decimal("10") and result.shares == Decimal("19.6078")


def test_delayed_order_is_polled_until_matched():
    fake = FakeClob()
    fake.post_answers = [(200, {"success": True, "errorMsg": "", "orderID": "", "status": "delayed",
                                "makingAmount": "", "takingAmount": ""})]
    fake.order_answers = [(200, {"id": "x", "status": "DELAYED", "size_matched": "0"})]
    broker = broker_on(fake)
    c = cmd()
    result = broker.send(c, broker.prepare(c))
    assert isinstance(result, Fill) and len(fake.paths("GET /data/order/")) == 2


def test_lookup_maps_not_found_killed_and_pending():
    fake = FakeClob()
    broker = broker_on(fake)
    c = cmd()
    order = broker.prepare(c)
    fake.order_answers = [
        (404, {"error": "order not found"}),
        (200, {"id": order.order_id, "status": f"CANCELED_{FOK_KILLED}", "size_matched": "0"}),
        (200, {"id": order.order_id, "status": "LIVE", "size_matched": "0"}),
        (502, {"error": "Bad Gateway"}),
    ]
    assert broker.lookup(c, order) is None
    assert broker.lookup(c, order) == Rejection(order_id=order.order_id, reason=FOK_KILLED)
    with pytest.raises(VenueUnavailable):
        broker.lookup(c, order)
    with pytest.raises(VenueUnavailable):
        broker.lookup(c, order)


def test_market_rules_are_kept_for_the_last_few_markets_only():
    # The SDK's get_clob_market_info caches per token forever (about 8 MB over a month
    # of windows); the broker keeps its own rules for a few markets and leaves the
    # SDK's caches empty.
    fake = FakeClob()
    fake.markets = {f"0x{n:04x}" for n in range(40)}
    broker = broker_on(fake)
    for condition in sorted(fake.markets):
        broker.warm(quote(condition))
        broker.prepare(submit_order(amount="10", condition_id=condition))
    assert len(fake.paths("GET /clob-markets")) == 40  # each market once: the order path asked nothing
    assert len(broker.markets) == KEEP_MARKETS
    assert broker.client._ClobClient__tick_sizes == {} and broker.client._ClobClient__neg_risk == {}


def test_an_order_for_a_token_outside_its_market_is_refused_before_signing():
    from services.executor.brokers import OrderRefused

    fake = FakeClob()
    broker = broker_on(fake)
    with pytest.raises(OrderRefused, match="token 999 is not an outcome"):
        broker.prepare(submit_order(token="999", book=stubs.book(token="999"), condition_id=fake_clob.CONDITION))
    assert fake.posted == []


def test_prepare_refuses_an_empty_book_without_calling_the_venue():
    from services.executor.brokers import OrderRefused

    fake = FakeClob()
    broker = broker_on(fake)
    with pytest.raises(OrderRefused):
        broker.prepare(submit_order(book=stubs.book(asks=()), condition_id=fake_clob.CONDITION))
    assert fake.paths("GET /clob-markets") == []


def test_derived_api_secrets_are_registered_for_log_redaction():
    broker_on(FakeClob())
    assert fake_clob.API_SECRET not in jsonlog.redact(f"secret={fake_clob.API_SECRET}")
    assert fake_clob.API_PASSPHRASE not in jsonlog.redact(fake_clob.API_PASSPHRASE)


def quote(condition_id: str = fake_clob.CONDITION):
    from shared import messages as m

    return m.MarketQuote(**m.header(key=("quote", condition_id), ts_event=1, ts_init=1), slug="btc-updown-5m-1",
                         condition_id=condition_id, window_start=stubs.T0, window_end=stubs.T0 + 300,
                         up=stubs.book(token="111"), down=stubs.book("Down", token="222"),
                         tick_size=Decimal("0.01"), min_order_size=Decimal("5"),
                         fee=m.FeeSchedule(rate=Decimal("0.07")), accepting_orders=True)


def test_a_quote_loads_the_market_ahead_so_the_order_path_asks_the_venue_nothing_more():
    fake = FakeClob()
    broker = broker_on(fake)
    broker.warm(quote())
    assert fake.paths("GET /clob-markets") == [f"GET /clob-markets/{fake_clob.CONDITION}"]
    broker.prepare(cmd("10"))
    assert fake.paths("GET") == [f"GET /clob-markets/{fake_clob.CONDITION}"]  # nothing new


def test_a_market_the_venue_cannot_describe_yet_is_left_to_the_order_path():
    fake = FakeClob()
    broker = broker_on(fake)
    broker.warm(quote("0xunknown"))  # 404: logged, not raised
    broker.prepare(cmd("10"))
    assert fake.paths("GET /clob-markets") == ["GET /clob-markets/0xunknown",
                                               f"GET /clob-markets/{fake_clob.CONDITION}"]
