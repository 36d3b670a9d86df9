"""The demo's three servers, each a process of its own on 127.0.0.1: the fake Anthropic API,
the fake Slack (tests/fakes/), and `draftbot serve` in HTTP mode wired to them.

Settings go to Draftbot in its environment and in `DIR/.env` (for commands typed by hand
in DIR); the environment is cleaned of the admin's own Slack, Anthropic and Draftbot
settings, and every process runs in DIR, so the admin's `.env` and database are never read.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from demo.seed import ADMIN, PEOPLE

ROOT = Path(__file__).resolve().parent.parent
BOT_TOKEN = "xoxb-demo-token"
API_KEY = "sk-ant-demo-key"
SIGNING_SECRET = "demo-signing-secret"
# Settings of the admin's own that must not reach the demo's Draftbot.
FOREIGN = re.compile(
    r"(SLACK_|ANTHROPIC_|DRAFTBOT_|DATABASE_URL$|PORT$|ADMIN_USER_IDS$|LOG_FORMAT$)"
)
STARTUP_SECONDS = 60


class DemoError(RuntimeError):
    """A server did not start or answer; the message says which and where its log is."""


@dataclass
class Servers:
    folder: Path
    anthropic_url: str = ""
    slack_url: str = ""
    bot_url: str = ""
    env: dict[str, str] = field(default_factory=dict)
    processes: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)

    # ------------------------------------------------------------------ start

    def start(self) -> None:
        self.anthropic_url = self._start_fake(
            "fake Anthropic",
            ["tests.fakes.anthropic", "--port", "0", "--api-key", API_KEY],
            r"on (http://127\.0\.0\.1:\d+)",
        )
        users = [f"--user={person.user_id}={person.name}" for person in PEOPLE]
        self.slack_url = self._start_fake(
            "fake Slack",
            ["tests.fakes.slack", "--port", "0", "--bot-token", BOT_TOKEN, *users],
            r"on (http://127\.0\.0\.1:\d+)/",
        )
        port = free_port()
        self.bot_url = f"http://127.0.0.1:{port}"
        settings = {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": f"{self.slack_url}/api/",
            "ANTHROPIC_API_KEY": API_KEY,
            "ANTHROPIC_BASE_URL": self.anthropic_url,
            "DATABASE_URL": f"sqlite:///{self.folder / 'draftbot.db'}",
            "DRAFTBOT_JOURNAL_PATH": str(self.folder / "usage-journal.jsonl"),
            "ADMIN_USER_IDS": ADMIN.user_id,
            "PORT": str(port),
        }
        (self.folder / ".env").write_text(
            "# The demo's settings (python -m demo): fakes on 127.0.0.1, this folder's database.\n"
            + "".join(f"{name}={value}\n" for name, value in settings.items())
        )
        self.env = clean_environment(os.environ) | settings
        log = (self.folder / "draftbot-serve.log").open("ab")
        bot = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1"],
            cwd=self.folder,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes.append(("draftbot serve", bot))
        self._wait_healthy(bot)

    def _start_fake(self, name: str, module: list[str], ready: str) -> str:
        log_path = self.folder / f"{name.replace(' ', '-').lower()}.log"
        process = subprocess.Popen(
            [sys.executable, "-u", "-m", *module],
            cwd=ROOT,  # where `tests` is importable
            env=clean_environment(os.environ) | {"PYTHONPATH": str(ROOT)},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        self.processes.append((name, process))
        assert process.stdout is not None
        first = _read_line(process.stdout, STARTUP_SECONDS)
        found = re.search(ready, first)
        if not found:
            raise DemoError(f"the {name} did not start: {first.strip() or 'no output'}")
        # Its log lines (each Slack call, each message shown) go on to the log file.
        log = log_path.open("ab")
        log.write(first.encode())
        threading.Thread(target=_copy, args=(process.stdout, log), daemon=True).start()
        return found.group(1)

    def _wait_healthy(self, bot: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if bot.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"{self.bot_url}/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)
        log = self.folder / "draftbot-serve.log"
        tail = log.read_text(errors="replace").strip().splitlines()[-5:]
        raise DemoError("draftbot serve did not start. Its log ends:\n  " + "\n  ".join(tail))

    # --------------------------------------------------------------- control

    def new_response_url(self) -> str:
        return str(self.slack_control("POST", "response_urls")["url"])

    def responses(self, url: str) -> list[dict[str, Any]]:
        posts = self.slack_control("GET", "responses")
        return [post["body"] for post in posts if post["url"] == url]

    def slack_control(self, method: str, path: str) -> Any:
        request = urllib.request.Request(f"{self.slack_url}/_fake/{path}", method=method)
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.loads(answer.read())

    def save_state(self) -> None:
        """What `python -m demo slash` needs to talk to these servers."""
        state = {"bot_url": self.bot_url, "slack_url": self.slack_url, "pid": os.getpid()}
        (self.folder / "servers.json").write_text(json.dumps(state))

    # ------------------------------------------------------------------ stop

    def stop(self) -> None:
        """Stop each server with SIGTERM, as a platform does (Draftbot finishes drafts in
        flight; SIGINT may be ignored by processes started in the background), newest
        first; kill one that is still running after 15 seconds."""
        for _, process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
        for _, process in reversed(self.processes):
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes.clear()
        (self.folder / "servers.json").unlink(missing_ok=True)


def clean_environment(environ: Mapping[str, str]) -> dict[str, str]:
    return {name: value for name, value in environ.items() if not FOREIGN.match(name)}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _read_line(stream: IO[bytes], timeout: float) -> str:
    """The process's first line, or "" if it says nothing for `timeout` seconds."""
    lines: list[bytes] = []
    reader = threading.Thread(target=lambda: lines.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return lines[0].decode(errors="replace") if lines else ""


def _copy(source: IO[bytes], target: IO[bytes]) -> None:
    with target:
        for line in source:
            target.write(line)
            target.flush()
