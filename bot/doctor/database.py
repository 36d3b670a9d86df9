"""The database (DATABASE_URL): it opens and is writable, SQLite or PostgreSQL."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import urlsplit

from bot.config import Settings
from bot.doctor.report import Check, not_checked
from bot.storage import POSTGRES_SCHEMES, StorageUnavailable, connection_problem, open_store
from bot.storage.journal import UsageJournal
from bot.storage.sqlite import Store

DATABASE_CHECK = "Database"
JOURNAL_CHECK = "Usage journal"


def database_checks(settings: Settings | None) -> list[Check]:
    if settings is not None and settings.database_url.startswith(POSTGRES_SCHEMES):
        return [_postgres_check(settings.database_url), _journal_check(settings)]
    if settings is None or not settings.database_path:
        return [not_checked(DATABASE_CHECK, "DATABASE_URL needs fixing first (see above)")]
    return [_sqlite_check(settings.database_path), _journal_check(settings)]


def _journal_check(settings: Settings) -> Check:
    """Usage rows kept because the database refused them, not yet written back."""
    path = settings.journal_path
    if path is None or not path.exists():
        return Check(JOURNAL_CHECK, ok=True, detail="No usage rows are waiting to be written.")
    waiting = UsageJournal(path).pending
    if not waiting:
        return Check(JOURNAL_CHECK, ok=True, detail=f"{path}: no usage rows waiting.")
    return Check(
        JOURNAL_CHECK,
        ok=False,
        detail=f"{path} holds {waiting:,} usage row{'s' if waiting != 1 else ''} the database "
        "refused; reports leave them out until they are written.",
        fix="Draftbot writes them back by itself once the database takes writes (every few "
        "seconds while serving, and at every start). If they stay, fix the database problem "
        "the log names, then restart Draftbot.",
    )


def _sqlite_check(database_path: str) -> Check:
    path = Path(database_path)
    shown = str(path) if path.is_absolute() else f"{path} (that is {path.resolve()})"
    fix = (
        "Check the path and permissions in DATABASE_URL: its folder must exist or be creatable, "
        "and be writable by the user running Draftbot (sqlite:////absolute/path/draftbot.db)."
    )
    if path.is_dir():
        return Check(
            DATABASE_CHECK,
            ok=False,
            detail=f"DATABASE_URL points at a folder, {shown}, not a database file.",
            fix="Add a file name to the path in DATABASE_URL, e.g. "
            f"sqlite:///{(path / 'draftbot.db').as_posix()}.",
        )
    existed = path.exists()
    try:
        store = Store(database_path)
    except (OSError, sqlite3.Error) as error:
        return Check(DATABASE_CHECK, ok=False, detail=f"Cannot open {shown}: {error}.", fix=fix)
    try:
        rows = store.check_writable()
    except sqlite3.Error as error:
        return Check(DATABASE_CHECK, ok=False, detail=f"{shown} is not writable: {error}.", fix=fix)
    finally:
        store.close()
    new = " (created just now: it did not exist yet)" if not existed else ""
    detail = f"{shown} is writable{new}; the usage log has {rows:,} row{'s' if rows != 1 else ''}."
    return Check(DATABASE_CHECK, ok=True, detail=detail)


def _postgres_check(url: str) -> Check:
    parts = urlsplit(url)
    database = parts.path.lstrip("/") or "?"
    shown = f"PostgreSQL database {database} on {parts.hostname}:{parts.port or 5432}"
    try:
        store = open_store(url)
    except Exception as error:  # psycopg's errors: connection refused, auth, missing database
        cause = error.__cause__ if isinstance(error, StorageUnavailable) else error
        return Check(
            DATABASE_CHECK,
            ok=False,
            detail=f"Cannot open the {shown}: {connection_problem(cause or error, url)}.",
            fix="Check DATABASE_URL (host, port, database name, user and password) and that "
            "the server accepts connections from this machine.",
        )
    try:
        rows = store.check_writable()
    finally:
        store.close()
    return Check(
        DATABASE_CHECK, ok=True, detail=f"The {shown} is writable; the usage log has {rows:,} rows."
    )
