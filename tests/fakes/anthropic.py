"""A local fake of the Anthropic Messages API, served over real HTTP on 127.0.0.1.

The real SDK (`anthropic.AsyncAnthropic(api_key=..., base_url=fake.base_url, max_retries=0)`)
works against it unchanged, for `messages.create`, `messages.stream` (SSE),
`messages.count_tokens`, `models.retrieve` and `models.list`.

    with FakeAnthropic() as fake:
        fake.script(Reply(text="Hello"), Reply(status=529))
        ...  # point the bot at fake.base_url

Deterministic rules (tests rely on them):

* Tokens: every content block costs ``ceil(len(s) / 4)`` tokens, where ``s`` is the text of a
  text block (a string ``system`` or string message ``content`` is one text block) and, for any
  other block or a tool definition, its canonical JSON without ``cache_control``. The input
  total is the sum over tools, system and messages; there is no per-message overhead.
  ``image`` and ``document`` blocks are checked and counted as the real API does
  (``tests/fakes/anthropic_media.py``: pixels / 750 for an image, text and an image a page
  for a PDF); a body over 32 MB is a 413.
  Output tokens are ``ceil(len(text) / 4)`` of the reply text.
* Prompt caching: the prefix order is tools → system → messages. Every block carrying
  ``cache_control`` is a breakpoint (a top-level ``cache_control`` marks the last block). The
  prefix at a block is identified by a hash of the model id and every block up to and
  including it (``cache_control`` values ignored). A breakpoint whose prefix has fewer tokens
  than ``min_cacheable_tokens`` for the model is silently not cached. The longest cached prefix
  ending at a breakpoint or at one of the 20 blocks before it is read
  (``cache_read_input_tokens``, expiry refreshed); the tokens from there to the last eligible
  breakpoint are written (``cache_creation_input_tokens``, split by the ttl of the breakpoint
  closing each segment); the rest are ``input_tokens``. Lookups happen when a request
  arrives; new entries become readable when its response starts (after ``Reply.delay``),
  like the real service, so concurrent identical requests all write.
  Time comes from ``fake.clock``; ``fake.advance_time(seconds)`` moves it forward.
* Scripted replies: each ``POST /v1/messages`` that passes authentication consumes the next
  reply scripted for a marker its messages contain (``fake.script_for(marker, ...)``, so
  concurrent requests get their own replies whatever order they arrive in), else the next
  scripted ``Reply`` (or uses ``fake.default``). A non-2xx ``status`` or ``drop_connection``
  is applied before validation (they model server-side failures); request validation
  (400/404) applies to the successful ones.
* Billing: a request is billed once its ``message_start`` event (or, without streaming, its
  whole message) was written to the client; ``fake.billed()`` lists them with the usage they
  carried. A client that went away before that (an error status, a dropped connection, a
  hang-up during ``delay``) is not billed.

Run it by hand: ``python -m tests.fakes.anthropic --port 8001 [--delay 1.5]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import math
import random
import string
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any

from aiohttp import web

from tests.fakes.anthropic_media import MEDIA_TYPES, MediaError, media_tokens

__all__ = ["BilledRequest", "FakeAnthropic", "RecordedRequest", "Reply", "count_tokens"]

DEFAULT_API_KEY = "sk-ant-test-key"

MESSAGE_CREATE_KEYS = frozenset(
    {
        "max_tokens",
        "messages",
        "model",
        "cache_control",
        "container",
        "diagnostics",
        "inference_geo",
        "metadata",
        "output_config",
        "service_tier",
        "speed",
        "stop_sequences",
        "stream",
        "system",
        "thinking",
        "tool_choice",
        "tools",
    }
)
COUNT_TOKENS_KEYS = frozenset(
    {
        "messages",
        "model",
        "cache_control",
        "output_config",
        "speed",
        "system",
        "thinking",
        "tool_choice",
        "tools",
    }
)

ERROR_TYPES: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    408: "timeout_error",
    409: "conflict_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    503: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}
ERROR_MESSAGES: dict[str, str] = {
    "invalid_request_error": "Invalid request.",
    "authentication_error": "invalid x-api-key",
    "billing_error": "Your credit balance is too low to access the Anthropic API.",
    "permission_error": "Your API key does not have permission to use the specified resource.",
    "not_found_error": "Not found.",
    "timeout_error": "Request timed out.",
    "conflict_error": "Conflict.",
    "request_too_large": "Request exceeds the maximum allowed number of bytes.",
    "rate_limit_error": (
        "This request would exceed the rate limit for your organization. Please try again later."
    ),
    "api_error": "Internal server error",
    "overloaded_error": "Overloaded",
}
# For a mid-generation error on a non-streaming request: the HTTP status it surfaces as.
STATUS_FOR_ERROR_TYPE: dict[str, int] = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "timeout_error": 504,
    "conflict_error": 409,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "overloaded_error": 529,
}
REASONS: dict[int, str] = {529: "Overloaded"}

TTL_SECONDS: dict[str, float] = {"5m": 300.0, "1h": 3600.0}
LOOKBACK_BLOCKS = 20
MAX_BREAKPOINTS = 4
MAX_REQUEST_BYTES = 32 * 1024 * 1024

RATE_LIMITS: dict[str, int] = {
    "requests": 4_000,
    "input-tokens": 2_000_000,
    "output-tokens": 400_000,
    "tokens": 2_400_000,
}

_ALNUM = string.ascii_letters + string.digits


def _random_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(random.choices(_ALNUM, k=length))


def _tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-case keys
    body: dict[str, Any] | None  # parsed JSON (None when absent or not a JSON object)
    received_at: float  # time.monotonic()


@dataclass(frozen=True)
class BilledRequest:
    """A `POST /v1/messages` whose usage reached the client (see "Billing" above)."""

    request_id: str
    model: str
    usage: dict[str, Any]  # as the client got it: `message_start`'s, or the whole message's
    marker: str | None  # the `script_for` marker it matched, if any


@dataclass
class Reply:
    """What the fake answers to one `POST /v1/messages`."""

    text: str | None = None  # None: "Here is your draft.\n\n" + the last user text[:200]
    stop_reason: str = "end_turn"
    status: int = 200  # non-2xx: an API error response
    error_type: str | None = None  # default derived from status
    error_message: str | None = None
    headers: dict[str, str] = field(default_factory=dict)  # extra response headers
    delay: float = 0.0  # seconds before the response starts
    chunk_delay: float = 0.0  # seconds between text deltas when streaming
    chunk_size: int = 12  # characters per text_delta
    drop_connection: bool = False  # close the TCP connection without any HTTP response
    drop_after_chunks: int | None = None  # streaming: close abruptly after N text deltas
    stream_error_after_chunks: int | None = None  # streaming: `event: error` after N deltas
    input_tokens: int | None = None  # override the computed uncached input tokens
    output_tokens: int | None = None  # override the computed output tokens


class _RequestError(Exception):
    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message


def _bad_request(message: str) -> _RequestError:
    return _RequestError(400, "invalid_request_error", message)


@dataclass
class _Block:
    identity: str  # canonical JSON of the block's place and content, without cache_control
    tokens: int
    cache_control: dict[str, Any] | None


@dataclass
class _Usage:
    input_tokens: int
    cache_creation_input_tokens: int
    cache_read_input_tokens: int
    ephemeral_5m_input_tokens: int
    ephemeral_1h_input_tokens: int
    pending_writes: list[tuple[str, str]]  # (prefix hash, ttl) stored when the reply starts

    def as_dict(self, output_tokens: int) -> dict[str, Any]:
        return {
            "input_tokens": self.input_tokens,
            "cache_creation_input_tokens": self.cache_creation_input_tokens,
            "cache_read_input_tokens": self.cache_read_input_tokens,
            "cache_creation": {
                "ephemeral_5m_input_tokens": self.ephemeral_5m_input_tokens,
                "ephemeral_1h_input_tokens": self.ephemeral_1h_input_tokens,
            },
            "output_tokens": output_tokens,
            "service_tier": "standard",
        }


def _strip_cache_control(block: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in block.items() if key != "cache_control"}


def _block_tokens(block: dict[str, Any]) -> int:
    if block.get("type") == "text" and isinstance(block.get("text"), str):
        return _tokens(block["text"])
    return _tokens(_canonical(_strip_cache_control(block)))


def _cache_control_of(value: Any, where: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or value.get("type") != "ephemeral":
        raise _bad_request(f"{where}.cache_control.type: Input should be 'ephemeral'")
    ttl = value.get("ttl", "5m")
    if ttl not in TTL_SECONDS:
        raise _bad_request(f"{where}.cache_control.ttl: Input should be '5m' or '1h'")
    return {"type": "ephemeral", "ttl": ttl}


def _content_blocks(content: Any, where: str) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if isinstance(content, list):
        blocks: list[dict[str, Any]] = []
        for j, block in enumerate(content):
            if not isinstance(block, dict) or not isinstance(block.get("type"), str):
                raise _bad_request(f"{where}.{j}: Input should be a valid content block")
            if block["type"] == "text" and not isinstance(block.get("text"), str):
                raise _bad_request(f"{where}.{j}.text: Field required")
            blocks.append(block)
        return blocks
    raise _bad_request(f"{where}: Input should be a valid string or a list of content blocks")


def _flatten(body: dict[str, Any]) -> list[_Block]:
    """The request's blocks in cache-prefix order: tools, then system, then messages."""
    flat: list[_Block] = []

    def add(place: dict[str, Any], block: dict[str, Any], where: str) -> None:
        identity = _canonical({**place, "block": _strip_cache_control(block)})
        control = _cache_control_of(block.get("cache_control"), where)
        tokens = _block_tokens(block)
        if place["section"] == "messages" and block.get("type") in MEDIA_TYPES:
            try:
                tokens = media_tokens(block, where)
            except MediaError as error:
                raise _bad_request(str(error)) from None
        flat.append(_Block(identity=identity, tokens=tokens, cache_control=control))

    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            raise _bad_request("tools: Input should be a valid list")
        for i, tool in enumerate(tools):
            if not isinstance(tool, dict):
                raise _bad_request(f"tools.{i}: Input should be a valid dictionary")
            add({"section": "tools"}, tool, f"tools.{i}")

    system = body.get("system")
    if system is not None:
        if isinstance(system, str):
            if system:
                add({"section": "system"}, {"type": "text", "text": system}, "system")
        elif isinstance(system, list):
            for i, block in enumerate(system):
                if not isinstance(block, dict) or block.get("type") != "text":
                    raise _bad_request(f"system.{i}.type: Input should be 'text'")
                if not isinstance(block.get("text"), str) or not block["text"]:
                    raise _bad_request("system: text content blocks must be non-empty")
                add({"section": "system"}, block, f"system.{i}")
        else:
            raise _bad_request("system: Input should be a valid string or a list of text blocks")

    messages = body.get("messages")
    if isinstance(messages, list):
        for i, message in enumerate(messages):
            if not isinstance(message, dict):
                raise _bad_request(f"messages.{i}: Input should be a valid dictionary")
            role = message.get("role")
            if role not in ("user", "assistant"):
                raise _bad_request(f"messages.{i}.role: Input should be 'user' or 'assistant'")
            if "content" not in message:
                raise _bad_request(f"messages.{i}.content: Field required")
            place = {"section": "messages", "index": i, "role": role}
            for j, block in enumerate(_content_blocks(message["content"], f"messages.{i}.content")):
                add(place, block, f"messages.{i}.content.{j}")

    top_level = _cache_control_of(body.get("cache_control"), "body")
    if top_level is not None and flat:
        last = flat[-1]
        if last.cache_control is None:
            last.cache_control = top_level
    return flat


def count_tokens(body: dict[str, Any]) -> int:
    """The fake's input-token count for a request body (see the module docstring)."""
    return sum(block.tokens for block in _flatten(body))


def _last_user_text(messages: list[Any]) -> str:
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return "".join(
                    block.get("text", "")
                    for block in content
                    if isinstance(block, dict) and block.get("type") == "text"
                )
            return ""
    return ""


def _display_name(model_id: str) -> str:
    words: list[str] = []
    for part in model_id.split("-"):
        if part.isdigit() and words and words[-1][-1:].isdigit():
            words[-1] += "." + part
        else:
            words.append(part.capitalize())
    return " ".join(words)


def _sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


class FakeAnthropic:
    """A fake Anthropic API server; see the module docstring."""

    def __init__(
        self,
        api_key: str = DEFAULT_API_KEY,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.api_key = api_key
        self.host = host
        self.port = port
        self._configure_defaults()

        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._script: deque[Reply] = deque()
        self._keyed: dict[str, deque[Reply]] = {}  # marker -> its own script
        self._billed: list[BilledRequest] = []
        self._requests: list[RecordedRequest] = []
        self._recent: deque[float] = deque()  # arrival times, for the rate-limit headers
        self._message_count = 0
        self._cache: dict[str, tuple[float, str]] = {}  # prefix hash -> (expiry, ttl)
        self._clock_offset = 0.0

        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._stopping: asyncio.Event | None = None

    def _configure_defaults(self) -> None:
        self.default: Reply = Reply()
        self.min_cacheable_tokens: dict[str, int] = {
            "claude-sonnet": 2048,
            "claude-opus": 4096,
            "claude-haiku": 4096,
        }
        self.min_cacheable_fallback = 1024
        self.known_models: set[str] = {"claude-sonnet-4-6", "claude-opus-4-6", "claude-haiku-4-5"}
        # Models that still accept assistant prefill (Claude 4.6 and later reject it).
        self.prefill_models: set[str] = {"claude-haiku-4-5"}
        self.model_max_tokens: dict[str, int] = {
            "claude-sonnet": 64_000,
            "claude-opus": 64_000,
            "claude-haiku": 64_000,
        }
        self.max_input_tokens = 200_000

    # ----------------------------------------------------------------- lifecycle

    @property
    def base_url(self) -> str:
        if self._thread is None:
            raise RuntimeError("FakeAnthropic is not started")
        return f"http://{self.host}:{self.port}"

    def start(self) -> FakeAnthropic:
        if self._thread is not None:
            raise RuntimeError("FakeAnthropic is already started")
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            try:
                loop.run_until_complete(self._serve(ready))
            except BaseException as error:  # surfaced to start()
                failure.append(error)
            finally:
                ready.set()
                with contextlib.suppress(Exception):
                    loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        self._thread = threading.Thread(target=run, name="fake-anthropic", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join()
            self._thread = None
            raise failure[0]
        return self

    async def _serve(self, ready: threading.Event) -> None:
        self._stopping = asyncio.Event()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.2, handle_signals=False)
        await runner.setup()
        self._runner = runner
        try:
            site = web.TCPSite(runner, self.host, self.port, backlog=2048, reuse_address=True)
            await site.start()
            address = runner.addresses[0]
            self.port = int(address[1])
            ready.set()
            await self._stopping.wait()
        finally:
            await runner.cleanup()
            self._runner = None

    def stop(self) -> None:
        thread, loop, stopping = self._thread, self._loop, self._stopping
        if thread is None:
            return
        if loop is not None and stopping is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stopping.set)
        thread.join(timeout=10)
        self._thread = None
        self._loop = None
        self._stopping = None

    def __enter__(self) -> FakeAnthropic:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------- test controls

    def script(self, *replies: Reply) -> None:
        """Queue replies; each `POST /v1/messages` consumes the next one."""
        with self._lock:
            self._script.extend(replies)

    def script_for(self, marker: str, *replies: Reply) -> None:
        """Queue replies for the requests whose message text contains `marker`: they take
        these first, in order, then fall back to `script` and `default`."""
        with self._lock:
            self._keyed.setdefault(marker, deque()).extend(replies)

    def billed(self) -> list[BilledRequest]:
        """The requests billed so far (see "Billing" in the module docstring)."""
        with self._lock:
            return list(self._billed)

    @property
    def pending_replies(self) -> int:
        with self._lock:
            return len(self._script)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def message_requests(self) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self._requests if r.method == "POST" and r.path == "/v1/messages"]

    def wait_for_requests(self, n: int, timeout: float = 5.0) -> bool:
        """Block until at least `n` `POST /v1/messages` arrived. Don't call it on the event
        loop that runs the client (use `wait_for_requests_async` there)."""
        with self._arrived:
            return self._arrived.wait_for(lambda: self._message_count >= n, timeout=timeout)

    async def wait_for_requests_async(self, n: int, within: float = 5.0) -> bool:
        """Like `wait_for_requests`, without blocking the calling event loop."""
        deadline = time.monotonic() + within
        while True:
            with self._lock:
                if self._message_count >= n:
                    return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.005)

    def reset(self) -> None:
        """Clear the script, recorded requests, cache and clock offset, and put `default`,
        `min_cacheable_tokens`, `known_models`, `prefill_models`, `model_max_tokens` and
        `max_input_tokens` back to their defaults (the api_key stays)."""
        with self._lock:
            self._script.clear()
            self._keyed.clear()
            self._billed.clear()
            self._requests.clear()
            self._recent.clear()
            self._message_count = 0
            self._cache.clear()
            self._clock_offset = 0.0
            self._configure_defaults()

    @property
    def clock(self) -> float:
        """The fake's notion of now (monotonic seconds), used for cache expiry."""
        with self._lock:
            return time.monotonic() + self._clock_offset

    def advance_time(self, seconds: float) -> None:
        """Move the cache clock forward, e.g. 301 s to expire 5-minute entries."""
        with self._lock:
            self._clock_offset += seconds

    def cached_prefixes(self) -> int:
        """How many unexpired cache entries there are."""
        with self._lock:
            now = time.monotonic() + self._clock_offset
            return sum(1 for expiry, _ in self._cache.values() if expiry > now)

    # ------------------------------------------------------------------ helpers

    def _min_cacheable(self, model: str) -> int:
        return self._by_prefix(self.min_cacheable_tokens, model, self.min_cacheable_fallback)

    def _max_tokens_for(self, model: str) -> int:
        return self._by_prefix(self.model_max_tokens, model, 64_000)

    @staticmethod
    def _by_prefix(table: dict[str, int], model: str, fallback: int) -> int:
        matches = [prefix for prefix in table if model.startswith(prefix)]
        return table[max(matches, key=len)] if matches else fallback

    def _headers(
        self, request_id: str, *, input_used: int = 0, output_used: int = 0, limited: bool = False
    ) -> dict[str, str]:
        now = datetime.now(UTC)
        with self._lock:
            cutoff = time.monotonic() - 60
            while self._recent and self._recent[0] < cutoff:
                self._recent.popleft()
            recent = len(self._recent)
        used = {
            "requests": recent,
            "input-tokens": input_used,
            "output-tokens": output_used,
            "tokens": input_used + output_used,
        }
        headers = {"request-id": request_id}
        for name, limit in RATE_LIMITS.items():
            remaining = 0 if limited else max(0, limit - used[name])
            reset = now + timedelta(seconds=60 if limited else 1)
            headers[f"anthropic-ratelimit-{name}-limit"] = str(limit)
            headers[f"anthropic-ratelimit-{name}-remaining"] = str(remaining)
            headers[f"anthropic-ratelimit-{name}-reset"] = _rfc3339(reset)
        return headers

    def _error(
        self,
        status: int,
        error_type: str | None = None,
        message: str | None = None,
        extra_headers: dict[str, str] | None = None,
    ) -> web.Response:
        error_type = error_type or ERROR_TYPES.get(
            status, "api_error" if status >= 500 else "invalid_request_error"
        )
        message = message or ERROR_MESSAGES.get(error_type, "Error")
        request_id = _random_id("req_")
        body = {
            "type": "error",
            "error": {"type": error_type, "message": message},
            "request_id": request_id,
        }
        headers = self._headers(request_id, limited=status == 429)
        extra = {k.lower(): v for k, v in (extra_headers or {}).items()}
        if status == 429 and "retry-after" not in extra:
            headers["retry-after"] = "1"
        headers.update(extra)
        headers["content-type"] = "application/json"
        return web.Response(
            status=status, reason=REASONS.get(status), text=_canonical(body), headers=headers
        )

    def _record(self, request: web.Request, body: dict[str, Any] | None) -> None:
        recorded = RecordedRequest(
            method=request.method,
            path=request.path,
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
            received_at=time.monotonic(),
        )
        with self._arrived:
            self._requests.append(recorded)
            self._recent.append(recorded.received_at)
            if recorded.method == "POST" and recorded.path == "/v1/messages":
                self._message_count += 1
                self._arrived.notify_all()

    def _authenticated(self, request: web.Request) -> str | None:
        """None when the key is right, else the 401 message."""
        authorization = request.headers.get("authorization")
        api_key = request.headers.get("x-api-key")
        if authorization is None and api_key is None:
            return "x-api-key header is required"
        if authorization == f"Bearer {self.api_key}" or api_key == self.api_key:
            return None
        return "invalid x-api-key"

    def _next_reply(self, body: dict[str, Any]) -> tuple[Reply, str | None]:
        with self._lock:
            if self._keyed:
                text = _canonical(body.get("messages"))
                for marker, replies in self._keyed.items():
                    if marker in text:
                        return (replies.popleft() if replies else self.default), marker
            return (self._script.popleft() if self._script else self.default), None

    def _bill(
        self, request_id: str, message: dict[str, Any], usage: dict[str, Any], marker: str | None
    ) -> None:
        with self._lock:
            self._billed.append(BilledRequest(request_id, message["model"], usage, marker))

    # ------------------------------------------------------------------ routing

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        body: dict[str, Any] | None = None
        parse_error = False
        if raw:
            try:
                parsed = json.loads(raw)
            except ValueError:
                parse_error = True
            else:
                if isinstance(parsed, dict):
                    body = parsed
                else:
                    parse_error = True
        self._record(request, body)
        if len(raw) > MAX_REQUEST_BYTES:
            return self._error(413, "request_too_large")

        auth_problem = self._authenticated(request)
        if auth_problem is not None:
            return self._error(401, "authentication_error", auth_problem)
        if "anthropic-version" not in request.headers:
            return self._error(400, message="anthropic-version: header is required")

        path, method = request.path.rstrip("/") or "/", request.method
        if path == "/v1/models" or path.startswith("/v1/models/"):
            if method != "GET":
                return self._error(405, "invalid_request_error", "Method not allowed")
            if path == "/v1/models":
                return self._list_models()
            return self._retrieve_model(path.removeprefix("/v1/models/"))
        if path not in ("/v1/messages", "/v1/messages/count_tokens"):
            return self._error(404, "not_found_error", "Not Found")
        if method != "POST":
            return self._error(405, "invalid_request_error", "Method not allowed")
        if body is None:
            problem = "not a JSON object" if parse_error else "the body is empty"
            return self._error(
                400, message=f"There was an error parsing the body of your request: {problem}"
            )
        if path == "/v1/messages/count_tokens":
            return self._count_tokens(body)
        return await self._messages(request, body)

    # ------------------------------------------------------------------- models

    def _model_info(self, model_id: str) -> dict[str, Any]:
        return {
            "type": "model",
            "id": model_id,
            "display_name": _display_name(model_id),
            "created_at": "2026-02-17T00:00:00Z",
            "lifecycle": "active",
            "deprecated_at": None,
            "retires_at": None,
            "max_input_tokens": self.max_input_tokens,
            "max_tokens": self._max_tokens_for(model_id),
        }

    def _json(self, data: dict[str, Any], *, input_used: int = 0) -> web.Response:
        headers = self._headers(_random_id("req_"), input_used=input_used)
        headers["content-type"] = "application/json"
        return web.Response(text=_canonical(data), headers=headers)

    def _retrieve_model(self, model_id: str) -> web.Response:
        if model_id not in self.known_models:
            return self._error(404, "not_found_error", f"model: {model_id}")
        return self._json(self._model_info(model_id))

    def _list_models(self) -> web.Response:
        models = [self._model_info(m) for m in sorted(self.known_models)]
        return self._json(
            {
                "data": models,
                "has_more": False,
                "first_id": models[0]["id"] if models else None,
                "last_id": models[-1]["id"] if models else None,
            }
        )

    # --------------------------------------------------------------- validation

    def _validate_common(
        self, body: dict[str, Any], allowed: frozenset[str], *, needs_max_tokens: bool
    ) -> list[_Block]:
        for key in body:
            if key not in allowed:
                raise _bad_request(f"{key}: Extra inputs are not permitted")
        required = (
            ("model", "max_tokens", "messages") if needs_max_tokens else ("model", "messages")
        )
        for key in required:
            if key not in body:
                raise _bad_request(f"{key}: Field required")
        model = body["model"]
        if not isinstance(model, str) or not model:
            raise _bad_request("model: Input should be a valid string")
        if needs_max_tokens:
            max_tokens = body["max_tokens"]
            if not isinstance(max_tokens, int) or isinstance(max_tokens, bool):
                raise _bad_request("max_tokens: Input should be a valid integer")
            if max_tokens < 0:
                raise _bad_request("max_tokens: Input should be greater than or equal to 0")
        messages = body["messages"]
        if not isinstance(messages, list):
            raise _bad_request("messages: Input should be a valid list")
        if not messages:
            raise _bad_request("messages: at least one message is required")
        blocks = _flatten(body)  # validates roles, blocks and cache_control
        if messages[0].get("role") != "user":
            raise _bad_request('messages: first message must use the "user" role')
        for i, message in enumerate(messages):
            content = message["content"]
            empty = (
                content == ""
                or content == []
                or (
                    isinstance(content, list)
                    and any(b.get("type") == "text" and b.get("text") == "" for b in content)
                )
            )
            final_assistant = i == len(messages) - 1 and message["role"] == "assistant"
            if empty and not final_assistant:
                raise _bad_request(
                    f"messages.{i}: all messages must have non-empty content except for the "
                    "optional final assistant message"
                )
        stop_sequences = body.get("stop_sequences")
        if stop_sequences is not None and (
            not isinstance(stop_sequences, list)
            or not all(isinstance(s, str) and s for s in stop_sequences)
        ):
            raise _bad_request("stop_sequences: Input should be a list of non-empty strings")

        breakpoints = [b for b in blocks if b.cache_control is not None]
        if len(breakpoints) > MAX_BREAKPOINTS:
            raise _bad_request(
                f"A maximum of {MAX_BREAKPOINTS} blocks with cache_control may be provided. "
                f"Found {len(breakpoints)}."
            )
        seen_5m = False
        for block in breakpoints:
            assert block.cache_control is not None
            if block.cache_control["ttl"] == "5m":
                seen_5m = True
            elif seen_5m:
                raise _bad_request(
                    "cache_control: a ttl='1h' cache_control block must not come after a "
                    "ttl='5m' cache_control block (longer TTLs must come first)."
                )

        if model not in self.known_models:
            raise _RequestError(404, "not_found_error", f"model: {model}")
        total = sum(b.tokens for b in blocks)
        if total > self.max_input_tokens:
            raise _bad_request(
                f"prompt is too long: {total} tokens > {self.max_input_tokens} maximum"
            )
        if needs_max_tokens:
            limit = self._max_tokens_for(model)
            if body["max_tokens"] > limit:
                raise _bad_request(
                    f"max_tokens: {body['max_tokens']} > {limit}, which is the maximum allowed "
                    f"number of output tokens for {model}"
                )
            if messages[-1]["role"] == "assistant" and model not in self.prefill_models:
                raise _bad_request(
                    "This model does not support assistant message prefill. "
                    "The conversation must end with a user message."
                )
        return blocks

    def _count_tokens(self, body: dict[str, Any]) -> web.Response:
        try:
            blocks = self._validate_common(body, COUNT_TOKENS_KEYS, needs_max_tokens=False)
        except _RequestError as error:
            return self._error(error.status, error.error_type, error.message)
        return self._json({"input_tokens": sum(b.tokens for b in blocks)})

    # ------------------------------------------------------------------ caching

    def _plan_usage(self, model: str, blocks: list[_Block]) -> _Usage:
        """Look the request's prefixes up in the cache (refreshing hits) and plan the writes."""
        hashes: list[str] = []
        digest = hashlib.sha256(_canonical({"model": model}).encode()).hexdigest()
        cumulative: list[int] = []
        running = 0
        for block in blocks:
            digest = hashlib.sha256((digest + block.identity).encode()).hexdigest()
            hashes.append(digest)
            running += block.tokens
            cumulative.append(running)
        total = running

        def upto(index: int) -> int:
            return cumulative[index] if index >= 0 else 0

        breakpoints = [i for i, b in enumerate(blocks) if b.cache_control is not None]
        minimum = self._min_cacheable(model)
        eligible = [i for i in breakpoints if cumulative[i] >= minimum]

        with self._lock:
            now = time.monotonic() + self._clock_offset
            for key in [k for k, (expiry, _) in self._cache.items() if expiry <= now]:
                del self._cache[key]
            read_at = -1
            for bp in breakpoints:
                for position in range(bp, max(bp - LOOKBACK_BLOCKS, 0) - 1, -1):
                    if position <= read_at:
                        break
                    if hashes[position] in self._cache:
                        read_at = position
                        break
            for position in {read_at, *breakpoints}:
                if position >= 0 and hashes[position] in self._cache:
                    _, ttl = self._cache[hashes[position]]
                    self._cache[hashes[position]] = (now + TTL_SECONDS[ttl], ttl)

        created = {"5m": 0, "1h": 0}
        writes: list[tuple[str, str]] = []
        previous = read_at
        for position in eligible:
            if position <= read_at:
                continue
            control = blocks[position].cache_control
            assert control is not None
            ttl = str(control["ttl"])
            created[ttl] += upto(position) - upto(previous)
            writes.append((hashes[position], ttl))
            previous = position
        cached_until = max(read_at, previous)
        return _Usage(
            input_tokens=total - upto(cached_until),
            cache_creation_input_tokens=created["5m"] + created["1h"],
            cache_read_input_tokens=upto(read_at),
            ephemeral_5m_input_tokens=created["5m"],
            ephemeral_1h_input_tokens=created["1h"],
            pending_writes=writes,
        )

    def _store(self, writes: list[tuple[str, str]]) -> None:
        with self._lock:
            now = time.monotonic() + self._clock_offset
            for digest, ttl in writes:
                self._cache[digest] = (now + TTL_SECONDS[ttl], ttl)

    # ----------------------------------------------------------------- messages

    @staticmethod
    async def _pause(request: web.Request, seconds: float) -> bool:
        """Sleep `seconds`, or until the client hangs up (as the real service stops
        generating then); False if it did."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            transport = request.transport
            if transport is None or transport.is_closing():
                return False
            await asyncio.sleep(min(left, 0.05))
        return True

    @staticmethod
    def _drop(request: web.Request) -> None:
        transport = request.transport
        if transport is not None:
            transport.close()

    async def _messages(self, request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        reply, marker = self._next_reply(body)
        if not 200 <= reply.status < 300:
            if reply.delay > 0:
                await asyncio.sleep(reply.delay)
            return self._error(reply.status, reply.error_type, reply.error_message, reply.headers)
        if reply.drop_connection:
            if reply.delay > 0:
                await asyncio.sleep(reply.delay)
            self._drop(request)
            return web.Response(status=200)  # never reaches the client

        try:
            blocks = self._validate_common(body, MESSAGE_CREATE_KEYS, needs_max_tokens=True)
        except _RequestError as error:
            return self._error(error.status, error.error_type, error.message)

        model: str = body["model"]
        max_tokens: int = body["max_tokens"]
        usage = self._plan_usage(model, blocks)
        if reply.input_tokens is not None:
            usage.input_tokens = reply.input_tokens

        text = reply.text
        if text is None:
            text = "Here is your draft.\n\n" + _last_user_text(body["messages"])[:200]
        stop_reason: str | None = reply.stop_reason
        stop_sequence: str | None = None
        stop_sequences: list[str] = body.get("stop_sequences") or []
        hits = [(text.find(s), s) for s in stop_sequences if s in text]
        if hits:
            position, stop_sequence = min(hits)
            text, stop_reason = text[:position], "stop_sequence"
        elif stop_reason == "stop_sequence" and stop_sequences:
            stop_sequence = stop_sequences[0]
        if _tokens(text) > max_tokens:
            text, stop_reason, stop_sequence = text[: max_tokens * 4], "max_tokens", None
        output_tokens = reply.output_tokens if reply.output_tokens is not None else _tokens(text)

        if reply.delay > 0 and not await self._pause(request, reply.delay):
            return web.Response(status=200)  # the client went away: nothing was generated
        self._store(usage.pending_writes)

        message: dict[str, Any] = {
            "id": _random_id("msg_"),
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [{"type": "text", "text": text}] if text else [],
            "stop_reason": stop_reason,
            "stop_sequence": stop_sequence,
            "usage": usage.as_dict(output_tokens),
        }
        input_used = usage.input_tokens + usage.cache_creation_input_tokens
        if not body.get("stream"):
            return await self._complete(request, reply, message, input_used, output_tokens, marker)
        return await self._stream(request, reply, message, text, input_used, output_tokens, marker)

    async def _complete(
        self,
        request: web.Request,
        reply: Reply,
        message: dict[str, Any],
        input_used: int,
        output_tokens: int,
        marker: str | None,
    ) -> web.StreamResponse:
        if reply.stream_error_after_chunks is not None:
            error_type = reply.error_type or "overloaded_error"
            return self._error(
                STATUS_FOR_ERROR_TYPE.get(error_type, 500),
                error_type,
                reply.error_message,
                reply.headers,
            )
        headers = self._headers(
            _random_id("req_"), input_used=input_used, output_used=output_tokens
        )
        headers.update({k.lower(): v for k, v in reply.headers.items()})
        headers["content-type"] = "application/json"
        payload = _canonical(message).encode()
        self._bill(headers["request-id"], message, message["usage"], marker)
        if reply.drop_after_chunks is None:
            return web.Response(body=payload, headers=headers)
        # Send the headers and half the body, then cut the connection.
        response = web.StreamResponse(headers=headers)
        response.content_length = len(payload)
        await response.prepare(request)
        with contextlib.suppress(ConnectionError):
            await response.write(payload[: len(payload) // 2])
        self._drop(request)
        return response

    async def _stream(
        self,
        request: web.Request,
        reply: Reply,
        message: dict[str, Any],
        text: str,
        input_used: int,
        output_tokens: int,
        marker: str | None,
    ) -> web.StreamResponse:
        headers = self._headers(
            _random_id("req_"), input_used=input_used, output_used=output_tokens
        )
        headers.update({k.lower(): v for k, v in reply.headers.items()})
        headers["content-type"] = "text/event-stream; charset=utf-8"
        headers["cache-control"] = "no-cache"
        response = web.StreamResponse(status=200, headers=headers)

        usage = message["usage"]
        start = {
            **message,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {**usage, "output_tokens": 1},
        }
        size = max(1, reply.chunk_size)
        chunks = [text[i : i + size] for i in range(0, len(text), size)]
        # Events are buffered only until the next pause: whatever is written before a sleep
        # (or the end) leaves at once, so timing is real while the syscall count stays low.
        pending: list[bytes] = []

        def emit(event: str, data: dict[str, Any]) -> None:
            pending.append(_sse(event, data))

        billed = False

        async def flush() -> None:
            nonlocal billed
            if pending:
                await response.write(b"".join(pending))
                pending.clear()
                if not billed:  # the first write carries message_start
                    billed = True
                    self._bill(headers["request-id"], message, start["usage"], marker)

        try:
            await response.prepare(request)
            emit("message_start", {"type": "message_start", "message": start})
            if text:
                emit(
                    "content_block_start",
                    {
                        "type": "content_block_start",
                        "index": 0,
                        "content_block": {"type": "text", "text": ""},
                    },
                )
            emit("ping", {"type": "ping"})
            sent = 0
            while True:
                if reply.drop_after_chunks is not None and sent >= min(
                    reply.drop_after_chunks, len(chunks)
                ):
                    await flush()
                    self._drop(request)
                    return response
                if reply.stream_error_after_chunks is not None and sent >= min(
                    reply.stream_error_after_chunks, len(chunks)
                ):
                    error_type = reply.error_type or "overloaded_error"
                    message_text = reply.error_message or ERROR_MESSAGES.get(error_type, "Error")
                    emit(
                        "error",
                        {
                            "type": "error",
                            "error": {"type": error_type, "message": message_text},
                            "request_id": headers["request-id"],
                        },
                    )
                    await flush()
                    await response.write_eof()
                    return response
                if sent >= len(chunks):
                    break
                if sent > 0 and reply.chunk_delay > 0:
                    await flush()
                    if not await self._pause(request, reply.chunk_delay):
                        return response  # the client went away
                emit(
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": 0,
                        "delta": {"type": "text_delta", "text": chunks[sent]},
                    },
                )
                sent += 1
            if text:
                emit("content_block_stop", {"type": "content_block_stop", "index": 0})
            emit(
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {
                        "stop_reason": message["stop_reason"],
                        "stop_sequence": message["stop_sequence"],
                    },
                    "usage": {
                        "input_tokens": usage["input_tokens"],
                        "cache_creation_input_tokens": usage["cache_creation_input_tokens"],
                        "cache_read_input_tokens": usage["cache_read_input_tokens"],
                        "output_tokens": output_tokens,
                    },
                },
            )
            emit("message_stop", {"type": "message_stop"})
            await flush()
            await response.write_eof()
        except ConnectionError:
            pass  # the client went away; nothing more to send
        return response


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the fake Anthropic API in the foreground.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--api-key", default=DEFAULT_API_KEY)
    parser.add_argument("--delay", type=float, default=0.0, help="time to first token, seconds")
    parser.add_argument("--chunk-delay", type=float, default=0.0, help="seconds between deltas")
    args = parser.parse_args(argv)
    fake = FakeAnthropic(api_key=args.api_key, host=args.host, port=args.port)
    fake.default = Reply(delay=args.delay, chunk_delay=args.chunk_delay)
    with fake:
        print(f"Fake Anthropic API on {fake.base_url} (key {fake.api_key!r}); Ctrl-C stops it.")
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)


if __name__ == "__main__":
    main()
