"""A PostgreSQL server for tests, and a fresh database for each test that asks for one.

Use it as a plugin (`pytest_plugins = ["tests.postgres"]`) and ask for `postgres_url`.
The server is, in order of preference:

1. `DRAFTBOT_TEST_POSTGRES_URL` (a role allowed to CREATE DATABASE), e.g. from `.ci/run`;
2. a throwaway cluster started once per test session with `initdb` and `pg_ctl` (from PATH
   or Debian's /usr/lib/postgresql/*/bin) in a temporary folder, on 127.0.0.1 and a free
   port, stopped at the end of the session;
3. neither: every test that needs PostgreSQL is skipped, saying why.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg import sql

URL_VARIABLE = "DRAFTBOT_TEST_POSTGRES_URL"
# A throwaway cluster: no password on loopback, and no waiting for the disk.
INITDB_OPTIONS = ("-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C")
SKIP_REASON = (
    "PostgreSQL tests skipped: no server (set DRAFTBOT_TEST_POSTGRES_URL or install postgresql)"
)


class PostgresServer:
    """A server reachable at `admin_url`, where tests may create and drop databases."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.icu = False  # can databases use a linguistic collation (see create_database)?
        with self._admin() as conn:
            row = conn.execute(
                "select count(*) from pg_collation where collprovider = 'i'"
            ).fetchone()
            self.icu = bool(row and row[0]) and conn.info.server_version >= 150000

    def _admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(self.admin_url, autocommit=True, connect_timeout=10)

    def create_database(self) -> str:
        """A new, empty database; returns its URL (same server, role and options)."""
        name = f"test_{secrets.token_hex(6)}"
        create = sql.SQL("create database {}").format(sql.Identifier(name))
        if self.icu:
            # Real deployments rarely use the C locale: an English collation here proves the
            # store does not depend on the database's string order ("B" sorts after "a").
            create += sql.SQL(" template template0 locale_provider icu icu_locale 'en-US'")
        with self._admin() as conn:
            conn.execute(create)
        return urlsplit(self.admin_url)._replace(path=f"/{name}").geturl()

    def drop_database(self, url: str) -> None:
        name = urlsplit(url).path.lstrip("/")
        with self._admin() as conn:
            # Only our own sessions: a role without superuser may not end others (such as an
            # autovacuum worker), and DROP DATABASE stops autovacuum workers by itself.
            conn.execute(
                "select pg_terminate_backend(pid) from pg_stat_activity "
                "where datname = %s and pid <> pg_backend_pid() and usename = current_user",
                [name],
            )
            for attempt in range(20):
                try:
                    conn.execute(sql.SQL("drop database if exists {}").format(sql.Identifier(name)))
                    return
                except psycopg.errors.ObjectInUse:
                    if attempt == 19:
                        raise
                    time.sleep(0.1)


class LocalCluster:
    """`initdb` + `pg_ctl start` in a temporary folder; as an unprivileged user under root,
    since PostgreSQL refuses to run as root."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="draftbot-pg-"))
        self.data = self.root / "data"
        self.user: str | None = None  # who runs the server when we are root
        self.port = 0

    def start(self) -> str:
        if os.geteuid() == 0:
            self.user = _unprivileged_user()
            shutil.chown(self.root, user=self.user)
        self._run("initdb", "-D", str(self.data), *INITDB_OPTIONS)
        for _ in range(3):  # the free port may be taken between choosing and binding it
            self.port = _free_port()
            options = (
                f"-h 127.0.0.1 -p {self.port} -k {self.root} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                "-c max_connections=200"
            )
            log = str(self.root / "server.log")
            started = self._run(
                "pg_ctl", "-D", str(self.data), "-l", log, "-o", options, "-w", "start", check=False
            )
            if started.returncode == 0:
                return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        raise RuntimeError(f"pg_ctl start failed: {self.log_tail()}")

    def stop(self) -> None:
        if self.data.exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self) -> str:
        log = self.root / "server.log"
        return log.read_text(errors="replace")[-2000:] if log.exists() else "(no server log)"

    def _run(
        self, program: str, *args: str, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin_dir / program), *args]
        if self.user is not None:
            command = ["runuser", "-u", self.user, "--", *command]
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=60, check=False, cwd=self.root
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"{program} failed: {result.stderr.strip() or result.stdout}")
        return result


def postgres_bin_dir() -> Path | None:
    """Where `initdb` and `pg_ctl` are: PATH first, then Debian's versioned folders."""
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).resolve().parent
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    return None


def _unprivileged_user() -> str:
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        if shutil.which("runuser"):
            return name
    raise RuntimeError("running as root, and no 'postgres' or 'nobody' user with runuser")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    url = os.environ.get(URL_VARIABLE)
    if url:
        yield PostgresServer(url)  # set on purpose: a server that cannot be reached fails
        return
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        pytest.skip(SKIP_REASON)
    cluster = LocalCluster(bin_dir)
    try:
        server = PostgresServer(cluster.start())
    except (RuntimeError, OSError, subprocess.SubprocessError, psycopg.Error) as error:
        cluster.stop()
        pytest.skip(f"PostgreSQL tests skipped: could not start a local server: {error}")
    try:
        yield server
    finally:
        cluster.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """The URL of a new, empty database, dropped after the test."""
    url = postgres_server.create_database()
    try:
        yield url
    finally:
        postgres_server.drop_database(url)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say once, even without -rs, why the PostgreSQL tests did not run."""
    reasons = {
        str(report.longrepr[2])
        for report in terminalreporter.stats.get("skipped", [])
        if isinstance(report.longrepr, tuple) and "PostgreSQL tests skipped" in report.longrepr[2]
    }
    for reason in sorted(reasons):
        terminalreporter.write_line(reason.removeprefix("Skipped: "), yellow=True)
