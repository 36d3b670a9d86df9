"""Backpressure toward Anthropic: a bounded number of model calls in flight, the rest waiting
in arrival order in a queue bounded by length and by wait, and a pause when the rate-limit
headers say a limit is about to run out (slowing down before the 429s, rather than after).

A new call is *admitted* (`admit`): it gets a place at once, or waits in line, or is turned
away (`QueueFull`, `QueueWaitTooLong`) before anything is spent. Its retries go back in line
without those bounds: the call's own deadline (in `bot.llm`) limits them."""

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


class QueueRefused(Exception):
    """A new call was turned away before reaching the model: nothing was spent."""


class QueueFull(QueueRefused):
    pass


class QueueWaitTooLong(QueueRefused):
    pass


class Admission:
    """The in-flight place an admitted call holds until its first attempt takes it over."""

    def __init__(self, gate: ModelGate, asked_at: float) -> None:
        self._gate = gate
        self.asked_at = asked_at  # time.monotonic() when the call asked for a place
        self.held = True

    def take(self) -> bool:
        """Hand the place to the first attempt; False when it is gone already."""
        held, self.held = self.held, False
        return held

    def release(self) -> None:
        """Give the place back if no attempt took it (the call stopped before the model)."""
        if self.take():
            self._gate.release()


class ModelGate:
    def __init__(
        self, max_in_flight: int, max_queue: int | None = None, max_wait: float | None = None
    ) -> None:
        self.max_in_flight = max_in_flight
        self.max_queue = max_queue  # None: no limit on the line's length
        self.max_wait = max_wait  # seconds; None: wait as long as it takes
        self._slots = asyncio.Semaphore(max_in_flight)
        self._waiting = 0
        self._paused_until = 0.0  # time.monotonic()

    @property
    def waiting(self) -> int:
        return self._waiting

    async def admit(self, on_queued: QueuedCallback | None = None) -> Admission:
        """A place for a new call, within the queue's bounds, or `QueueRefused`."""
        asked_at = time.monotonic()
        await self._acquire(on_queued, bounded=True)
        return Admission(self, asked_at)

    @asynccontextmanager
    async def slot(
        self, on_queued: QueuedCallback | None = None, *, admission: Admission | None = None
    ) -> AsyncIterator[None]:
        """Hold an in-flight place for one attempt: the admission's, or a new one (waiting in
        line without the bounds), then sit out any rate-limit pause."""
        if admission is None or not admission.take():
            await self._acquire(on_queued, bounded=False)
        try:
            pause = self._paused_until - time.monotonic()
            if pause > 0:
                log.info("rate limit nearly used up: waiting %.1f s before the next call", pause)
                await asyncio.sleep(pause)
            yield
        finally:
            self.release()

    def release(self) -> None:
        self._slots.release()

    async def _acquire(self, on_queued: QueuedCallback | None, *, bounded: bool) -> None:
        if not (self._slots.locked() or self._waiting):
            await self._slots.acquire()
            return
        if bounded and self.max_queue is not None and self._waiting >= self.max_queue:
            raise QueueFull(
                f"the model queue is full ({self._waiting} waiting, {self.max_in_flight} in flight)"
            )
        self._waiting += 1
        position = self._waiting
        started = time.monotonic()
        try:
            if on_queued is not None:
                await on_queued(position)
            limit = self.max_wait if bounded else None
            if limit is not None:
                limit -= time.monotonic() - started  # telling the person took time too
            try:
                async with asyncio.timeout(limit):
                    await self._slots.acquire()
            except TimeoutError:
                waited = time.monotonic() - started
                raise QueueWaitTooLong(f"waited {waited:.1f} s in the model queue") from None
        finally:
            self._waiting -= 1

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
