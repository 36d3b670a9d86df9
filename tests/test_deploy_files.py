"""What a deploy reads: requirements.txt (the lock the Python buildpack installs) in step with
pyproject.toml, .python-version, app.json (Heroku's Deploy button) with the Procfile, both
Slack app manifests and `draftbot manifest`; and `draftbot serve` answering /healthz on $PORT
in Socket Mode too, as platforms that start a web process expect."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import socket
import tomllib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from click.testing import CliRunner
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from bot import settings_list
from bot.cli import cli
from bot.config import ConfigError, Settings, load_settings
from bot.doctor import manifest as doctor_manifest
from bot.services import build_services
from handlers.app import EVENTS_PATH, serve
from tests.conftest import APP_TOKEN, FAST_RETRIES, SIGNING_SECRET, RunningBot
from tests.fakes.signing import sign_request
from tests.fakes.slack import FakeSlack
from tests.test_cli import free_port

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
SOCKET = json.loads((ROOT / "manifest.json").read_text())
HTTP = json.loads((ROOT / "manifest.http.json").read_text())
PLACEHOLDER_URL = "https://YOUR-HOST" + EVENTS_PATH

# requirements.txt


def lock() -> dict[str, Version]:
    """requirements.txt's pins that apply here (universal: some hold for some Pythons only)."""
    pins: dict[str, Version] = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        match = re.fullmatch(r"([A-Za-z0-9._-]+)==(\S+?)(?:\s*;\s*(.+))?", line.strip())
        if match and (match[3] is None or Marker(match[3]).evaluate()):
            name = canonicalize_name(match[1])
            assert name not in pins, f"{name} is pinned twice for this Python"
            pins[name] = Version(match[2])
    return pins


def test_requirements_pin_every_dependency_within_pyprojects_ranges() -> None:
    pins = lock()
    for requirement in map(Requirement, PYPROJECT["dependencies"]):
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is in pyproject.toml, not in requirements.txt: make lock"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"requirements.txt pins {name}=={pins[name]}, outside pyproject.toml's "
            f"{requirement.specifier}: make lock"
        )


def test_requirements_hold_what_the_app_needs_and_nothing_more_as_installed_here() -> None:
    """From pyproject.toml's dependencies through each package's own requirements (as
    installed in this venv, which `make` installs from requirements.txt): every package is
    pinned, the pin fits every range asking for it, and this venv runs exactly the pins."""
    pins = lock()
    wanted: list[tuple[Requirement, str]] = [
        (Requirement(r), "") for r in PYPROJECT["dependencies"]
    ]
    reached: dict[str, set[str]] = {}  # package → the extras asked of it
    while wanted:
        requirement, extra = wanted.pop()
        if requirement.marker and not requirement.marker.evaluate({"extra": extra}):
            continue
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} ({requirement}) is not in requirements.txt: make lock"
        assert requirement.specifier.contains(pins[name], prereleases=True), requirement
        asked = {""} | set(requirement.extras)
        if asked <= reached.get(name, set()):
            continue
        reached.setdefault(name, set()).update(asked)
        installed = Version(metadata.version(name))
        assert installed == pins[name], (
            f"this venv has {name} {installed}, requirements.txt pins {pins[name]}: "
            "`make test` reinstalls .venv from it"
        )
        for raw in metadata.requires(name) or []:
            wanted += [(Requirement(raw), wanted_extra) for wanted_extra in asked]
    assert set(pins) == set(reached), f"pinned but needed by nothing: {set(pins) - set(reached)}"


def test_requirements_install_draftbot_itself_for_the_procfile() -> None:
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    assert "." in lines  # the project: its `draftbot` command is what the Procfile runs
    assert "make lock" in lines[1]  # says how it was made


def test_python_version_is_a_minor_release_pyproject_allows() -> None:
    version = (ROOT / ".python-version").read_text().strip()
    assert re.fullmatch(r"3\.\d+", version)
    assert Version(f"{version}.0") in Requirement(f"python{PYPROJECT['requires-python']}").specifier


# app.json and the Procfile


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def test_procfile_runs_draftbot_serve_as_the_web_process() -> None:
    assert procfile() == {"web": "draftbot serve"}


def test_app_json_deploys_the_web_process_with_postgresql() -> None:
    app = json.loads((ROOT / "app.json").read_text())
    assert app["name"] == "Draftbot" and app["description"]
    assert set(app["formation"]) <= set(procfile())
    assert app["formation"]["web"]["quantity"] == 1
    assert {"url": "heroku/python"} in app["buildpacks"]
    [database] = app["addons"]
    assert database["plan"].split(":")[0] == "heroku-postgresql"
    assert "hobby" not in database["plan"]  # retired: it breaks the Deploy button
    assert app["success_url"] == "/healthz"


def test_app_json_asks_for_real_settings_with_descriptions() -> None:
    env: dict[str, dict[str, Any]] = json.loads((ROOT / "app.json").read_text())["env"]
    for name, var in env.items():
        assert name in settings_list.NAMES, f"{name} is not a setting"
        assert isinstance(var["required"], bool) and len(var["description"]) > 20, name
    assert not {"PORT", "DATABASE_URL"} & set(env)  # the platform and the add-on set them


def test_app_json_requires_exactly_what_http_mode_needs() -> None:
    """The config vars it requires, as the platform gives them (PORT, the add-on's
    DATABASE_URL), load in HTTP mode; without any one of them Draftbot would not start."""
    env: dict[str, dict[str, Any]] = json.loads((ROOT / "app.json").read_text())["env"]
    required = {name for name, var in env.items() if var["required"]}
    assert required == {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "ANTHROPIC_API_KEY"}
    values = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "ANTHROPIC_API_KEY": "k"}
    platform = {"PORT": "31337", "DATABASE_URL": "postgres://u:p@db.example.com:5432/d"}
    settings = load_settings({**values, **platform})
    assert not settings.socket_mode and settings.port == 31337
    for name in required:
        with pytest.raises(ConfigError):
            load_settings({**{k: v for k, v in values.items() if k != name}, **platform})


# The Slack app manifests


def request_urls(manifest: dict[str, Any]) -> list[str]:
    settings = manifest["settings"]
    return [
        *(command.get("url") for command in manifest["features"]["slash_commands"]),
        settings["interactivity"].get("request_url"),
        settings["event_subscriptions"].get("request_url"),
    ]


def test_both_manifests_ask_for_the_same_scopes_events_shortcuts_and_commands() -> None:
    for keys in (
        ("oauth_config", "scopes", "bot"),
        ("settings", "event_subscriptions", "bot_events"),
        ("features", "shortcuts"),
        ("features", "app_home"),
        ("display_information",),
    ):
        socket_value, http_value = SOCKET, HTTP
        for key in keys:
            socket_value, http_value = socket_value[key], http_value[key]
        assert socket_value == http_value, keys
    strip = ("url",)
    commands = [
        {k: v for k, v in c.items() if k not in strip} for c in HTTP["features"]["slash_commands"]
    ]
    assert commands == SOCKET["features"]["slash_commands"]


def test_the_http_manifest_sends_every_request_to_the_events_path() -> None:
    assert request_urls(HTTP) == [PLACEHOLDER_URL] * 3
    assert HTTP["settings"]["socket_mode_enabled"] is False
    assert request_urls(SOCKET) == [None] * 3
    assert SOCKET["settings"]["socket_mode_enabled"] is True
    # Apart from the URLs and Socket Mode, the two files say the same.
    assert _without_urls(HTTP) == _without_urls(SOCKET)


def _without_urls(manifest: dict[str, Any]) -> dict[str, Any]:
    copy = json.loads(json.dumps(manifest))
    for command in copy["features"]["slash_commands"]:
        command.pop("url", None)
    copy["settings"]["interactivity"].pop("request_url", None)
    copy["settings"]["event_subscriptions"].pop("request_url", None)
    copy["settings"].pop("socket_mode_enabled")
    return dict(copy)


async def test_event_subscriptions_request_url_is_verified(bot: RunningBot) -> None:
    """Event Subscriptions → Request URL: Slack checks the URL with a signed challenge
    before it sends any event (the Home and Messages tabs get nothing without it)."""
    body = json.dumps({"token": "legacy", "challenge": "3eZbrw1aBm2rZ", "type": "url_verification"})
    headers = {**sign_request(body.encode(), SIGNING_SECRET), "Content-Type": "application/json"}
    async with bot.session.post(f"{bot.url}{EVENTS_PATH}", data=body, headers=headers) as r:
        assert r.status == 200
        assert "3eZbrw1aBm2rZ" in await r.text()


def test_doctor_reads_the_checkouts_manifest() -> None:
    assert doctor_manifest.MANIFEST_PATH == ROOT / "manifest.json"
    assert doctor_manifest.manifest_scopes() == (SOCKET["oauth_config"]["scopes"]["bot"], "")
    assert doctor_manifest.manifest_commands() == ["/draft"]
    assert "Event Subscriptions" in doctor_manifest.other_request_urls()


# draftbot manifest


def draftbot_manifest(*args: str) -> tuple[int, Any, str]:
    result = CliRunner().invoke(cli, ["manifest", *args], catch_exceptions=False)
    try:
        printed = json.loads(result.stdout)
    except ValueError:
        printed = None
    return result.exit_code, printed, result.stderr


def test_manifest_prints_socket_modes_manifest() -> None:
    assert draftbot_manifest() == (0, SOCKET, "")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://draftbot.example.com", "https://draftbot.example.com/slack/events"),
        ("https://draftbot.example.com/", "https://draftbot.example.com/slack/events"),
        ("https://draftbot.example.com/slack/events", "https://draftbot.example.com/slack/events"),
        ("https://example.com:8443/draftbot", "https://example.com:8443/draftbot/slack/events"),
    ],
)
def test_manifest_fills_in_the_http_request_urls(url: str, expected: str) -> None:
    for args in (["--http", "--url", url], ["--url", url]):
        status, printed, _ = draftbot_manifest(*args)
        assert status == 0
        assert request_urls(printed) == [expected] * 3
        assert _without_urls(printed) == _without_urls(HTTP)
        assert printed["settings"]["socket_mode_enabled"] is False


def test_manifest_http_without_url_keeps_the_placeholders_and_says_so() -> None:
    status, printed, stderr = draftbot_manifest("--http")
    assert (status, printed) == (0, HTTP)
    assert "https://YOUR-HOST" in stderr and "--url https://HOST" in stderr


@pytest.mark.parametrize("url", ["http://draftbot.example.com", "draftbot.example.com", "https://"])
def test_manifest_refuses_a_url_slack_would_not_call(url: str) -> None:
    status, printed, stderr = draftbot_manifest("--http", "--url", url)
    assert status == 2 and printed is None
    assert "must be an https:// address" in stderr and "Traceback" not in stderr


# draftbot serve on $PORT


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[None]:
    services = build_services(settings, FAST_RETRIES)
    stop = asyncio.Event()
    server = asyncio.create_task(serve(services, host="127.0.0.1", stop=stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(server, 15)


async def get_healthz(port: int, within: float = 10.0) -> tuple[int, Any]:
    deadline = asyncio.get_running_loop().time() + within
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                    return response.status, await response.json()
            except aiohttp.ClientConnectionError:
                assert asyncio.get_running_loop().time() < deadline, "nothing on $PORT"
                await asyncio.sleep(0.05)


@pytest.mark.parametrize("mode", ["http", "socket"])
async def test_serve_answers_healthz_on_port_in_both_modes(
    mode: str, env: dict[str, str], fake_slack: FakeSlack
) -> None:
    port = free_port()
    env = {**env, "PORT": str(port)}
    if mode == "socket":
        env["SLACK_APP_TOKEN"] = APP_TOKEN
        del env["SLACK_SIGNING_SECRET"]
    async with serving(load_settings(env)):
        if mode == "socket":
            assert await fake_slack.wait_for_socket_connection_async(10.0)
        status, body = await get_healthz(port)
        assert (status, body) == (200, {"ok": True, "database": "ok", "usage_rows_waiting": 0})


async def test_socket_modes_port_serves_only_healthz(
    env: dict[str, str], fake_slack: FakeSlack
) -> None:
    port = free_port()
    env = {**env, "PORT": str(port), "SLACK_APP_TOKEN": APP_TOKEN}
    async with serving(load_settings(env)):
        assert await fake_slack.wait_for_socket_connection_async(10.0)
        assert (await get_healthz(port))[0] == 200
        url = f"http://127.0.0.1:{port}{EVENTS_PATH}"
        async with aiohttp.ClientSession() as session, session.post(url, data=b"{}") as r:
            assert r.status == 404  # Slack's requests come over the WebSocket


async def test_socket_mode_without_port_binds_nothing(
    env: dict[str, str], fake_slack: FakeSlack
) -> None:
    """For a laptop or a worker process: no port taken unless PORT asks for one."""
    env = {**env, "SLACK_APP_TOKEN": APP_TOKEN}
    settings = load_settings(env)
    assert not settings.port_is_set
    port = free_port()
    async with serving(dataclasses.replace(settings, port=port)):
        assert await fake_slack.wait_for_socket_connection_async(10.0)
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", port)) != 0
