"""Operations: SIGTERM lets drafts in flight finish, kill -9 loses nothing completed,
and logs are one structured line per request with no secrets or draft text."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import SIGNING_SECRET
from tests.fakes.anthropic import FakeAnthropic, Reply
from tests.fakes.signing import sign_request, slash_command_body
from tests.fakes.slack import FakeSlack
from tests.test_cli import free_port, pythonpath, wait_http


@contextmanager
def serving(
    env: dict[str, str], tmp_path: Path, **extra: str
) -> Iterator[tuple[subprocess.Popen[str], int]]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve"],
        env={"PATH": os.environ["PATH"], **env, **pythonpath(), "PORT": str(port), **extra},
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz")
        yield proc, port
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def slash(port: int, text: str, response_url: str, user_id: str = "U0001") -> str:
    body = slash_command_body(text, response_url=response_url, user_id=user_id)
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/slack/events",
        data=body,
        headers=sign_request(body, SIGNING_SECRET),
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.read().decode()


def usage_rows(env: dict[str, str]) -> list[tuple]:
    path = env["DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        assert db.execute("pragma integrity_check").fetchone() == ("ok",)
        return db.execute("select status, user_id from usage").fetchall()


def test_sigterm_lets_the_draft_in_flight_finish(
    tmp_path: Path, env: dict[str, str], fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.default = Reply(text="The draft that was in flight.", delay=1.5)
    with serving(env, tmp_path) as (proc, port):
        url = fake_slack.new_response_url()
        assert "Drafting your email" in slash(port, "email to Alex", url)
        assert fake_anthropic.wait_for_requests(1, 5.0)
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        try:  # no new requests once shutting down
            slash(port, "email to Sam", fake_slack.new_response_url())
            accepted_new = True
        except (urllib.error.URLError, ConnectionError):
            accepted_new = False
        assert proc.wait(15) == 0
        stderr = proc.stderr.read() if proc.stderr else ""
    assert not accepted_new
    [preview] = fake_slack.responses(url)
    assert preview["blocks"][0]["text"] == "The draft that was in flight."
    assert usage_rows(env) == [("ok", "U0001")]
    assert "1 draft(s) in flight" in stderr


def test_kill_9_under_load_keeps_every_completed_row(
    tmp_path: Path, env: dict[str, str], fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.default = Reply(delay=0.2, chunk_delay=0.01)
    urls = [fake_slack.new_response_url() for _ in range(30)]
    with serving(env, tmp_path) as (proc, port), ThreadPoolExecutor(10) as pool:
        futures = [pool.submit(slash, port, f"email {i}", url) for i, url in enumerate(urls)]
        deadline = time.monotonic() + 10
        while sum(bool(fake_slack.responses(u)) for u in urls) < 8 and time.monotonic() < deadline:
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        for future in futures:
            future.exception()
    delivered = [u for u in urls if any("draft_actions" in str(p) for p in fake_slack.responses(u))]
    assert len(delivered) >= 8
    rows = usage_rows(env)  # the database opens cleanly and passes its integrity check
    assert len([r for r in rows if r[0] == "ok"]) >= len(delivered)


def test_json_logs_one_line_per_request_without_secrets_or_text(
    tmp_path: Path, env: dict[str, str], fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.script(Reply(text="SECRET-DRAFT-TEXT for Alex"), Reply(status=401))
    with serving(env, tmp_path, LOG_FORMAT="json") as (proc, port):
        for text in ("email to Alex about SECRET-REQUEST-TEXT", "email to Sam"):
            url = fake_slack.new_response_url()
            slash(port, text, url)
            fake_slack.wait_for_responses(url, 1, 10.0)
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
        stderr = proc.stderr.read() if proc.stderr else ""
    lines = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    [ok] = [line for line in lines if line["message"] == "draft ok"]
    assert ok["user"] == "U0001" and ok["kind"] == "email" and ok["model"] == "claude-sonnet-4-6"
    assert ok["request_id"].startswith("req_") and ok["latency_ms"] >= 0
    assert ok["cache_write_tokens"] > 0 and float(ok["cost_usd"]) > 0
    [failed] = [line for line in lines if line["message"] == "draft failed"]
    assert failed["status"] == 401 and failed["category"] == "misconfigured"
    for secret in (env["SLACK_BOT_TOKEN"], env["ANTHROPIC_API_KEY"], SIGNING_SECRET):
        assert secret not in stderr
    assert "SECRET-DRAFT-TEXT" not in stderr and "SECRET-REQUEST-TEXT" not in stderr
