"""Fixtures: the real Bolt app on loopback HTTP, talking to local fake Slack and Anthropic."""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.config import DEFAULT_PROMPTS_DIR, Settings, load_settings
from bot.llm import RetryPolicy
from bot.services import Services, build_services
from handlers.app import build_slack_app, build_web_app, replay_journal_forever
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.signing import interactive_body, sign_request, slash_command_body
from tests.fakes.slack import FakeSlack

MANIFEST_SCOPES = json.loads((DEFAULT_PROMPTS_DIR.parent / "manifest.json").read_text())[
    "oauth_config"
]["scopes"]["bot"]
BOT_TOKEN = "xoxb-test-token"
APP_TOKEN = "xapp-test-token"
SIGNING_SECRET = "test-signing-secret"
API_KEY = "sk-ant-test-key"

# Fast but real retries: the same policy code, with backoff in milliseconds.
FAST_RETRIES = RetryPolicy(
    max_attempts=4, max_total_seconds=10, initial_backoff=0.01, max_backoff=0.05, jitter=0.01
)


@pytest.fixture(scope="session")
def anthropic_server() -> Iterator[FakeAnthropic]:
    with FakeAnthropic(api_key=API_KEY) as server:
        yield server


@pytest.fixture(scope="session")
def slack_server() -> Iterator[FakeSlack]:
    with FakeSlack(bot_token=BOT_TOKEN, app_token=APP_TOKEN) as server:
        yield server


@pytest.fixture
def fake_anthropic(anthropic_server: FakeAnthropic) -> FakeAnthropic:
    anthropic_server.reset()
    return anthropic_server


@pytest.fixture
def fake_slack(slack_server: FakeSlack) -> FakeSlack:
    slack_server.reset()
    # The bot token has exactly the scopes manifest.json asks for, as after a real install.
    slack_server.scopes = MANIFEST_SCOPES
    return slack_server


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "long_drafts: the general kind may write 20,000 tokens")
    config.addinivalue_line("markers", "env(**settings): extra settings for the bot under test")
    config.addinivalue_line(
        "markers", "faults: the database or network failing under the real server (slower)"
    )


@pytest.fixture
def env(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    fake_anthropic: FakeAnthropic,
    fake_slack: FakeSlack,
) -> dict[str, str]:
    """A complete HTTP-mode environment pointing at the fakes."""
    prompts_dir = DEFAULT_PROMPTS_DIR
    if request.node.get_closest_marker("long_drafts"):
        prompts_dir = tmp_path / "prompts"
        shutil.copytree(DEFAULT_PROMPTS_DIR, prompts_dir)
        general = prompts_dir / "general.md"
        general.write_text(general.read_text().replace("max_tokens: 2500", "max_tokens: 20000"))
    extra = marker.kwargs if (marker := request.node.get_closest_marker("env")) else {}
    return {
        "DRAFTBOT_PROMPTS_DIR": str(prompts_dir),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.api_url,
        "ANTHROPIC_API_KEY": API_KEY,
        "ANTHROPIC_BASE_URL": fake_anthropic.base_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'draftbot.db'}",
        "DRAFTBOT_JOURNAL_PATH": str(tmp_path / "journal" / "usage-journal.jsonl"),
        "ADMIN_USER_IDS": "UADMIN1",
        # The fake knows only the people a test adds, so guests are let in here (no
        # users.info per request); tests/test_access_rules.py checks the default: refused.
        "DRAFTBOT_GUESTS": "on",
        **extra,
    }


@pytest.fixture
def settings(env: dict[str, str]) -> Settings:
    return load_settings(env)


@dataclass
class SlashReply:
    status: int
    body: dict[str, Any]
    seconds: float
    response_url: str


@dataclass
class RunningBot:
    url: str
    services: Services
    fake_slack: FakeSlack
    session: aiohttp.ClientSession

    async def slash(
        self,
        text: str,
        *,
        secret: str = SIGNING_SECRET,
        timestamp: int | None = None,
        **fields: Any,
    ) -> SlashReply:
        """Send `/draft text` as Slack would: a signed, form-encoded POST (with a new
        response_url unless `response_url=` gives one from `fake_slack.new_response_url()`)."""
        response_url = fields.pop("response_url", None) or self.fake_slack.new_response_url()
        body = slash_command_body(text, response_url=response_url, **fields)
        headers = sign_request(body, secret, timestamp=timestamp)
        started = time.monotonic()
        async with self.session.post(f"{self.url}/slack/events", data=body, headers=headers) as r:
            raw = await r.text()
            seconds = time.monotonic() - started
            # Bolt answers a text-only ack as text/plain, which Slack shows as the message text.
            is_json = r.content_type == "application/json"
            parsed = await r.json() if is_json else {"text": raw} if raw else {}
            return SlashReply(r.status, parsed, seconds, response_url)

    async def interact(self, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Send an interactive payload (button, modal, shortcut) as Slack would: signed."""
        body = interactive_body(payload)
        headers = sign_request(body, SIGNING_SECRET)
        async with self.session.post(f"{self.url}/slack/events", data=body, headers=headers) as r:
            await r.read()
            return r.status, (await r.json() if r.content_type == "application/json" else {})

    async def event(self, event: dict[str, Any], *, retry_num: int | None = None) -> int:
        """Deliver an Events API callback as Slack would (signed JSON; retries flagged)."""
        envelope = {
            "token": "legacy-token",
            "team_id": "T0001",
            "api_app_id": "A0001",
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{abs(hash(json.dumps(event, sort_keys=True))) % 10**10}",
            "event_time": int(time.time()),
        }
        body = json.dumps(envelope).encode()
        headers = {**sign_request(body, SIGNING_SECRET), "Content-Type": "application/json"}
        if retry_num is not None:
            headers |= {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "timeout"}
        async with self.session.post(f"{self.url}/slack/events", data=body, headers=headers) as r:
            await r.read()
            return r.status

    def usage_rows(self, **where: Any) -> list[dict[str, Any]]:
        return self.services.store.usage_rows(**where)


@pytest.fixture
async def bot(settings: Settings, fake_slack: FakeSlack) -> AsyncIterator[RunningBot]:
    services = build_services(settings, FAST_RETRIES)
    runner = web.AppRunner(build_web_app(build_slack_app(services), services))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    # As `draftbot serve` does, but often: usage rows kept in the journal are written back.
    replaying = asyncio.create_task(replay_journal_forever(services, every=0.2))
    async with aiohttp.ClientSession() as session:
        yield RunningBot(f"http://127.0.0.1:{port}", services, fake_slack, session)
    replaying.cancel()
    await runner.cleanup()
    await services.aclose()
