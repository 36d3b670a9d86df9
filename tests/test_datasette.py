"""`draftbot datasette` and bot/data/datasette.yml: descriptions that match the schema, canned
queries that run and name people, the drafts table kept out, and Datasette itself serving a
read-only snapshot on 127.0.0.1, with names beside Slack ids (bot/datasette_plugins/)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from bot.cli import cli
from bot.cli_datasette import METADATA_FILE, datasette_installed, take_snapshot
from bot.storage import Store
from demo.seed import PEOPLE, seed
from demo.servers import free_port
from tests.test_report_speed import loaded_by
from tests.test_reports import usage

METADATA = yaml.safe_load(METADATA_FILE.read_text())
DATABASE = METADATA["databases"]["draftbot"]
QUERIES: dict[str, dict[str, Any]] = DATABASE["queries"]
LAST_MONTH = (datetime.now(UTC).replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
NAMES = {person.name for person in PEOPLE}


def schema(path: Path) -> dict[str, list[str]]:
    """Tables (and views) of a database with their columns."""
    db = sqlite3.connect(path)
    try:
        names = [n for (n,) in db.execute("select name from sqlite_master where type = 'table'")]
        return {n: [row[1] for row in db.execute(f"pragma table_info('{n}')")] for n in names}
    finally:
        db.close()


@pytest.fixture
def migrated(tmp_path: Path) -> Path:
    path = tmp_path / "fresh.db"
    Store(path).close()
    return path


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("seeded") / "draftbot.db"
    seed(path)
    store = Store(path)  # a preview's request and text, as Slack's buttons keep them
    store.save_draft(
        {
            "id": "d1",
            "user_id": PEOPLE[0].user_id,
            "kind": "email",
            "request": "email to my landlord about the leak",
            "text": "Dear Mr Smith, the ceiling is leaking again",
            "response_url": "https://hooks.slack.com/commands/T0/1/secret",
        }
    )
    store.close()
    return path


def run_query(path: Path, sql: str, **params: str) -> list[sqlite3.Row]:
    db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    try:
        values = {name: params.get(name, "") for name in re.findall(r":(\w+)", sql)}
        return db.execute(sql, values).fetchall()
    finally:
        db.close()


# ------------------------------------------------------------------ the metadata file


def test_metadata_names_only_tables_and_columns_a_migrated_database_has(migrated: Path) -> None:
    tables = schema(migrated)
    described = DATABASE["tables"]
    assert sorted(set(described) - set(tables)) == []
    for table, meta in described.items():
        assert sorted(set(meta.get("columns", {})) - set(tables[table])) == [], table
        for key in ("label_column", "sort_desc"):
            assert meta.get(key) in (None, *tables[table]), (table, key)
        assert sorted(set(meta.get("facets", [])) - set(tables[table])) == [], table
    # Every table is described, and every column of those people browse, so a migration
    # that adds one fails here until datasette.yml says what it holds.
    assert sorted(set(tables) - set(described)) == []
    for table in ("usage", "usage_daily", "people", "budgets", "reservations", "budget_alerts"):
        assert sorted(set(tables[table]) - set(described[table]["columns"])) == [], table


def test_drafts_with_peoples_text_are_hidden_and_refused() -> None:
    drafts = DATABASE["tables"]["drafts"]
    assert drafts["hidden"] is True
    assert drafts["allow"] is False  # Datasette: nobody may open the table's page


def test_canned_queries_run_and_name_people(seeded: Path) -> None:
    assert set(QUERIES) == {
        "this_month_by_person", "this_month_by_kind", "cache_share", "failures",
        "requests_with_names",
    }  # fmt: skip
    for name, query in QUERIES.items():
        assert query["title"] and query["description"], name
        assert run_query(seeded, query["sql"], month=LAST_MONTH), f"{name} returned no rows"
        run_query(seeded, query["sql"])  # the month left empty: this month (may be empty)

    by_person = run_query(seeded, QUERIES["this_month_by_person"]["sql"], month=LAST_MONTH)
    assert {row["person"] for row in by_person} == NAMES
    assert by_person[0]["cost_usd"] >= by_person[-1]["cost_usd"] > 0
    kinds = run_query(seeded, QUERIES["this_month_by_kind"]["sql"], month=LAST_MONTH)
    assert {row["kind"] for row in kinds} == {"email", "summary", "code", "message", "general"}
    shares = run_query(seeded, QUERIES["cache_share"]["sql"])
    assert all(0 <= row["read_percent"] <= 100 for row in shares)
    assert 40 < sum(row["read_percent"] for row in shares) / len(shares) < 90  # seeded ~70%
    failures = run_query(seeded, QUERIES["failures"]["sql"])
    assert {row["person"] for row in failures} <= NAMES
    assert all(row["error"].split(":")[0] in ("busy", "unavailable") for row in failures)
    recent = run_query(seeded, QUERIES["requests_with_names"]["sql"])
    assert len(recent) == 1000 and recent[0]["created_at"] > recent[-1]["created_at"]


def test_the_monthly_queries_count_refusals_apart(tmp_path: Path) -> None:
    store = Store(tmp_path / "draftbot.db")
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    for record in [
        usage("U0ALEX", "email", today),
        usage("U0ALEX", "email", today, status="error"),
        replace(usage("U0ALEX", "email", today, input_tokens=0, output_tokens=0), status="refused"),
        replace(usage("U0KIM", "code", today, input_tokens=0, output_tokens=0), status="refused"),
    ]:
        store.record_usage(record)
    store.close()
    by_person = run_query(tmp_path / "draftbot.db", QUERIES["this_month_by_person"]["sql"])
    counts = {row["user_id"]: (row["requests"], row["failed"], row["refused"]) for row in by_person}
    assert counts == {"U0ALEX": (2, 1, 1), "U0KIM": (0, 0, 1)}
    by_kind = run_query(tmp_path / "draftbot.db", QUERIES["this_month_by_kind"]["sql"])
    kinds = {row["kind"]: (row["requests"], row["people"], row["refused"]) for row in by_kind}
    assert kinds == {"email": (2, 1, 1), "code": (0, 0, 1)}
    failures = run_query(tmp_path / "draftbot.db", QUERIES["failures"]["sql"])
    assert [row["person"] for row in failures] == ["U0ALEX"]  # the error, not the refusals


def test_the_snapshot_has_the_usage_but_not_the_drafts_text(seeded: Path, tmp_path: Path) -> None:
    copy = tmp_path / "draftbot.db"
    writer = Store(seeded)  # a row still in the write-ahead log, as while draftbot serve runs
    writer.save_person("U0NEWCOMER", "Noor Haddad", "")
    reason = "it promised the landlord a refund"  # a 👎's reason, in the person's words
    writer.record_draft_event(
        {"draft_id": "d1", "user_id": PEOPLE[0].user_id, "event": "feedback", "detail": "down",
         "reason": reason}
    )  # fmt: skip
    try:
        take_snapshot(seeded, copy)
    finally:
        writer.close()
    db = sqlite3.connect(copy)
    assert db.execute("pragma journal_mode").fetchone() == ("delete",)
    names = {name for (name,) in db.execute("select display_name from people")}
    assert "Noor Haddad" in names
    assert db.execute("select count(*) from usage").fetchone()[0] > 1000
    assert db.execute("select id, kind, request, text, response_url from drafts").fetchall() == [
        ("d1", "email", None, None, None)
    ]
    assert db.execute("select event, reason from draft_events").fetchall() == [("feedback", None)]
    db.close()
    assert b"landlord" not in copy.read_bytes() and b"leaking" not in copy.read_bytes()


# ------------------------------------------------------------------------- the command


def test_help_says_read_only_and_how_to_install() -> None:
    result = CliRunner().invoke(cli, ["datasette", "--help"])
    assert result.exit_code == 0
    assert "read-only" in result.output
    assert "pip install 'draftbot[datasette]'" in result.output


def test_without_datasette_it_says_how_to_install_it(tmp_path: Path, seeded: Path) -> None:
    probe = (
        "import sys; sys.modules['datasette'] = None\n"  # as if it were not installed
        "from bot.cli import main; sys.argv = ['draftbot', 'datasette']; main()"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        env={
            "PATH": os.environ["PATH"],
            "HOME": str(tmp_path),
            "DATABASE_URL": f"sqlite:///{seeded}",
        },
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "Datasette is not installed" in done.stderr
    assert "pip install 'draftbot[datasette]'" in done.stderr
    assert "Traceback" not in done.stderr


def test_postgresql_and_a_missing_file_are_explained_and_nothing_is_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", "postgresql://draftbot@127.0.0.1:9/draftbot")
    result = CliRunner().invoke(cli, ["datasette"])
    assert result.exit_code == 2
    assert "Datasette reads SQLite files" in result.output
    missing = tmp_path / "typo.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{missing}")
    result = CliRunner().invoke(cli, ["datasette"])
    if datasette_installed():
        assert result.exit_code == 2
        assert f"There is no database at {missing}" in result.output
    assert not missing.exists()


def test_a_database_not_yet_upgraded_is_explained_not_opened(
    migrated: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    if not datasette_installed():
        pytest.skip("Datasette is not installed (pip install -e '.[datasette]')")
    db = sqlite3.connect(migrated)
    db.execute("delete from schema_migrations where version = 8")  # as an older Draftbot left it
    db.commit()
    db.close()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{migrated}")
    result = CliRunner().invoke(cli, ["datasette", "--", "--get", "/draftbot.json"])
    assert result.exit_code == 2
    assert "was last upgraded by an older Draftbot. Start `draftbot serve` once" in result.output


def test_draftbot_help_does_not_load_datasette_or_yaml(tmp_path: Path, migrated: Path) -> None:
    code, modules, output = loaded_by(["--help"], tmp_path, migrated)
    assert code == 0 and "datasette" in output
    assert sorted(modules & {"datasette", "yaml", "uvicorn"}) == []


# ------------------------------------------------------------------ the real Datasette


def datasette_get(database: Path, cwd: Path, *args: str) -> tuple[list[dict[str, Any]], str]:
    """`draftbot datasette ARGS -- --get /-/databases.json`: what Datasette opened, and how."""
    done = subprocess.run(
        [sys.executable, "-m", "bot", "datasette", *args, "--", "--get", "/-/databases.json"],
        env={
            "PATH": os.environ["PATH"],
            "HOME": str(cwd),
            "TMPDIR": str(cwd),
            "DATABASE_URL": f"sqlite:///{database}",
        },
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout), done.stderr


def test_it_opens_a_snapshot_or_with_no_snapshot_the_file_itself_immutable(
    seeded: Path, tmp_path: Path
) -> None:
    if not datasette_installed():
        pytest.skip("Datasette is not installed (pip install -e '.[datasette]')")
    [opened], said = datasette_get(seeded, tmp_path)
    assert opened["name"] == "draftbot" and opened["is_mutable"] is False
    assert opened["path"] != str(seeded) and opened["path"].endswith("/draftbot.db")
    assert f"Opened a read-only snapshot of {seeded}" in said
    [opened], said = datasette_get(seeded, tmp_path, "--no-snapshot")
    assert opened["path"] == str(seeded) and opened["is_mutable"] is False
    assert "snapshot" not in said


@pytest.fixture
def served(seeded: Path, tmp_path: Path) -> Iterator[str]:
    if not datasette_installed():
        pytest.skip("Datasette is not installed (pip install -e '.[datasette]')")
    port = free_port()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "TMPDIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{seeded}",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "datasette", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            if answers(f"{url}/-/versions.json"):
                break
            time.sleep(0.2)
        assert process.poll() is None, process.communicate()[0]
        yield url
    finally:
        process.send_signal(signal.SIGTERM)  # as a supervisor stops it
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(15)
        still_serving = answers(f"{url}/-/versions.json")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # Datasette too, if it outlived the command
        process.wait()
    # Datasette stopped first, then the snapshot was removed.
    assert not still_serving
    assert not list(tmp_path.glob("draftbot-datasette-*"))


def answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=2).close()
        return True
    except (urllib.error.URLError, ConnectionError):
        return False


def get(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, None


def test_datasette_serves_canned_queries_with_names_and_refuses_drafts(served: str) -> None:
    status, rows = get(
        f"{served}/draftbot/this_month_by_person.json?_shape=array&month={LAST_MONTH}"
    )
    assert status == 200
    assert {row["person"] for row in rows} == NAMES
    status, database = get(f"{served}/draftbot.json")
    assert status == 200
    visible = {table["name"] for table in database["tables"] if not table["hidden"]}
    assert {"usage", "usage_daily", "people", "budgets"} <= visible
    assert "drafts" not in visible
    status, usage = get(f"{served}/draftbot/usage.json?_shape=array&_size=1")
    assert status == 200 and usage[0]["request_id"].startswith("req_demo")
    assert get(f"{served}/draftbot/drafts.json")[0] == 403
    # No custom SQL, which could read the drafts table all the same.
    query = urllib.parse.quote("select request, text from drafts")
    assert get(f"{served}/draftbot.json?sql={query}")[0] == 403


def test_table_pages_show_names_beside_slack_ids(served: str) -> None:
    with urllib.request.urlopen(f"{served}/draftbot/usage?_size=50", timeout=10) as answer:
        page = answer.read().decode()
    cells = re.findall(
        r'<td class="col-user_id type-str">([^<]*)<span[^>]*>(U0DEMO\w+)</span>', page
    )
    assert len(cells) == 50
    by_id = {person.user_id: person.name for person in PEOPLE}
    assert all(name.strip() == by_id[user_id] for name, user_id in cells)
