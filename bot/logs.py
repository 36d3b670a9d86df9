"""Log set-up: readable text by default, JSON lines with LOG_FORMAT=json.

Structured details travel as `extra={"fields": {...}}`, so both formats carry the same
facts. Never put secrets or draft text in them.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal

# Libraries that log request bodies (prompts, drafts, a person's text and response_url) or
# tokens at INFO or DEBUG: keep them at WARNING and above, whatever the root's level.
QUIET_LOGGERS = ("httpx2", "httpcore", "anthropic", "slack_bolt", "slack_sdk", "aiohttp.access")


def fields_of(record: logging.LogRecord) -> dict[str, Any]:
    fields = getattr(record, "fields", None)
    return fields if isinstance(fields, dict) else {}


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extra = " ".join(f"{key}={value}" for key, value in fields_of(record).items())
        return f"{line} {extra}" if extra else line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **fields_of(record),
        }
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str, ensure_ascii=False)


def setup_logging(level: int, log_format: Literal["text", "json"] = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))


def quiet_logger(name: str) -> logging.Logger:
    """One of `QUIET_LOGGERS`, at WARNING or above even when `setup_logging` has not run
    (tests, an embedding program): a logger left unset would follow the root's level."""
    logger = logging.getLogger(name)
    if logger.level < logging.WARNING:
        logger.setLevel(logging.WARNING)
    return logger


class ThrottledLog:
    """At most one line per kind of event every `every` seconds. The next line of that kind
    says how many were left out meanwhile, so a flood costs a line a minute, not a disk."""

    def __init__(
        self,
        logger: logging.Logger,
        every: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logger = logger
        self._every = every
        self._clock = clock
        self._last: dict[str, float] = {}
        self._left_out: dict[str, int] = {}

    def log(
        self, level: int, kind: str, message: str, fields: Mapping[str, Any] | None = None
    ) -> None:
        """Log `message` (no %-arguments: kinds are a fixed set, so is the text)."""
        now = self._clock()
        last = self._last.get(kind)
        if last is not None and now - last < self._every:
            self._left_out[kind] = self._left_out.get(kind, 0) + 1
            return
        self._last[kind] = now
        left_out = self._left_out.pop(kind, 0)
        if left_out and last is not None:
            message = f"{message} (and {left_out} more like it in the last {now - last:.0f} s)"
        details = {"event": kind, **(fields or {}), "left_out": left_out}
        self._logger.log(level, message, extra={"fields": details})
