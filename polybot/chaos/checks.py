"""What a disturbed run must still satisfy, read from the venue and the ledger's files."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

ACCEPTED = ("matched", "live")  # the venue took the order (a FOK is matched or killed)
DUPLICATED = "Duplicated"


@dataclass(frozen=True)
class VenueCheck:
    """The simulator's order log (``GET {control}/orders``) grouped by window slug."""

    accepted_per_window: dict[str, int]
    duplicates: int        # re-sends of the same signed order, refused as "Duplicated": harmless
    other_refusals: int    # refused for another reason (FOK killed, market closed, ...)
    faults: int            # attempts hit by an injected fault (500, 429, timeout)

    @property
    def at_most_one_per_window(self) -> bool:
        return all(n <= 1 for n in self.accepted_per_window.values())

    @property
    def accepted(self) -> int:
        return sum(self.accepted_per_window.values())


def venue_check(orders: list[dict]) -> VenueCheck:
    accepted: Counter[str] = Counter()
    duplicates = refusals = faults = 0
    for order in orders:
        if order["result"] in ACCEPTED:
            accepted[order["slug"] or "?"] += 1
        elif order["result"] == "fault":
            faults += 1
        elif DUPLICATED in (order.get("error") or ""):
            duplicates += 1
        else:
            refusals += 1
    return VenueCheck(dict(accepted), duplicates, refusals, faults)


def missing_intervals(records: list[dict], intervals: int, halted: bool) -> list[int]:
    """Intervals without exactly one record (a halted run may stop early, never skip one)."""
    numbers = [r["interval_number"] for r in records]
    last = max(numbers, default=0) if halted else intervals
    expected = list(range(1, last + 1))
    counts = Counter(numbers)
    return [k for k in expected if counts[k] != 1]


def compare_files(expected: dict[str, bytes], actual: dict[str, bytes]) -> dict[str, bool]:
    return {name: actual.get(name) == data for name, data in expected.items()}


def first_difference(expected: bytes, actual: bytes) -> str:
    """The first differing line, for a readable failure message."""
    for number, (a, b) in enumerate(zip(expected.splitlines(), actual.splitlines()), 1):
        if a != b:
            return f"line {number}:\n  expected {a[:400]!r}\n  actual   {b[:400]!r}"
    return f"lengths differ: {len(expected.splitlines())} vs {len(actual.splitlines())} lines"
