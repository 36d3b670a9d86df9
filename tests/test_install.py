"""A normal install, as an admin makes one: the wheel built from this checkout, installed in a
clean venv outside it, runs `draftbot kinds`, `doctor`, `manifest` and `serve` (HTTP and
Socket Mode, PORT set) with the prompts and manifests it carries; neither the build nor pip
prints a warning. An editable install of the checkout reads the top-level prompts/.

The venvs get the project's dependencies from this test run's own site-packages (every entry
but Draftbot's own, linked into a folder on their path), so nothing is downloaded; Draftbot
itself comes only from the wheel.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import sysconfig
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.prompts import load_prompts
from tests.conftest import API_KEY, APP_TOKEN, BOT_TOKEN, MANIFEST_SCOPES, SIGNING_SECRET
from tests.fakes.anthropic import FakeAnthropic, Reply
from tests.fakes.slack import FakeSlack
from tests.test_cli import free_port, wait_http

ROOT = Path(__file__).resolve().parent.parent
# Building, two venvs and a dozen Draftbot processes: about 20 s on a quiet machine.
pytestmark = pytest.mark.faults


def test_the_wheel_carries_the_default_prompts_and_both_manifests(installed: Installed) -> None:
    packaged = installed.site_packages / "bot" / "defaults"
    for name in ("manifest.json", "manifest.http.json"):
        assert (packaged / name).read_bytes() == (ROOT / name).read_bytes()
    shipped = sorted(p.name for p in (packaged / "prompts").iterdir())
    assert shipped == sorted(p.name for p in (ROOT / "prompts").iterdir())
    assert (installed.site_packages / "bot" / "data" / "prices.toml").is_file()
    licence = installed.site_packages / "draftbot-0.1.0.dist-info" / "licenses" / "LICENSE"
    assert "MIT License" in licence.read_text()


def test_building_and_installing_print_no_warning(installed: Installed) -> None:
    for output in (installed.build_output, installed.install_output):
        assert not re.search(r"warn|deprecat", output, re.IGNORECASE), output
    assert "Successfully installed draftbot-0.1.0" in installed.install_output


def test_the_installed_copy_runs_from_its_own_files(installed: Installed, tmp_path: Path) -> None:
    script = (
        "import json, bot, bot.config, bot.doctor.manifest as m; "
        "print(json.dumps([bot.__file__, str(bot.config.DEFAULT_PROMPTS_DIR), "
        "str(m.MANIFEST_PATH)]))"
    )
    result = installed.run(["python", "-c", script], {}, tmp_path)
    assert result.returncode == 0, result.stderr
    module, prompts, manifest = map(Path, json.loads(result.stdout))
    assert module == installed.site_packages / "bot" / "__init__.py"
    assert prompts == installed.site_packages / "bot" / "defaults" / "prompts"
    assert manifest == installed.site_packages / "bot" / "defaults" / "manifest.json"


def test_kinds_lists_the_packaged_kinds_with_no_settings(
    installed: Installed, tmp_path: Path
) -> None:
    result = installed.run(["draftbot", "kinds"], {}, tmp_path)
    assert result.returncode == 0, result.stderr
    for kind in load_prompts(ROOT / "prompts").kinds:
        assert f"\n  example: /draft {kind.example}" in f"\n{result.stdout}"


def test_manifest_prints_the_packaged_http_manifest_filled_in(
    installed: Installed, tmp_path: Path
) -> None:
    args = ["draftbot", "manifest", "--http", "--url", "https://draftbot.example.com"]
    result = installed.run(args, {}, tmp_path)
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed["settings"]["event_subscriptions"]["request_url"] == (
        "https://draftbot.example.com/slack/events"
    )
    assert printed["oauth_config"]["scopes"]["bot"] == MANIFEST_SCOPES


def test_doctor_finds_the_packaged_prompts_and_manifest(
    installed: Installed,
    tmp_path: Path,
    fake_slack: FakeSlack,
    fake_anthropic: FakeAnthropic,
) -> None:
    result = installed.run(["draftbot", "doctor"], settings(tmp_path, fake_slack, fake_anthropic))
    assert result.returncode in (0, 1), result.stderr  # 1: a check failed, which may happen
    assert "Traceback" not in result.stdout + result.stderr
    prompts = installed.site_packages / "bot" / "defaults" / "prompts"
    kinds = load_prompts(ROOT / "prompts").kinds
    assert f"{len(kinds)} kinds load from {prompts}" in result.stdout
    assert f"all {len(MANIFEST_SCOPES)} scopes Draftbot needs" in result.stdout
    assert "/draft matches the slash command in manifest.json" in result.stdout
    assert "not found" not in result.stdout and "could not be read" not in result.stdout


@pytest.mark.parametrize("mode", ["http", "socket"])
def test_serve_answers_health_checks_on_port(
    mode: str,
    installed: Installed,
    tmp_path: Path,
    fake_slack: FakeSlack,
    fake_anthropic: FakeAnthropic,
) -> None:
    port = free_port()
    env = {**settings(tmp_path, fake_slack, fake_anthropic), "PORT": str(port)}
    if mode == "socket":
        env["SLACK_APP_TOKEN"] = APP_TOKEN
        del env["SLACK_SIGNING_SECRET"]
    with installed.serving(env, tmp_path) as server:
        assert wait_http(f"http://127.0.0.1:{port}/healthz", timeout=30) == 200, server.stderr
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            assert json.loads(response.read()) == {
                "ok": True,
                "database": "ok",
                "usage_rows_waiting": 0,
            }
        if mode == "socket":
            # A /draft over the WebSocket, drafted with the packaged prompts.
            assert fake_slack.wait_for_socket_connection(15.0)
            fake_anthropic.default = Reply(text="Hi Alex, shall we meet on Monday?")
            # A full member: by default Draftbot refuses guests, and people Slack can't describe.
            fake_slack.add_user("U0001", "alex", real_name="Alex Chen")
            response_url = fake_slack.new_response_url()
            fake_slack.send_socket_event(
                "slash_commands",
                {
                    "command": "/draft",
                    "text": "email to Alex about a meeting",
                    "user_id": "U0001",
                    "user_name": "alex",
                    "team_id": "T0001",
                    "channel_id": "C0001",
                    "response_url": response_url,
                    "trigger_id": "1.2.3",
                    "api_app_id": "A0001",
                },
            )
            [posted] = fake_slack.wait_for_responses(response_url, 1, 15.0)
            assert "Hi Alex, shall we meet on Monday?" in json.dumps(posted)
            [request] = fake_anthropic.message_requests()
            email_prompt = (ROOT / "prompts" / "email.md").read_text()
            assert _first_body_line(email_prompt) in json.dumps(request.body)
    assert server.returncode == 0, server.stderr


def test_an_editable_install_reads_the_checkouts_prompts(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    """`pip install -e .` (what `make run` does) is quiet too, and a checkout's top-level
    prompts/ and manifests stay the ones Draftbot reads."""
    work = tmp_path_factory.mktemp("editable")
    venv = _venv(work)
    install = _run(
        [*_pip(venv), "install", "--no-deps", "--no-index", "--no-build-isolation", "-e", ROOT]
    )
    assert not re.search(r"warn|deprecat", install, re.IGNORECASE), install
    script = (
        "import json, bot, bot.config, bot.doctor.manifest as m; "
        "print(json.dumps([bot.__file__, str(bot.config.DEFAULT_PROMPTS_DIR), "
        "str(m.MANIFEST_PATH)]))"
    )
    result = subprocess.run(
        [venv / "bin" / "python", "-c", script],
        env=_clean_env(venv, tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert list(map(Path, json.loads(result.stdout))) == [
        ROOT / "bot" / "__init__.py",
        ROOT / "prompts",
        ROOT / "manifest.json",
    ]


# The installed copy


@dataclass
class Served:
    returncode: int | None = None
    stderr: str = ""


@dataclass
class Installed:
    venv: Path
    site_packages: Path
    build_output: str
    install_output: str

    def run(
        self, args: list[str], env: dict[str, str], cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        """A command from the venv's bin/, from a folder outside the checkout."""
        cwd = cwd or Path(env["HOME"])
        return subprocess.run(
            [str(self.venv / "bin" / args[0]), *args[1:]],
            env={**_clean_env(self.venv, cwd), **env},
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )

    def serving(self, env: dict[str, str], cwd: Path) -> _Serving:
        return _Serving(self, env, cwd)


class _Serving:
    """`draftbot serve` from the venv until the block ends, then SIGTERM."""

    def __init__(self, installed: Installed, env: dict[str, str], cwd: Path) -> None:
        self.command = [str(installed.venv / "bin" / "draftbot"), "serve"]
        self.env = {**_clean_env(installed.venv, cwd), **env}
        self.cwd = cwd
        self.served = Served()

    def __enter__(self) -> Served:
        self.process = subprocess.Popen(
            self.command, env=self.env, cwd=self.cwd, stderr=subprocess.PIPE, text=True
        )
        return self.served

    def __exit__(self, *exc: object) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            _, self.served.stderr = self.process.communicate(timeout=30)
        finally:
            self.process.kill()
        self.served.returncode = self.process.returncode


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """`python -m build` (an sdist, then the wheel from it), then `pip install` of the wheel
    into a new venv."""
    work = tmp_path_factory.mktemp("install")
    dist = work / "dist"
    started = time.monotonic()
    build = _run([sys.executable, "-m", "build", "--no-isolation", "--outdir", dist, ROOT])
    [wheel] = dist.glob("draftbot-*.whl")
    venv = _venv(work)
    install = _run([*_pip(venv), "install", "--no-deps", "--no-index", wheel])
    print(f"built and installed in {time.monotonic() - started:.1f} s")
    return Installed(venv, _site_packages(venv), build, install)


def settings(
    tmp_path: Path, fake_slack: FakeSlack, fake_anthropic: FakeAnthropic
) -> dict[str, str]:
    """HTTP mode against the fakes, with the packaged prompts (no DRAFTBOT_PROMPTS_DIR)."""
    return {
        "HOME": str(tmp_path),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.api_url,
        "ANTHROPIC_API_KEY": API_KEY,
        "ANTHROPIC_BASE_URL": fake_anthropic.base_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'draftbot.db'}",
    }


def _first_body_line(prompt_file: str) -> str:
    """The first line of a prompt file's text after its front matter."""
    body = prompt_file.split("\n---\n", 1)[1]
    return next(line for line in body.splitlines() if line.strip())


def _venv(work: Path) -> Path:
    """A venv without Draftbot, whose path holds this run's other packages (linked)."""
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    deps = work / "deps"
    deps.mkdir()
    for entry in _dependency_entries():
        (deps / entry.name).symlink_to(entry)
    (_site_packages(venv) / "_test_deps.pth").write_text(f"{deps}\n")
    return venv


def _site_packages(venv: Path) -> Path:
    return (
        venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    )


def _dependency_entries() -> Iterator[Path]:
    """This interpreter's site-packages, less Draftbot (its metadata, its editable hook, and
    the copies an editable install leaves)."""
    own = re.compile(r"(draftbot[-_.].*|_draftbot\.pth|__editable__.*draftbot.*|bot|handlers)$")
    for entry in sorted(Path(sysconfig.get_path("purelib")).iterdir()):
        if not own.match(entry.name) and not entry.name.endswith(".pth"):
            yield entry


def _pip(venv: Path) -> list[Any]:
    """This run's pip, installing into `venv`."""
    return [sys.executable, "-m", "pip", "--python", venv / "bin" / "python"]


def _clean_env(venv: Path, home: Path) -> dict[str, str]:
    return {
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "VIRTUAL_ENV": str(venv),
    }


def _run(args: list[Any]) -> str:
    """Run, fail the test with the output if it fails, and return stdout and stderr."""
    result = subprocess.run(
        [str(arg) for arg in args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    return output
