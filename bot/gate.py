"""Backpressure toward Anthropic: a bounded number of model calls in flight, the rest waiting
in arrival order, and a pause when the rate-limit headers say a limit is about to run out
(slowing down before the 429s, rather than after)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import datetime

log = logging.getLogger(__name__)

QueuedCallback = Callable[[int], Awaitable[None]]

# Pause new calls when fewer than this many requests, or input/output tokens, remain in the
# current rate-limit window.
LOW_REQUESTS = 2
LOW_INPUT_TOKENS = 8_000
LOW_OUTPUT_TOKENS = 4_000
MAX_PAUSE_SECONDS = 30.0
_LIMITS = {
    "requests": LOW_REQUESTS,
    "input-tokens": LOW_INPUT_TOKENS,
    "output-tokens": LOW_OUTPUT_TOKENS,
}


class ModelGate:
    def __init__(self, max_in_flight: int) -> None:
        self.max_in_flight = max_in_flight
        self._slots = asyncio.Semaphore(max_in_flight)
        self._waiting = 0
        self._paused_until = 0.0  # time.monotonic()

    @property
    def waiting(self) -> int:
        return self._waiting

    @asynccontextmanager
    async def slot(self, on_queued: QueuedCallback | None = None) -> AsyncIterator[None]:
        """Hold one of the in-flight places for the duration of a model call."""
        if self._slots.locked() or self._waiting:
            self._waiting += 1
            position = self._waiting
            try:
                if on_queued is not None:
                    await on_queued(position)
                await self._slots.acquire()
            finally:
                self._waiting -= 1
        else:
            await self._slots.acquire()
        try:
            pause = self._paused_until - time.monotonic()
            if pause > 0:
                log.info("rate limit nearly used up: waiting %.1f s before the next call", pause)
                await asyncio.sleep(pause)
            yield
        finally:
            self._slots.release()

    def observe(self, headers: Mapping[str, str]) -> None:
        """Read `anthropic-ratelimit-*` headers from a response and pause if a limit is low."""
        for name, low in _LIMITS.items():
            remaining = headers.get(f"anthropic-ratelimit-{name}-remaining")
            reset = headers.get(f"anthropic-ratelimit-{name}-reset")
            if remaining is None or reset is None:
                continue
            try:
                left = int(remaining)
                seconds = (
                    datetime.fromisoformat(reset.replace("Z", "+00:00")).timestamp() - time.time()
                )
            except ValueError:
                continue
            if left < low and seconds > 0:
                until = time.monotonic() + min(seconds, MAX_PAUSE_SECONDS)
                if until > self._paused_until:
                    log.warning(
                        "anthropic %s limit nearly reached (%d left); pausing new calls %.1f s",
                        name,
                        left,
                        until - time.monotonic(),
                    )
                    self._paused_until = until
