"""JSON-lines logging on stdout with a redaction filter for secrets.

Every record: ts (ISO 8601 UTC), level, component, message, and any structured data
passed as ``extra={"data": {...}}``.  Secret values registered with
:func:`register_secrets` are replaced by ``***`` anywhere in the rendered line, which
also covers exception text.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from datetime import datetime, timezone

_secrets: set[str] = set()
_lock = threading.Lock()


def register_secrets(*values: str | None) -> None:
    """Values that must never appear in a log line (short values are ignored)."""
    with _lock:
        _secrets.update(v for v in values if v and len(v) >= 6)


def redact(text: str) -> str:
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, "***")
    return text


class JsonFormatter(logging.Formatter):
    def __init__(self, component: str):
        super().__init__()
        self.component = component

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "component": getattr(record, "component", None) or self.component,
            "logger": record.name,
            "message": record.getMessage(),
        }
        data = getattr(record, "data", None)
        if data:
            entry["data"] = data
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return redact(json.dumps(entry, default=str, separators=(",", ":")))


def setup(component: str, level: str = "INFO", stream=None) -> logging.Logger:
    """Install the JSON formatter on the root logger (idempotent)."""
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(JsonFormatter(component))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("urllib3", "websocket", "httpx", "httpcore", "websockets"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return logging.getLogger(f"polybot.{component}")
