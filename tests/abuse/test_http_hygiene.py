"""Unsigned, stale and malformed requests to POST /slack/events: each gets a 4xx, no
traceback and at most one short log line; no log line carries a person's text, user id
or response_url; and `draftbot serve` starts without a warning. Real processes, real HTTP."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest

from bot.logs import ThrottledLog
from tests.conftest import SIGNING_SECRET, RunningBot
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.signing import interactive_body, sign_request, slash_command_body
from tests.fakes.slack import FakeSlack
from tests.test_cli import DRAFTBOT, free_port, pythonpath, wait_http

SECRET_TEXT = "SECRET-REQUEST-TEXT about the layoffs"
SECRET_USER = "U0SECRETUSER"
FORM = "application/x-www-form-urlencoded"


@dataclass
class Served:
    """`draftbot serve` in HTTP mode, its standard error going to a file we can read."""

    proc: subprocess.Popen[str]
    port: int
    log_path: Path
    startup_log: str = ""

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def post(self, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/slack/events", data=body, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(15)
        return self.log()


@contextmanager
def served(env: dict[str, str], tmp_path: Path, **extra: str) -> Iterator[Served]:
    port = free_port()
    log_path = tmp_path / f"serve-{port}.log"
    with log_path.open("w") as stderr:
        proc = subprocess.Popen(
            [*DRAFTBOT, "serve"],
            env={"PATH": os.environ["PATH"], **env, **pythonpath(), "PORT": str(port), **extra},
            cwd=tmp_path,
            stderr=stderr,
            text=True,
        )
    server = Served(proc, port, log_path)
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz")
        time.sleep(0.2)  # anything start-up logs after binding the port
        server.startup_log = server.log()
        yield server
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def log_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def level_of(line: str, log_format: str) -> str:
    if log_format == "json":
        return str(json.loads(line)["level"]).upper()
    match = re.match(r"\S+ \S+ (DEBUG|INFO|WARNING|ERROR|CRITICAL) ", line)
    return match.group(1) if match else "CONTINUATION"  # e.g. a traceback's lines


def button_click(response_url: str) -> dict[str, object]:
    return {
        "type": "block_actions",
        "user": {"id": SECRET_USER, "username": "someone", "team_id": "T0001"},
        "team": {"id": "T0001", "domain": "acme"},
        "channel": {"id": "C0001", "name": "general"},
        "trigger_id": "111.222.abc",
        "response_url": response_url,
        "actions": [{"action_id": "draft_post", "block_id": "draft_actions", "value": "d1"}],
    }


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_refused_signatures_log_no_request_data_and_start_up_is_quiet(
    log_format: str,
    tmp_path: Path,
    env: dict[str, str],
    fake_anthropic: FakeAnthropic,
    fake_slack: FakeSlack,
) -> None:
    response_url = fake_slack.new_response_url()
    slash = slash_command_body(SECRET_TEXT, user_id=SECRET_USER, response_url=response_url)
    click = interactive_body(button_click(response_url))
    with served(env, tmp_path, LOG_FORMAT=log_format) as server:
        startup = log_lines(server.startup_log)
        refused = [
            # A rotated SLACK_SIGNING_SECRET: the signature is well formed but wrong.
            server.post(slash, sign_request(slash, "the-old-signing-secret")),
            server.post(click, sign_request(click, "the-old-signing-secret")),
            # Clock skew, or a capture replayed later: signed, but 10 minutes old.
            server.post(slash, sign_request(slash, SIGNING_SECRET, int(time.time()) - 600)),
            server.post(click, sign_request(click, SIGNING_SECRET, int(time.time()) - 600)),
        ]
        log = server.stop()

    assert [status for status, _ in refused] == [401, 401, 401, 401]
    assert fake_anthropic.message_requests() == [] and fake_slack.responses(response_url) == []
    for leak in (
        "SECRET-REQUEST-TEXT",
        "layoffs",
        SECRET_USER,
        response_url,
        response_url.rsplit("/", 1)[1],
        "response_url",
        SIGNING_SECRET,
    ):
        assert leak not in log, f"{leak!r} is in the log:\n{log}"
    assert "Traceback" not in log
    # The start-up log is information only: no WARNING (nor worse) line.
    assert startup, "draftbot serve logged nothing at start-up"
    assert [line for line in startup if level_of(line, log_format) != "INFO"] == []
    # What the refusals did log: one short line per kind at most.
    after_startup = log_lines(log)[len(startup) :]
    refusals = [line for line in after_startup if "refused" in line.lower()]
    assert 1 <= len(refusals) <= 2, after_startup
    assert all(len(line) < 300 for line in refusals)


def signed(body: bytes, content_type: str = FORM) -> dict[str, str]:
    return sign_request(body, SIGNING_SECRET, content_type=content_type)


def unsigned(content_type: str = FORM) -> dict[str, str]:
    """Headers a forger would send: well-formed, current, with a signature that is wrong."""
    return {
        "X-Slack-Request-Timestamp": str(int(time.time())),
        "X-Slack-Signature": "v0=" + "0" * 64,
        "Content-Type": content_type,
    }


def malformed_requests(response_url: str) -> dict[str, tuple[bytes, dict[str, str]]]:
    slash = slash_command_body(SECRET_TEXT, user_id=SECRET_USER, response_url=response_url)
    json_list = urlencode({"payload": json.dumps([1, 2, 3])}).encode()
    json_string = urlencode({"payload": json.dumps("just a string")}).encode()
    return {
        "timestamp is not a number": (
            slash,
            {**unsigned(), "X-Slack-Request-Timestamp": "yesterday"},
        ),
        "no signature headers": (slash, {"Content-Type": FORM}),
        "JSON content type, form body, unsigned": (slash, unsigned("application/json")),
        "JSON content type, form body, signed": (slash, signed(slash, "application/json")),
        "payload is not JSON, signed": (b"payload=%7Bnot+json", signed(b"payload=%7Bnot+json")),
        "payload is a JSON list, signed": (json_list, signed(json_list)),
        "payload is a JSON string, unsigned": (json_string, unsigned()),
        "JSON body is not an object, signed": (b"[1, 2]", signed(b"[1, 2]", "application/json")),
        "not UTF-8": (b"text=\xff\xfe\xfa&user_id=" + SECRET_USER.encode(), unsigned()),
        "not UTF-8, JSON": (b'{"type": "\xff\xfe"}', unsigned("application/json")),
    }


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_flood_of_malformed_requests_gets_4xx_and_a_few_short_lines(
    log_format: str,
    tmp_path: Path,
    env: dict[str, str],
    fake_anthropic: FakeAnthropic,
    fake_slack: FakeSlack,
) -> None:
    response_url = fake_slack.new_response_url()
    cases = malformed_requests(response_url)
    with served(env, tmp_path, LOG_FORMAT=log_format) as server:
        startup_bytes = len(server.startup_log.encode())
        statuses: dict[str, set[int]] = {name: set() for name in cases}
        for _ in range(20):  # 200 requests
            for name, (body, headers) in cases.items():
                status, _ = server.post(body, headers)
                statuses[name].add(status)
        # The server still drafts after the flood.
        good_url = fake_slack.new_response_url()
        good = slash_command_body("email to Alex", response_url=good_url)
        assert server.post(good, signed(good))[0] == 200
        fake_slack.wait_for_responses(good_url, 1, 10.0)
        log = server.stop()

    assert {name: s for name, s in statuses.items() if not s <= set(range(400, 500))} == {}
    flood = log_lines(log)[len(log_lines(server.startup_log)) :]
    assert "Traceback" not in log and "exception" not in log
    assert [line for line in flood if level_of(line, log_format) in ("ERROR", "CRITICAL")] == []
    refusals = [line for line in flood if "refused" in line.lower()]
    assert len(refusals) <= 6, "\n".join(flood)  # one line per kind of refusal at most
    assert all(len(line) < 300 for line in refusals)
    assert len(log.encode()) - startup_bytes < 8_000, f"{len(log.encode())} bytes of log"
    for leak in ("SECRET-REQUEST-TEXT", SECRET_USER, response_url):
        assert leak not in log
    assert len(fake_anthropic.message_requests()) == 1  # only the good request drafted


@pytest.fixture
def root_logs_everything(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """The root logger at DEBUG before the app is built (Bolt's loggers copied the root's
    level when they were made, so this is what made INFO logging print request bodies)."""
    caplog.set_level(logging.DEBUG)
    return caplog


async def test_bolt_logs_nothing_below_warning_whatever_the_root_level(
    root_logs_everything: pytest.LogCaptureFixture,
    bot: RunningBot,
    fake_anthropic: FakeAnthropic,
    fake_slack: FakeSlack,
) -> None:
    reply = await bot.slash(SECRET_TEXT, user_id=SECRET_USER)
    await fake_slack.wait_for_responses_async(reply.response_url, 1, 10.0)
    bolt = [r for r in root_logs_everything.records if f"{os.sep}slack_bolt{os.sep}" in r.pathname]
    assert [(r.levelname, r.getMessage()[:80]) for r in bolt if r.levelno < logging.WARNING] == []
    assert not any(SECRET_TEXT in r.getMessage() or SECRET_USER in r.getMessage() for r in bolt)


def test_a_flood_of_one_kind_is_one_line_a_minute_then_a_count(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [1000.0]
    throttled = ThrottledLog(logging.getLogger("tests.flood"), every=60, clock=lambda: now[0])
    with caplog.at_level(logging.INFO, logger="tests.flood"):
        for _ in range(100):
            throttled.log(logging.WARNING, "bad_signature", "refused a request: bad signature")
            throttled.log(logging.INFO, "unsigned", "refused a request: unsigned")
            now[0] += 0.5  # 100 of each in 50 s
        now[0] += 11
        throttled.log(logging.WARNING, "bad_signature", "refused a request: bad signature")
    assert caplog.messages == [
        "refused a request: bad signature",
        "refused a request: unsigned",
        "refused a request: bad signature (and 99 more like it in the last 61 s)",
    ]
    assert caplog.records[-1].fields == {"event": "bad_signature", "left_out": 99}  # type: ignore[attr-defined]


async def test_slacks_ssl_check_still_gets_its_answer(bot: RunningBot) -> None:
    body = b"ssl_check=1&token=legacy-verification-token"
    async with bot.session.post(
        f"{bot.url}/slack/events", data=body, headers={"Content-Type": FORM}
    ) as response:
        assert response.status == 200
