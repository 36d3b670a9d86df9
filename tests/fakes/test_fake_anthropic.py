"""The fake Anthropic API, driven by the real SDK (`anthropic` 2.x over `httpx2`)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import anthropic
import httpx2
import pytest
import pytest_asyncio
from anthropic.types import Message, MessageParam, TextBlockParam

from tests.fakes.anthropic import FakeAnthropic, Reply

API_KEY = "sk-ant-test-key"
MODEL = "claude-sonnet-4-6"

# 9,000 characters = 2,250 tokens by the fake's rule: each block alone clears Sonnet's 2,048.
BIG_A = "A" * 9_000
BIG_B = "B" * 9_000
USER: list[MessageParam] = [{"role": "user", "content": "Write a note to the team about Friday."}]
HEADERS = {"x-api-key": API_KEY, "anthropic-version": "2023-06-01"}


def cached_system(ttl_a: Any = "5m", ttl_b: Any = "5m") -> list[TextBlockParam]:
    return [
        {"type": "text", "text": BIG_A, "cache_control": {"type": "ephemeral", "ttl": ttl_a}},
        {"type": "text", "text": BIG_B, "cache_control": {"type": "ephemeral", "ttl": ttl_b}},
    ]


@pytest.fixture(scope="module")
def server() -> Iterator[FakeAnthropic]:
    with FakeAnthropic(api_key=API_KEY) as fake:
        yield fake


@pytest.fixture
def fake(server: FakeAnthropic) -> FakeAnthropic:
    server.reset()
    return server


@pytest_asyncio.fixture
async def client(fake: FakeAnthropic) -> AsyncIterator[anthropic.AsyncAnthropic]:
    async with anthropic.AsyncAnthropic(
        api_key=API_KEY, base_url=fake.base_url, max_retries=0
    ) as c:
        yield c


async def create(client: anthropic.AsyncAnthropic, **kwargs: Any) -> Message:
    params: dict[str, Any] = {"model": MODEL, "max_tokens": 1024, "messages": USER}
    params.update(kwargs)
    message: Message = await client.messages.create(**params)
    return message


# --------------------------------------------------------------------------- basics


@pytest.mark.asyncio
async def test_create_returns_a_full_message(
    fake: FakeAnthropic, client: anthropic.AsyncAnthropic
) -> None:
    raw = await client.messages.with_raw_response.create(
        model=MODEL, max_tokens=1024, system="Be brief.", messages=USER
    )
    message = await raw.parse()
    assert message.id.startswith("msg_")
    assert message.role == "assistant" and message.type == "message"
    assert message.model == MODEL
    assert message.content[0].type == "text"
    text = message.content[0].text
    assert text == "Here is your draft.\n\nWrite a note to the team about Friday."
    assert message.stop_reason == "end_turn" and message.stop_sequence is None
    # Tokens are ceil(chars / 4): "Be brief." (9 chars) is 3, the user text (38 chars) 10.
    assert message.usage.input_tokens == 13
    assert message.usage.output_tokens == -(-len(text) // 4)
    assert message.usage.cache_creation_input_tokens == 0
    assert message.usage.cache_read_input_tokens == 0
    assert message.usage.service_tier == "standard"
    request_id = raw.headers["request-id"]
    assert request_id.startswith("req_") and len(request_id) == 28
    for name in ("requests", "input-tokens", "output-tokens"):
        for part in ("limit", "remaining", "reset"):
            assert raw.headers[f"anthropic-ratelimit-{name}-{part}"]
    assert raw.headers["anthropic-ratelimit-requests-reset"].endswith("Z")

    [recorded] = fake.message_requests()
    assert recorded.method == "POST" and recorded.path == "/v1/messages"
    assert recorded.headers["authorization"] == f"Bearer {API_KEY}"
    assert recorded.body is not None and recorded.body["system"] == "Be brief."


@pytest.mark.asyncio
async def test_stream_yields_chunks_and_final_message(
    fake: FakeAnthropic, client: anthropic.AsyncAnthropic
) -> None:
    fake.script(Reply(text="Dear team, Friday is a holiday.", chunk_size=10))
    async with client.messages.stream(model=MODEL, max_tokens=1024, messages=USER) as stream:
        chunks = [chunk async for chunk in stream.text_stream]
        final = await stream.get_final_message()
        assert stream.request_id is not None and stream.request_id.startswith("req_")
    assert chunks == ["Dear team,", " Friday is", " a holiday", "."]
    assert final.content[0].type == "text"
    assert final.content[0].text == "Dear team, Friday is a holiday."
    assert final.stop_reason == "end_turn"
    assert final.usage.input_tokens == 10
    assert final.usage.output_tokens == 8  # 31 chars
    assert final.usage.cache_creation_input_tokens == 0
    assert final.usage.cache_read_input_tokens == 0


@pytest.mark.asyncio
async def test_sse_wire_format_matches_the_real_api(fake: FakeAnthropic) -> None:
    fake.script(Reply(text="Hello there, world", chunk_size=6))
    body = {"model": MODEL, "max_tokens": 50, "messages": USER, "stream": True}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{fake.base_url}/v1/messages", json=body, headers=HEADERS) as response,
    ):
        assert response.status == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        raw = (await response.read()).decode()
    frames = [frame for frame in raw.split("\n\n") if frame]
    events: list[tuple[str, dict[str, Any]]] = []
    for frame in frames:
        event_line, data_line = frame.split("\n")
        assert event_line.startswith("event: ") and data_line.startswith("data: ")
        events.append((event_line[7:], json.loads(data_line[6:])))
    names = [name for name, _ in events]
    assert names == [
        "message_start",
        "content_block_start",
        "ping",
        "content_block_delta",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert all(data["type"] == name for name, data in events)
    start = events[0][1]["message"]
    assert start["content"] == [] and start["stop_reason"] is None
    assert start["usage"] == {
        "input_tokens": 10,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
        "output_tokens": 1,
        "service_tier": "standard",
    }
    assert events[1][1] == {
        "type": "content_block_start",
        "index": 0,
        "content_block": {"type": "text", "text": ""},
    }
    assert [data["delta"] for _, data in events[3:6]] == [
        {"type": "text_delta", "text": "Hello "},
        {"type": "text_delta", "text": "there,"},
        {"type": "text_delta", "text": " world"},
    ]
    assert events[7][1] == {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn", "stop_sequence": None},
        "usage": {
            "input_tokens": 10,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "output_tokens": 5,
        },
    }


def test_sync_client_works_too(fake: FakeAnthropic) -> None:
    fake.script(Reply(text="sync!"))
    with anthropic.Anthropic(api_key=API_KEY, base_url=fake.base_url, max_retries=0) as client:
        message = client.messages.create(model=MODEL, max_tokens=10, messages=USER)
        with client.messages.stream(model=MODEL, max_tokens=10, messages=USER) as stream:
            streamed = stream.get_final_text()
    assert message.content[0].type == "text" and message.content[0].text == "sync!"
    assert streamed.startswith("Here is your draft.")


# ---------------------------------------------------------------------- prompt caching


@pytest.mark.asyncio
async def test_cache_write_then_read(fake: FakeAnthropic, client: anthropic.AsyncAnthropic) -> None:
    first = await create(client, system=cached_system())
    assert first.usage.cache_creation_input_tokens == 4_500
    assert first.usage.cache_read_input_tokens == 0
    assert first.usage.input_tokens == 10
    assert first.usage.cache_creation is not None
    assert first.usage.cache_creation.ephemeral_5m_input_tokens == 4_500
    assert first.usage.cache_creation.ephemeral_1h_input_tokens == 0

    async with client.messages.stream(
        model=MODEL, max_tokens=1024, system=cached_system(), messages=USER
    ) as stream:
        second = await stream.get_final_message()
    assert second.usage.cache_creation_input_tokens == 0
    assert second.usage.cache_read_input_tokens == 4_500
    assert second.usage.input_tokens == 10

    # Changing the second block keeps the first prefix: read 2,250, write 2,250.
    changed = cached_system()
    changed[1]["text"] = "C" * 9_000
    third = await create(client, system=changed)
    assert third.usage.cache_read_input_tokens == 2_250
    assert third.usage.cache_creation_input_tokens == 2_250

    # A different model shares nothing.
    fourth = await create(client, model="claude-opus-4-6", system=cached_system())
    assert fourth.usage.cache_read_input_tokens == 0
    assert fourth.usage.cache_creation_input_tokens == 4_500  # 4,500 >= Opus's 4,096


@pytest.mark.asyncio
async def test_small_prefix_is_silently_not_cached(
    fake: FakeAnthropic, client: anthropic.AsyncAnthropic
) -> None:
    system = [{"type": "text", "text": "x" * 8_000, "cache_control": {"type": "ephemeral"}}]
    for _ in range(2):  # 2,000 tokens < 2,048
        message = await create(client, system=system)
        assert message.usage.cache_creation_input_tokens == 0
        assert message.usage.cache_read_input_tokens == 0
        assert message.usage.input_tokens == 2_010
    # Haiku needs 4,096: one 2,250-token block is not enough, two are.
    haiku = await create(client, model="claude-haiku-4-5", system=cached_system())
    assert haiku.usage.cache_creation_input_tokens == 4_500
    fake.min_cacheable_tokens = {"claude-sonnet": 1024}
    lowered = await create(client, system=system)
    assert lowered.usage.cache_creation_input_tokens == 2_000


@pytest.mark.asyncio
async def test_one_hour_ttl_split_and_expiry(
    fake: FakeAnthropic, client: anthropic.AsyncAnthropic
) -> None:
    first = await create(client, system=cached_system(ttl_a="1h", ttl_b="5m"))
    assert first.usage.cache_creation is not None
    assert first.usage.cache_creation.ephemeral_1h_input_tokens == 2_250
    assert first.usage.cache_creation.ephemeral_5m_input_tokens == 2_250

    fake.advance_time(240)  # both alive; the read refreshes them
    second = await create(client, system=cached_system(ttl_a="1h", ttl_b="5m"))
    assert second.usage.cache_read_input_tokens == 4_500

    fake.advance_time(301)  # the 5-minute entry expires, the 1-hour one does not
    third = await create(client, system=cached_system(ttl_a="1h", ttl_b="5m"))
    assert third.usage.cache_read_input_tokens == 2_250
    assert third.usage.cache_creation_input_tokens == 2_250
    assert third.usage.cache_creation is not None
    assert third.usage.cache_creation.ephemeral_5m_input_tokens == 2_250

    fake.advance_time(3_601)
    fourth = await create(client, system=cached_system(ttl_a="1h", ttl_b="5m"))
    assert fourth.usage.cache_read_input_tokens == 0
    assert fourth.usage.cache_creation_input_tokens == 4_500


@pytest.mark.asyncio
async def test_five_minute_entry_expires_when_clock_advances(
    fake: FakeAnthropic, client: anthropic.AsyncAnthropic
) -> None:
    await create(client, system=cached_system())
    fake.advance_time(299)
    assert (await create(client, system=cached_system())).usage.cache_read_input_tokens == 4_500
    fake.advance_time(299)  # refreshed by the hit above
    assert (await create(client, system=cached_system())).usage.cache_read_input_tokens == 4_500
    fake.advance_time(301)
    expired = await create(client, system=cached_system())
    assert expired.usage.cache_read_input_tokens == 0
    assert expired.usage.cache_creation_input_tokens == 4_500


@pytest.mark.asyncio
async def test_breakpoint_looks_back_at_earlier_prefixes(
    fake: FakeAnthropic, client: anthropic.AsyncAnthropic
) -> None:
    """A conversation moving its breakpoint forward reads what the previous turn wrote."""
    system = [{"type": "text", "text": BIG_A}]
    turn1 = [
        {
            "role": "user",
            "content": [{"type": "text", "text": "q1", "cache_control": {"type": "ephemeral"}}],
        }
    ]
    first = await create(client, system=system, messages=turn1)
    assert first.usage.cache_creation_input_tokens == 2_251
    turn2 = [
        {"role": "user", "content": "q1"},
        {"role": "assistant", "content": "a1"},
        {
            "role": "user",
            "content": [{"type": "text", "text": "q2", "cache_control": {"type": "ephemeral"}}],
        },
    ]
    second = await create(client, system=system, messages=turn2)
    assert second.usage.cache_read_input_tokens == 2_251
    assert second.usage.cache_creation_input_tokens == 2
    assert second.usage.input_tokens == 0


@pytest.mark.asyncio
async def test_top_level_cache_control_marks_the_last_block(
    client: anthropic.AsyncAnthropic,
) -> None:
    message = await create(client, system=BIG_A, cache_control={"type": "ephemeral"})
    assert message.usage.cache_creation_input_tokens == 2_260
    assert message.usage.input_tokens == 0


@pytest.mark.asyncio
async def test_concurrent_first_requests_all_write(
    fake: FakeAnthropic, client: anthropic.AsyncAnthropic
) -> None:
    fake.default = Reply(delay=0.2)
    results = await asyncio.gather(*(create(client, system=cached_system()) for _ in range(3)))
    assert [m.usage.cache_creation_input_tokens for m in results] == [4_500] * 3
    later = await create(client, system=cached_system())
    assert later.usage.cache_read_input_tokens == 4_500


# ----------------------------------------------------------------------------- errors


@pytest.mark.asyncio
async def test_rate_limit_error_carries_retry_after_and_request_id(
    fake: FakeAnthropic, client: anthropic.AsyncAnthropic
) -> None:
    fake.script(Reply(status=429), Reply(status=429, headers={"retry-after-ms": "50"}))
    with pytest.raises(anthropic.RateLimitError) as caught:
        await create(client)
    error = caught.value
    assert error.status_code == 429
    assert error.response.headers["retry-after"] == "1"
    assert error.response.headers["anthropic-ratelimit-requests-remaining"] == "0"
    assert error.request_id is not None and error.request_id.startswith("req_")
    assert error.body == {
        "type": "error",
        "error": {"type": "rate_limit_error", "message": error.api_message},
        "request_id": error.request_id,
    }
    assert error.type == "rate_limit_error"

    with pytest.raises(anthropic.RateLimitError) as caught:
        async with client.messages.stream(model=MODEL, max_tokens=10, messages=USER) as stream:
            await stream.get_final_message()
    assert caught.value.response.headers["retry-after-ms"] == "50"


@pytest.mark.asyncio
async def test_status_codes_map_to_sdk_exceptions(
    fake: FakeAnthropic, client: anthropic.AsyncAnthropic
) -> None:
    cases: list[tuple[int, type[anthropic.APIStatusError], str]] = [
        (529, anthropic.OverloadedError, "overloaded_error"),
        (500, anthropic.InternalServerError, "api_error"),
        (503, anthropic.ServiceUnavailableError, "api_error"),
        (403, anthropic.PermissionDeniedError, "permission_error"),
        (408, anthropic.RequestTimeoutError, "timeout_error"),
        (413, anthropic.ContentTooLargeError, "request_too_large"),
    ]
    for status, exception, error_type in cases:
        fake.script(Reply(status=status, error_message="nope", headers={"x-should-retry": "false"}))
        with pytest.raises(exception) as caught:
            await create(client)
        assert caught.value.status_code == status
        assert caught.value.type == error_type and caught.value.api_message == "nope"
        assert caught.value.response.headers["x-should-retry"] == "false"


@pytest.mark.asyncio
async def test_wrong_key_is_an_authentication_error(fake: FakeAnthropic) -> None:
    fake.script(Reply(text="not consumed"))
    async with anthropic.AsyncAnthropic(
        api_key="sk-ant-wrong", base_url=fake.base_url, max_retries=0
    ) as bad:
        with pytest.raises(anthropic.AuthenticationError) as caught:
            await create(bad)
    assert caught.value.api_message == "invalid x-api-key"
    assert fake.pending_replies == 1  # auth fails before a reply is consumed


@pytest.mark.asyncio
async def test_unknown_model_is_not_found(client: anthropic.AsyncAnthropic) -> None:
    with pytest.raises(anthropic.NotFoundError) as caught:
        await create(client, model="claude-sonnet-9-9")
    assert caught.value.api_message == "model: claude-sonnet-9-9"
    with pytest.raises(anthropic.NotFoundError):
        await client.models.retrieve("claude-sonnet-9-9")


@pytest.mark.asyncio
async def test_validation_errors_are_bad_requests(client: anthropic.AsyncAnthropic) -> None:
    prefill = [*USER, {"role": "assistant", "content": "Dear team,"}]
    with pytest.raises(anthropic.BadRequestError) as caught:
        await create(client, messages=prefill)
    assert caught.value.api_message == (
        "This model does not support assistant message prefill. "
        "The conversation must end with a user message."
    )
    assert caught.value.type == "invalid_request_error"

    with pytest.raises(anthropic.BadRequestError, match="temperature: Extra inputs"):
        await create(client, extra_body={"temperature": 0.2})
    with pytest.raises(anthropic.BadRequestError, match="first message must use the"):
        await create(client, messages=[{"role": "assistant", "content": "hi"}, *USER])
    with pytest.raises(anthropic.BadRequestError, match="at least one message"):
        await create(client, messages=[])
    with pytest.raises(anthropic.BadRequestError, match="maximum allowed number of output"):
        async with client.messages.stream(model=MODEL, max_tokens=64_001, messages=USER) as s:
            await s.get_final_message()

    five = [
        {"type": "text", "text": f"block {i}", "cache_control": {"type": "ephemeral"}}
        for i in range(5)
    ]
    with pytest.raises(anthropic.BadRequestError) as caught:
        await create(client, system=five)
    assert caught.value.api_message == (
        "A maximum of 4 blocks with cache_control may be provided. Found 5."
    )
    with pytest.raises(anthropic.BadRequestError, match="must not come after"):
        await create(client, system=cached_system(ttl_a="5m", ttl_b="1h"))


@pytest.mark.asyncio
async def test_prefill_is_accepted_by_haiku(client: anthropic.AsyncAnthropic) -> None:
    prefill = [*USER, {"role": "assistant", "content": "Dear team,"}]
    message = await create(client, model="claude-haiku-4-5", messages=prefill)
    assert message.stop_reason == "end_turn"


@pytest.mark.asyncio
async def test_scripted_failures_take_precedence_over_validation(
    fake: FakeAnthropic, client: anthropic.AsyncAnthropic
) -> None:
    fake.script(Reply(status=529))
    with pytest.raises(anthropic.OverloadedError):
        await create(client, model="claude-nonexistent")


@pytest.mark.asyncio
async def test_drop_connection_is_a_connection_error(
    fake: FakeAnthropic, client: anthropic.AsyncAnthropic
) -> None:
    fake.script(Reply(drop_connection=True), Reply(drop_connection=True))
    with pytest.raises(anthropic.APIConnectionError):
        await create(client)
    with pytest.raises(anthropic.APIConnectionError):
        async with client.messages.stream(model=MODEL, max_tokens=10, messages=USER) as stream:
            await stream.get_final_message()


@pytest.mark.asyncio
async def test_drop_mid_stream_raises_from_the_stream(
    fake: FakeAnthropic, client: anthropic.AsyncAnthropic
) -> None:
    fake.script(Reply(text="one two three four five six", chunk_size=4, drop_after_chunks=2))
    received: list[str] = []
    # The SDK does not wrap errors raised while reading a stream's body: the raw
    # httpx2 transport error escapes (not an anthropic.APIConnectionError).
    with pytest.raises(httpx2.RemoteProtocolError) as caught:
        async with client.messages.stream(model=MODEL, max_tokens=100, messages=USER) as stream:
            async for chunk in stream.text_stream:
                received.append(chunk)
    assert isinstance(caught.value, httpx2.TransportError)
    assert received == ["one ", "two "]

    # A non-streaming response cut half-way through the body is a connection error.
    fake.script(Reply(drop_after_chunks=0))
    with pytest.raises(anthropic.APIConnectionError):
        await create(client)


@pytest.mark.asyncio
async def test_error_event_in_stream_is_an_api_status_error(
    fake: FakeAnthropic, client: anthropic.AsyncAnthropic
) -> None:
    fake.script(
        Reply(text="abcdefghijkl", chunk_size=3, stream_error_after_chunks=2),
        Reply(stream_error_after_chunks=0, error_type="api_error", error_message="boom"),
    )
    received: list[str] = []
    with pytest.raises(anthropic.APIStatusError) as caught:
        async with client.messages.stream(model=MODEL, max_tokens=100, messages=USER) as stream:
            async for event in stream:
                if event.type == "text":
                    received.append(event.text)
    assert received == ["abc", "def"]
    error = caught.value
    assert type(error) is anthropic.APIStatusError and error.status_code == 200
    assert error.type == "overloaded_error" and error.api_message == "Overloaded"

    with pytest.raises(anthropic.APIStatusError) as caught:
        async with client.messages.stream(model=MODEL, max_tokens=100, messages=USER) as stream:
            await stream.get_final_message()
    assert caught.value.type == "api_error" and caught.value.api_message == "boom"


# ------------------------------------------------------------------------------ output


@pytest.mark.asyncio
async def test_max_tokens_truncates_the_reply(
    fake: FakeAnthropic, client: anthropic.AsyncAnthropic
) -> None:
    fake.script(Reply(text="x" * 100), Reply(text="y" * 100))
    message = await create(client, max_tokens=5)
    assert message.content[0].type == "text" and message.content[0].text == "x" * 20
    assert message.stop_reason == "max_tokens"
    assert message.usage.output_tokens == 5
    async with client.messages.stream(model=MODEL, max_tokens=5, messages=USER) as stream:
        final = await stream.get_final_message()
    assert final.content[0].type == "text" and final.content[0].text == "y" * 20
    assert final.stop_reason == "max_tokens" and final.usage.output_tokens == 5


@pytest.mark.asyncio
async def test_stop_reason_stop_sequences_and_token_overrides(
    fake: FakeAnthropic, client: anthropic.AsyncAnthropic
) -> None:
    fake.script(
        Reply(text="I can't help with that.", stop_reason="refusal"),
        Reply(text="Hello.\n\nEND and more"),
        Reply(text="hi", input_tokens=1_234, output_tokens=99),
    )
    refusal = await create(client)
    assert refusal.stop_reason == "refusal"
    stopped = await create(client, stop_sequences=["END"])
    assert stopped.stop_reason == "stop_sequence" and stopped.stop_sequence == "END"
    assert stopped.content[0].type == "text" and stopped.content[0].text == "Hello.\n\n"
    overridden = await create(client)
    assert overridden.usage.input_tokens == 1_234 and overridden.usage.output_tokens == 99


@pytest.mark.asyncio
async def test_max_tokens_zero_prewarms_the_cache(client: anthropic.AsyncAnthropic) -> None:
    """The SDK documents max_tokens=0 as "populate the prompt cache without a response"."""
    warm = await create(client, max_tokens=0, system=cached_system())
    assert warm.content == [] and warm.stop_reason == "max_tokens"
    assert warm.usage.output_tokens == 0 and warm.usage.cache_creation_input_tokens == 4_500
    hit = await create(client, system=cached_system())
    assert hit.usage.cache_read_input_tokens == 4_500


@pytest.mark.asyncio
async def test_raw_http_errors(fake: FakeAnthropic) -> None:
    url = f"{fake.base_url}/v1/messages"
    async with aiohttp.ClientSession() as session:
        async with session.post(url, data=b"{not json", headers=HEADERS) as response:
            assert response.status == 400
            error = await response.json()
            assert error["type"] == "error"
            assert error["error"]["type"] == "invalid_request_error"
            assert error["request_id"] == response.headers["request-id"]
        async with session.post(url, json={}, headers={"x-api-key": API_KEY}) as response:
            assert response.status == 400
            assert (await response.json())["error"]["message"] == (
                "anthropic-version: header is required"
            )
        async with session.post(url, json={}, headers={"anthropic-version": "2023-06-01"}) as r:
            assert r.status == 401
            assert (await r.json())["error"]["type"] == "authentication_error"
        async with session.get(f"{fake.base_url}/v1/nowhere", headers=HEADERS) as response:
            assert response.status == 404
    assert [r.path for r in fake.requests] == ["/v1/messages"] * 3 + ["/v1/nowhere"]


# ------------------------------------------------------------------------ concurrency


@pytest.mark.asyncio
async def test_delays_do_not_block_other_requests(
    fake: FakeAnthropic, client: anthropic.AsyncAnthropic
) -> None:
    fake.default = Reply(delay=1.0)
    started = time.monotonic()
    results = await asyncio.gather(*(create(client) for _ in range(50)))
    assert time.monotonic() - started < 3.0
    assert len(results) == 50


@pytest.mark.asyncio
async def test_hundreds_of_concurrent_streams(fake: FakeAnthropic) -> None:
    """Server-side concurrency, measured with a lean client: the SDK's own per-request CPU
    (several ms per stream, sharing the GIL with the fake's thread) would dominate."""
    fake.default = Reply(delay=0.5, chunk_delay=0.02, chunk_size=20)
    body = {"model": MODEL, "max_tokens": 100, "messages": USER, "stream": True}
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one() -> bytes:
            url = f"{fake.base_url}/v1/messages"
            async with session.post(url, json=body, headers=HEADERS) as response:
                assert response.status == 200
                return await response.read()

        started = time.monotonic()
        streams = await asyncio.gather(*(one() for _ in range(300)))
        elapsed = time.monotonic() - started
    assert elapsed < 2.0, elapsed  # one after another would take 300 * 0.54 s
    assert all(
        raw.endswith(b'event: message_stop\ndata: {"type":"message_stop"}\n\n') for raw in streams
    )
    assert len(fake.message_requests()) == 300


@pytest.mark.asyncio
async def test_delay_and_chunk_delay_shape_the_timing(
    fake: FakeAnthropic, client: anthropic.AsyncAnthropic
) -> None:
    fake.script(Reply(text="a" * 30, chunk_size=10, delay=0.3, chunk_delay=0.1))
    started = time.monotonic()
    arrivals: list[float] = []
    async with client.messages.stream(model=MODEL, max_tokens=100, messages=USER) as stream:
        async for _ in stream.text_stream:
            arrivals.append(time.monotonic() - started)
    assert 0.28 <= arrivals[0] < 0.6
    assert 0.45 <= arrivals[-1] < 0.9


# --------------------------------------------------------------------- other endpoints


@pytest.mark.asyncio
async def test_count_tokens(fake: FakeAnthropic, client: anthropic.AsyncAnthropic) -> None:
    counted = await client.messages.count_tokens(model=MODEL, system=cached_system(), messages=USER)
    assert counted.input_tokens == 4_510
    assert fake.message_requests() == []  # count_tokens is not a message request
    assert fake.requests[-1].path == "/v1/messages/count_tokens"


@pytest.mark.asyncio
async def test_models_retrieve_and_list(client: anthropic.AsyncAnthropic) -> None:
    info = await client.models.retrieve(MODEL)
    assert info.id == MODEL and info.type == "model"
    assert info.display_name == "Claude Sonnet 4.6"
    assert info.lifecycle == "active"
    assert info.max_tokens == 64_000 and info.max_input_tokens == 200_000
    ids = [model.id async for model in client.models.list()]
    assert ids == ["claude-haiku-4-5", "claude-opus-4-6", "claude-sonnet-4-6"]


# ----------------------------------------------------------------------- bookkeeping


@pytest.mark.asyncio
async def test_script_queue_default_and_reset(
    fake: FakeAnthropic, client: anthropic.AsyncAnthropic
) -> None:
    fake.script(Reply(text="first"), Reply(text="second"))
    fake.default = Reply(text="default")
    texts = []
    for _ in range(3):
        message = await create(client)
        assert message.content[0].type == "text"
        texts.append(message.content[0].text)
    assert texts == ["first", "second", "default"]
    await create(client, system=cached_system())
    assert fake.cached_prefixes() == 2

    fake.reset()
    assert fake.requests == [] and fake.pending_replies == 0 and fake.cached_prefixes() == 0
    assert fake.default == Reply()


async def test_replies_scripted_per_marker_follow_the_request_not_the_arrival_order(
    fake: FakeAnthropic, client: anthropic.AsyncAnthropic
) -> None:
    fake.script_for("req-7", Reply(status=529), Reply(text="seven"))
    fake.script_for("req-8", Reply(text="eight", delay=0.1))
    fake.default = Reply(text="default")

    async def ask(marker: str) -> str:
        for _ in range(3):
            try:
                message = await create(client, messages=[{"role": "user", "content": marker}])
            except anthropic.APIStatusError:
                continue
            block = message.content[0]
            assert block.type == "text"
            return block.text
        raise AssertionError("no reply")

    assert await asyncio.gather(ask("req-8"), ask("req-7"), ask("other")) == [
        "eight",
        "seven",
        "default",
    ]
    assert await ask("req-7") == "default"  # its script is used up


async def test_billed_lists_requests_whose_usage_reached_the_client(
    fake: FakeAnthropic, client: anthropic.AsyncAnthropic
) -> None:
    fake.script(
        Reply(status=429, headers={"retry-after-ms": "1"}),
        Reply(drop_connection=True),
        Reply(text="cut off here " * 4, chunk_size=4, drop_after_chunks=1),
        Reply(text="whole"),
    )
    outcomes = []
    for _ in range(4):
        try:
            async with client.messages.stream(model=MODEL, max_tokens=100, messages=USER) as stream:
                outcomes.append(stream.request_id)
                await stream.get_final_message()
        except (anthropic.APIError, httpx2.TransportError):
            continue
    billed = fake.billed()
    assert [b.request_id for b in billed] == outcomes[-2:]  # the cut stream and the whole one
    assert all(b.usage["input_tokens"] > 0 and b.model == MODEL for b in billed)

    # A client that hangs up before the reply starts is not billed, and the fake stops at once.
    fake.reset()
    fake.default = Reply(delay=5.0)
    started = time.monotonic()
    with pytest.raises(anthropic.APITimeoutError):
        await create(client, timeout=0.3)
    await asyncio.sleep(0.2)
    assert fake.billed() == [] and time.monotonic() - started < 2


def test_wait_for_requests_from_another_thread(fake: FakeAnthropic) -> None:
    fake.default = Reply(delay=0.2)

    def call() -> None:
        with anthropic.Anthropic(api_key=API_KEY, base_url=fake.base_url, max_retries=0) as c:
            c.messages.create(model=MODEL, max_tokens=10, messages=USER)

    threads = [threading.Thread(target=call) for _ in range(2)]
    for thread in threads:
        thread.start()
    assert fake.wait_for_requests(2, timeout=5.0)
    assert not fake.wait_for_requests(3, timeout=0.05)
    for thread in threads:
        thread.join()
    received = [r.received_at for r in fake.message_requests()]
    assert len(received) == 2 and all(isinstance(t, float) for t in received)


@pytest.mark.asyncio
async def test_wait_for_requests_async(
    fake: FakeAnthropic, client: anthropic.AsyncAnthropic
) -> None:
    fake.default = Reply(delay=0.3)
    task = asyncio.create_task(create(client))
    assert await fake.wait_for_requests_async(1, within=2.0)
    assert not task.done()
    await task


def test_start_stop_and_context_manager() -> None:
    fake = FakeAnthropic().start()
    url = fake.base_url
    assert url.startswith("http://127.0.0.1:")
    fake.stop()
    with pytest.raises(httpx2.ConnectError):
        httpx2.get(f"{url}/v1/models")
    with FakeAnthropic(api_key="other") as other:
        response = httpx2.get(
            f"{other.base_url}/v1/models",
            headers={"x-api-key": "other", "anthropic-version": "2023-06-01"},
        )
        assert response.status_code == 200
        assert response.headers["request-id"].startswith("req_")
