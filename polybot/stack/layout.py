"""Where ``polybot up`` keeps things, all under the state directory::

    <state>/run/supervisord.conf   generated; inspectable, holds no secrets
    <state>/run/stack.json         what was started (ports, URLs, market, mode)
    <state>/run/supervisord.{pid,log}
    <state>/logs/<name>.log        one log per process (the same as ``polybot run``)
    <state>/redis/                 the private Redis's append-only file
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

SERVICES = ("ledger", "resolver", "executor", "risk", "predictor", "feed", "clock")  # start order
INFRA = ("redis", "sim")
UNIX_PATH_MAX = 100  # sun_path is 108 bytes on Linux; keep a margin


@dataclass(frozen=True)
class Layout:
    state_dir: Path

    @classmethod
    def of(cls, state_dir: str | Path) -> "Layout":
        return cls(Path(state_dir).resolve())

    @property
    def run_dir(self) -> Path:
        return self.state_dir / "run"

    @property
    def conf(self) -> Path:
        return self.run_dir / "supervisord.conf"

    @property
    def pidfile(self) -> Path:
        return self.run_dir / "supervisord.pid"

    @property
    def supervisord_log(self) -> Path:
        return self.run_dir / "supervisord.log"

    @property
    def stack_file(self) -> Path:
        return self.run_dir / "stack.json"

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def redis_dir(self) -> Path:
        return self.state_dir / "redis"

    @property
    def socket(self) -> Path:
        """supervisord's control socket (in /tmp when the state path is too long for one)."""
        path = self.run_dir / "supervisor.sock"
        if len(str(path)) <= UNIX_PATH_MAX:
            return path
        digest = hashlib.sha1(str(self.state_dir).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"polybot-{digest}.sock"

    def log(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def read_stack(self) -> dict:
        try:
            return json.loads(self.stack_file.read_text())
        except (OSError, ValueError):
            return {}

    def write_stack(self, info: dict) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.stack_file.write_text(json.dumps(info, indent=2) + "\n")
