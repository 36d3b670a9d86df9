"""POST /slack/events handed to Bolt, with Bolt's one misreading of form bodies corrected.

Bolt decides that a form body is an interaction (`payload=…`) when the substring "payload"
appears anywhere in it, then finds no `payload` field and gives the listeners an empty body:
a `/draft` whose words say "payload" was answered "unhandled request" (HTTP 404). Here a
form body is read by its fields, as Slack sends them.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest


def events_handler(slack_app: AsyncApp) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        bolt_request = await to_bolt_request(request)
        _read_form_fields(bolt_request)
        return await to_aiohttp_response(await slack_app.async_dispatch(bolt_request))

    return handle


def form_body(raw: str, content_type: str | None) -> dict[str, Any] | None:
    """A form-encoded body by its fields (an interaction's `payload` decoded); None for JSON."""
    if content_type == "application/json" or raw.startswith("{"):
        return None
    fields = dict(parse_qsl(raw, keep_blank_values=True))
    if "payload" in fields:
        payload = json.loads(fields["payload"])
        return payload if isinstance(payload, dict) else None
    return fields


def _read_form_fields(request: AsyncBoltRequest) -> None:
    body = form_body(request.raw_body, request.content_type) if request.raw_body else None
    if body is not None and body != request.body:
        request.body = body
        request.context = build_async_context(AsyncBoltContext({}), body)
