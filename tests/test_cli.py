"""The `draftbot` command as an admin or prompt author runs it: real processes, real HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlite_utils
from slack_sdk.signature import SignatureVerifier

from tests.fakes.anthropic import FakeAnthropic, Reply
from tests.fakes.signing import slash_command_body
from tests.fakes.slack import FakeSlack

DRAFTBOT = [sys.executable, "-m", "bot"]


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {"PATH": os.environ["PATH"], "HOME": str(cwd), **env}
    return subprocess.run(
        [*DRAFTBOT, *args],
        env=clean,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def pythonpath() -> dict[str, str]:
    return {"PYTHONPATH": str(Path(__file__).resolve().parent.parent)}


def test_empty_environment_exits_non_zero_naming_every_missing_setting(tmp_path: Path) -> None:
    result = run(["serve"], pythonpath(), tmp_path)
    assert result.returncode == 2
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "ANTHROPIC_API_KEY"):
        assert name in result.stderr
    assert "Traceback" not in result.stderr


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("SLACK_BOT_TOKEN=xoxp-wrong-kind\n")
    result = run([], pythonpath(), tmp_path)
    assert result.returncode == 2
    assert "SLACK_BOT_TOKEN must start with xoxb-" in result.stderr
    assert "xoxp-wrong-kind" not in result.stderr


def test_help_explains_each_subcommand() -> None:
    from click.testing import CliRunner

    from bot.cli import cli

    overview = CliRunner().invoke(cli, ["--help"])
    commands = ("serve", "draft", "kinds", "report", "budget", "doctor")
    assert all(command in overview.output for command in commands)
    for command in [*commands, "budget set", "budget list", "budget unset"]:
        result = CliRunner().invoke(cli, [*command.split(), "--help"])
        assert result.exit_code == 0 and "Example" in result.output, command


def test_draft_prints_the_draft_and_its_usage_and_logs_as_cli(
    tmp_path: Path, env: dict[str, str], fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.default = Reply(text="**Subject:** Q2 budget\n\nHi Alex,")
    env = {k: v for k, v in env.items() if not k.startswith("SLACK")}
    result = run(
        ["draft", "mail", "to Alex about the Q2 budget"], {**env, **pythonpath()}, tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "**Subject:** Q2 budget\n\nHi Alex,\n"
    assert "email · claude-sonnet-4-6" in result.stderr and "cache write" in result.stderr
    [request] = fake_anthropic.message_requests()
    assert request.body is not None
    assert request.body["messages"][0]["content"] == "mail to Alex about the Q2 budget"
    db = sqlite_utils.Database(env["DATABASE_URL"].removeprefix("sqlite:///"))
    [row] = list(db["usage"].rows)
    assert (row["user_id"], row["source"], row["kind"]) == ("cli", "cli", "email")


@pytest.mark.parametrize(
    "words",
    [
        ["agenda", "for Monday's planning meeting"],
        ["an email to Bob about the offsite"],
        ["please", "write", "a quick summary of the launch notes"],
        ["poem", "about spring"],
        ["code", "a Python function that adds two numbers"],
    ],
)
def test_draft_routes_exactly_as_slack_does(
    tmp_path: Path, env: dict[str, str], fake_anthropic: FakeAnthropic, words: list[str]
) -> None:
    from bot.prompts import load_prompts

    text = " ".join(words)
    library = load_prompts(Path(env["DRAFTBOT_PROMPTS_DIR"]))
    slack_kind = library.route(text).kind
    assert slack_kind is not None
    fake_anthropic.default = Reply(text="Draft.")
    env = {k: v for k, v in env.items() if not k.startswith("SLACK")}
    result = run(["draft", *words], {**env, **pythonpath()}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"{slack_kind.name} · claude-sonnet-4-6" in result.stderr
    [request] = fake_anthropic.message_requests()
    assert request.body is not None
    assert request.body["messages"][0]["content"] == text
    assert request.body["system"][1]["text"] == slack_kind.body


def test_draft_with_a_kind_word_only_asks_for_details(tmp_path: Path, env: dict[str, str]) -> None:
    result = run(["draft", "email"], {**env, **pythonpath()}, tmp_path)
    assert result.returncode == 2
    assert "What should the email say?" in result.stderr
    assert "draftbot draft email to" in result.stderr and "Traceback" not in result.stderr


def test_draft_failure_is_a_sentence_not_a_traceback(
    tmp_path: Path, env: dict[str, str], fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.default = Reply(status=401)
    result = run(["draft", "email", "to Alex"], {**env, **pythonpath()}, tmp_path)
    assert result.returncode == 1
    assert "isn't set up correctly" in result.stderr and "Traceback" not in result.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout: float = 15.0) -> int:
    import urllib.request

    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                return int(response.status)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_serve_answers_health_checks_and_slash_commands_then_stops_on_sigterm(
    tmp_path: Path, env: dict[str, str], fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    import urllib.request

    port = free_port()
    proc = subprocess.Popen(
        [*DRAFTBOT, "serve"],
        env={"PATH": os.environ["PATH"], **env, **pythonpath(), "PORT": str(port)},
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert wait_http(f"http://127.0.0.1:{port}/healthz") == 200
        response_url = fake_slack.new_response_url()
        body = slash_command_body("email to Alex", response_url=response_url)
        timestamp = str(int(time.time()))
        signature = SignatureVerifier(env["SLACK_SIGNING_SECRET"]).generate_signature(
            timestamp=timestamp, body=body.decode()
        )
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/slack/events",
            data=body,
            headers={
                "X-Slack-Request-Timestamp": timestamp,
                "X-Slack-Signature": signature,
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert b"Drafting your email" in response.read()
        [posted] = fake_slack.wait_for_responses(response_url, 1, 10.0)
        assert posted["blocks"][0]["type"] == "markdown"
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=15)
    assert proc.returncode == 0, stderr
    assert "listening on http://0.0.0.0:" in stderr
    # Secrets and draft text never reach the log.
    for secret in (env["SLACK_BOT_TOKEN"], env["ANTHROPIC_API_KEY"], env["SLACK_SIGNING_SECRET"]):
        assert secret not in stderr
    assert "Here is your draft" not in stderr


@pytest.mark.parametrize("module", [["-m", "bot"]])
def test_python_m_bot_is_the_same_program(tmp_path: Path, module: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, *module, "--version"],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": os.environ["PATH"], **pythonpath()},
        cwd=tmp_path,
    )
    assert result.returncode == 0 and "0.1.0" in result.stdout


def test_an_unopenable_database_is_a_sentence_not_a_traceback(
    tmp_path: Path, env: dict[str, str]
) -> None:
    broken = {**env, **pythonpath(), "DATABASE_URL": "sqlite:////proc/no-such-dir/draftbot.db"}
    result = run(["serve"], broken, tmp_path)
    assert result.returncode == 2
    assert "Cannot open the SQLite database /proc/no-such-dir/draftbot.db" in result.stderr
    assert "Traceback" not in result.stderr
