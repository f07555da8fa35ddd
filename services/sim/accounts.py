"""Paper accounts: pUSD balance and outcome-token positions per trading address.

Every address starts with ``paper_balance`` pUSD. Buys pay notional + fee, sells receive
notional − fee. Resolved positions are not redeemed automatically (nor are they on the
real venue); positions simply stay, so a SELL after the window end cannot happen anyway.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from decimal import Decimal

UNIT = Decimal(1_000_000)
UNLIMITED_ALLOWANCE = str(2**256 - 1)
EXCHANGE_SPENDERS = ("0xE111180000d2663C0091e4f400237545B87B996B",
                     "0xe2222d279d744050d28e00520010520000310F59")


@dataclass
class Account:
    collateral: Decimal
    positions: dict = field(default_factory=dict)  # token id → shares


class Accounts:
    def __init__(self, paper_balance: Decimal):
        self._paper_balance = paper_balance
        self._accounts: dict[str, Account] = {}
        self._lock = threading.Lock()

    def account(self, address: str) -> Account:
        with self._lock:
            return self._accounts.setdefault(address.lower(), Account(self._paper_balance))

    def can_afford(self, address: str, pusd: Decimal) -> bool:
        return self.account(address).collateral >= pusd

    def holds(self, address: str, token: str, shares: Decimal) -> bool:
        return self.account(address).positions.get(token, Decimal(0)) >= shares

    def settle(self, address: str, token: str, shares_delta: Decimal, pusd_delta: Decimal) -> None:
        account = self.account(address)
        with self._lock:
            account.collateral += pusd_delta
            account.positions[token] = account.positions.get(token, Decimal(0)) + shares_delta

    def balance_allowance(self, address: str, asset_type: str, token: str | None) -> dict:
        """``GET /balance-allowance``: base units (6 decimals) as strings."""
        account = self.account(address)
        if asset_type.upper() == "CONDITIONAL":
            amount = account.positions.get(token or "", Decimal(0))
        else:
            amount = account.collateral
        units = str(int(amount * UNIT))
        return {"balance": units, "allowance": UNLIMITED_ALLOWANCE,
                "allowances": {spender: UNLIMITED_ALLOWANCE for spender in EXCHANGE_SPENDERS}}
