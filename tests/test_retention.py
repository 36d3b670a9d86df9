"""Draft retention: expired drafts leave a running server with nobody drafting (HTTP and
Socket Mode, SQLite and PostgreSQL), `draftbot purge` deletes them from cron, and on SQLite
their text is gone from the bytes of the database file and its WAL."""

from __future__ import annotations

import asyncio
import secrets
import socket
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import psycopg
import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.config import load_settings
from bot.retention import purge
from bot.services import Services, build_services
from bot.storage import Storage, Store, open_store, sqlite_path
from handlers.app import serve
from tests.conftest import APP_TOKEN, FAST_RETRIES
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.slack import FakeSlack
from tests.test_cli import free_port, pythonpath, run

pytest_plugins = ["tests.postgres"]

FAST = 0.05  # the purge interval the tests give the server (`draftbot serve`'s is an hour)


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'draftbot.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def probe(database_url: str) -> Iterator[Storage]:
    """A connection of the test's own, looking at the database the server uses."""
    store = open_store(database_url)
    yield store
    store.close()


def days_ago(days: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="microseconds")


def save(store: Storage, draft_id: str, *, age_days: float = 0, text: str = "Hi Alex") -> None:
    """A draft last changed `age_days` ago, as `DraftSessions.create` saves it."""
    changed = days_ago(age_days)
    store.save_draft(
        {
            "id": draft_id,
            "user_id": "U0ALEX",
            "kind": "email",
            "request": "email to Alex",
            "text": text,
            "stop_reason": "end_turn",
            "created_at": changed,
            "updated_at": changed,
        }
    )


def execute(database_url: str, statement: str) -> None:
    """One statement from outside Draftbot, as an admin's psql or sqlite3 would run it."""
    if database_url.startswith("sqlite:///"):
        with sqlite3.connect(sqlite_path(database_url), isolation_level=None) as db:
            db.execute(statement)
    else:
        with psycopg.connect(database_url, autocommit=True) as db:
            db.execute(statement)


async def eventually(check: Callable[[], bool], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, f"not within {within} s"
        await asyncio.sleep(0.02)


@asynccontextmanager
async def serving(
    env: dict[str, str], fake_slack: FakeSlack, mode: str, interval: float
) -> AsyncIterator[tuple[Services, str]]:
    """`handlers.app.serve`, the function `draftbot serve` runs, until the block ends; yields
    the services and the health-check URL (empty in Socket Mode)."""
    port = free_port()
    env = {**env, "PORT": str(port)}
    if mode == "socket":
        env["SLACK_APP_TOKEN"] = APP_TOKEN
        del env["SLACK_SIGNING_SECRET"]
    services = build_services(load_settings(env), FAST_RETRIES)
    stop = asyncio.Event()
    server = asyncio.create_task(
        serve(services, host="127.0.0.1", stop=stop, purge_interval=interval)
    )
    health = f"http://127.0.0.1:{port}/healthz" if mode == "http" else ""
    try:
        if health:
            await eventually(lambda: server.done() or port_open(port))
        else:
            await fake_slack.wait_for_socket_connection_async(10.0)
        assert not server.done()
        yield services, health
    finally:
        stop.set()
        await asyncio.wait_for(server, 10)  # returns normally: nothing crashed
    assert not [task for task in asyncio.all_tasks() if task.get_name() == "draftbot-purge"]


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


async def healthy(url: str) -> bool:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status == 200


# The timer in `draftbot serve`


@pytest.mark.parametrize("mode", ["http", "socket"])
async def test_a_running_server_purges_expired_drafts_with_no_new_draft(
    mode: str,
    database_url: str,
    probe: Storage,
    env: dict[str, str],
    fake_anthropic: FakeAnthropic,
    fake_slack: FakeSlack,
) -> None:
    save(probe, "expired-before-start", age_days=8)
    save(probe, "fresh")
    async with serving({**env, "DATABASE_URL": database_url}, fake_slack, mode, FAST):
        await eventually(lambda: probe.get_draft("expired-before-start") is None)  # at start
        save(probe, "expired-while-running", age_days=7.01)
        save(probe, "nearly-expired", age_days=6.99)
        await eventually(lambda: probe.get_draft("expired-while-running") is None)  # a tick
        await asyncio.sleep(FAST * 3)
        assert probe.get_draft("fresh") is not None
        assert probe.get_draft("nearly-expired") is not None
    assert fake_anthropic.message_requests() == []  # nobody drafted anything


async def test_the_server_purges_at_start_then_waits_its_interval_and_stops_at_once(
    env: dict[str, str], fake_slack: FakeSlack
) -> None:
    probe = open_store(env["DATABASE_URL"])
    save(probe, "expired-before-start", age_days=30)
    started = time.monotonic()
    async with serving(env, fake_slack, "http", interval=3600):
        await eventually(lambda: probe.get_draft("expired-before-start") is None)
        save(probe, "expired-later", age_days=30)
        await asyncio.sleep(0.3)
        assert probe.get_draft("expired-later") is not None  # the next purge is an hour away
    assert time.monotonic() - started < 10  # shutting down did not wait for that hour
    probe.close()


async def test_a_failing_purge_is_one_log_line_and_the_server_carries_on(
    database_url: str,
    probe: Storage,
    env: dict[str, str],
    fake_slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
) -> None:
    save(probe, "expired", age_days=8)
    execute(database_url, "alter table drafts rename to drafts_parked")
    async with serving({**env, "DATABASE_URL": database_url}, fake_slack, "http", FAST) as (
        _,
        health,
    ):
        await eventually(lambda: any("draft purge failed" in m for m in caplog.messages))
        await asyncio.sleep(FAST * 3)  # several failed ticks
        assert await healthy(health)
        execute(database_url, "alter table drafts_parked rename to drafts")
        await eventually(lambda: probe.get_draft("expired") is None)  # the next tick works
    failures = [r for r in caplog.records if r.getMessage().startswith("draft purge failed")]
    assert len(failures) >= 2
    for record in failures:
        assert record.name == "bot.retention" and record.levelname == "WARNING"
        assert "\n" not in record.getMessage() and record.exc_info is None  # no traceback
        assert "drafts" in record.getMessage()  # says what went wrong


# `draftbot purge`, for cron


def test_draftbot_purge_deletes_expired_drafts_and_says_how_many(
    database_url: str, probe: Storage, tmp_path: Path
) -> None:
    save(probe, "forty-days", age_days=40)
    save(probe, "ten-days", age_days=10)
    save(probe, "fresh")
    assert probe.first_time("im:D0ALEX:1700000000.000100")
    execute(database_url, "update handled_events set handled_at = '2000-01-01T00:00:00+00:00'")
    only_the_database = {"DATABASE_URL": database_url, **pythonpath()}  # no Slack, no Anthropic

    month = run(["purge"], {**only_the_database, "DRAFTBOT_DRAFT_RETENTION_DAYS": "30"}, tmp_path)
    assert (month.returncode, month.stdout, month.stderr) == (
        0,
        "Deleted 1 draft older than 30 days.\n",
        "",
    )
    assert probe.get_draft("forty-days") is None and probe.get_draft("ten-days") is not None

    week = run(["purge"], only_the_database, tmp_path)
    assert (week.returncode, week.stdout) == (0, "Deleted 1 draft older than 7 days.\n")
    again = run(["purge"], only_the_database, tmp_path)
    assert (again.returncode, again.stdout) == (0, "Deleted 0 drafts older than 7 days.\n")
    assert probe.get_draft("ten-days") is None and probe.get_draft("fresh") is not None
    assert probe.first_time("im:D0ALEX:1700000000.000100")  # forgotten with the drafts


def test_draftbot_purge_explains_itself() -> None:
    overview = CliRunner().invoke(cli, ["--help"])
    assert "purge" in overview.output
    result = CliRunner().invoke(cli, ["purge", "--help"])
    assert result.exit_code == 0
    assert "DRAFTBOT_DRAFT_RETENTION_DAYS" in result.output and "cron" in result.output
    assert "Example" in result.output and "draftbot purge" in result.output


def test_draftbot_purge_setup_problems_are_sentences(tmp_path: Path) -> None:
    unopenable = {"DATABASE_URL": "sqlite:////proc/no-such-dir/draftbot.db", **pythonpath()}
    result = run(["purge"], unopenable, tmp_path)
    assert result.returncode == 2
    assert "Cannot open the SQLite database /proc/no-such-dir/draftbot.db" in result.stderr
    bad_days = {"DRAFTBOT_DRAFT_RETENTION_DAYS": "a week", **pythonpath()}
    result = run(["purge"], bad_days, tmp_path)
    assert result.returncode == 2 and "DRAFTBOT_DRAFT_RETENTION_DAYS" in result.stderr
    assert "Traceback" not in result.stderr


def test_purge_keeps_drafts_within_the_retention(probe: Storage) -> None:
    save(probe, "just-expired", age_days=7 + 1 / 1440)  # a minute past seven days
    save(probe, "just-kept", age_days=7 - 1 / 1440)
    assert purge(probe, 7) == 1
    assert probe.get_draft("just-expired") is None and probe.get_draft("just-kept") is not None
    assert purge(probe, 7) == 0


# The purged text is gone from SQLite's files


def marker(label: str) -> str:
    return f"{label}-{secrets.token_hex(8)}"


def sqlite_files(path: Path) -> dict[str, bytes]:
    """The database file and, when they exist, its WAL and shared-memory index."""
    return {
        p.name: p.read_bytes()
        for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm"))
        if p.exists()
    }


def found(markers: list[str], files: dict[str, bytes]) -> dict[str, list[str]]:
    """Which markers occur in which file."""
    hits = {name: [m for m in markers if m.encode() in data] for name, data in files.items()}
    return {name: markers for name, markers in hits.items() if markers}


def test_purged_text_is_gone_from_the_sqlite_file_and_its_wal(tmp_path: Path) -> None:
    path = tmp_path / "draftbot.db"
    store = open_store(f"sqlite:///{path}")
    assert isinstance(store, Store)
    assert store.db.execute("pragma secure_delete").fetchone() == (1,)
    request, first, refined, long = (marker(m) for m in ("REQUEST", "FIRST", "REFINED", "LONG"))
    kept = marker("KEPT")
    save(store, "short", age_days=8, text=f"Hi Alex, {first}")
    # A long draft spills onto overflow pages, which are freed differently.
    save(store, "long", age_days=8, text=" ".join([long] * 4000))
    # Days pass: SQLite's own checkpoints copy the WAL into the database file.
    store.db.execute("pragma wal_checkpoint(truncate)")
    # Then a refinement replaces the text, in the WAL, and the draft is left to expire.
    store.update_draft("short", text=f"Hi Alex, {refined}", request=f"email to Alex {request}")
    save(store, "kept", text=f"Dear Sam, {kept}")
    store.db.execute("update drafts set updated_at = ? where id = 'short'", [days_ago(8)])
    purged = [request, first, refined, long]
    before = sqlite_files(path)
    assert {m for hits in found(purged, before).values() for m in hits} == set(purged)
    assert {first, long} <= set(found(purged, before)["draftbot.db"])  # the test sees the file
    assert {request, refined} <= set(found(purged, before)["draftbot.db-wal"])  # and the WAL

    assert purge(store, 7) == 2
    files = sqlite_files(path)
    assert found(purged, files) == {}  # neither in draftbot.db nor in draftbot.db-wal
    assert files.get("draftbot.db-wal", b"") == b""  # the WAL was emptied
    assert kept.encode() in files["draftbot.db"]  # and the drafts still kept are intact
    store.close()
    files = sqlite_files(path)
    assert found(purged, files) == {}
    assert kept.encode() in files["draftbot.db"]


@pytest.mark.parametrize("missing", ["secure_delete", "wal_checkpoint"])
def test_without_either_pragma_the_text_would_stay_behind(tmp_path: Path, missing: str) -> None:
    """The marker test can fail: a plain delete leaves the text in the file or the WAL."""
    path = tmp_path / "plain.db"
    text = marker("TEXT")
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("pragma journal_mode=wal")
    db.execute(f"pragma secure_delete={'off' if missing == 'secure_delete' else 'on'}")
    db.execute("create table drafts (id text primary key, text text)")
    db.execute("insert into drafts values ('d', ?)", [f"Hi Alex, {text}"])
    db.execute("delete from drafts")
    if missing == "secure_delete":
        db.execute("pragma wal_checkpoint(truncate)")
        assert found([text], sqlite_files(path)) == {"plain.db": [text]}
    else:
        assert found([text], sqlite_files(path)) == {"plain.db-wal": [text]}
    db.close()
