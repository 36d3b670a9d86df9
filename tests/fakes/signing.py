"""Build and sign requests the way Slack sends them to an HTTP-mode Bolt app."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


def sign_request(
    body: bytes,
    signing_secret: str,
    timestamp: int | None = None,
    *,
    content_type: str = FORM_CONTENT_TYPE,
) -> dict[str, str]:
    """Headers Slack would send with ``body``: timestamp, ``v0=`` signature, content type."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(signing_secret).generate_signature(timestamp=ts, body=body)
    assert signature is not None
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
        "Content-Type": content_type,
    }


def slash_command_fields(
    text: str,
    *,
    command: str = "/draft",
    user_id: str = "U0001",
    user_name: str = "alex",
    team_id: str = "T0001",
    team_domain: str = "draftbot-test",
    channel_id: str = "C0001",
    channel_name: str = "general",
    response_url: str,
    trigger_id: str = "123.456.abc",
    api_app_id: str = "A0001",
    enterprise_id: str | None = None,
    enterprise_name: str | None = None,
    token: str = "verification-token",
) -> dict[str, str]:
    """A slash command payload as a dict of strings, in Slack's field order.

    This is also the ``payload`` of a Socket Mode ``slash_commands`` envelope.
    """
    fields: dict[str, str] = {"token": token, "team_id": team_id, "team_domain": team_domain}
    if enterprise_id is not None:
        fields["enterprise_id"] = enterprise_id
        fields["enterprise_name"] = enterprise_name or "Example Enterprise"
    fields.update(
        {
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": user_id,
            "user_name": user_name,
            "command": command,
            "text": text,
            "api_app_id": api_app_id,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
    )
    return fields


def slash_command_body(
    text: str,
    *,
    command: str = "/draft",
    user_id: str = "U0001",
    user_name: str = "alex",
    team_id: str = "T0001",
    channel_id: str = "C0001",
    channel_name: str = "general",
    response_url: str,
    trigger_id: str = "123.456.abc",
    api_app_id: str = "A0001",
    enterprise_id: str | None = None,
    **extra: Any,
) -> bytes:
    """The form-encoded body of a slash command request (``+`` for spaces, ``%2F`` for ``/``)."""
    fields = slash_command_fields(
        text,
        command=command,
        user_id=user_id,
        user_name=user_name,
        team_id=team_id,
        channel_id=channel_id,
        channel_name=channel_name,
        response_url=response_url,
        trigger_id=trigger_id,
        api_app_id=api_app_id,
        enterprise_id=enterprise_id,
        **extra,
    )
    return urlencode(fields).encode()


def signed_slash_command(
    signing_secret: str, text: str, *, timestamp: int | None = None, **fields: Any
) -> tuple[bytes, dict[str, str]]:
    """``(body, headers)`` for a signed slash command; ``fields`` go to slash_command_body."""
    body = slash_command_body(text, **fields)
    return body, sign_request(body, signing_secret, timestamp)


def interactive_body(payload: Mapping[str, Any]) -> bytes:
    """``payload=<url-encoded JSON>``, as Slack posts block_actions, view_submission, shortcuts."""
    return urlencode({"payload": json.dumps(dict(payload), separators=(",", ":"))}).encode()


def signed_interactive(
    signing_secret: str, payload: Mapping[str, Any], *, timestamp: int | None = None
) -> tuple[bytes, dict[str, str]]:
    body = interactive_body(payload)
    return body, sign_request(body, signing_secret, timestamp)
