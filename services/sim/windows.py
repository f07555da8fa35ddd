"""The ``btc-updown-5m-{start}`` windows: identities derived from seed + start, and lookup.

Identities are pure functions of (seed, window start), so two simulators with the same
seed agree and a restarted simulator hands out the same ids:
* token id    = uint256 from SHA-256("polybot-sim:{seed}:{start}:token:{Up|Down}"), decimal;
* condition id = "0x" + SHA-256(".. :condition") hex; question id likewise;
* outcome order: ["Down","Up"] when the first byte of SHA-256(".. :outcome-order") < 64
  (about one window in four), else ["Up","Down"]; token ids follow the same order;
* Gamma ids: market id = start / 300, event id = start / 300 − 5,000,000.
A window's market exists from ``start − lead`` (24 h by default) if the data starts no
later than the window itself.
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass

WINDOW_S = 300
SLUG_PREFIX = "btc-updown-5m-"
_SLUG = re.compile(r"^btc-updown-5m-(\d{1,12})$")


@dataclass(frozen=True)
class Window:
    start_s: int
    index: int  # 0 = the window containing the simulator's start time
    slug: str
    condition_id: str
    question_id: str
    outcomes: tuple[str, str]  # ("Up", "Down") or ("Down", "Up")
    tokens: tuple[str, str]  # same order as ``outcomes``
    market_id: str
    event_id: str
    created_ms: int

    @property
    def end_s(self) -> int:
        return self.start_s + WINDOW_S

    @property
    def start_ms(self) -> int:
        return self.start_s * 1000

    @property
    def end_ms(self) -> int:
        return self.end_s * 1000

    def token_for(self, outcome: str) -> str:
        return self.tokens[self.outcomes.index(outcome)]

    def outcome_for(self, token: str) -> str:
        return self.outcomes[self.tokens.index(token)]

    @property
    def up_token(self) -> str:
        return self.token_for("Up")

    @property
    def down_token(self) -> str:
        return self.token_for("Down")


def _digest(seed: int, start_s: int, label: str) -> bytes:
    return hashlib.sha256(f"polybot-sim:{seed}:{start_s}:{label}".encode()).digest()


def derive_window(seed: int, start_s: int, first_window_s: int, lead_s: int) -> Window:
    up = str(int.from_bytes(_digest(seed, start_s, "token:Up"), "big"))
    down = str(int.from_bytes(_digest(seed, start_s, "token:Down"), "big"))
    down_first = _digest(seed, start_s, "outcome-order")[0] < 64
    outcomes, tokens = (("Down", "Up"), (down, up)) if down_first else (("Up", "Down"), (up, down))
    return Window(
        start_s=start_s, index=(start_s - first_window_s) // WINDOW_S,
        slug=f"{SLUG_PREFIX}{start_s}",
        condition_id="0x" + _digest(seed, start_s, "condition").hex(),
        question_id="0x" + _digest(seed, start_s, "question").hex(),
        outcomes=outcomes, tokens=tokens,
        market_id=str(start_s // WINDOW_S), event_id=str(start_s // WINDOW_S - 5_000_000),
        created_ms=(start_s - lead_s) * 1000)


def window_start_containing(ms: int) -> int:
    seconds = ms // 1000
    return seconds - seconds % WINDOW_S


class WindowRegistry:
    """Windows by start, slug, token id and condition id; only those that exist yet."""

    def __init__(self, seed: int, first_window_s: int, earliest_window_s: int, lead_s: int):
        self.seed, self.first_window_s, self.lead_s = seed, first_window_s, lead_s
        self.earliest_window_s = earliest_window_s
        self._by_start: dict[int, Window] = {}
        self._by_token: dict[str, Window] = {}
        self._by_condition: dict[str, Window] = {}
        self._indexed_until_s = earliest_window_s - WINDOW_S
        self._lock = threading.Lock()

    def window(self, start_s: int) -> Window:
        found = self._by_start.get(start_s)
        if found is None:
            found = derive_window(self.seed, start_s, self.first_window_s, self.lead_s)
            self._by_start[start_s] = found
        return found

    def window_by_index(self, index: int) -> Window:
        return self.window(self.first_window_s + index * WINDOW_S)

    def exists(self, window: Window, now_ms: int) -> bool:
        return window.start_s >= self.earliest_window_s and now_ms >= window.created_ms

    def latest_start(self, now_ms: int) -> int:
        """The last window whose market has been created by ``now_ms``."""
        return window_start_containing(now_ms + self.lead_s * 1000)

    def by_slug(self, slug: str, now_ms: int) -> Window | None:
        match = _SLUG.match(slug)
        if match is None or int(match.group(1)) % WINDOW_S:
            return None
        window = self.window(int(match.group(1)))
        return window if self.exists(window, now_ms) else None

    def by_token(self, token: str, now_ms: int) -> Window | None:
        self._index_until(self.latest_start(now_ms))
        window = self._by_token.get(token)
        return window if window is not None and self.exists(window, now_ms) else None

    def by_condition(self, condition_id: str, now_ms: int) -> Window | None:
        self._index_until(self.latest_start(now_ms))
        window = self._by_condition.get(condition_id.lower())
        return window if window is not None and self.exists(window, now_ms) else None

    def index_existing(self, now_ms: int) -> None:
        """Index every window created by ``now_ms`` (done at start-up, not mid-run)."""
        self._index_until(self.latest_start(now_ms))

    def _index_until(self, last_start_s: int) -> None:
        if self._indexed_until_s >= last_start_s:
            return
        with self._lock:
            for start in range(self._indexed_until_s + WINDOW_S, last_start_s + 1, WINDOW_S):
                window = self.window(start)
                for token in window.tokens:
                    self._by_token[token] = window
                self._by_condition[window.condition_id] = window
            self._indexed_until_s = max(self._indexed_until_s, last_start_s)
