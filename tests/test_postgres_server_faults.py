"""PostgreSQL stalling and restarting under the real server: acks, /healthz and usage rows.

The database sits behind `StallingProxy` (see tests/test_postgres_faults.py), which keeps
connections up but passes nothing on, as a stopped server or a network partition does.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import psycopg
import pytest

from tests.conftest import RunningBot
from tests.fakes.anthropic import FakeAnthropic, Reply
from tests.fakes.slack import FakeSlack
from tests.test_postgres_faults import StallingProxy, with_params

pytest_plugins = ["tests.postgres"]
pytestmark = pytest.mark.faults


@pytest.fixture
def proxy(postgres_url: str) -> Iterator[StallingProxy]:
    with StallingProxy(postgres_url) as stalling:
        yield stalling


@pytest.fixture
def env(env: dict[str, str], proxy: StallingProxy) -> dict[str, str]:
    # A 2 s statement limit (an admin's value in DATABASE_URL wins) keeps the test short.
    url = with_params(proxy.url, options="-c statement_timeout=2000")
    return {**env, "DATABASE_URL": url}


async def preview_of(fake_slack: FakeSlack, url: str, seconds: float) -> str:
    [preview] = await asyncio.to_thread(fake_slack.wait_for_responses, url, 1, seconds)
    return json.dumps(preview)


async def rows_in(url: str) -> list[str]:
    def read() -> list[str]:
        with psycopg.connect(url) as conn:
            return [r for (r,) in conn.execute("select request_id from usage order by id")]

    return await asyncio.to_thread(read)


async def test_a_stalled_database_neither_freezes_the_bot_nor_loses_or_doubles_a_row(
    bot: RunningBot,
    proxy: StallingProxy,
    postgres_url: str,
    fake_anthropic: FakeAnthropic,
    fake_slack: FakeSlack,
) -> None:
    fake_anthropic.default = Reply(text="Hi Alex, Monday works.")
    first = await bot.slash("email to Alex about Monday")
    assert "Hi Alex" in await preview_of(fake_slack, first.response_url, 10)

    proxy.stall()
    replies = await asyncio.gather(*(bot.slash(f"email to Alex, take {n}") for n in range(3)))
    assert max(reply.seconds for reply in replies) < 3
    started = time.monotonic()
    async with bot.session.get(f"{bot.url}/healthz") as response:
        assert response.status == 200 and (await response.json())["ok"] is True
    assert time.monotonic() - started < 1
    for reply in replies:  # delivered while the database is still stalled
        assert "Hi Alex" in await preview_of(fake_slack, reply.response_url, 40)
    assert bot.services.journal.pending >= 1

    proxy.resume()
    for _ in range(300):
        if not bot.services.journal.pending:
            break
        await asyncio.sleep(0.1)
    request_ids = await rows_in(postgres_url)
    # Four billed calls, four rows: a stalled INSERT that landed after all is not doubled.
    assert len(request_ids) == 4 and len(set(request_ids)) == 4


async def test_after_a_restart_the_next_draft_reconnects(
    bot: RunningBot, postgres_url: str, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.default = Reply(text="Hi Alex, Monday works.")
    first = await bot.slash("email to Alex about Monday")
    await preview_of(fake_slack, first.response_url, 10)
    database = urlsplit(postgres_url).path.lstrip("/")
    with psycopg.connect(postgres_url, autocommit=True) as admin:  # what a restart does
        admin.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity "
            "where datname = %s and pid <> pg_backend_pid()",
            [database],
        )
    second = await bot.slash("email to Alex about Tuesday")
    preview = await preview_of(fake_slack, second.response_url, 10)
    assert "Hi Alex" in preview and "Something went wrong" not in preview
    assert "draft_post" in preview  # saved for its buttons: the database was back
    assert len(await rows_in(postgres_url)) == 2
    assert bot.services.journal.pending == 0
