"""Two `draftbot serve` processes sharing one PostgreSQL database, as on a platform that runs
several instances: budgets hold across both, and the report reads the same as SQLite's."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.config import DEFAULT_PROMPTS_DIR
from bot.pricing import Cost, load_price_table
from bot.prompts import load_prompts
from bot.reports import named_period
from bot.storage import open_store
from tests.conftest import SIGNING_SECRET
from tests.fakes.anthropic import FakeAnthropic, Reply
from tests.fakes.signing import sign_request, slash_command_body
from tests.fakes.slack import FakeSlack
from tests.test_cli import DRAFTBOT, free_port, pythonpath, wait_http
from tests.test_reports import usage

pytest_plugins = ["tests.postgres"]

BURST_USER = "U0BURST"
BURST_TEXT = "email to Alex asking for a meeting about Q2 budget planning"
# A month of ordinary use by three people, in one order, so the fake's prompt cache gives
# both runs the same token figures.
WORKLOAD = [
    ("U0ALEX", "email to Sam declining the Friday offsite"),
    ("U0PRIYA", "summary of: the vendor moved the delivery to Tuesday"),
    ("U0ALEX", "code to add up column C when column A says Paid"),
    ("U0TOM", "message to the team reminding everyone about timesheets"),
    ("U0PRIYA", "email to Alex asking for the Q3 figures"),
    ("U0ALEX", "email to Maria welcoming her to the team"),
    ("U0TOM", "summary of: Priya will send the minutes on Monday"),
    ("U0ALEX", "a short bio for Maria Lopez, our new office manager"),
]


@dataclass
class Instance:
    url: str
    process: subprocess.Popen[str]
    log: Path


@contextmanager
def serving(envs: list[dict[str, str]], cwd: Path) -> Iterator[list[Instance]]:
    """One `draftbot serve` process per environment, started together (instances sharing a
    fresh database migrate it at the same moment), each on its own port; stopped with
    SIGTERM afterwards."""
    instances = []
    try:
        for number, env in enumerate(envs):
            port = free_port()
            log = cwd / f"instance-{number}.log"
            process = subprocess.Popen(
                [*DRAFTBOT, "serve"],
                env={"PATH": os.environ["PATH"], **env, **pythonpath(), "PORT": str(port)},
                cwd=cwd,
                stderr=log.open("w"),
                text=True,
            )
            instances.append(Instance(f"http://127.0.0.1:{port}", process, log))
        for instance in instances:
            assert wait_http(f"{instance.url}/healthz", timeout=30) == 200, instance.log.read_text()
        yield instances
    finally:
        for instance in instances:
            instance.process.send_signal(signal.SIGTERM)
        for instance in instances:
            instance.process.wait(timeout=15)
    for instance in instances:
        log = instance.log.read_text()
        assert instance.process.returncode == 0, log
        assert "Traceback" not in log, log


def slash(instance: Instance, fake_slack: FakeSlack, user_id: str, text: str) -> str:
    """Send `/draft text` to one instance as Slack would; return the response_url."""
    response_url = fake_slack.new_response_url()
    body = slash_command_body(text, response_url=response_url, user_id=user_id)
    request = urllib.request.Request(
        f"{instance.url}/slack/events", data=body, headers=sign_request(body, SIGNING_SECRET)
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    return response_url


def outcome(fake_slack: FakeSlack, response_url: str, timeout: float = 15.0) -> str:
    """What the user finally saw: a draft ("drafted") or the budget's refusal ("refused")."""

    def seen() -> str | None:
        for post in fake_slack.responses(response_url):
            shown = json.dumps(post)
            if "Here is your draft" in shown:
                return "drafted"
            if "Draftbot budget" in shown:
                return "refused"
        return None

    assert fake_slack.wait_for(lambda _: seen() is not None, timeout), fake_slack.responses(
        response_url
    )
    result = seen()
    assert result is not None
    return result


def run_workload(instances: list[Instance], fake_slack: FakeSlack) -> None:
    for number, (user_id, text) in enumerate(WORKLOAD):
        response_url = slash(instances[number % len(instances)], fake_slack, user_id, text)
        assert outcome(fake_slack, response_url) == "drafted"


def report(env: dict[str, str]) -> dict[str, Any]:
    """`draftbot report --format json`: this month, by person."""
    result = CliRunner().invoke(cli, ["report", "--format", "json"], env=env)
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def figures(document: dict[str, Any]) -> dict[str, Any]:
    """The report's numbers, without the run's timings and generation time."""
    timing = ("latency_p50_ms", "latency_p95_ms", "ttft_p50_ms", "ttft_p95_ms")

    def numbers(row: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in row.items() if key not in timing}

    return {
        "period": document["period"],
        "rows": [numbers(row) for row in document["rows"]],
        "total": numbers(document["total"]),
    }


def test_two_instances_share_budgets_and_report_like_sqlite(
    tmp_path: Path,
    env: dict[str, str],
    fake_anthropic: FakeAnthropic,
    fake_slack: FakeSlack,
    postgres_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # no developer .env can leak into the CLI
    # The worst case of one burst request, as Budgets computes it (see tests/test_budgets.py),
    # with the whole slash text: never below what the instances reserve.
    library = load_prompts(DEFAULT_PROMPTS_DIR)
    email = library.find("email")
    assert email is not None
    prompt_chars = sum(len(block["text"]) for block in library.system_blocks(email, "5m"))
    worst = load_price_table().worst_case_cost(
        email.model or "claude-sonnet-4-6",
        (prompt_chars + len(BURST_TEXT)) // 3 + 1,
        email.max_tokens,
    )
    assert worst is not None
    limit = Cost(worst.usd * 3)  # room for three drafts in flight at a time
    budgeted = {**env, "DRAFTBOT_USER_MONTHLY_BUDGET_USD": str(limit.usd)}
    postgres_env = {**budgeted, "DATABASE_URL": postgres_url}
    sqlite_env = {**budgeted, "DATABASE_URL": f"sqlite:///{tmp_path / 'draftbot.db'}"}
    ordinary = {user for user, _ in WORKLOAD}

    with serving([postgres_env, postgres_env, sqlite_env], tmp_path) as instances:
        *pair, single = instances
        postgres, sqlite = open_store(postgres_url), open_store(sqlite_env["DATABASE_URL"])
        for user_id in ordinary:  # an admin lets the everyday users spend freely
            postgres.set_budget(user_id, 1000 * 10**9, "test")
            sqlite.set_budget(user_id, 1000 * 10**9, "test")
        sqlite.close()

        # The same everyday workload: split across both PostgreSQL instances, then on the
        # single SQLite one. The reports agree to the token and the nano-dollar.
        fake_anthropic.reset()
        run_workload(pair, fake_slack)
        fake_anthropic.reset()
        run_workload([single], fake_slack)
        postgres_report, sqlite_report = report(postgres_env), report(sqlite_env)
        assert figures(postgres_report) == figures(sqlite_report)
        assert postgres_report["total"]["requests"] == len(WORKLOAD)
        assert postgres_report["total"]["cache_read_tokens"] > 0  # the cache was at work
        assert {row["key"] for row in postgres_report["rows"]} == ordinary

        # One person's burst of 20 drafts, split across both PostgreSQL instances, all
        # arriving while the first drafts are still being written.
        fake_anthropic.reset()
        fake_anthropic.default = Reply(delay=1.5)
        started = time.monotonic()
        with ThreadPoolExecutor(20) as pool:
            urls = list(
                pool.map(
                    lambda n: slash(pair[n % 2], fake_slack, BURST_USER, BURST_TEXT), range(20)
                )
            )
        dispatched = time.monotonic() - started
        assert dispatched < 1.0, "the burst must arrive before any reply"
        outcomes = [outcome(fake_slack, url) for url in urls]

        assert outcomes.count("drafted") == 3, outcomes
        assert outcomes.count("refused") == 17
        assert len(fake_anthropic.message_requests()) == 3  # no model call for the rest
        spent, drafts = postgres.user_spend_nano_usd(
            BURST_USER, *named_period("this-month").iso_bounds()
        )
        assert drafts == 3
        assert spent <= limit.nano_usd + worst.nano_usd
        postgres.close()


def test_report_cli_reads_postgresql(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`draftbot report` and `draftbot budget` use the database DATABASE_URL names."""
    monkeypatch.chdir(tmp_path)
    store = open_store(postgres_url)
    store.record_usage(usage("U0ALEX", "email", named_period("today").start.date().isoformat()))
    env = {"DATABASE_URL": postgres_url}
    assert report(env)["total"]["requests"] == 1
    result = CliRunner().invoke(cli, ["budget", "set", "U0ALEX", "25"], env=env)
    assert result.exit_code == 0, result.output
    assert store.budget_override("U0ALEX") == 25 * 10**9
    store.close()
