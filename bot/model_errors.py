"""What can go wrong with a model call, in categories whose user wording lives in
`bot.wording`: which failures are worth another try, how long the server asks us to wait,
and the log-safe one-line description of an error."""

from __future__ import annotations

import email.utils
import enum
import time
from dataclasses import dataclass

import anthropic
import httpx2

from bot import wording
from bot.usage import TokenUsage

# Statuses worth another try: timeouts, conflicts, rate limits and server trouble.
RETRYABLE_STATUSES = frozenset({408, 409, 429})
# Error types that can arrive inside a 200 stream (`event: error`) and are transient.
RETRYABLE_STREAM_ERRORS = frozenset({"overloaded_error", "api_error", "rate_limit_error"})


class ErrorCategory(enum.Enum):
    BUSY = "busy"
    UNAVAILABLE = "unavailable"
    SLOW = "slow"  # no complete reply within the call's deadline
    MISCONFIGURED = "misconfigured"
    TOO_LONG = "too_long"
    REJECTED = "rejected"
    INTERNAL = "internal"

    @property
    def user_message(self) -> str:
        return {
            ErrorCategory.BUSY: wording.BUSY,
            ErrorCategory.UNAVAILABLE: wording.UNAVAILABLE,
            ErrorCategory.SLOW: wording.SLOW,
            ErrorCategory.MISCONFIGURED: wording.MISCONFIGURED,
            ErrorCategory.TOO_LONG: wording.TOO_LONG,
            ErrorCategory.REJECTED: wording.REJECTED,
            ErrorCategory.INTERNAL: wording.UNEXPECTED,
        }[self]


@dataclass(frozen=True)
class BilledAttempt:
    """An attempt that reached the model (so may be billed) but failed part-way."""

    usage: TokenUsage
    request_id: str | None
    error: str


class ModelCallError(Exception):
    """The request failed for good. `detail` is for the admin's log, never for Slack.

    `billed_failures` are the earlier attempts cut off after reaching the model; `last_billed`
    is the last attempt's, when it too reached the model: its usage row is the one that says
    why the request failed, so each billed attempt has exactly one row."""

    def __init__(
        self,
        category: ErrorCategory,
        detail: str,
        *,
        status: int | None = None,
        request_id: str | None = None,
        attempts: int = 1,
        latency_ms: int = 0,
        billed_failures: tuple[BilledAttempt, ...] = (),
        last_billed: BilledAttempt | None = None,
    ) -> None:
        super().__init__(detail)
        self.category = category
        self.detail = detail
        self.status = status
        self.request_id = request_id
        self.attempts = attempts
        self.latency_ms = latency_ms
        self.billed_failures = billed_failures
        self.last_billed = last_billed

    @property
    def user_message(self) -> str:
        return self.category.user_message


def is_retryable(error: BaseException) -> bool:
    if isinstance(error, anthropic.APIStatusError):
        should_retry = error.response.headers.get("x-should-retry")
        if should_retry in ("true", "false"):
            return should_retry == "true"
        if error.status_code == 200:  # an `error` event inside the stream
            return error.type in RETRYABLE_STREAM_ERRORS
        return error.status_code in RETRYABLE_STATUSES or error.status_code >= 500
    return isinstance(error, anthropic.APIConnectionError | httpx2.TransportError)


def retry_after_seconds(error: BaseException | None) -> float | None:
    """Seconds from `retry-after-ms`, or `retry-after` (seconds or an HTTP date)."""
    if not isinstance(error, anthropic.APIStatusError):
        return None
    headers = error.response.headers
    try:
        return max(float(headers["retry-after-ms"]) / 1000, 0.0)
    except (KeyError, ValueError):
        pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None  # a hint we cannot read: fall back to our own backoff
    return max(parsed.timestamp() - time.time(), 0.0)


def categorize(error: BaseException) -> ErrorCategory:
    if isinstance(error, anthropic.APIStatusError):
        status, error_type = error.status_code, error.type
        message = (error.api_message or "").lower()
        if status == 200:
            status = {"overloaded_error": 529, "rate_limit_error": 429}.get(error_type or "", 500)
        if status in (429, 503, 529):
            return ErrorCategory.BUSY
        if status >= 500 or status == 408 or status == 409:
            return ErrorCategory.UNAVAILABLE
        if status == 413 or "too long" in message or "context window" in message:
            return ErrorCategory.TOO_LONG
        if status in (401, 402, 403, 404):
            return ErrorCategory.MISCONFIGURED
        return ErrorCategory.REJECTED
    return ErrorCategory.UNAVAILABLE


def describe(error: BaseException) -> str:
    """A log-safe one-liner: the error class, status, API error type and message."""
    if isinstance(error, anthropic.APIStatusError):
        return (
            f"{type(error).__name__} status={error.status_code} type={error.type} "
            f"message={error.api_message!r}"
        )
    return f"{type(error).__name__}: {error}"
