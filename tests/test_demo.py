"""`make demo` (`python -m demo`) end to end in a subprocess, and the fake Slack's standalone
mode it runs."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient

from bot.config import PROJECT_ROOT
from demo.seed import PEOPLE
from tests.conftest import MANIFEST_SCOPES
from tests.fakes.signing import slash_command_body

DEMO_TIMEOUT = 180


def run_demo(folder: Path, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "demo", "--dir", str(folder)],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # so a timeout can stop its servers too
    )
    try:
        output, _ = process.communicate(timeout=DEMO_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        pytest.fail(f"the demo took over {DEMO_TIMEOUT} s:\n{output}")
    return subprocess.CompletedProcess(process.args, process.returncode, output, "")


def section(output: str, title: str) -> str:
    """The lines of one `== N. title` step of the tour."""
    start = output.index(title)
    end = output.find("\n== ", start)
    return output[start : end if end != -1 else None]


def refused(url: str) -> bool:
    host, port = url.removeprefix("http://").split(":")
    with socket.socket() as probe:
        probe.settimeout(2)
        return probe.connect_ex((host, int(port))) != 0


def test_demo_runs_the_tour_on_the_fakes_and_ends_with_the_report(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    admin = tmp_path / "admin"  # the admin's own settings, which the demo must not use
    admin.mkdir()
    (admin / ".env").write_text(f"DATABASE_URL=sqlite:///{admin / 'from-dotenv.db'}\n")
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "PYTHONPATH": str(PROJECT_ROOT),  # as `make demo` runs it from the checkout
        "DATABASE_URL": f"sqlite:///{admin / 'real.db'}",
        "SLACK_APP_TOKEN": "xapp-1-the-admins-real-token",
        "ANTHROPIC_BASE_URL": "http://127.0.0.1:9",
        "DRAFTBOT_MODEL": "claude-no-such-model",
    }
    started = time.monotonic()
    done = run_demo(folder, env, cwd=admin)
    seconds = time.monotonic() - started
    output = done.stdout
    assert done.returncode == 0, output
    assert "Traceback" not in output

    # The draft from the terminal came from the fake Anthropic, with its usage line.
    terminal = section(output, "1. A draft from the terminal")
    assert "Here is your draft." in terminal
    assert re.search(r"\[email · claude-sonnet-4-6 · stop: end_turn\] input \d+", terminal)

    # The signed /draft was acknowledged at once, and its preview reached the response_url.
    slash = section(output, "2. /draft in Slack")
    assert re.search(r"Draftbot answered 200 in 0\.\d\d s: Drafting your email", slash)
    shown = slash.split("The fake Slack shows (a post to the response_url):")[1]
    assert "| email to the team: the office is closed on Friday for the move" in shown
    assert "[Post to channel]" in shown and "[Shorter]" in shown

    chart = section(output, "3. The usage chart")
    assert f"Wrote {folder / 'usage.png'}." in chart
    assert (folder / "usage.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # It ends with the report: every seeded person by name, and the servers stopped.
    report = section(output, "5. The usage report")
    assert "Draftbot usage by person" in report
    for person in PEOPLE:
        assert person.name[:15] in report, person.name
    assert output.rstrip().endswith("Servers stopped.")
    for name in ("Fake Anthropic API", "Fake Slack", "Draftbot"):
        url = re.search(rf"^{name} +(http://127\.0\.0\.1:\d+)", output, re.MULTILINE)
        assert url is not None and refused(url.group(1)), name

    # Both new drafts are in the demo's database, none in the admin's.
    db = sqlite3.connect(folder / "draftbot.db")
    sources = db.execute(
        "select user_id, source, status from usage where source in ('cli', 'slash') "
        "and request_id not like 'req_demo%'"
    ).fetchall()
    db.close()
    assert sorted(sources) == [("U0DEMOALEX", "cli", "ok"), ("U0DEMOJORDAN", "slash", "ok")]
    assert not list(admin.glob("*.db"))
    assert "127.0.0.1" in (folder / ".env").read_text()
    print(f"the demo took {seconds:.1f} s")


# ------------------------------------------------------------ the fake Slack, standalone


def call(url: str, method: str = "GET", body: bytes | None = None) -> Any:
    request = urllib.request.Request(url, data=body, method=method)
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def test_fake_slack_runs_standalone_with_the_manifests_scopes(tmp_path: Path) -> None:
    command = ["-u", "-m", "tests.fakes.slack", "--port", "0", "--bot-token", "xoxb-standalone"]
    process = subprocess.Popen(
        [sys.executable, *command, "--user", "U0PAT=Pat Doe"],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        found = re.search(r"Fake Slack on (http://127\.0\.0\.1:\d+)/", first)
        assert found, first
        base = found.group(1)

        client = WebClient(token="xoxb-standalone", base_url=f"{base}/api/")
        answer = client.auth_test()
        assert answer.headers["x-oauth-scopes"].split(",") == MANIFEST_SCOPES
        profile = client.users_info(user="U0PAT")["user"]["profile"]
        assert profile["display_name"] == "Pat Doe"

        # A slash command's response_url, posted to as Bolt's respond() does.
        url = call(f"{base}/_fake/response_urls", "POST")["url"]
        assert url.startswith(f"{base}/response/")
        assert slash_command_body("hi", response_url=url)  # a payload can carry it
        post = {"text": "Hello", "blocks": [{"type": "markdown", "text": "**Hello** Pat"}]}
        request = urllib.request.Request(
            url, data=json.dumps(post).encode(), headers={"Content-Type": "application/json"}
        )
        urllib.request.urlopen(request, timeout=10).close()
        assert call(f"{base}/_fake/responses") == [{"url": url, "body": post}]
        methods = [(c["method"], c["ok"]) for c in call(f"{base}/_fake/calls")]
        assert methods == [("auth.test", True), ("users.info", True)]

        # Each request is a line of its log; SIGTERM stops it cleanly.
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=15)
        assert process.returncode == 0
        assert "auth.test → ok" in rest
        assert "users.info → ok (U0PAT)" in rest
        assert "response_url post → shown to the person:\n**Hello** Pat" in rest
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
