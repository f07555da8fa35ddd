"""Executor settings: one frozen struct, decoded from the environment and validated once.

Which broker runs follows from (venue, trading_mode) alone; see ``main.make_broker``:

=========== ============ ===========================================================
venue       trading_mode broker
=========== ============ ===========================================================
sim         paper        ClobBroker against the simulator, with a public dev key
polymarket  paper        PaperBroker: fills against the real book, never sends orders
polymarket  live         ClobBroker against Polymarket: REAL MONEY, needs the key and
                         ``LIVE_CONFIRM=I_UNDERSTAND_REAL_MONEY``
sim         live         refused (live trading means the real venue)
=========== ============ ===========================================================

The clock follows the venue (shared ``CLOCK``): ``sim`` with VENUE=sim (plus
``SIM_CONTROL_URL``), ``live`` with VENUE=polymarket.  Secrets (``PRIVATE_KEY``,
``CLOB_API_*``) are redacted everywhere; paper modes never load them.
"""

from __future__ import annotations

import re
from typing import ClassVar, Literal
from urllib.parse import urlsplit

from shared.config import require
from shared.http import is_loopback
from shared.runtime import RuntimeConfig

LIVE_CONFIRMATION = "I_UNDERSTAND_REAL_MONEY"
POLYMARKET_CLOB_URL = "https://clob.polymarket.com"
POLYMARKET_HOSTS = frozenset({"clob.polymarket.com"})
CHAIN_IDS = (137, 80002)  # Polygon mainnet, Amoy testnet
MAX_ATTEMPTS = 3

_PRIVATE_KEY = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


class ExecutorConfig(RuntimeConfig, frozen=True, kw_only=True):
    venue: Literal["sim", "polymarket"] = "sim"
    trading_mode: Literal["paper", "live"] = "paper"
    clob_url: str = ""  # "" = Polymarket's own URL (venue=polymarket); required for venue=sim
    chain_id: int = 137
    private_key: str | None = None
    funder: str | None = None
    signature_type: int = 0  # 0 EOA, 1 POLY_PROXY, 2 POLY_GNOSIS_SAFE, 3 POLY_1271
    clob_api_key: str | None = None
    clob_api_secret: str | None = None
    clob_api_passphrase: str | None = None
    live_confirm: str = ""
    max_attempts: int = MAX_ATTEMPTS
    http_timeout_s: float = 5.0
    backoff_base_s: float = 0.2
    max_retry_after_s: float = 5.0
    delayed_poll_s: float = 3.0  # how long to follow a "delayed" order before calling it unknown
    latency_budget_ms: float = 3000.0
    record_ttl_s: int = 30 * 86_400
    reconcile_every_s: float = 30.0  # while idle: settle orders whose outcome is still unknown

    SECRETS: ClassVar[frozenset[str]] = RuntimeConfig.SECRETS | {
        "private_key", "clob_api_key", "clob_api_secret", "clob_api_passphrase"}

    @property
    def venue_url(self) -> str:
        return (self.clob_url or POLYMARKET_CLOB_URL).rstrip("/")

    @property
    def live(self) -> bool:
        return self.trading_mode == "live"

    def check(self) -> None:
        super().check()
        self._check_ranges()
        self._check_venue()
        self._check_clock()
        self._check_credentials()

    def _check_ranges(self) -> None:
        require(1 <= self.max_attempts <= MAX_ATTEMPTS, "max_attempts", self.max_attempts,
                f"1..{MAX_ATTEMPTS} (more attempts only add duplicate risk and latency)")
        require(0.1 <= self.http_timeout_s <= 60, "http_timeout_s", self.http_timeout_s, "0.1..60 seconds")
        require(0 <= self.backoff_base_s <= 10, "backoff_base_s", self.backoff_base_s, "0..10 seconds")
        require(0 <= self.max_retry_after_s <= 60, "max_retry_after_s", self.max_retry_after_s,
                "0..60 seconds")
        require(0 <= self.delayed_poll_s <= 30, "delayed_poll_s", self.delayed_poll_s, "0..30 seconds")
        require(self.latency_budget_ms > 0, "latency_budget_ms", self.latency_budget_ms, "> 0 ms")
        require(self.chain_id in CHAIN_IDS, "chain_id", self.chain_id, "137 (Polygon) or 80002 (Amoy)")
        require(0 <= self.signature_type <= 3, "signature_type", self.signature_type,
                "0 (EOA), 1 (POLY_PROXY), 2 (POLY_GNOSIS_SAFE) or 3 (POLY_1271)")
        require(self.reconcile_every_s >= 1, "reconcile_every_s", self.reconcile_every_s, ">= 1 second")
        require(self.record_ttl_s >= 86_400, "record_ttl_s", self.record_ttl_s,
                ">= 86400 s (records are the duplicate-order guard)")

    def _check_venue(self) -> None:
        url = urlsplit(self.venue_url)
        require(url.scheme in ("http", "https") and bool(url.hostname), "clob_url", self.clob_url,
                "an http(s) URL of the CLOB" + (" (the simulator's clob URL)" if self.venue == "sim" else ""))
        if self.venue == "sim":
            require(bool(self.clob_url), "clob_url", self.clob_url,
                    "the simulator's clob URL when VENUE=sim (it prints it at start)")
            require(url.hostname not in POLYMARKET_HOSTS, "clob_url", self.clob_url,
                    "the simulator's URL: VENUE=sim must never talk to the real venue")
            require(not self.live, "trading_mode", self.trading_mode,
                    "paper when VENUE=sim (live trading means VENUE=polymarket)")
        else:
            # Plain HTTP would expose the L2 headers and signed orders; only a local
            # proxy on this machine may be reached without TLS.  (With VENUE=sim only a
            # public dev key and play money cross the wire, so http is fine there.)
            require(url.scheme == "https" or is_loopback(url.hostname), "clob_url", self.clob_url,
                    "an https:// URL (plain http:// is only allowed to a loopback host)")

    def _check_clock(self) -> None:
        # (CLOCK and SIM_CONTROL_URL are the shared runtime's settings.)  Deadlines are
        # compared with the venue's own time: the simulator's, or the real one.
        expected = "sim" if self.venue == "sim" else "live"
        require(self.clock == expected, "clock", self.clock,
                f"{expected} when VENUE={self.venue} (entry deadlines follow the venue's time)")

    def _check_credentials(self) -> None:
        creds = (self.clob_api_key, self.clob_api_secret, self.clob_api_passphrase)
        require(all(creds) or not any(creds), "clob_api_key", "<redacted>",
                "CLOB_API_KEY, CLOB_API_SECRET and CLOB_API_PASSPHRASE all set, or none", secret=True)
        if not self.live:
            return  # paper never loads keys; main.make_broker warns if some are set
        require(self.live_confirm == LIVE_CONFIRMATION, "live_confirm", self.live_confirm,
                f"LIVE_CONFIRM={LIVE_CONFIRMATION} to trade real money with TRADING_MODE=live")
        require(bool(self.private_key) and bool(_PRIVATE_KEY.match(self.private_key or "")),
                "private_key", None, "a 32-byte hex private key when TRADING_MODE=live", secret=True)
        if self.signature_type != 0 or self.funder:
            require(bool(_ADDRESS.match(self.funder or "")), "funder", self.funder,
                    "the 0x address holding the funds (required unless SIGNATURE_TYPE=0)")
